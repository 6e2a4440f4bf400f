// The callback agent's desk: orders awaiting a callback, nearest deadline first, with the
// caller's full number (shown in full only here) and the three ratings.
import { useMemo, useState } from "preact/hooks";
import { api } from "../../api";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Choices } from "../../components/Choices";
import { Field } from "../../components/Field";
import { LiveDot, ReconnectBanner } from "../../components/Live";
import { Phone } from "../../components/OrderDetail";
import {
  CallbackMethod,
  Satisfaction,
  type ActionResponse,
  type WorkOrder,
} from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, formatYuan, useT, type Key } from "../../i18n";
import { byDue, WorkOrderState } from "../../orders";
import { useLiveOrders } from "../../useLiveOrders";
import { useOrderAction, type ActionProps } from "../../useOrderAction";
import { DeskRow } from "./DeskRow";

const RATINGS = [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED];
const RATING_KEYS: Record<number, Key> = { 1: "satisfaction.1", 2: "satisfaction.2", 3: "satisfaction.3" };

function Rating({ order, ...props }: Pick<ActionProps, "onDone" | "onStale"> & { order: WorkOrder }) {
  const t = useT();
  // One action per rating: each is its own intent with its own request id.
  const acts = [
    useOrderAction(props, RATING_KEYS[1]),
    useOrderAction(props, RATING_KEYS[2]),
    useOrderAction(props, RATING_KEYS[3]),
  ];
  const [method, setMethod] = useState(CallbackMethod.PHONE);
  const [note, setNote] = useState("");
  const busy = acts.some((a) => a.busy);

  function rate(i: number) {
    const request = { id: order.id, version: order.version, satisfaction: RATINGS[i], method, note: note.trim() };
    acts[i].send(request, (requestId) => api.orders.recordCallback({ ...request, requestId }));
  }

  const noteError = acts.map((a) => fieldError(a.state, "note")).find(Boolean);
  return (
    <div class="decision" data-testid="callback-decision">
      <Field label={t("callback.method")} for={`method-${order.id}`}>
        <Choices
          name={`method-${order.id}`}
          inline
          value={method}
          onChange={setMethod}
          choices={[CallbackMethod.PHONE, CallbackMethod.SMS, CallbackMethod.VISIT].map((m) => ({
            value: m,
            label: enumLabel(t, "method", m),
          }))}
        />
      </Field>
      <Field label={t("form.note")} for={`note-${order.id}`} error={noteError}>
        <textarea
          id={`note-${order.id}`}
          maxLength={1000}
          value={note}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
      </Field>
      {acts.map((a, i) => (
        <ActionStatus key={i} state={a.state} shown={["note"]} onRetry={() => rate(i)} />
      ))}
      <div class="decision-buttons ratings">
        {RATINGS.map((r, i) => (
          <Button
            key={r}
            kind={r === Satisfaction.DISSATISFIED ? "danger" : i === 0 ? "primary" : "secondary"}
            busy={acts[i].busy}
            disabled={busy}
            onClick={() => rate(i)}
            data-testid={`rate-${r}`}
          >
            {enumLabel(t, "satisfaction", r)}
          </Button>
        ))}
      </div>
    </div>
  );
}

export default function CallbackDesk() {
  const t = useT();
  const live = useLiveOrders([WorkOrderState.AWAITING_CALLBACK]);
  const [notice, setNotice] = useState<{ tone: "success" | "warn"; text: string }>();
  const rows = useMemo(() => [...live.orders.values()].sort(byDue), [live.orders]);

  function done(answer: ActionResponse, what: Key) {
    if (!answer.workOrder) return;
    live.put(answer.workOrder);
    setNotice({ tone: "success", text: `${t("action.done", { what: t(what) })} · ${answer.workOrder.number}` });
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
        <h1>
          {t("desk.callbacks")} <span class="muted">{t("inbox.count", { n: rows.length })}</span>
        </h1>
        <LiveDot status={live.status} />
      </div>
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
        <ul class="orders" data-testid="desk-callbacks">
          {rows.map((o) => {
            const r = o.result;
            return (
              <DeskRow
                key={o.id}
                order={o}
                context={
                  <>
                    <div class="callback-caller">
                      <strong>{t("callback.phone")}</strong>
                      {o.caller?.name} <Phone phone={o.caller?.phone ?? ""} />
                    </div>
                    {r && (
                      <div>
                        <strong>{t("order.result")}</strong>
                        {r.resolved ? t("order.resolved") : t("order.unresolved")} · {r.notes}
                        {r.amountRecovered && (
                          <>
                            {" "}
                            · {t("order.amountRecovered")} {formatYuan(t, r.amountRecovered)}
                          </>
                        )}
                      </div>
                    )}
                  </>
                }
              >
                <Rating order={o} onDone={done} onStale={() => stale(o)} />
              </DeskRow>
            );
          })}
        </ul>
      )}
    </main>
  );
}
