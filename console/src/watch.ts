// WatchWorkOrders kept open: resumed from the last cursor after a drop (the server then
// sends what was missed, once), with backoff, and restarted when nothing, not even the
// 15-second heartbeat, has come for a while (a weak mobile link can hang without closing).
import { useEffect, useRef, useState } from "preact/hooks";
import { Code } from "@connectrpc/connect";
import { api } from "./api";
import type { WorkOrderChange } from "./gen/hotline/v1/work_order_pb.js";
import { keepOpen, type WatchStatus } from "./stream";

export type { WatchStatus };

const STALL_MS = 40_000; // heartbeats come every 15 s

export interface WatchHandlers {
  /** An event on an order in the caller's scope. */
  change: (change: WorkOrderChange) => void;
  /** The stream started afresh (no cursor to resume from): reload what the screen shows. */
  resync: () => void;
}

export function useOrderWatch(handlers: WatchHandlers, unitId = ""): WatchStatus {
  const [status, setStatus] = useState<WatchStatus>("connecting");
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    const stop = new AbortController();
    let cursor = "";
    let fresh = true;
    keepOpen({
      open: (signal) => {
        fresh = cursor === "";
        return api.orders.watchWorkOrders({ cursor, unitId }, { signal });
      },
      message: (update) => {
        cursor = update.cursor;
        if (update.update.case === "change") latest.current.change(update.update.value);
        if (fresh && update.update.case === "heartbeat") {
          // The first message from "now": anything before it is in the reload.
          fresh = false;
          latest.current.resync();
        }
      },
      status: setStatus,
      stallMs: STALL_MS,
      failed: (code) => {
        if (code === Code.Unauthenticated || code === Code.PermissionDenied) return "stop";
        if (code === Code.InvalidArgument) cursor = ""; // the cursor is no longer good
        return "retry";
      },
      signal: stop.signal,
    });
    return () => stop.abort();
  }, [unitId]);

  return status;
}
