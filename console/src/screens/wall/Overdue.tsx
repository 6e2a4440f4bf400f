// The overdue orders of the reader's area, most overdue first, each with its cards
// (red card, supervision 督办) as icon and word.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { CardBadges, DueText } from "../../components/Badges";
import { usePersonName, useUnitName } from "../../directory";
import type { WorkOrder } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, useT } from "../../i18n";
import { date } from "../../orders";
import { limited, type Bump } from "./data";

const SHOWN = 30;

function Place({ order }: { order: WorkOrder }) {
  const township = useUnitName(order.place?.townshipId);
  const village = useUnitName(order.place?.villageId);
  return (
    <span>
      {township} {village}
    </span>
  );
}

function Assignee({ order }: { order: WorkOrder }) {
  const person = usePersonName(order.target?.assigneeId || undefined);
  const unit = useUnitName(order.target?.assigneeId ? undefined : order.target?.unitId || undefined);
  const name = person || unit;
  return name ? <span> · {name}</span> : null;
}

export function Overdue({ bump }: { bump: Bump }) {
  const t = useT();
  const [orders, setOrders] = useState<WorkOrder[]>();
  const [more, setMore] = useState(false);

  useEffect(() => {
    let live = true;
    limited(() => api.orders.listWorkOrders({ overdueOnly: true, page: { pageSize: SHOWN } })).then(
      (r) => {
        if (!live) return;
        const due = (o: WorkOrder) => date(o.currentDue)?.getTime() ?? Number.POSITIVE_INFINITY;
        setOrders([...r.workOrders].sort((a, b) => due(a) - due(b)));
        setMore(r.nextPageToken !== "");
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [bump]);

  return (
    <section class="panel overdue" data-testid="overdue">
      <h2>
        <span aria-hidden="true">■ </span>
        {t("overdue.title")}{" "}
        {orders && (
          <span class="panel-note" data-testid="overdue-count">
            {t("overdue.count", { n: `${orders.length}${more ? "+" : ""}` })}
          </span>
        )}
      </h2>
      {orders && orders.length === 0 && <p class="empty">{t("overdue.none")}</p>}
      <ul class="overdue-list">
        {orders?.map((o) => (
          <li key={o.id} class="overdue-card" data-number={o.number}>
            <div class="overdue-top">
              <strong class="order-number">{o.number}</strong>
              <CardBadges order={o} />
            </div>
            <div class="overdue-mid">
              <Place order={o} /> · {enumLabel(t, "category", o.category)}
              <Assignee order={o} />
            </div>
            <DueText order={o} />
          </li>
        ))}
      </ul>
    </section>
  );
}
