// 十佳: the ten best counsel and townships of the month by the ranking score.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { usePersonName, useUnitName } from "../../directory";
import { RankingKind, type RankingEntry } from "../../gen/hotline/v1/statistics_pb.js";
import { useT } from "../../i18n";
import { addDays, period, shanghaiDayStart, shanghaiMonthStart } from "../../period";
import { limited, type Bump } from "./data";

function Name({ kind, id }: { kind: RankingKind; id: string }) {
  const person = usePersonName(kind === RankingKind.COUNSEL ? id : undefined);
  const unit = useUnitName(kind === RankingKind.TOWNSHIP ? id : undefined);
  return <>{person || unit}</>;
}

function Ranking({ kind, title, bump }: { kind: RankingKind; title: string; bump: Bump }) {
  const t = useT();
  const [entries, setEntries] = useState<RankingEntry[]>();
  useEffect(() => {
    let live = true;
    const today = shanghaiDayStart(new Date());
    const scope = { period: period(shanghaiMonthStart(today), addDays(today, 1)) };
    limited(() => api.statistics.getRanking({ scope, kind, top: 10 })).then(
      (r) => live && setEntries(r.entries),
      () => live && setEntries([]),
    );
    return () => {
      live = false;
    };
  }, [bump]);
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
