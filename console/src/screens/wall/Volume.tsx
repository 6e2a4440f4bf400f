// Orders received today by category, this month by day, and this month's satisfaction
// against its target. Past days are read once; today and the month are re-read on a bump.
import { useEffect, useRef, useState } from "preact/hooks";
import { Category } from "../../gen/hotline/v1/common_pb.js";
import type { WorkOrderFigures } from "../../gen/hotline/v1/statistics_pb.js";
import { enumLabel, toShanghaiInput, useT } from "../../i18n";
import { addDays, period, shanghaiDayStart, shanghaiMonthStart } from "../../period";
import { useTick } from "../../queue";
import { BarList, Columns, Gauge } from "./Charts";
import { figures, touches, type Bump } from "./data";
import { judge, TARGETS } from "./targets";
import { LevelWord, pct } from "./Tiles";

const CATEGORIES = [Category.CONSULTATION, Category.LEGAL_AID, Category.MEDIATION, Category.LEGAL_EDUCATION];

const dayKey = (d: Date) => toShanghaiInput(d).slice(0, 10);

export function Volume({ bump }: { bump: Bump }) {
  const t = useT();
  // The day turns over at midnight on a wall that never reloads.
  const clock = useTick(60_000);
  const today = shanghaiDayStart(new Date(clock));
  const todayKey = dayKey(today);
  const [byCategory, setByCategory] = useState<number[]>();
  const [byDay, setByDay] = useState<Map<string, number>>(new Map());
  const [month, setMonth] = useState<WorkOrderFigures>();
  const pastRead = useRef("");

  // Past days of the month, once per day.
  useEffect(() => {
    if (pastRead.current === todayKey) return;
    pastRead.current = todayKey;
    setByDay(new Map());
    for (let d = shanghaiMonthStart(today); d < today; d = addDays(d, 1)) {
      const key = dayKey(d);
      figures(period(d, addDays(d, 1))).then(
        (f) => setByDay((m) => new Map(m).set(key, Number(f.volume))),
        () => {},
      );
    }
  }, [todayKey]);

  // Today by category (its sum is today's column) when orders were created; the month's
  // satisfaction after callbacks.
  const dayTurned = useRef("");
  useEffect(() => {
    const fresh = dayTurned.current !== todayKey;
    dayTurned.current = todayKey;
    if (fresh || touches(bump, "created")) readToday();
    if (fresh || touches(bump, "callback_satisfied", "callback_dissatisfied")) {
      figures(period(shanghaiMonthStart(today), addDays(today, 1))).then(setMonth, () => {});
    }
  }, [bump, todayKey]);

  function readToday() {
    const p = period(today, addDays(today, 1));
    Promise.all(CATEGORIES.map((category) => figures(p, { category }))).then(
      (fs) => {
        const counts = fs.map((f) => Number(f.volume));
        setByCategory(counts);
        setByDay((m) =>
          new Map(m).set(
            todayKey,
            counts.reduce((a, b) => a + b, 0),
          ),
        );
      },
      () => {},
    );
  }

  const days = [];
  for (let d = shanghaiMonthStart(today); d <= today; d = addDays(d, 1)) {
    const key = dayKey(d);
    days.push({ key, label: String(Number(key.slice(8))), value: byDay.get(key) ?? 0 });
  }
  const satisfaction = month?.satisfactionRate;
  const level = judge("satisfaction", satisfaction);

  return (
    <>
      <section class="panel" data-testid="chart-category">
        <h2>{t("chart.byCategory")}</h2>
        {byCategory ? (
          <BarList
            title={t("chart.byCategory")}
            bars={CATEGORIES.map((c, i) => ({
              key: String(c),
              label: enumLabel(t, "category", c),
              value: byCategory[i],
            }))}
          />
        ) : (
          <p class="loading">{t("app.loading")}</p>
        )}
      </section>
      <section class="panel" data-testid="chart-day">
        <h2>{t("chart.byDay")}</h2>
        <Columns title={t("chart.byDay")} bars={days} mark={todayKey} />
      </section>
      <section class={`panel satisfaction satisfaction-${level}`} data-testid="satisfaction">
        <h2>{t("chart.satisfaction")}</h2>
        <div class="satisfaction-head">
          <span class="satisfaction-value">{satisfaction === undefined ? "—" : pct(satisfaction)}</span>
          <LevelWord level={level} />
        </div>
        <Gauge
          value={satisfaction}
          target={TARGETS.satisfaction.target}
          level={level}
          title={t("chart.satisfaction")}
          targetLabel={t("chart.target", { v: pct(TARGETS.satisfaction.target) })}
        />
        {month && (
          <p class="panel-note">
            {t("chart.satisfactionOf", { n: String(month.calledBack), s: String(month.satisfied) })}
          </p>
        )}
      </section>
    </>
  );
}
