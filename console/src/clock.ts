// One clock for every deadline on the page, ticking each 30 s, and the Asia/Shanghai day
// it is in: what the API counts working days left from.
import { useEffect, useState } from "preact/hooks";

let now = Date.now();
const listeners = new Set<(n: number) => void>();
setInterval(() => {
  now = Date.now();
  listeners.forEach((l) => l(now));
}, 30_000);

export function useNow(): number {
  const [value, setValue] = useState(now);
  useEffect(() => {
    listeners.add(setValue);
    return () => void listeners.delete(setValue);
  }, []);
  return value;
}

const DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", dateStyle: "short" });

/**
 * The Asia/Shanghai date now (`2026-03-09`), changing at midnight: orders read the day
 * before carry yesterday's working days left, so screens read them again when it changes.
 */
export function useShanghaiDay(): string {
  return DAY.format(useNow());
}
