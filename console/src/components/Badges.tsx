import { useEffect, useState } from "preact/hooks";
import { Urgency } from "../gen/hotline/v1/common_pb.js";
import type { WorkOrder } from "../gen/hotline/v1/work_order_pb.js";
import { enumLabel, formatDateTime, useT } from "../i18n";
import { Icon } from "./Icon";
import { date, type Cards } from "../orders";

export function StateBadge({ state }: { state: number }) {
  const t = useT();
  return <span class={`badge state state-${state}`}>{enumLabel(t, "state", state)}</span>;
}

/** The cards an order carries, each an icon and a word, never a colour alone. */
export function CardBadges({ order, cards }: { order: WorkOrder; cards?: Cards }) {
  const t = useT();
  const red = cards?.red ?? order.overdue;
  return (
    <span class="cards">
      {order.urgency === Urgency.URGENT && (
        <span class="badge card-urgent">
          <Icon name="bolt" />
          {t("card.urgent")}
        </span>
      )}
      {cards?.yellow && (
        <span class="badge card-yellow" data-card="yellow">
          <Icon name="alert" />
          {t("card.yellow")}
        </span>
      )}
      {red && (
        <span class="badge card-red" data-card="red">
          <Icon name="stop" />
          {t("card.red")}
        </span>
      )}
      {cards?.supervised && (
        <span class="badge card-supervised" data-card="supervised">
          <Icon name="flag" />
          {t("card.supervised")}
        </span>
      )}
    </span>
  );
}

// One clock for every deadline on the page, ticking each 30 s.
let now = Date.now();
const listeners = new Set<(n: number) => void>();
setInterval(() => {
  now = Date.now();
  listeners.forEach((l) => l(now));
}, 30_000);

export function useNow(): number {
  const [value, setValue] = useState(now);
  useEffect(() => {
    listeners.add(setValue);
    return () => void listeners.delete(setValue);
  }, []);
  return value;
}

/**
 * The time left to the deadline the order runs against now. The API gives the instant
 * (a limit of N working days ends at 00:00 after the N-th working day), so the time is
 * shown as days and hours to that instant, with the instant itself.
 */
export function DueText({ order, long }: { order: WorkOrder; long?: boolean }) {
  const t = useT();
  const clock = useNow();
  const due = date(order.currentDue);
  if (!due) return long ? <span class="due due-none">{t("due.none")}</span> : null;
  const ms = due.getTime() - clock;
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.max(1, Math.ceil((abs % 3_600_000) / 60_000));
  const text =
    ms < 0
      ? d > 0
        ? t("due.over", { d, h })
        : t("due.overHours", { h: Math.max(h, 1) })
      : d > 0
        ? t("due.left", { d, h })
        : h > 0
          ? t("due.leftHours", { h })
          : t("due.leftMinutes", { m });
  return (
    <span class={`due${ms < 0 ? " due-over" : ""}`} title={t("due.at", { at: formatDateTime(t, due) })}>
      <Icon name="clock" />
      {text}
      {long && <span class="due-at"> · {t("due.at", { at: formatDateTime(t, due) })}</span>}
    </span>
  );
}
