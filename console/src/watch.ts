// WatchWorkOrders kept open: resumed from the last cursor after a drop (the server then
// sends what was missed, once), with backoff, and restarted when nothing, not even the
// 15-second heartbeat, has come for a while (a weak mobile link can hang without closing).
import { useEffect, useRef, useState } from "preact/hooks";
import { Code, ConnectError } from "@connectrpc/connect";
import { api, endSession, sleep } from "./api";
import type { WorkOrderChange } from "./gen/hotline/v1/work_order_pb.js";

export type WatchStatus = "connecting" | "live" | "reconnecting";

const STALL_MS = 40_000; // heartbeats come every 15 s
const MAX_BACKOFF_MS = 30_000;

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
    let failures = 0;
    let live = false;
    let wake: () => void = () => {};
    const onOnline = () => wake();
    window.addEventListener("online", onOnline);

    (async () => {
      while (!stop.signal.aborted) {
        const attempt = new AbortController();
        const abortAttempt = () => attempt.abort();
        stop.signal.addEventListener("abort", abortAttempt);
        let stall = setTimeout(abortAttempt, STALL_MS);
        const fresh = cursor === "";
        try {
          const stream = api.orders.watchWorkOrders({ cursor, unitId }, { signal: attempt.signal });
          for await (const update of stream) {
            clearTimeout(stall);
            stall = setTimeout(abortAttempt, STALL_MS);
            cursor = update.cursor;
            if (!live) {
              live = true;
              failures = 0;
              setStatus("live");
            }
            if (update.update.case === "change") latest.current.change(update.update.value);
            if (fresh && update.update.case === "heartbeat") {
              // The first message from "now": anything before it is in the reload.
              latest.current.resync();
            }
          }
        } catch (err) {
          if (stop.signal.aborted) break;
          const code = ConnectError.from(err).code;
          if (code === Code.Unauthenticated) {
            endSession();
            break;
          }
          if (code === Code.PermissionDenied) break;
          if (code === Code.InvalidArgument) cursor = ""; // the cursor is no longer good
        } finally {
          clearTimeout(stall);
          stop.signal.removeEventListener("abort", abortAttempt);
        }
        if (stop.signal.aborted) break;
        live = false;
        setStatus("reconnecting");
        const delay = Math.min(1000 * 2 ** failures, MAX_BACKOFF_MS) * (0.75 + Math.random() / 2);
        failures++;
        await new Promise<void>((resolve) => {
          wake = resolve;
          sleep(delay, stop.signal).then(resolve);
        });
      }
    })();

    return () => {
      stop.abort();
      window.removeEventListener("online", onOnline);
    };
  }, [unitId]);

  return status;
}
