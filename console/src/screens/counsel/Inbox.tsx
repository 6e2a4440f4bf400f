// The handler's inbox (village counsel, and station leads for their township): my open
// orders by urgency, live; an order opens to its detail and the actions its state allows.
import { useEffect, useMemo, useState } from "preact/hooks";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { LiveDot, ReconnectBanner } from "../../components/Live";
import { OrderRow } from "../../components/OrderRow";
import { unitName } from "../../directory";
import { Role } from "../../gen/hotline/v1/common_pb.js";
import type { WorkOrder, WorkOrderChange } from "../../gen/hotline/v1/work_order_pb.js";
import { useT } from "../../i18n";
import { ask, canAsk, notify } from "../../notify";
import { byUrgency, OPEN_STATES, WorkOrderState } from "../../orders";
import { href, navigate, useRoute } from "../../router";
import { useSession } from "../../session";
import { useLiveOrders } from "../../useLiveOrders";
import { OrderView } from "./OrderView";

/** Events after which an order awaits the handler's sign-off anew. */
const ARRIVALS = new Set(["created", "dispatched", "return_accepted", "return_refused", "redo_passed_on", "escalated"]);

type Arrival = { id: string; number: string; village: string };

export default function Inbox() {
  const t = useT();
  const { user } = useSession();
  const route = useRoute();
  const [arrival, setArrival] = useState<Arrival>();
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [askable, setAskable] = useState(canAsk());

  async function arrived(change: WorkOrderChange, order: WorkOrder, before: WorkOrder | undefined) {
    const isNew =
      order.state === WorkOrderState.AWAITING_SIGN_OFF &&
      ARRIVALS.has(change.event?.kind ?? "") &&
      before?.state !== WorkOrderState.AWAITING_SIGN_OFF &&
      mine(order);
    if (!isNew) return;
    const village = await unitName(change.villageId);
    setArrival({ id: order.id, number: order.number, village });
    setFresh((s) => new Set(s).add(order.id));
    notify(t("app.title"), t("watch.newOrder", { number: order.number, village }), () => navigate("order", order.id));
  }

  // A counsel's inbox holds the orders assigned to them (they may read their villages'
  // others too); a station lead's, their township's.
  const mine = (o: WorkOrder) => user.role !== Role.COUNSEL || o.target?.assigneeId === user.personId;
  const live = useLiveOrders(OPEN_STATES, { keep: mine, changed: arrived });
  const sorted = useMemo(() => [...live.orders.values()].sort(byUrgency), [live.orders]);

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
      <ReconnectBanner status={live.status} />
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
        <OrderView id={opened} knownVersion={live.orders.get(opened)?.version} onChanged={live.put} />
      ) : (
        <>
          <div class="list-head">
            <h1>
              {t("inbox.title")} <span class="muted">{t("inbox.count", { n: sorted.length })}</span>
            </h1>
            <LiveDot status={live.status} />
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
          {live.error && (
            <Banner
              tone="error"
              actions={
                <Button kind="secondary" onClick={live.reload}>
                  {t("app.retry")}
                </Button>
              }
            >
              {t(live.error)}
            </Banner>
          )}
          {!live.loaded ? (
            <p class="loading">{t("app.loading")}</p>
          ) : sorted.length === 0 ? (
            <p class="empty" data-testid="inbox-empty">
              {t("inbox.empty")}
            </p>
          ) : (
            <ul class="orders" data-testid="inbox">
              {sorted.map((o) => (
                <li key={o.id}>
                  <OrderRow order={o} href={href("order", o.id)} fresh={fresh.has(o.id)} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </main>
  );
}
