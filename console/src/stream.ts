// A server stream kept open: reopened after a drop with backoff (at once when the browser
// comes back online), and, where the server sends heartbeats, reopened when nothing has
// come for a while (a weak link can hang without closing).
import { Code, ConnectError } from "@connectrpc/connect";
import { endSession, sleep } from "./api";

export type WatchStatus = "connecting" | "live" | "reconnecting";

const MAX_BACKOFF_MS = 30_000;

export interface KeepOpen<M> {
  /** Opens the stream once. */
  open: (signal: AbortSignal) => AsyncIterable<M>;
  message: (m: M) => void;
  status: (s: WatchStatus) => void;
  /** Reopen when nothing came for this long (only for streams with heartbeats). */
  stallMs?: number;
  /** What a failure means: "stop" ends for good (not allowed), "retry" reopens. */
  failed?: (code: Code) => "stop" | "retry";
  signal: AbortSignal;
}

const stopOnRefusal = (code: Code) =>
  code === Code.Unauthenticated || code === Code.PermissionDenied ? "stop" : "retry";

export async function keepOpen<M>({ open, message, status, stallMs, failed = stopOnRefusal, signal }: KeepOpen<M>) {
  let failures = 0;
  let wake: () => void = () => {};
  const onOnline = () => wake();
  window.addEventListener("online", onOnline);
  try {
    while (!signal.aborted) {
      const attempt = new AbortController();
      const abortAttempt = () => attempt.abort();
      signal.addEventListener("abort", abortAttempt);
      let stall: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(stall);
        if (stallMs) stall = setTimeout(abortAttempt, stallMs);
      };
      let live = false;
      arm();
      try {
        for await (const m of open(attempt.signal)) {
          arm();
          if (!live) {
            live = true;
            failures = 0;
            status("live");
          }
          message(m);
        }
      } catch (err) {
        if (signal.aborted) break;
        const code = ConnectError.from(err).code;
        if (code === Code.Unauthenticated) {
          // The session is over (expired, revoked): back to sign-in, as for any call.
          endSession();
          break;
        }
        if (failed(code) === "stop") break;
      } finally {
        clearTimeout(stall);
        signal.removeEventListener("abort", abortAttempt);
      }
      if (signal.aborted) break;
      status("reconnecting");
      const delay = Math.min(1000 * 2 ** failures, MAX_BACKOFF_MS) * (0.75 + Math.random() / 2);
      failures++;
      await new Promise<void>((resolve) => {
        wake = resolve;
        sleep(delay, signal).then(resolve);
      });
    }
  } finally {
    window.removeEventListener("online", onOnline);
  }
}
