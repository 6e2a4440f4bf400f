// The handler's inbox (village counsel, and station leads for their township): my open
// orders by urgency, live; an order opens to its detail and the actions its state allows.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, failure, readFailureKey } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Icon } from "../../components/Icon";
import { OrderRow } from "../../components/OrderRow";
import { unitName } from "../../directory";
import { Role } from "../../gen/hotline/v1/common_pb.js";
import type { WorkOrder, WorkOrderChange } from "../../gen/hotline/v1/work_order_pb.js";
import { useT } from "../../i18n";
import { ask, canAsk, notify } from "../../notify";
import { byUrgency, OPEN_STATES, WorkOrderState } from "../../orders";
import { href, navigate, useRoute } from "../../router";
import { useSession } from "../../session";
import { listOrders, useHistories } from "../../useOrder";
import { useOrderWatch } from "../../watch";
import { OrderView } from "./OrderView";

/** Events after which an order awaits the handler's sign-off anew. */
const ARRIVALS = new Set(["created", "dispatched", "return_accepted", "return_refused", "redo_passed_on", "escalated"]);

type Arrival = { id: string; number: string; village: string };

export default function Inbox() {
  const t = useT();
  const { user } = useSession();
  const route = useRoute();
  const [orders, setOrders] = useState<Map<string, WorkOrder>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string>();
  const [arrival, setArrival] = useState<Arrival>();
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [askable, setAskable] = useState(canAsk());
  const known = useRef(orders);
  known.current = orders;

  const put = (order: WorkOrder) =>
    setOrders((m) => {
      const next = new Map(m);
      if (OPEN_STATES.includes(order.state)) next.set(order.id, order);
      else next.delete(order.id);
      return next;
    });
  const drop = (id: string) =>
    setOrders((m) => {
      if (!m.has(id)) return m;
      const next = new Map(m);
      next.delete(id);
      return next;
    });

  async function reload() {
    try {
      const list = await listOrders(OPEN_STATES);
      setOrders(new Map(list.map((o) => [o.id, o])));
      setLoadError(undefined);
    } catch (err) {
      const f = failure(err);
      if (f.kind !== "signedOut") setLoadError(t(readFailureKey(f)));
    } finally {
      setLoaded(true);
    }
  }

  async function changed(change: WorkOrderChange) {
    // A counsel sees the event that takes an order away from them, and nothing after it.
    if (user.role === Role.COUNSEL && change.target?.assigneeId !== user.personId) return drop(change.orderId);
    const before = known.current.get(change.orderId);
    if (before && before.version >= change.version) return;
    let order: WorkOrder;
    try {
      order = await api.orders.getWorkOrder({ id: change.orderId });
    } catch {
      return drop(change.orderId); // no longer within reach
    }
    put(order);
    const arrived =
      order.state === WorkOrderState.AWAITING_SIGN_OFF &&
      ARRIVALS.has(change.event?.kind ?? "") &&
      before?.state !== WorkOrderState.AWAITING_SIGN_OFF;
    if (arrived) {
      const village = await unitName(change.villageId);
      setArrival({ id: order.id, number: order.number, village });
      setFresh((s) => new Set(s).add(order.id));
      notify(t("app.title"), t("watch.newOrder", { number: order.number, village }), () => navigate("order", order.id));
    }
  }

  const status = useOrderWatch({ change: changed, resync: reload });
  useEffect(() => {
    reload();
  }, []);

  const sorted = useMemo(() => [...orders.values()].sort(byUrgency), [orders]);
  const histories = useHistories(sorted);

  const opened = route[0] === "order" && route[1] ? route[1] : undefined;
  useEffect(() => {
    if (!opened) return;
    setFresh((s) => {
      if (!s.has(opened)) return s;
      const next = new Set(s);
      next.delete(opened);
      return next;
    });
    if (arrival?.id === opened) setArrival(undefined);
  }, [opened]);

  return (
    <main class="screen inbox">
      {status === "reconnecting" && (
        <Banner tone="warn" testid="watch-status">
          {t("watch.reconnecting")}
        </Banner>
      )}
      {arrival && (
        <Banner
          tone="info"
          testid="new-order"
          actions={
            <>
              <Button kind="primary" onClick={() => navigate("order", arrival.id)}>
                {t("watch.open")}
              </Button>
              <Button kind="quiet" onClick={() => setArrival(undefined)}>
                {t("watch.dismiss")}
              </Button>
            </>
          }
        >
          {t("watch.newOrder", { number: arrival.number, village: arrival.village })}
        </Banner>
      )}
      {opened ? (
        <OrderView id={opened} knownVersion={orders.get(opened)?.version} onChanged={put} />
      ) : (
        <>
          <div class="list-head">
            <h1>
              {t("inbox.title")} <span class="muted">{t("inbox.count", { n: sorted.length })}</span>
            </h1>
            {status === "live" && (
              <span class="live" data-testid="watch-live">
                <Icon name="dot" /> {t("watch.live")}
              </span>
            )}
          </div>
          {askable && (
            <Button
              kind="quiet"
              class="btn-block"
              onClick={async () => {
                await ask();
                setAskable(canAsk());
              }}
            >
              {t("watch.enableNotifications")}
            </Button>
          )}
          {loadError && (
            <Banner tone="error" actions={<Button kind="secondary" onClick={reload}>{t("app.retry")}</Button>}>
              {loadError}
            </Banner>
          )}
          {!loaded ? (
            <p class="loading">{t("app.loading")}</p>
          ) : sorted.length === 0 ? (
            <p class="empty" data-testid="inbox-empty">
              {t("inbox.empty")}
            </p>
          ) : (
            <ul class="orders" data-testid="inbox">
              {sorted.map((o) => (
                <li key={o.id}>
                  <OrderRow order={o} events={histories.get(o.id)} href={href("order", o.id)} fresh={fresh.has(o.id)} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </main>
  );
}
