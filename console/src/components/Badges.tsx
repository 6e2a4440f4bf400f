import { Urgency } from "../gen/hotline/v1/common_pb.js";
import type { Card, WorkOrder } from "../gen/hotline/v1/work_order_pb.js";
import { enumLabel, formatDateTime, useT, type T } from "../i18n";
import { Icon } from "./Icon";
import { useNow } from "../clock";
import { cardsOf, date } from "../orders";

export function StateBadge({ state }: { state: number }) {
  const t = useT();
  return <span class={`badge state state-${state}`}>{enumLabel(t, "state", state)}</span>;
}

/** The cards an order carries, each an icon and a word, never a colour alone. */
export function CardBadges({ order }: { order: WorkOrder }) {
  const t = useT();
  const cards = cardsOf(order);
  const given = (card: Card) => {
    const at = date(card.givenAt);
    return at ? t("card.givenAt", { at: formatDateTime(t, at) }) : undefined;
  };
  return (
    <span class="cards">
      {order.urgency === Urgency.URGENT && (
        <span class="badge card-urgent">
          <Icon name="bolt" />
          {t("card.urgent")}
        </span>
      )}
      {cards.yellow && (
        <span class="badge card-yellow" data-card="yellow" title={given(cards.yellow)}>
          <Icon name="alert" />
          {t("card.yellow")}
        </span>
      )}
      {cards.red && (
        <span class="badge card-red" data-card="red" title={given(cards.red)}>
          <Icon name="stop" />
          {t("card.red")}
        </span>
      )}
      {cards.supervision && (
        <span class="badge card-supervised" data-card="supervised" title={given(cards.supervision)}>
          <Icon name="flag" />
          {t("card.supervised")}
        </span>
      )}
    </span>
  );
}

/**
 * The time left to the deadline the order runs against now, in working days as the API
 * counts them (剩 N 个工作日, 逾期 N 个工作日). Within the last working day, and when
 * overdue with no working day missed yet, the hours to or past the instant instead. The
 * detail adds the instant itself.
 */
export function DueText({ order, long }: { order: WorkOrder; long?: boolean }) {
  const t = useT();
  const clock = useNow();
  const due = date(order.currentDue);
  if (!due) return long ? <span class="due due-none">{t("due.none")}</span> : null;
  const over = order.overdue || due.getTime() < clock;
  const days = order.workingDaysLeft;
  const text =
    days !== undefined && days > 0 && !over
      ? t("due.workingDaysLeft", { n: days })
      : days !== undefined && days < 0
        ? t("due.workingDaysOver", { n: -days })
        : clockText(t, due.getTime() - clock);
  return (
    <span
      class={`due${over ? " due-over" : ""}`}
      title={t("due.at", { at: formatDateTime(t, due) })}
      data-testid="due"
      data-working-days={days}
    >
      <Icon name="clock" />
      {text}
      {long && <span class="due-at"> · {t("due.at", { at: formatDateTime(t, due) })}</span>}
    </span>
  );
}

/** Days, hours or minutes to (or past) the instant, `ms` away. */
function clockText(t: T, ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.max(1, Math.ceil((abs % 3_600_000) / 60_000));
  if (ms < 0) return d > 0 ? t("due.over", { d, h }) : t("due.overHours", { h: Math.max(h, 1) });
  return d > 0 ? t("due.left", { d, h }) : h > 0 ? t("due.leftHours", { h }) : t("due.leftMinutes", { m });
}
