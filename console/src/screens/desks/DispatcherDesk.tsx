// The dispatcher's desk: a tab per queue of decisions, each row one decision, kept live.
import type { FunctionComponent } from "preact";
import { useMemo, useState } from "preact/hooks";
import { api } from "../../api";
import { Banner } from "../../components/Banner";
import { LiveDot, ReconnectBanner } from "../../components/Live";
import { Tabs } from "../../components/Tabs";
import type { ActionResponse, WorkOrder, WorkOrderEvent } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, formatYuan, useT, type Key, type T } from "../../i18n";
import { byDue, latest, payload, WorkOrderState } from "../../orders";
import { useRoute } from "../../router";
import { useLiveOrders } from "../../useLiveOrders";
import { useHistories } from "../../useOrder";
import { DeskRow } from "./DeskRow";
import {
  DispatchDecision,
  ExtensionDecision,
  RedoDecision,
  ReplyDecision,
  ReturnDecision,
  type DecisionProps,
} from "./decisions";

type Desk = {
  id: string;
  label: Key;
  state: WorkOrderState;
  Decision: FunctionComponent<DecisionProps>;
  /** What the decision is about, in a line or two. */
  context: (t: T, order: WorkOrder, events: readonly WorkOrderEvent[] | undefined) => string | undefined;
  /** Whether `context` reads the orders' histories (else they are read only for a detail opened). */
  history?: true;
};

const NONE: WorkOrder[] = [];

const note = (events: readonly WorkOrderEvent[] | undefined, kind: string, field: string) => {
  const value = latest(events, kind) && payload(latest(events, kind)!)[field];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
};

export const DESKS: Desk[] = [
  {
    id: "dispatch",
    label: "desk.dispatch",
    state: WorkOrderState.REGISTERED,
    Decision: DispatchDecision,
    context: (_t, o) => o.description,
  },
  {
    id: "returns",
    label: "desk.returns",
    state: WorkOrderState.RETURN_UNDER_REVIEW,
    Decision: ReturnDecision,
    history: true,
    context: (t, o, ev) =>
      [
        `${t("order.pendingReturn")}${t("sep.colon")}${enumLabel(t, "returnReason", o.pendingReturnReason)}`,
        note(ev, "returned", "note"),
      ]
        .filter(Boolean)
        .join("\n"),
  },
  {
    id: "extensions",
    label: "desk.extensions",
    state: WorkOrderState.EXTENSION_UNDER_REVIEW,
    Decision: ExtensionDecision,
    history: true,
    context: (t, o, ev) =>
      [t("order.pendingExtension", { n: o.pendingExtensionDays }), note(ev, "extension_requested", "reason")]
        .filter(Boolean)
        .join("\n"),
  },
  {
    id: "replies",
    label: "desk.replies",
    state: WorkOrderState.REPLY_UNDER_REVIEW,
    Decision: ReplyDecision,
    context: (t, o) => {
      const r = o.result;
      if (!r) return undefined;
      const head = r.resolved ? t("order.resolved") : `${t("order.unresolved")}${t("sep.colon")}${r.unresolvedReason}`;
      const amount = r.amountRecovered
        ? `\n${t("order.amountRecovered")}${t("sep.colon")}${formatYuan(t, r.amountRecovered)}`
        : "";
      return `${head}\n${r.notes}${amount}`;
    },
  },
  {
    id: "redo",
    label: "desk.redo",
    state: WorkOrderState.REDO,
    Decision: RedoDecision,
    context: (t, o) =>
      [
        o.callback ? enumLabel(t, "satisfaction", o.callback.satisfaction) : undefined,
        o.callback?.note,
        t("order.redoCount", { n: o.redoCount }),
      ]
        .filter(Boolean)
        .join(" · "),
  },
];

const STATES = DESKS.map((d) => d.state);

export default function DispatcherDesk() {
  const t = useT();
  const route = useRoute();
  const desk = DESKS.find((d) => d.id === route[1]) ?? DESKS[0];
  const live = useLiveOrders(STATES);
  const [notice, setNotice] = useState<{ tone: "success" | "warn"; text: string }>();

  const rows = useMemo(
    () => [...live.orders.values()].filter((o) => o.state === desk.state).sort(byDue),
    [live.orders, desk],
  );
  const histories = useHistories(desk.history ? rows : NONE);
  const counts = useMemo(() => {
    const n = new Map<WorkOrderState, number>();
    for (const o of live.orders.values()) n.set(o.state, (n.get(o.state) ?? 0) + 1);
    return n;
  }, [live.orders]);

  function done(answer: ActionResponse, what: Key) {
    if (answer.workOrder) {
      live.put(answer.workOrder);
      setNotice({ tone: "success", text: `${t("action.done", { what: t(what) })} · ${answer.workOrder.number}` });
    }
  }

  async function stale(order: WorkOrder) {
    setNotice({ tone: "warn", text: `${t("err.aborted")} · ${order.number}` });
    try {
      live.put(await api.orders.getWorkOrder({ id: order.id }));
    } catch {
      live.reload();
    }
  }

  return (
    <main class="screen desk">
      <ReconnectBanner status={live.status} />
      <div class="list-head">
        <h1>{t(desk.label)}</h1>
        <LiveDot status={live.status} />
      </div>
      <Tabs
        base="desk"
        current={desk.id}
        tabs={DESKS.map((d) => ({ id: d.id, label: t(d.label), count: counts.get(d.state) ?? 0 }))}
      />
      {notice && (
        <Banner tone={notice.tone} testid="notice">
          {notice.text}
        </Banner>
      )}
      {live.error && <Banner tone="error">{t(live.error)}</Banner>}
      {!live.loaded ? (
        <p class="loading">{t("app.loading")}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{t("desk.empty")}</p>
      ) : (
        <ul class="orders" data-testid={`desk-${desk.id}`}>
          {rows.map((o) => (
            <DeskRow
              key={o.id}
              order={o}
              events={histories.get(o.id)}
              context={desk.context(t, o, histories.get(o.id))}
            >
              <desk.Decision key={o.id} order={o} onDone={done} onStale={() => stale(o)} />
            </DeskRow>
          ))}
        </ul>
      )}
    </main>
  );
}
