// 十佳: the ten best counsel and townships of the month by the ranking score.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { usePersonName, useUnitName } from "../../directory";
import { RankingKind, type RankingEntry } from "../../gen/hotline/v1/statistics_pb.js";
import { useT } from "../../i18n";
import { addDays, period, shanghaiDayStart, shanghaiMonthStart } from "../../period";
import { limited, type Bump } from "./data";

const RANKING_EVERY_MS = 30_000;

function Name({ kind, id }: { kind: RankingKind; id: string }) {
  const person = usePersonName(kind === RankingKind.COUNSEL ? id : undefined);
  const unit = useUnitName(kind === RankingKind.TOWNSHIP ? id : undefined);
  return <>{person || unit}</>;
}

function Ranking({ kind, title, bump }: { kind: RankingKind; title: string; bump: Bump }) {
  const t = useT();
  const [entries, setEntries] = useState<RankingEntry[]>();
  const [reads, setReads] = useState(0);
  const last = useRef(0);
  const owed = useRef<ReturnType<typeof setTimeout>>();
  const seq = useRef(0);
  useEffect(() => () => clearTimeout(owed.current), []);

  // Scores move slowly: a bump asks for a read, at most one every half minute; one asked
  // for sooner is made when the half minute is over.
  useEffect(() => {
    const wait = last.current + RANKING_EVERY_MS - Date.now();
    if (bump.all || wait <= 0) {
      clearTimeout(owed.current);
      owed.current = undefined;
      setReads((r) => r + 1);
    } else if (!owed.current) {
      owed.current = setTimeout(() => {
        owed.current = undefined;
        setReads((r) => r + 1);
      }, wait);
    }
  }, [bump]);

  useEffect(() => {
    if (reads === 0) return;
    last.current = Date.now();
    const mine = ++seq.current;
    const today = shanghaiDayStart(new Date());
    const scope = { period: period(shanghaiMonthStart(today), addDays(today, 1)) };
    limited(() => api.statistics.getRanking({ scope, kind, top: 10 })).then(
      (r) => mine === seq.current && setEntries(r.entries),
      () => mine === seq.current && setEntries((e) => e ?? []),
    );
  }, [reads]);
  return (
    <section class="panel ranking" data-testid={`ranking-${kind}`}>
      <h2>
        {title} <span class="panel-note">{t("rank.month")}</span>
      </h2>
      {entries && entries.length === 0 ? (
        <p class="empty">{t("rank.none")}</p>
      ) : (
        <table class="ranking-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col" />
              <th scope="col">{t("rank.score")}</th>
              <th scope="col">{t("rank.volume")}</th>
            </tr>
          </thead>
          <tbody>
            {entries?.map((e) => (
              <tr key={e.id}>
                <td class="rank-no">{e.rank <= 3 ? ["", "①", "②", "③"][e.rank] : e.rank}</td>
                <th scope="row">
                  <Name kind={kind} id={e.id} />
                </th>
                <td>{e.score.toFixed(1)}</td>
                <td>{String(e.figures?.volume ?? 0n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Rankings({ bump, townships }: { bump: Bump; townships: boolean }) {
  const t = useT();
  return (
    <>
      <Ranking kind={RankingKind.COUNSEL} title={t("rank.counsel")} bump={bump} />
      {townships && <Ranking kind={RankingKind.TOWNSHIP} title={t("rank.township")} bump={bump} />}
    </>
  );
}
