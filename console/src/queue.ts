// The live queue (WatchQueue) as screens read it: the latest snapshot, the clock offset to
// the server (so waits age on the page between messages), and the stream's status.
import { useEffect, useRef, useState } from "preact/hooks";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { api } from "./api";
import type { QueueSnapshot } from "./gen/hotline/v1/seats_pb.js";
import { keepOpen, type WatchStatus } from "./stream";

export interface LiveQueue {
  snapshot?: QueueSnapshot;
  status: WatchStatus;
  /** Server time minus page time, from the latest snapshot's `as_of`. */
  offsetMs: number;
  /** Page time at which the latest snapshot arrived. */
  receivedAt: number;
}

/** Keeps WatchQueue open while the component lives; `onSnapshot` sees every message. */
export function useQueueWatch(onSnapshot?: (s: QueueSnapshot) => void): LiveQueue {
  const [live, setLive] = useState<LiveQueue>({ status: "connecting", offsetMs: 0, receivedAt: 0 });
  const handler = useRef(onSnapshot);
  handler.current = onSnapshot;

  useEffect(() => {
    const stop = new AbortController();
    keepOpen({
      open: (signal) => api.queue.watchQueue({}, { signal }),
      message: (snapshot) => {
        const now = Date.now();
        const asOf = snapshot.asOf ? timestampDate(snapshot.asOf).getTime() : now;
        setLive({ snapshot, status: "live", offsetMs: asOf - now, receivedAt: now });
        handler.current?.(snapshot);
      },
      status: (status) => setLive((l) => ({ ...l, status })),
      signal: stop.signal,
    });
    return () => stop.abort();
  }, []);

  return live;
}

/** A clock that ticks every `ms` while the component lives. */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** Seconds from `since` to now on the server's clock (never negative). */
export function secondsSince(since: Timestamp | undefined, now: number, offsetMs: number): number | undefined {
  if (!since) return undefined;
  return Math.max(0, (now + offsetMs - timestampDate(since).getTime()) / 1000);
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
