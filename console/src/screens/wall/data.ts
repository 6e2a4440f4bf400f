// What the wall reads, by role (the authorization table of docs/api.md decides: a part
// whose RPCs the role may not call is not shown), and how it stays fresh: the queue from
// WatchQueue; work-order figures re-read after WatchWorkOrders events (debounced), only
// for the units the events touched.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { Role, type Category } from "../../gen/hotline/v1/common_pb.js";
import type { WorkOrderFigures } from "../../gen/hotline/v1/statistics_pb.js";
import type { WorkOrderChange } from "../../gen/hotline/v1/work_order_pb.js";
import { addDays, period, shanghaiDayStart } from "../../period";
import { useOrderWatch, type WatchStatus } from "../../watch";

export type Parts = {
  /** WatchQueue: the live tiles. */
  queue: boolean;
  /** GetCallFigures and GetStaffingAdvice: the Erlang C advice. */
  staffing: boolean;
  /** GetWorkOrderFigures: backlog by unit, charts, satisfaction. */
  figures: boolean;
  /** GetRanking: counsel always, townships for readers above a township. */
  ranking: boolean;
  /** ListWorkOrders and WatchWorkOrders: the overdue list, live refresh (every role of the wall). */
  orders: boolean;
};

export function partsFor(role: Role): Parts {
  const queue = role === Role.DISPATCHER || role === Role.COUNTY_MANAGER || role === Role.CITY_ADMIN;
  const figures = role === Role.STATION_LEAD || role === Role.COUNTY_MANAGER || role === Role.CITY_ADMIN;
  return { queue, staffing: queue, figures, ranking: figures, orders: queue || figures };
}

/** At most a few requests of the wall in flight at once (the per-user rate limit). */
const SLOTS = 6;
let running = 0;
const waiting: (() => void)[] = [];

export async function limited<R>(call: () => Promise<R>): Promise<R> {
  if (running >= SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await call();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Orders received in the last 400 days (the longest period the figures take). */
export function backlogPeriod(now = new Date()) {
  const tomorrow = addDays(shanghaiDayStart(now), 1);
  return period(addDays(tomorrow, -400), tomorrow);
}

export type FigureScope = { countyId?: string; townshipId?: string; counselId?: string; category?: Category };

export function figures(p: ReturnType<typeof period>, scope: FigureScope = {}): Promise<WorkOrderFigures> {
  return limited(() => api.statistics.getWorkOrderFigures({ scope: { period: p, ...scope } }));
}

/**
 * A change to re-read for: the order events of a burst, with the units and people they
 * touched and their kinds (`all`: everything may have changed).
 */
export type Bump = { n: number; all: boolean; ids: ReadonlySet<string>; kinds: ReadonlySet<string> };

/** Whether a part that changes only with these event kinds must be read again. */
export function touches(bump: Bump, ...kinds: string[]): boolean {
  return bump.all || kinds.some((k) => bump.kinds.has(k));
}

const DEBOUNCE_MS = 250;

/**
 * WatchWorkOrders folded into bumps: a burst of events becomes one bump a quarter second
 * after its first, naming the counties, townships and people it touched; a fresh stream
 * bumps everything.
 */
export function useOrderBumps(): { bump: Bump; status: WatchStatus } {
  const [bump, setBump] = useState<Bump>({ n: 0, all: true, ids: new Set(), kinds: new Set() });
  const pending = useRef<{ all: boolean; ids: Set<string>; kinds: Set<string> } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>();

  function schedule(all: boolean, ids: string[], kind = "") {
    const p = (pending.current ??= { all: false, ids: new Set(), kinds: new Set() });
    p.all ||= all;
    ids.forEach((id) => id && p.ids.add(id));
    if (kind) p.kinds.add(kind);
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      const done = pending.current!;
      pending.current = null;
      setBump((b) => ({ n: b.n + 1, ...done }));
    }, DEBOUNCE_MS);
  }
  useEffect(() => () => clearTimeout(timer.current), []);

  const status = useOrderWatch({
    change: (c: WorkOrderChange) =>
      schedule(
        false,
        [c.countyId, c.townshipId, c.villageId, c.target?.assigneeId ?? "", c.previousAssigneeId],
        c.event?.kind,
      ),
    resync: () => schedule(true, []),
  });
  return { bump, status };
}
