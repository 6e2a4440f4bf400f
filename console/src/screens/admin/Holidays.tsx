// The holiday calendar: the years it covers, each with its days off (休) and adjusted
// working days (班), who set it and when; a year is edited (days added, removed, or
// pasted as `date,kind,name` lines) and saved whole with SetHolidayYear.
import { useEffect, useState } from "preact/hooks";
import { useAction } from "../../action";
import { api, failure, readFailureKey } from "../../api";
import { ActionStatus } from "../../components/ActionStatus";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { calendarChanged } from "../../components/CalendarWarning";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import type { CalendarGap, HolidayDay, HolidayYear } from "../../gen/hotline/v1/time_limits_pb.js";
import { formatDate, useT, type Key, type T } from "../../i18n";
import { href, navigate } from "../../router";
import { DATE, DayKind, merge, parsePasted, row, type Pasted, type Row } from "./holidays";
import { SetBy } from "./names";

type Calendar = { years: HolidayYear[]; gaps: CalendarGap[] };

function noon(date: string): Date | undefined {
  const at = new Date(`${date}T12:00:00+08:00`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** 2027-01-01 周五 */
function dayLabel(t: T, date: string): string {
  const at = noon(date);
  return at ? formatDate(t, at) : date;
}

/** 周五 (noon in Asia/Shanghai is the same day in UTC) */
function weekday(t: T, date: string): string {
  const at = noon(date);
  return at ? t(`weekday.${at.getUTCDay()}` as Key) : "";
}

function KindBadge({ kind }: { kind: DayKind }) {
  const t = useT();
  return kind === DayKind.WORKDAY ? (
    <span class="badge day-workday" data-kind="workday">
      {t("holidays.workdayLong")}
    </span>
  ) : (
    <span class="badge day-holiday" data-kind="holiday">
      {t("holidays.holidayLong")}
    </span>
  );
}

export function Holidays({ route }: { route: string[] }) {
  const t = useT();
  const [calendar, setCalendar] = useState<Calendar>();
  const [loadError, setLoadError] = useState<Key>();
  const [reloads, setReloads] = useState(0);
  const [editing, setEditing] = useState<number>();
  const [notice, setNotice] = useState<string>();
  const [other, setOther] = useState("");
  const [otherError, setOtherError] = useState<string>();

  useEffect(() => {
    let live = true;
    api.timeLimits.getHolidayCalendar({}).then(
      (c) => live && setCalendar({ years: c.years, gaps: c.gaps }),
      (err) => live && setLoadError(readFailureKey(failure(err))),
    );
    return () => {
      live = false;
    };
  }, [reloads]);

  if (loadError) return <Banner tone="error">{t(loadError)}</Banner>;
  if (!calendar) return <p class="loading">{t("app.loading")}</p>;

  const covered = calendar.years;
  const gapYears = calendar.gaps.map((g) => g.year).filter((y) => !covered.some((c) => c.year === y));
  const asked = Number(route[0]);
  const selected =
    Number.isInteger(asked) && asked >= 2000 && asked <= 2100
      ? asked
      : (gapYears[0] ?? covered[covered.length - 1]?.year ?? new Date().getFullYear());
  const year = covered.find((y) => y.year === selected);
  // A year not covered yet opens in the editor.
  const isEditing = editing === selected || !year;
  const chips = [...new Set([...covered.map((y) => y.year), ...gapYears, selected])].sort((a, b) => a - b);

  function saved(answer: HolidayYear) {
    setCalendar(
      (c) =>
        c && {
          years: [...c.years.filter((y) => y.year !== answer.year), answer].sort((a, b) => a.year - b.year),
          gaps: c.gaps.filter((g) => g.year !== answer.year),
        },
    );
    setEditing(undefined);
    setNotice(t("holidays.saved", { year: answer.year }));
    setReloads((n) => n + 1);
  }

  function openOther(e: Event) {
    e.preventDefault();
    const y = Number(other);
    if (!Number.isInteger(y) || y < 2000 || y > 2100) return setOtherError(t("holidays.yearBad"));
    setOtherError(undefined);
    setNotice(undefined);
    navigate("admin", "holidays", String(y));
  }

  return (
    <section class="holidays">
      <p class="admin-intro">{t("holidays.intro")}</p>
      <div class="year-bar">
        <nav class="year-chips" aria-label={t("holidays.years")}>
          {chips.map((y) => {
            const isCovered = covered.some((c) => c.year === y);
            return (
              <a
                key={y}
                href={href("admin", "holidays", String(y))}
                class={`year-chip${y === selected ? " year-chip-current" : ""}${isCovered ? "" : " year-chip-gap"}`}
                aria-current={y === selected ? "page" : undefined}
                data-year={y}
                onClick={() => setNotice(undefined)}
              >
                {!isCovered && <Icon name="alert" />}
                {isCovered ? y : t("holidays.uncovered", { year: y })}
              </a>
            );
          })}
        </nav>
        <form class="year-other" onSubmit={openOther} noValidate>
          <Field label={t("holidays.otherYear")} for="other-year" error={otherError}>
            <input
              id="other-year"
              inputMode="numeric"
              value={other}
              aria-invalid={otherError ? "true" : undefined}
              onInput={(e) => setOther(e.currentTarget.value)}
            />
          </Field>
          <Button type="submit" kind="secondary">
            {t("holidays.open")}
          </Button>
        </form>
      </div>
      {notice && (
        <Banner tone="success" testid="holidays-notice">
          {notice}
        </Banner>
      )}
      <section class="year card" data-year={selected} data-covered={year ? "true" : "false"}>
        <div class="year-head">
          <h2>{t("holidays.yearTitle", { year: selected })}</h2>
          {year ? (
            <>
              <span>
                {t("holidays.count", {
                  off: year.days.filter((d) => d.kind === DayKind.HOLIDAY).length,
                  work: year.days.filter((d) => d.kind === DayKind.WORKDAY).length,
                })}
              </span>
              <SetBy by={year.updatedBy} at={year.updatedAt} />
            </>
          ) : (
            <span class="muted">{t("holidays.notCovered")}</span>
          )}
          {year && !isEditing && (
            <Button
              kind="secondary"
              onClick={() => {
                setEditing(selected);
                setNotice(undefined);
              }}
              data-testid="edit-year"
            >
              {t("holidays.edit", { year: selected })}
            </Button>
          )}
        </div>
        {isEditing || !year ? (
          <YearEditor
            key={selected}
            year={selected}
            days={year?.days ?? []}
            onSaved={saved}
            onCancel={year ? () => setEditing(undefined) : undefined}
          />
        ) : (
          <DayTable days={year.days} />
        )}
      </section>
    </section>
  );
}

function DayTable({ days }: { days: readonly HolidayDay[] }) {
  const t = useT();
  return (
    <table class="admin-table days" data-testid="days">
      <thead>
        <tr>
          <th>{t("holidays.date")}</th>
          <th>{t("holidays.kind")}</th>
          <th>{t("holidays.name")}</th>
        </tr>
      </thead>
      <tbody>
        {days.map((d) => (
          <tr key={d.date} data-date={d.date} class={d.kind === DayKind.WORKDAY ? "day-is-workday" : undefined}>
            <td class="nowrap">{dayLabel(t, d.date)}</td>
            <td>
              <KindBadge kind={d.kind} />
            </td>
            <td>{d.name}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type RowError = { field: "date" | "kind" | "name"; message: string };

function YearEditor({
  year,
  days,
  onSaved,
  onCancel,
}: {
  year: number;
  days: readonly HolidayDay[];
  onSaved: (answer: HolidayYear) => void;
  onCancel?: () => void;
}) {
  const t = useT();
  const action = useAction();
  const [rows, setRows] = useState<Row[]>(() => days.map((d) => row(d.date, d.kind, d.name)));
  const [paste, setPaste] = useState("");
  const [pasted, setPasted] = useState<{ added: number } | { bad: Pasted["bad"] }>();
  const [local, setLocal] = useState<Map<number, RowError>>(new Map());
  const [tableError, setTableError] = useState<string>();
  // The rows as last sent: the server names a day by its index in the request.
  const [sent, setSent] = useState<Row[]>([]);

  function update(key: number, change: Partial<Row>) {
    setRows(rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  }

  function addPasted() {
    const result = parsePasted(paste, year);
    if (result.bad.length > 0) return setPasted({ bad: result.bad });
    setRows(merge(rows, result.rows));
    setPasted({ added: result.rows.length });
    setPaste("");
  }

  async function save() {
    const errors = new Map<number, RowError>();
    for (const r of rows) {
      if (!DATE.test(r.date)) errors.set(r.key, { field: "date", message: t("holidays.dateBad") });
      else if (!r.name.trim()) errors.set(r.key, { field: "name", message: t("holidays.nameRequired") });
    }
    setLocal(errors);
    setTableError(rows.length === 0 ? t("holidays.emptyYear") : undefined);
    if (errors.size > 0 || rows.length === 0) return;
    const request = { year, days: rows.map((r) => ({ date: r.date, kind: r.kind, name: r.name.trim() })) };
    setSent(rows);
    const { answer } = await action.run(request, () => api.timeLimits.setHolidayYear(request));
    if (answer) {
      calendarChanged();
      onSaved(answer);
    }
  }

  // The server's refusal: `days[2].kind: ...` beside that row, `days` or `year` above.
  const refused =
    action.state.phase === "failed" && action.state.failure.kind === "field" ? action.state.failure : undefined;
  const day = refused && /^days\[(\d+)\](?:\.(date|kind|name))?$/.exec(refused.field);
  const refusedKey = day ? sent[Number(day[1])]?.key : undefined;
  const rowError = (r: Row): RowError | undefined =>
    local.get(r.key) ??
    (refused && day && r.key === refusedKey
      ? { field: (day[2] as RowError["field"]) ?? "date", message: refused.message }
      : undefined);
  const aboveError =
    tableError ?? (refused && (refused.field === "days" || refused.field === "year") ? refused.message : undefined);

  return (
    <div class="year-editor" data-testid="year-editor">
      <p class="muted">{t("holidays.replaceNote", { year })}</p>
      {aboveError && (
        <div class="field-error" role="alert" data-field-error="days">
          <Icon name="alert" />
          {aboveError}
        </div>
      )}
      <table class="admin-table days days-edit">
        <thead>
          <tr>
            <th>{t("holidays.date")}</th>
            <th>{t("holidays.kind")}</th>
            <th>{t("holidays.name")}</th>
            <th />
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const err = rowError(r);
            return (
              <tr key={r.key} data-row={i} data-date={r.date} class={err ? "row-invalid" : undefined}>
                <td class="day-date">
                  <input
                    class="mono"
                    aria-label={t("holidays.date")}
                    placeholder={`${year}-01-01`}
                    inputMode="numeric"
                    value={r.date}
                    aria-invalid={err?.field === "date" ? "true" : undefined}
                    onInput={(e) => update(r.key, { date: e.currentTarget.value.trim() })}
                  />
                  <span class="muted">{DATE.test(r.date) ? weekday(t, r.date) : ""}</span>
                </td>
                <td>
                  <select
                    aria-label={t("holidays.kind")}
                    value={r.kind}
                    aria-invalid={err?.field === "kind" ? "true" : undefined}
                    onChange={(e) => update(r.key, { kind: Number(e.currentTarget.value) as DayKind })}
                  >
                    <option value={DayKind.HOLIDAY}>{t("holidays.holidayLong")}</option>
                    <option value={DayKind.WORKDAY}>{t("holidays.workdayLong")}</option>
                  </select>
                </td>
                <td>
                  <input
                    aria-label={t("holidays.name")}
                    value={r.name}
                    aria-invalid={err?.field === "name" ? "true" : undefined}
                    onInput={(e) => update(r.key, { name: e.currentTarget.value })}
                  />
                </td>
                <td>
                  <Button
                    kind="quiet"
                    onClick={() => setRows(rows.filter((x) => x.key !== r.key))}
                    data-testid="remove-day"
                  >
                    {t("holidays.remove")}
                  </Button>
                </td>
                <td class="row-error-cell">
                  {err && (
                    <div class="field-error" role="alert" data-row-error={r.date || i}>
                      <Icon name="alert" />
                      {err.message}
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="admin-buttons">
        <Button kind="secondary" onClick={() => setRows([...rows, row()])} data-testid="add-day">
          {t("holidays.addDay")}
        </Button>
      </div>
      <Field
        label={t("holidays.paste")}
        for="holiday-paste"
        hint={t("holidays.pasteHint")}
        error={
          pasted && "bad" in pasted
            ? pasted.bad
                .map((b) =>
                  t(b.outside ? "holidays.pasteOutside" : "holidays.pasteBad", { n: b.line, line: b.text, year }),
                )
                .join("；")
            : undefined
        }
      >
        <textarea
          id="holiday-paste"
          class="mono"
          rows={5}
          spellcheck={false}
          placeholder={`${year}-01-01,holiday,元旦`}
          value={paste}
          onInput={(e) => setPaste(e.currentTarget.value)}
        />
      </Field>
      <div class="admin-buttons">
        <Button kind="secondary" onClick={addPasted} disabled={!paste.trim()} data-testid="paste-add">
          {t("holidays.pasteAdd")}
        </Button>
        {pasted && "added" in pasted && (
          <span class="muted" role="status">
            {t("holidays.pasted", { n: pasted.added })}
          </span>
        )}
      </div>
      {!refused && <ActionStatus state={action.state} onRetry={save} />}
      {refused && !day && !aboveError && <ActionStatus state={action.state} />}
      <div class="admin-buttons">
        <Button onClick={save} busy={action.busy} data-testid="save-year">
          {t("holidays.save", { year })}
        </Button>
        {onCancel && (
          <Button kind="secondary" onClick={onCancel}>
            {t("app.cancel")}
          </Button>
        )}
      </div>
    </div>
  );
}
