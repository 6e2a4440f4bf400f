import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { OrderDetail } from "../../components/OrderDetail";
import { OrderRow } from "../../components/OrderRow";
import type { WorkOrder, WorkOrderEvent } from "../../gen/hotline/v1/work_order_pb.js";
import { useT } from "../../i18n";
import { useHistory } from "../../useOrder";

/**
 * One order, one decision: the summary, what is asked, the order's detail a tap away
 * (with its history: `events` when the desk has it, else read when opened).
 */
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
  const history = useHistory(order, open && !events);
  return (
    <li class="desk-row" data-order={order.number}>
      <OrderRow order={order} />
      {context && <div class="desk-context">{context}</div>}
      <Button kind="quiet" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="details">
        {open ? t("desk.hideDetails") : t("desk.details")}
      </Button>
      {open && <OrderDetail order={order} events={events ?? history} />}
      {children}
    </li>
  );
}
