import type { WorkOrder } from "../gen/hotline/v1/work_order_pb.js";
import { useUnitName } from "../directory";
import { enumLabel, useT } from "../i18n";
import { cardsOf } from "../orders";
import { CardBadges, DueText, StateBadge } from "./Badges";

/**
 * One order in a list: number, state, village, category, time left and cards; a link
 * to the order when `href` is given.
 */
export function OrderRow({ order, href, fresh }: { order: WorkOrder; href?: string; fresh?: boolean }) {
  const t = useT();
  const village = useUnitName(order.place?.villageId);
  const cards = cardsOf(order);
  const cls = `order-row${cards.yellow ? " has-yellow" : ""}${cards.red ? " has-red" : ""}${fresh ? " is-new" : ""}`;
  const body = (
    <>
      <div class="row-top">
        <span class="order-number">{order.number}</span>
        <StateBadge state={order.state} />
      </div>
      <div class="row-place">{village}</div>
      <div class="row-bottom">
        <span>{enumLabel(t, "category", order.category)}</span>
        <DueText order={order} />
        <CardBadges order={order} />
      </div>
    </>
  );
  return href ? (
    <a class={cls} href={href} data-order={order.number} data-state={order.state}>
      {body}
    </a>
  ) : (
    <div class={cls} data-order={order.number} data-state={order.state}>
      {body}
    </div>
  );
}
