// Erlang C advice for this hour and the next three: the calls expected (the average of the
// same hour over the past 7 days), the handle time of the past 7 days, and the seats
// needed to answer 80% within 15 s, against the seats staffed now.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import type { StaffingAdvice } from "../../gen/hotline/v1/statistics_pb.js";
import { toShanghaiInput, useT } from "../../i18n";
import { addDays, period } from "../../period";
import type { LiveQueue } from "../../queue";
import { limited } from "./data";
import { LevelWord, pct } from "./Tiles";

const HOURS = 4;
const HISTORY_DAYS = 7;
const ASSUMED_AHT_SECONDS = 300;
const REFRESH_MS = 15 * 60_000;
const RETRY_MS = 30_000;
const HOUR_MS = 3_600_000;

type Hour = { start: Date; calls: number; advice?: StaffingAdvice };
type Plan = { hours: Hour[]; aht: number; assumed: boolean };

/** Calls offered in past hours, by the hour's start: a past hour never changes. */
const pastHours = new Map<number, Promise<number>>();

function offeredInHour(from: Date): Promise<number> {
  let offered = pastHours.get(from.getTime());
  if (!offered) {
    offered = limited(() =>
      api.statistics.getCallFigures({ period: period(from, new Date(from.getTime() + HOUR_MS)) }),
    ).then((f) => Number(f.offered));
    offered.catch(() => pastHours.delete(from.getTime()));
    pastHours.set(from.getTime(), offered);
  }
  return offered;
}

async function plan(): Promise<Plan> {
  const now = Date.now();
  // Asia/Shanghai is a whole number of hours from UTC: its hours start with UTC's.
  const first = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
  const week = await limited(() =>
    api.statistics.getCallFigures({ period: period(addDays(first, -HISTORY_DAYS), first) }),
  );
  const assumed = week.averageHandleTimeSeconds === undefined;
  const aht = week.averageHandleTimeSeconds ?? ASSUMED_AHT_SECONDS;
  const hours = await Promise.all(
    Array.from({ length: HOURS }, async (_, h): Promise<Hour> => {
      const start = new Date(first.getTime() + h * HOUR_MS);
      const past = await Promise.all(
        Array.from({ length: HISTORY_DAYS }, (_, d) => offeredInHour(addDays(start, -(d + 1)))),
      );
      const calls = past.reduce((n, offered) => n + offered, 0) / HISTORY_DAYS;
      if (calls <= 0) return { start, calls };
      const advice = await limited(() =>
        api.statistics.getStaffingAdvice({ callsPerHour: calls, averageHandleTimeSeconds: aht }),
      );
      return { start, calls, advice };
    }),
  );
  return { hours, aht, assumed };
}

export function Staffing({ queue }: { queue: LiveQueue }) {
  const t = useT();
  const [p, setP] = useState<Plan>();
  useEffect(() => {
    let live = true;
    let next: ReturnType<typeof setTimeout>;
    const run = () =>
      plan().then(
        (x) => {
          if (!live) return;
          setP(x);
          next = setTimeout(run, REFRESH_MS);
        },
        () => {
          if (live) next = setTimeout(run, RETRY_MS);
        },
      );
    // After the rest of the wall has loaded: this part reads the most.
    next = setTimeout(run, 500);
    return () => {
      live = false;
      clearTimeout(next);
    };
  }, []);

  const s = queue.snapshot;
  const staffed = s ? Number(s.agentsAvailable + s.agentsOnCall + s.agentsWrapUp) : undefined;
  const need = p?.hours[0]?.advice?.fewestAgents ?? 0;
  const short = staffed === undefined ? 0 : need - staffed;
  const hhmm = (d: Date) => toShanghaiInput(d).slice(11);

  return (
    <section class="panel staffing" data-testid="staffing">
      <h2>{t("staff.title")}</h2>
      {staffed !== undefined && p && (
        <p class="staffing-now">
          {t("staff.now", { n: staffed })} ·{" "}
          {short > 0 ? (
            <>
              <LevelWord level="bad" /> {t("staff.short", { n: short })}
            </>
          ) : (
            <LevelWord level="ok" />
          )}
          {short <= 0 && ` ${t("staff.enough")}`}
        </p>
      )}
      {p ? (
        <table class="staffing-table">
          <thead>
            <tr>
              <th scope="col">{t("staff.hour")}</th>
              <th scope="col">{t("staff.calls")}</th>
              <th scope="col">{t("staff.need")}</th>
              <th scope="col">{t("staff.level")}</th>
              <th scope="col">{t("staff.wait")}</th>
            </tr>
          </thead>
          <tbody>
            {p.hours.map((h) => (
              <tr key={h.start.getTime()}>
                <th scope="row">
                  {hhmm(h.start)}–{hhmm(new Date(h.start.getTime() + HOUR_MS))}
                </th>
                <td>{h.calls.toFixed(1)}</td>
                {h.advice ? (
                  <>
                    <td class="staffing-need">{h.advice.fewestAgents}</td>
                    <td>{pct(h.advice.serviceLevel)}</td>
                    <td>{pct(h.advice.probabilityOfWaiting)}</td>
                  </>
                ) : (
                  <td colSpan={3} class="muted">
                    {t("staff.noCalls")}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="loading">{t("app.loading")}</p>
      )}
      {p && (
        <p class="panel-note">
          {t("staff.basis", { aht: Math.round(p.aht) })}
          {p.assumed && ` ${t("staff.ahtAssumed", { aht: ASSUMED_AHT_SECONDS })}`}
        </p>
      )}
    </section>
  );
}
