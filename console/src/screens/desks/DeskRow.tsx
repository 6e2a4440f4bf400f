import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { OrderDetail } from "../../components/OrderDetail";
import { OrderRow } from "../../components/OrderRow";
import type { WorkOrder, WorkOrderEvent } from "../../gen/hotline/v1/work_order_pb.js";
import { useT } from "../../i18n";

/** One order, one decision: the summary, what is asked, the order's detail a tap away. */
export function DeskRow({
  order,
  events,
  context,
  children,
}: {
  order: WorkOrder;
  events?: readonly WorkOrderEvent[];
  context?: ComponentChildren;
  children: ComponentChildren;
}) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <li class="desk-row" data-order={order.number}>
      <OrderRow order={order} events={events} />
      {context && <div class="desk-context">{context}</div>}
      <Button kind="quiet" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="details">
        {open ? t("desk.hideDetails") : t("desk.details")}
      </Button>
      {open && <OrderDetail order={order} events={events} />}
      {children}
    </li>
  );
}
