import { Banner } from "../../components/Banner";
import { CardBadges, StateBadge } from "../../components/Badges";
import { useUnitName } from "../../directory";
import type { Call } from "../../gen/hotline/v1/call_pb.js";
import { Presence, type Agent } from "../../gen/hotline/v1/seats_pb.js";
import type { WorkOrder } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, formatDateTime, useT } from "../../i18n";
import { date } from "../../orders";
import type { CallInfo } from "./useCallInfo";

/** Earlier calls of this caller: every call of the history but the one on the line now. */
export function earlierCalls(info: CallInfo, callId: string): Call[] {
  return (info.history?.calls ?? []).filter((c) => c.telephonyCallId !== callId);
}

/** Whether the caller asked for confidentiality on any earlier call or order. */
export function wasConfidential(info: CallInfo): boolean {
  const h = info.history;
  return !!h && (h.calls.some((c) => c.caller?.confidential) || h.workOrders.some((o) => o.caller?.confidential));
}

function Village({ id }: { id?: string }) {
  const name = useUnitName(id);
  return id ? <span class="muted"> · {name}</span> : null;
}

function EarlierCall({ call }: { call: Call }) {
  const t = useT();
  const at = date(call.callTime);
  return (
    <li class="pop-item">
      <div class="pop-item-head">
        <span class="muted">{at ? formatDateTime(t, at) : ""}</span>
        <span>
          {enumLabel(t, "category", call.category)} / {enumLabel(t, "subcategory", call.subcategory)}
        </span>
        <Village id={call.place?.villageId} />
      </div>
      <div class="pop-words">{call.summary}</div>
      {call.answer && <div class="pop-words muted">↳ {call.answer}</div>}
    </li>
  );
}

function EarlierOrder({ order }: { order: WorkOrder }) {
  const t = useT();
  const at = date(order.createdAt);
  return (
    <li class="pop-item">
      <div class="pop-item-head">
        <strong class="order-number">{order.number}</strong>
        <StateBadge state={order.state} />
        <CardBadges order={order} />
        <span class="muted">{at ? formatDateTime(t, at) : ""}</span>
      </div>
      <div class="pop-words">
        {enumLabel(t, "category", order.category)} / {enumLabel(t, "subcategory", order.subcategory)} ·{" "}
        {order.description}
      </div>
    </li>
  );
}

/** 来电弹屏: the number, the line, the marks (repeat caller, confidential) and the history. */
export function ScreenPop({ agent, callId, info }: { agent: Agent; callId: string; info: CallInfo }) {
  const t = useT();
  const mine = agent.callId === callId;
  const state = !mine
    ? "pop.wrapUp"
    : agent.ringing
      ? "pop.ringing"
      : agent.presence === Presence.ON_CALL
        ? "pop.onCall"
        : "pop.wrapUp";
  const earlier = earlierCalls(info, callId);
  const orders = info.history?.workOrders ?? [];
  const confidential = wasConfidential(info);
  const offered = date(info.call?.offeredAt);
  return (
    <section
      class={`pop pop-${state.slice(4)}`}
      aria-labelledby="pop-title"
      data-testid="screen-pop"
      data-call={callId}
    >
      <header class="pop-head">
        <h2 id="pop-title">
          <span aria-hidden="true">{state === "pop.ringing" ? "☏ " : "☎ "}</span>
          {t(state)}
        </h2>
        <div class="pop-number" data-testid="pop-number">
          <span class="muted">{t("pop.number")} </span>
          <span class="phone">{info.call?.callerPhone ?? "…"}</span>
        </div>
        <div class="pop-facts">
          {info.call?.line && (
            <span>
              {t("pop.line")} {info.call.line}
            </span>
          )}
          {offered && (
            <span>
              {t("pop.offered")} {formatDateTime(t, offered)}
            </span>
          )}
        </div>
        <div class="pop-marks">
          {earlier.length > 0 && (
            <span class="badge mark-repeat" data-testid="mark-repeat">
              <span aria-hidden="true">↻</span>
              {t("pop.repeat")} · {t("pop.repeatCount", { n: earlier.length })}
            </span>
          )}
          {confidential && (
            <span class="badge mark-confidential" data-testid="mark-confidential" title={t("pop.confidentialHint")}>
              <span aria-hidden="true">◈</span>
              {t("pop.confidential")}
            </span>
          )}
        </div>
      </header>
      {info.callError && <Banner tone="error">{t("pop.historyFailed")}</Banner>}
      {info.historyError && <Banner tone="warn">{t("pop.historyFailed")}</Banner>}
      <div class="pop-history">
        <h3>{t("pop.history")}</h3>
        {info.history && earlier.length === 0 && <p class="muted">{t("pop.noHistory")}</p>}
        <ul class="pop-list" data-testid="pop-calls">
          {earlier.map((c) => (
            <EarlierCall key={c.id} call={c} />
          ))}
        </ul>
        <h3>{t("pop.orders")}</h3>
        {info.history && orders.length === 0 && <p class="muted">{t("pop.noOrders")}</p>}
        <ul class="pop-list" data-testid="pop-orders">
          {orders.map((o) => (
            <EarlierOrder key={o.id} order={o} />
          ))}
        </ul>
      </div>
    </section>
  );
}
