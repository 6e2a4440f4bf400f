// Open and overdue orders by the units under the reader: a city's counties (each opening
// to its townships), a county's townships, a township team's people.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type User } from "../../api";
import { Role } from "../../gen/hotline/v1/common_pb.js";
import { UnitLevel } from "../../gen/hotline/v1/directory_pb.js";
import type { WorkOrderFigures } from "../../gen/hotline/v1/statistics_pb.js";
import { useT } from "../../i18n";
import { backlogPeriod, figures, limited, type Bump, type FigureScope } from "./data";
import { pct } from "./Tiles";

type Row = { id: string; name: string; scope: FigureScope; parent?: string };

async function unitRows(parentId: string, level: UnitLevel): Promise<Row[]> {
  const { units } = await limited(() => api.directory.listUnits({ parentId, level, page: { pageSize: 500 } }));
  return units.map((u) => ({
    id: u.id,
    name: u.name,
    scope: level === UnitLevel.COUNTY ? { countyId: u.id } : { townshipId: u.id },
    parent: level === UnitLevel.TOWNSHIP ? parentId : undefined,
  }));
}

async function topRows(user: User): Promise<Row[]> {
  switch (user.role) {
    case Role.CITY_ADMIN:
      return unitRows(user.unitId, UnitLevel.COUNTY);
    case Role.COUNTY_MANAGER:
      return unitRows(user.unitId, UnitLevel.TOWNSHIP);
    case Role.STATION_LEAD: {
      const { people } = await limited(() =>
        api.directory.listPeople({ teamTownshipId: user.unitId, activeOnly: true, page: { pageSize: 500 } }),
      );
      return people.map((p) => ({ id: p.id, name: p.name, scope: { counselId: p.id } }));
    }
    default:
      return [];
  }
}

export function Backlog({ user, bump }: { user: User; bump: Bump }) {
  const t = useT();
  const [rows, setRows] = useState<Row[]>([]);
  const [children, setChildren] = useState<Row[]>([]);
  const [open, setOpen] = useState<string>();
  const [figs, setFigs] = useState<Map<string, WorkOrderFigures>>(new Map());
  const total = "total";
  const loaded = useRef(new Set<string>());

  useEffect(() => {
    topRows(user).then(setRows, () => setRows([]));
  }, [user.id]);

  useEffect(() => {
    if (!open) return setChildren([]);
    unitRows(open, UnitLevel.TOWNSHIP).then(setChildren, () => setChildren([]));
  }, [open]);

  function read(list: Row[]) {
    const p = backlogPeriod();
    for (const r of list) {
      figures(p, r.scope).then(
        (f) => {
          loaded.current.add(r.id);
          setFigs((m) => new Map(m).set(r.id, f));
        },
        () => {},
      );
    }
  }

  // New rows are read at once; on a bump, the rows the events touched, and the total.
  useEffect(() => read(rows.filter((r) => !loaded.current.has(r.id))), [rows]);
  useEffect(() => read(children.filter((r) => !loaded.current.has(r.id))), [children]);
  useEffect(() => {
    read([{ id: total, name: "", scope: {} }]);
    if (bump.n === 0) return;
    read([...rows, ...children].filter((r) => bump.all || bump.ids.has(r.id)));
  }, [bump]);

  const expandable = user.role === Role.CITY_ADMIN;
  const sorted = [...rows].sort((a, b) => order(figs.get(a.id), figs.get(b.id)) || a.id.localeCompare(b.id));

  function line(r: Row, nested = false) {
    const f = figs.get(r.id);
    const overdue = f ? Number(f.overdueNow) : undefined;
    const isOpen = open === r.id;
    return (
      <tr key={r.id} class={nested ? "backlog-nested" : undefined} data-unit={r.id}>
        <th scope="row">
          {expandable && !nested ? (
            <button
              type="button"
              class="backlog-toggle"
              aria-expanded={isOpen ? "true" : "false"}
              title={isOpen ? t("backlog.collapse") : t("backlog.expand")}
              onClick={() => setOpen(isOpen ? undefined : r.id)}
            >
              <span aria-hidden="true">{isOpen ? "▾" : "▸"}</span> {r.name}
            </button>
          ) : (
            <span>
              {nested && <span aria-hidden="true">└ </span>}
              {r.name}
            </span>
          )}
        </th>
        <td data-testid="backlog-open">{f ? String(f.openNow) : "…"}</td>
        <td class={overdue ? "backlog-late" : undefined} data-testid="backlog-overdue">
          {overdue === undefined ? (
            "…"
          ) : overdue > 0 ? (
            <>
              <span aria-hidden="true">■ </span>
              {overdue}
            </>
          ) : (
            "0"
          )}
        </td>
        <td>{f?.onTimeCloseRate !== undefined ? pct(f.onTimeCloseRate) : "—"}</td>
      </tr>
    );
  }

  const all = figs.get(total);
  return (
    <section class="panel backlog" data-testid="backlog">
      <h2>
        {t("backlog.title")} <span class="panel-note">{t("backlog.period")}</span>
      </h2>
      <table class="backlog-table">
        <thead>
          <tr>
            <th scope="col">{t("backlog.unit")}</th>
            <th scope="col">{t("backlog.open")}</th>
            <th scope="col">{t("backlog.overdue")}</th>
            <th scope="col">{t("backlog.onTime")}</th>
          </tr>
        </thead>
        <tbody>{sorted.map((r) => [line(r), ...(open === r.id ? children.map((c) => line(c, true)) : [])])}</tbody>
        <tfoot>
          <tr data-testid="backlog-total">
            <th scope="row">{t("backlog.total")}</th>
            <td data-testid="backlog-total-open">{all ? String(all.openNow) : "…"}</td>
            <td class={all && all.overdueNow > 0n ? "backlog-late" : undefined} data-testid="backlog-total-overdue">
              {all ? String(all.overdueNow) : "…"}
            </td>
            <td>{all?.onTimeCloseRate !== undefined ? pct(all.onTimeCloseRate) : "—"}</td>
          </tr>
        </tfoot>
      </table>
    </section>
  );
}

/** The latest first: most overdue, then most open. */
function order(a: WorkOrderFigures | undefined, b: WorkOrderFigures | undefined): number {
  const o = Number(b?.overdueNow ?? 0n) - Number(a?.overdueNow ?? 0n);
  return o || Number(b?.openNow ?? 0n) - Number(a?.openNow ?? 0n);
}
