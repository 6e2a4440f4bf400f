// A screen's orders kept current: listed once, then each event of WatchWorkOrders
// re-reads the order it names and puts it in or takes it out; listed again when the day
// changes, as each order's working days left are counted from today.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, failure, readFailureKey } from "./api";
import { useShanghaiDay } from "./clock";
import type { WorkOrder, WorkOrderChange, WorkOrderState } from "./gen/hotline/v1/work_order_pb.js";
import type { Key } from "./i18n";
import { listOrders } from "./useOrder";
import { useOrderWatch, type WatchStatus } from "./watch";

export type LiveOrders = {
  orders: Map<string, WorkOrder>;
  loaded: boolean;
  error?: Key;
  status: WatchStatus;
  reload: () => Promise<void>;
  /** An order as an action answered it. */
  put: (order: WorkOrder) => void;
};

export function useLiveOrders(
  states: WorkOrderState[],
  options: {
    /** Whether an order in one of the states belongs on this screen (default: yes). */
    keep?: (order: WorkOrder) => boolean;
    /** Called after an event's order was read, with the order as it was before. */
    changed?: (change: WorkOrderChange, order: WorkOrder, before: WorkOrder | undefined) => void;
  } = {},
): LiveOrders {
  const [orders, setOrders] = useState<Map<string, WorkOrder>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<Key>();
  const known = useRef(orders);
  known.current = orders;
  // Orders an event touched while a reload was on its way (the list may predate the
  // event), with the version the event left (a drop: the newest there is).
  const touched = useRef<Map<string, bigint | "gone"> | null>(null);
  const reloads = useRef(0);
  const opts = useRef(options);
  opts.current = options;

  const belongs = (o: WorkOrder) => states.includes(o.state) && (opts.current.keep?.(o) ?? true);
  const put = (order: WorkOrder) => {
    touched.current?.set(order.id, order.version);
    setOrders((m) => {
      const current = m.get(order.id);
      if (current && current.version > order.version) return m;
      const next = new Map(m);
      if (belongs(order)) next.set(order.id, order);
      else next.delete(order.id);
      return next;
    });
  };
  const drop = (id: string) => {
    touched.current?.set(id, "gone");
    setOrders((m) => {
      if (!m.has(id)) return m;
      const next = new Map(m);
      next.delete(id);
      return next;
    });
  };

  async function reload() {
    const mine = ++reloads.current;
    const seen = new Map<string, bigint | "gone">();
    touched.current = seen;
    try {
      const list = await listOrders(states);
      if (mine !== reloads.current) return; // a later reload answers instead
      setOrders((current) => {
        const next = new Map(list.filter(belongs).map((o) => [o.id, o]));
        for (const [id, version] of seen) {
          const listed = next.get(id);
          if (listed && version !== "gone" && listed.version > version) continue; // the list is newer
          const now = current.get(id);
          if (now) next.set(id, now);
          else next.delete(id);
        }
        return next;
      });
      setError(undefined);
    } catch (err) {
      const f = failure(err);
      if (f.kind !== "signedOut") setError(readFailureKey(f));
    } finally {
      if (mine === reloads.current) {
        touched.current = null;
        setLoaded(true);
      }
    }
  }

  async function change(c: WorkOrderChange) {
    const before = known.current.get(c.orderId);
    if (before && before.version >= c.version) return;
    if (!before && !states.includes(c.state)) return; // not for this screen, before or after
    let order: WorkOrder;
    try {
      order = await api.orders.getWorkOrder({ id: c.orderId });
    } catch {
      return drop(c.orderId); // no longer within reach
    }
    put(order);
    opts.current.changed?.(c, order, before);
  }

  const status = useOrderWatch({ change, resync: reload });
  useEffect(() => {
    reload();
  }, []);
  const day = useShanghaiDay();
  const today = useRef(day);
  useEffect(() => {
    if (today.current === day) return;
    today.current = day;
    reload();
  }, [day]);

  return { orders, loaded, error, status, reload, put };
}
