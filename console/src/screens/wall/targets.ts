// The targets the wall judges each figure against, in one table. The answer rates come
// from the hotline's standards (answer rate 95%, answered within 15 s 80%, satisfaction
// 90%); the others are the centre's working bands. Each figure is green (met), amber
// (close) or red (missed), shown with an icon and a word as well as the colour.

export type Level = "ok" | "warn" | "bad" | "none";

type Rule =
  | { kind: "atLeast"; target: number; warn: number } // higher is better
  | { kind: "atMost"; target: number; warn: number } // lower is better
  | { kind: "band"; low: number; high: number; warnLow: number; warnHigh: number };

export const TARGETS = {
  callsWaiting: { kind: "atMost", target: 2, warn: 5 },
  oldestWaitSeconds: { kind: "atMost", target: 15, warn: 30 },
  answerRate: { kind: "atLeast", target: 0.95, warn: 0.9 },
  answerWithin15sRate: { kind: "atLeast", target: 0.8, warn: 0.7 },
  abandonRate: { kind: "atMost", target: 0.05, warn: 0.1 },
  asaSeconds: { kind: "atMost", target: 15, warn: 30 },
  ahtSeconds: { kind: "atMost", target: 360, warn: 480 },
  occupancy: { kind: "band", low: 0.6, high: 0.85, warnLow: 0.5, warnHigh: 0.9 },
  satisfaction: { kind: "atLeast", target: 0.9, warn: 0.85 },
} satisfies Record<string, Rule>;

export type Target = keyof typeof TARGETS;

export function judge(target: Target, value: number | undefined): Level {
  if (value === undefined || Number.isNaN(value)) return "none";
  const r: Rule = TARGETS[target];
  switch (r.kind) {
    case "atLeast":
      return value >= r.target ? "ok" : value >= r.warn ? "warn" : "bad";
    case "atMost":
      return value <= r.target ? "ok" : value <= r.warn ? "warn" : "bad";
    case "band":
      if (value >= r.low && value <= r.high) return "ok";
      return value >= r.warnLow && value <= r.warnHigh ? "warn" : "bad";
  }
}

export const LEVEL_ICONS: Record<Level, string> = { ok: "✓", warn: "▲", bad: "✕", none: "–" };
