// The live queue tiles, each judged against its target: colour, icon and word.
import type { ComponentChildren } from "preact";
import { useT } from "../../i18n";
import { formatDuration, secondsSince, useTick, type LiveQueue } from "../../queue";
import { judge, LEVEL_ICONS, TARGETS, type Level, type Target } from "./targets";

const pct = (v: number) => `${(v * 100).toFixed(1).replace(/\.0$/, "")}%`;
const secs = (v: number) => `${Math.round(v)} s`;

function LevelWord({ level }: { level: Level }) {
  const t = useT();
  return (
    <span class={`level level-${level}`} data-level={level}>
      <span aria-hidden="true">{LEVEL_ICONS[level]}</span> {t(`level.${level}`)}
    </span>
  );
}

function targetText(t: ReturnType<typeof useT>, target: Target, show: (v: number) => string): string {
  const r = TARGETS[target];
  if (r.kind === "atLeast") return t("tile.targetAtLeast", { v: show(r.target) });
  if (r.kind === "atMost") return t("tile.targetAtMost", { v: show(r.target) });
  return t("tile.targetBand", { low: show(r.low), high: show(r.high) });
}

function Tile({
  id,
  label,
  value,
  level,
  target,
  unit,
  children,
}: {
  id: string;
  label: string;
  value: string;
  level: Level;
  target?: string;
  unit?: string;
  children?: ComponentChildren;
}) {
  return (
    <div class={`tile tile-${level}`} data-testid={`tile-${id}`} data-level={level}>
      <div class="tile-label">{label}</div>
      <div class="tile-value" data-testid={`tile-${id}-value`}>
        {value}
        {unit && <span class="tile-unit"> {unit}</span>}
      </div>
      <div class="tile-foot">
        <LevelWord level={level} />
        {target && <span class="tile-target">{target}</span>}
      </div>
      {children}
    </div>
  );
}

function Measure({
  id,
  label,
  target,
  value,
  show,
}: {
  id: string;
  label: string;
  target: Target;
  value: number | undefined;
  show: (v: number) => string;
}) {
  const t = useT();
  return (
    <Tile
      id={id}
      label={label}
      value={value === undefined ? "—" : show(value)}
      level={judge(target, value)}
      target={targetText(t, target, show)}
    />
  );
}

export function Tiles({ queue }: { queue: LiveQueue }) {
  const t = useT();
  const now = useTick(1000);
  const s = queue.snapshot;
  if (!s) return <div class="tiles tiles-loading">{t("app.loading")}</div>;
  const waiting = Number(s.callsWaiting);
  const oldest = secondsSince(s.oldestOfferedAt, now, queue.offsetMs);
  const free = Number(s.agentsAvailable);
  // Agents: red when callers wait and nobody is free, amber when nobody is free.
  const agentsLevel: Level = free > 0 ? "ok" : waiting > 0 ? "bad" : "warn";
  return (
    <section class="tiles" aria-label={t("wall.title")} data-testid="tiles">
      <Measure id="waiting" label={t("tile.waiting")} target="callsWaiting" value={waiting} show={(v) => `${v}`} />
      <Measure
        id="oldest"
        label={t("tile.oldest")}
        target="oldestWaitSeconds"
        value={oldest ?? 0}
        show={(v) => (v < 60 ? secs(v) : formatDuration(v))}
      />
      <Tile id="agents" label={t("tile.agents")} value={`${free}`} unit={t("agents.available")} level={agentsLevel}>
        <dl class="agents">
          <div>
            <dt>{t("agents.onCall")}</dt>
            <dd data-testid="agents-on-call">{String(s.agentsOnCall)}</dd>
          </div>
          <div>
            <dt>{t("agents.wrapUp")}</dt>
            <dd>{String(s.agentsWrapUp)}</dd>
          </div>
          <div>
            <dt>{t("agents.onBreak")}</dt>
            <dd>{String(s.agentsOnBreak)}</dd>
          </div>
          <div>
            <dt>{t("agents.offline")}</dt>
            <dd>{String(s.agentsOffline)}</dd>
          </div>
        </dl>
      </Tile>
      <Measure id="answer-rate" label={t("tile.answerRate")} target="answerRate" value={s.answerRate} show={pct} />
      <Measure
        id="within15"
        label={t("tile.within15")}
        target="answerWithin15sRate"
        value={s.answerWithin15sRate}
        show={pct}
      />
      <Measure id="abandon" label={t("tile.abandonRate")} target="abandonRate" value={s.abandonRate} show={pct} />
      <Measure id="asa" label={t("tile.asa")} target="asaSeconds" value={s.averageSpeedOfAnswerSeconds} show={secs} />
      <Measure id="aht" label={t("tile.aht")} target="ahtSeconds" value={s.averageHandleTimeSeconds} show={secs} />
      <Measure id="occupancy" label={t("tile.occupancy")} target="occupancy" value={s.occupancy} show={pct} />
      <p class="tiles-today" data-testid="tiles-today">
        {t("tile.today", {
          offered: String(s.offeredToday),
          answered: String(s.answeredToday),
          abandoned: String(s.abandonedToday),
        })}
      </p>
    </section>
  );
}

export { LevelWord, pct };
