// The days of a holiday year as the editor holds them, and lines pasted as
// `date,kind,name` (the format of the shipped calendar and of `calendar_files`).
import { DayKind } from "../../gen/hotline/v1/time_limits_pb.js";

export { DayKind };

export type Row = { key: number; date: string; kind: DayKind; name: string };

let keys = 0;
export function row(date = "", kind = DayKind.HOLIDAY, name = ""): Row {
  return { key: ++keys, date, kind, name };
}

export const DATE = /^\d{4}-\d{2}-\d{2}$/;

const KINDS: Record<string, DayKind> = {
  holiday: DayKind.HOLIDAY,
  workday: DayKind.WORKDAY,
  休: DayKind.HOLIDAY,
  班: DayKind.WORKDAY,
};

export type Pasted = { rows: Row[]; bad: { line: number; text: string; outside: boolean }[] };

/**
 * The days of pasted lines: `2027-01-01,holiday,元旦` (or 休 / 班 for the kind); blank
 * lines, `#` comments and the `date,kind,name` header are skipped. Each line of another
 * shape, or a date outside `year`, is given back in `bad` by its line number.
 */
export function parsePasted(text: string, year: number): Pasted {
  const rows: Row[] = [];
  const bad: Pasted["bad"] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#") || /^date\s*,\s*kind\s*,\s*name$/i.test(line)) return;
    const [date = "", kind = "", ...name] = line.split(/[,，\t]/).map((part) => part.trim());
    const k = KINDS[kind.toLowerCase()];
    const n = name.join(",").trim();
    if (!DATE.test(date) || !k || !n) bad.push({ line: i + 1, text: line, outside: false });
    else if (!date.startsWith(`${year}-`)) bad.push({ line: i + 1, text: line, outside: true });
    else rows.push(row(date, k, n));
  });
  return { rows, bad };
}

/** `rows` with `added` merged in: a date already there takes the added day; by date. */
export function merge(rows: Row[], added: Row[]): Row[] {
  const dates = new Set(added.map((r) => r.date));
  return [...rows.filter((r) => !dates.has(r.date)), ...added].sort((a, b) =>
    a.date && b.date ? a.date.localeCompare(b.date) : a.date ? -1 : b.date ? 1 : 0,
  );
}
