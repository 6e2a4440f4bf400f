// Running a user's action against the API: one request id per intent, retried with that
// id while the network is down or the server asks to wait, so the action is applied once.
import { useEffect, useRef, useState } from "preact/hooks";
import { failure, sleep, type Failure } from "./api";
import { Intent } from "./orders";

export type ActionState =
  | { phase: "idle" }
  | { phase: "busy" }
  | { phase: "retrying" } // no answer came back; the same request is sent again
  | { phase: "waiting"; until: number } // the server asked to wait
  | { phase: "failed"; failure: Failure };

/** Retries after a lost answer before the screen offers the retry button instead. */
const NETWORK_RETRIES = 6;
const WAITS = 3;

function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8000);
}

function online(signal: AbortSignal): Promise<void> {
  if (navigator.onLine) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      window.removeEventListener("online", done);
      resolve();
    };
    window.addEventListener("online", done);
    signal.addEventListener("abort", done);
  });
}

export type Outcome<R> = { answer?: R; failure?: Failure };

export function useAction() {
  const intent = useRef(new Intent());
  const alive = useRef(new AbortController());
  const [state, setState] = useState<ActionState>({ phase: "idle" });
  useEffect(() => () => alive.current.abort(), []);

  /**
   * Sends `request` (every field but `requestId`) through `send`. Returns the answer, or
   * why it failed for good (also in `state`); neither when the screen went away.
   */
  async function run<R>(request: object, send: (requestId: string) => Promise<R>): Promise<Outcome<R>> {
    const requestId = intent.current.idFor(request);
    const signal = alive.current.signal;
    setState({ phase: "busy" });
    let lost = 0;
    let waits = 0;
    for (;;) {
      try {
        const answer = await send(requestId);
        intent.current.done();
        if (!signal.aborted) setState({ phase: "idle" });
        return { answer };
      } catch (err) {
        if (signal.aborted) return {};
        const f = failure(err);
        if (f.kind === "network" && lost < NETWORK_RETRIES) {
          setState({ phase: "retrying" });
          await sleep(backoff(lost++), signal);
          await online(signal);
          if (signal.aborted) return {};
          continue;
        }
        if (f.kind === "wait" && waits < WAITS) {
          waits++;
          setState({ phase: "waiting", until: Date.now() + f.ms });
          await sleep(f.ms, signal);
          if (signal.aborted) return {};
          continue;
        }
        setState({ phase: "failed", failure: f });
        return { failure: f };
      }
    }
  }

  const reset = () => setState({ phase: "idle" });
  const busy = state.phase === "busy" || state.phase === "retrying" || state.phase === "waiting";
  return { run, state, busy, reset };
}
