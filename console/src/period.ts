// Days and months as the hotline counts them: in Asia/Shanghai (UTC+8, no daylight time).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { toShanghaiInput } from "./i18n";

const DAY_MS = 86_400_000;

/** 00:00 Asia/Shanghai of the day `at` falls on. */
export function shanghaiDayStart(at: Date): Date {
  return new Date(`${toShanghaiInput(at).slice(0, 10)}T00:00:00+08:00`);
}

/** 00:00 Asia/Shanghai of the first day of the month `at` falls on. */
export function shanghaiMonthStart(at: Date): Date {
  return new Date(`${toShanghaiInput(at).slice(0, 7)}-01T00:00:00+08:00`);
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** The API's Period from `from` (inclusive) to `to` (exclusive). */
export function period(from: Date, to: Date) {
  return { from: timestampFromDate(from), to: timestampFromDate(to) };
}
