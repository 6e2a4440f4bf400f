// Loading orders and their histories for a screen.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, failure, type Failure } from "./api";
import { useShanghaiDay } from "./clock";
import type { WorkOrder, WorkOrderEvent, WorkOrderState } from "./gen/hotline/v1/work_order_pb.js";

/**
 * One order and its history, reloaded on demand (after an action, or when it changed),
 * and when the day changes (its working days left are counted from today).
 */
export function useOrder(id: string) {
  const [order, setOrder] = useState<WorkOrder>();
  const [events, setEvents] = useState<WorkOrderEvent[]>();
  const [error, setError] = useState<Failure>();
  const seq = useRef(0);

  async function reload() {
    const mine = ++seq.current;
    try {
      const [o, h] = await Promise.all([api.orders.getWorkOrder({ id }), api.orders.getWorkOrderHistory({ id })]);
      if (mine !== seq.current) return;
      setOrder(o);
      setEvents(h.events);
      setError(undefined);
    } catch (err) {
      if (mine === seq.current) setError(failure(err));
    }
  }

  useEffect(() => {
    setOrder(undefined);
    setEvents(undefined);
    reload();
  }, [id]);

  const day = useShanghaiDay();
  const today = useRef(day);
  useEffect(() => {
    if (today.current === day) return;
    today.current = day;
    reload();
  }, [day]);

  return { order, events, error, reload };
}

/**
 * The history of an order shown in full (a desk row opened to its detail), loaded while
 * `wanted`, again for each new version of the order.
 */
export function useHistory(order: WorkOrder, wanted: boolean): WorkOrderEvent[] | undefined {
  const [loaded, setLoaded] = useState<{ version: bigint; events: WorkOrderEvent[] }>();
  useEffect(() => {
    if (!wanted || loaded?.version === order.version) return;
    let current = true;
    api.orders
      .getWorkOrderHistory({ id: order.id })
      .then((h) => current && setLoaded({ version: order.version, events: h.events }))
      .catch(() => {}); // shown as loading; asked again on the order's next change
    return () => void (current = false);
  }, [wanted, order.id, order.version]);
  return loaded?.events;
}
const HISTORY_CONCURRENCY = 4;

/**
 * The histories of the orders of a list, for what only the history says (the note of a
 * return, the reason of an extension asked), each loaded once per version of its order,
 * a few at a time. Cards and working days left come with the orders themselves.
 */
export function useHistories(orders: readonly WorkOrder[]): Map<string, WorkOrderEvent[]> {
  const [histories, setHistories] = useState(new Map<string, WorkOrderEvent[]>());
  const loaded = useRef(new Map<string, bigint>()); // order id -> version asked for

  useEffect(() => {
    const wanted = orders.filter((o) => loaded.current.get(o.id) !== o.version);
    if (wanted.length === 0) return;
    for (const o of wanted) loaded.current.set(o.id, o.version);
    let next = 0;
    const worker = async () => {
      while (next < wanted.length) {
        const o = wanted[next++];
        try {
          const h = await api.orders.getWorkOrderHistory({ id: o.id });
          setHistories((m) => new Map(m).set(o.id, h.events));
        } catch {
          loaded.current.delete(o.id); // asked again on the next change
        }
      }
    };
    for (let i = 0; i < Math.min(HISTORY_CONCURRENCY, wanted.length); i++) worker();
  }, [orders]);

  return histories;
}

const PAGE_SIZE = 200;
const MAX_PAGES = 5;

/** Every order in these states within the reader's reach (newest first), up to 1,000. */
export async function listOrders(states: WorkOrderState[]): Promise<WorkOrder[]> {
  const all: WorkOrder[] = [];
  let pageToken = "";
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.orders.listWorkOrders({ states, page: { pageSize: PAGE_SIZE, pageToken } });
    all.push(...page.workOrders);
    pageToken = page.nextPageToken;
    if (!pageToken) break;
  }
  return all;
}
