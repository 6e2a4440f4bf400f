import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import type { CalendarGap } from "../gen/hotline/v1/time_limits_pb.js";
import { useT } from "../i18n";
import { Icon } from "./Icon";
import "./CalendarWarning.css";

/** How often a screen left open (the manager wall) reads the calendar again. */
const REFRESH_MS = 10 * 60_000;
const listeners = new Set<() => void>();

/** Every CalendarWarning on the page reads the calendar again (after `SetHolidayYear`). */
export function calendarChanged() {
  listeners.forEach((reload) => reload());
}

/**
 * The warning for each year deadlines may reach that the holiday calendar does not cover
 * (`GetHolidayCalendar`'s gaps): red when deadlines set now already run into it, amber
 * while it is only the coming year; nothing once every such year is covered. With
 * `enterHref`, a link to where the year is entered.
 */
export function CalendarWarning({ enterHref }: { enterHref?: (year: number) => string }) {
  const t = useT();
  const [gaps, setGaps] = useState<readonly CalendarGap[]>([]);

  useEffect(() => {
    let live = true;
    let latest = 0;
    const load = () => {
      const mine = ++latest;
      api.timeLimits.getHolidayCalendar({}).then(
        (calendar) => live && mine === latest && setGaps(calendar.gaps),
        // A failed read keeps what was shown; the next one tries again.
        () => {},
      );
    };
    load();
    const id = setInterval(load, REFRESH_MS);
    listeners.add(load);
    return () => {
      live = false;
      clearInterval(id);
      listeners.delete(load);
    };
  }, []);

  if (gaps.length === 0) return null;
  return (
    <div class="calendar-warnings" data-testid="calendar-warning">
      {gaps.map((gap) => (
        <div
          key={gap.year}
          class={`calendar-warning${gap.deadlinesReachIt ? " calendar-warning-reached" : ""}`}
          role="alert"
          data-year={gap.year}
        >
          <span class="calendar-warning-icon">
            <Icon name="alert" />
          </span>
          <div class="calendar-warning-text">
            <strong>{t("calendar.warning", { year: gap.year })}</strong>
            <span>{t(gap.deadlinesReachIt ? "calendar.reached" : "calendar.coming", { year: gap.year })}</span>
          </div>
          {enterHref && (
            <a class="btn btn-primary" href={enterHref(gap.year)} data-testid={`enter-year-${gap.year}`}>
              {t("calendar.enter", { year: gap.year })}
            </a>
          )}
        </div>
      ))}
    </div>
  );
}
