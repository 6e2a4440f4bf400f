// The manager wall (指挥中心大屏): the live queue against its targets, the backlog of the
// manager's unit, the month's volume and satisfaction, the ten best, staffing advice.
// Each part shows only when the role may read it (docs/api.md, "Authorization").
import type { ComponentChildren } from "preact";
import { Role } from "../../gen/hotline/v1/common_pb.js";
import { useUnitName } from "../../directory";
import { formatDateTime, useT } from "../../i18n";
import { useQueueWatch, useTick, type LiveQueue } from "../../queue";
import { useSession } from "../../session";
import type { WatchStatus } from "../../stream";
import { Backlog } from "./Backlog";
import { partsFor, useOrderBumps } from "./data";
import { CalendarWarning } from "../../components/CalendarWarning";
import { Overdue } from "./Overdue";
import { Rankings } from "./Rankings";
import { Staffing } from "./Staffing";
import { Tiles } from "./Tiles";
import { Volume } from "./Volume";
import "./wall.css";

/** WatchQueue for the parts that need it; a role without the queue never opens it. */
function WithQueue({ children }: { children: (q: LiveQueue) => ComponentChildren }) {
  const queue = useQueueWatch();
  return <>{children(queue)}</>;
}

function Live({ id, label, status }: { id: string; label: string; status: WatchStatus }) {
  const t = useT();
  const live = status === "live";
  return (
    <span class={`wall-live live-${status}`} data-testid={`live-${id}`} data-status={status}>
      {label} <span aria-hidden="true">{live ? "◉" : "◌"}</span> {live ? t("wall.live") : t("wall.reconnecting")}
    </span>
  );
}

function Layout({ queue, orders }: { queue?: LiveQueue; orders: ReturnType<typeof useOrderBumps> }) {
  const t = useT();
  const { user } = useSession();
  const parts = partsFor(user.role);
  const unit = useUnitName(user.unitId);
  const now = useTick(1000);
  const { bump } = orders;
  return (
    <div class="wall" data-testid="wall">
      <header class="wall-head">
        <h1>
          {unit} · {t("wall.title")}
        </h1>
        <span class="wall-clock">{formatDateTime(t, new Date(now))}</span>
        {queue && <Live id="queue" label={t("tile.waiting")} status={queue.status} />}
        <Live id="orders" label={t("wall.orders")} status={orders.status} />
      </header>
      <CalendarWarning />
      {queue && <Tiles queue={queue} />}
      <div class="wall-grid">
        <div class="wall-col">
          {parts.figures && <Backlog user={user} bump={bump} />}
          <Overdue bump={bump} />
        </div>
        {parts.figures && (
          <div class="wall-col">
            <Volume bump={bump} />
          </div>
        )}
        <div class="wall-col">
          {parts.ranking && <Rankings bump={bump} townships={user.role !== Role.STATION_LEAD} />}
          {parts.staffing && queue && <Staffing queue={queue} />}
        </div>
      </div>
    </div>
  );
}

export default function Wall() {
  const { user } = useSession();
  const orders = useOrderBumps();
  return partsFor(user.role).queue ? (
    <WithQueue>{(queue) => <Layout queue={queue} orders={orders} />}</WithQueue>
  ) : (
    <Layout orders={orders} />
  );
}
