// What the screen pop shows of a queue call: the call (the number in full for the agent it
// is with, the line) and the caller's earlier calls and orders.
import { useEffect, useState } from "preact/hooks";
import { api, failure, sleep, type Failure } from "../../api";
import type { GetCallerHistoryResponse } from "../../gen/hotline/v1/call_pb.js";
import type { QueueCall } from "../../gen/hotline/v1/seats_pb.js";

export type CallInfo = {
  call?: QueueCall;
  callError?: Failure;
  history?: GetCallerHistoryResponse;
  historyError?: Failure;
};

const ATTEMPTS = 4;

async function retried<R>(load: () => Promise<R>, signal: AbortSignal): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await load();
    } catch (err) {
      const f = failure(err);
      const again = (f.kind === "network" || f.kind === "wait") && attempt + 1 < ATTEMPTS && !signal.aborted;
      if (!again) throw err;
      await sleep(f.kind === "wait" ? f.ms : 500 * 2 ** attempt, signal);
    }
  }
}

export function useCallInfo(callId: string): CallInfo {
  const [info, setInfo] = useState<CallInfo>({});
  useEffect(() => {
    const stop = new AbortController();
    const signal = stop.signal;
    setInfo({});
    (async () => {
      let call: QueueCall;
      try {
        call = await retried(() => api.queue.getQueueCall({ id: callId }, { signal }), signal);
      } catch (err) {
        if (!signal.aborted) setInfo({ callError: failure(err) });
        return;
      }
      if (signal.aborted) return;
      setInfo({ call });
      // Only the agent the call is with sees the number in full, and only they may read
      // the caller's history.
      if (!call.callerPhone || call.callerPhone.includes("*")) return;
      try {
        const history = await retried(
          () => api.calls.getCallerHistory({ phone: call.callerPhone, limit: 20 }, { signal }),
          signal,
        );
        if (!signal.aborted) setInfo({ call, history });
      } catch (err) {
        if (!signal.aborted) setInfo({ call, historyError: failure(err) });
      }
    })();
    return () => stop.abort();
  }, [callId]);
  return info;
}
