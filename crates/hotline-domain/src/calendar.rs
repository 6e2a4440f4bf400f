//! The official PRC working-day calendar, and time limits counted on it.
//!
//! Every Monday to Friday works and every Saturday and Sunday rests, except the days the
//! State Council's yearly notice names: public holidays (`holiday`, weekend days inside a
//! holiday block included) and the weekend days worked in exchange (`workday`, 调休上班).
//! Only those exceptions are stored, so the calendar is small and a year is added by
//! loading that year's notice with [`Calendar::extend_from_csv`], or replaced whole with
//! [`Calendar::replace_year`] (an administrator's notice, checked by [`parse_notice`]).
//!
//! For a year the data does not cover ([`Calendar::covers`] is false) the calendar still
//! answers, but only weekends rest there: holidays of an unpublished year are unknown.
//! [`Calendar::gaps`] names the uncovered years that deadlines may reach, for the
//! server's warning.
//!
//! Days are Asia/Shanghai days ([`crate::shanghai`]); instants are UTC.

use crate::error::FieldError;
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The calendar published with the crate (2020-2026).
const OFFICIAL_CSV: &str = include_str!("../data/cn-public-holidays.csv");

/// How an official notice changes a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off, even if it is a Monday to Friday.
    Holiday,
    /// A Saturday or Sunday that is worked (adjusted working day).
    Workday,
}

/// One exception to the weekly rhythm, with the holiday it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayEntry {
    pub kind: DayKind,
    pub name: String,
}

/// One day of a notice: its date, how it changes, and the holiday it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// The years a notice may be given for.
pub const NOTICE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Checks one year's notice as an administrator gives it: the year within
/// [`NOTICE_YEARS`], at least one day, every date inside the year and named once, each
/// `workday` a Saturday or Sunday, each name plain text of at most 50 characters. The
/// days come back by date, names trimmed. Errors name the field (`days[2].date`).
pub fn parse_notice(year: i32, days: Vec<Day>) -> Result<Vec<Day>, FieldError> {
    if !NOTICE_YEARS.contains(&year) {
        let (first, last) = (NOTICE_YEARS.start(), NOTICE_YEARS.end());
        return Err(FieldError::new("year", format!("{year} is not a year from {first} to {last}")));
    }
    if days.is_empty() {
        return Err(FieldError::new("days", "must list the year's days off and adjusted working days"));
    }
    let mut seen: HashMap<NaiveDate, usize> = HashMap::new();
    let mut out = Vec::with_capacity(days.len());
    for (i, day) in days.into_iter().enumerate() {
        let field = |name: &str| format!("days[{i}].{name}");
        if day.date.year() != year {
            return Err(FieldError::new(field("date"), format!("{} is not in {year}", day.date)));
        }
        if let Some(first) = seen.insert(day.date, i) {
            return Err(FieldError::new(field("date"), format!("{} is also days[{first}]", day.date)));
        }
        check_day(day.date, day.kind).map_err(|message| FieldError::new(field("kind"), message))?;
        let name = crate::values::parse_text(&field("name"), &day.name, crate::values::limits::NAME)?;
        out.push(Day { name, ..day });
    }
    out.sort_by_key(|d| d.date);
    Ok(out)
}

/// The rule every entry of a notice follows, whatever its source: only a Saturday or
/// Sunday can be an adjusted working day.
fn check_day(date: NaiveDate, kind: DayKind) -> Result<(), String> {
    if kind == DayKind::Workday && !is_weekend(date) {
        return Err(format!(
            "{date} is a {:?}, a working day anyway; `workday` marks an adjusted Saturday or Sunday",
            date.weekday()
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    exceptions: BTreeMap<NaiveDate, DayEntry>,
    years: BTreeSet<i32>,
}

/// A year the calendar does not cover that deadlines decided now may reach (see
/// [`Calendar::gaps`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub year: i32,
    /// Whether a deadline decided now can already fall in the year; otherwise it is the
    /// coming year, watched from 1 November on.
    pub reached: bool,
}

/// From this day (month, day) the coming year is watched whatever the limits: the State
/// Council publishes each year's notice in the autumn before.
const NOTICE_SEASON: (u32, u32) = (11, 1);

/// A calendar file that could not be read; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar line {line}: {message}")]
pub struct CalendarError {
    pub line: usize,
    pub message: String,
}

impl Calendar {
    /// The official calendar embedded in the crate.
    pub fn official() -> Calendar {
        Calendar::from_csv(OFFICIAL_CSV).expect("the embedded holiday calendar is valid")
    }

    /// Reads a calendar file: `date,kind,name` lines (`YYYY-MM-DD`, `holiday` or
    /// `workday`, free text); `#` comment lines, blank lines and the header are skipped.
    pub fn from_csv(csv: &str) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::default();
        cal.extend_from_csv(csv)?;
        Ok(cal)
    }

    /// Adds a calendar file on top of this one; a date already present takes the new
    /// entry (a later notice wins). All or nothing: on error the calendar is unchanged.
    pub fn extend_from_csv(&mut self, csv: &str) -> Result<(), CalendarError> {
        let entries = parse_csv(csv)?;
        for (date, entry) in entries {
            self.years.insert(date.year());
            self.exceptions.insert(date, entry);
        }
        Ok(())
    }

    /// Replaces everything the calendar holds for `year` with `days` (a notice that
    /// [`parse_notice`] accepted for that year): the year is covered from then on.
    pub fn replace_year(&mut self, year: i32, days: &[Day]) {
        let Some(span) = year_span(year) else { return };
        self.exceptions.retain(|date, _| !span.contains(date));
        for day in days.iter().filter(|d| d.date.year() == year) {
            self.exceptions.insert(day.date, DayEntry { kind: day.kind, name: day.name.clone() });
        }
        self.years.insert(year);
    }

    /// The exceptions of `year`, by date.
    pub fn days_of(&self, year: i32) -> Vec<Day> {
        let Some(span) = year_span(year) else { return Vec::new() };
        self.exceptions
            .range(span)
            .map(|(date, e)| Day { date: *date, kind: e.kind, name: e.name.clone() })
            .collect()
    }

    /// Whether the data has any entry for `year`. Outside covered years only weekends
    /// rest, which is wrong on that year's holidays: load its notice first.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The uncovered years that deadlines decided at `now` may reach: every year from
    /// now's (Shanghai) to the last day `horizon` covers (the furthest deadline the policy
    /// can give, `SlaPolicy::horizon`), and from 1 November on the coming year too.
    pub fn gaps(&self, now: DateTime<Utc>, horizon: DateTime<Utc>) -> Vec<Gap> {
        let today = shanghai_date(now);
        let this = today.year();
        let reach = last_day_of(horizon).year().max(this);
        let (month, day) = NOTICE_SEASON;
        let in_season = NaiveDate::from_ymd_opt(this, month, day).is_some_and(|d| today >= d);
        let last = if in_season { reach.max(this + 1) } else { reach };
        (this..=last).filter(|y| !self.covers(*y)).map(|year| Gap { year, reached: year <= reach }).collect()
    }

    /// The years with entries, ascending.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The official entry for a date, if the date is an exception.
    pub fn entry(&self, date: NaiveDate) -> Option<&DayEntry> {
        self.exceptions.get(&date)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(e) => e.kind == DayKind::Workday,
            None => !is_weekend(date),
        }
    }

    /// The due instant of a limit of `n` working days for a matter received at `from`.
    ///
    /// Counting starts the day after receipt (the Shanghai date of `from`) and the last
    /// day is included, so the matter is due at the end of the n-th working day after
    /// that date: 00:00 Shanghai of the following calendar day. `n = 0` means the end of
    /// the day of receipt.
    pub fn add_working_days(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        end_of_day(self.nth_working_day_after(shanghai_date(from), n))
    }

    /// `n` more working days past a due instant (an extension). A due at 00:00 Shanghai
    /// is the end of the day before, so that day is the base: extending "end of Thursday"
    /// by one gives "end of Friday", not "end of Monday" as counting from the Friday
    /// receipt date would.
    pub fn extend_due(&self, due: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        end_of_day(self.nth_working_day_after(last_day_of(due), n))
    }

    /// Plain wall-clock hours: urgent limits run through nights, weekends and holidays.
    pub fn add_hours(&self, from: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        from + Duration::hours(i64::from(hours))
    }

    /// Working days in `(a, b]`: how many working days after `a` it took to reach `b`.
    /// Negative when `b < a` (minus the working days in `(b, a]`).
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        if b == a {
            return 0;
        }
        let mut count = weekdays_up_to(b) - weekdays_up_to(a);
        let after_a = a.succ_opt().expect("date in range");
        for (date, entry) in self.exceptions.range(after_a..=b) {
            match (entry.kind, is_weekend(*date)) {
                (DayKind::Holiday, false) => count -= 1,
                (DayKind::Workday, true) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// Whole working days from `now` to the deadline `due`: the working days after
    /// today (the Shanghai date of `now`) up to and including the last day `due` covers
    /// (a due at 00:00 Shanghai covers the day before, any other instant its own day).
    ///
    /// Today never counts, whatever the hour: 0 while the deadline falls today or before
    /// the next working day begins; 1 when it ends with the next working day; and so on.
    /// Days off between (weekends, holidays) do not count, adjusted working days do.
    /// Once `now` is past `due` the count is negative: minus the working days after
    /// that last day up to and including today, so 0 until the first working day after
    /// it begins, -1 on that day. At `due` itself (not yet past) it is 0.
    pub fn working_days_left(&self, now: DateTime<Utc>, due: DateTime<Utc>) -> i64 {
        let left = self.working_days_between(shanghai_date(now), last_day_of(due));
        if now > due { left } else { left.max(0) }
    }

    /// When a yellow card is due: one working day before `due`.
    ///
    /// Rule: take the last day the due covers (a due at 00:00 Shanghai covers the day
    /// before; any other instant covers its own day), step back to the last working day
    /// at or before it, and give the start (00:00 Shanghai) of that working day. For a
    /// due at the end of working day X this is the start of X, one working day before.
    /// For an hours-based (urgent) due it is the start of the working day it falls in,
    /// which may be before the clock started: the card is then due at once.
    pub fn yellow_card_at(&self, due: DateTime<Utc>) -> DateTime<Utc> {
        let mut day = last_day_of(due);
        // Bounded: outside holiday blocks every week has working days.
        while !self.is_working_day(day) {
            day = day.pred_opt().expect("date in range");
        }
        start_of_day(day)
    }

    fn nth_working_day_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().expect("date in range");
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

fn parse_csv(csv: &str) -> Result<Vec<(NaiveDate, DayEntry)>, CalendarError> {
    let mut entries = Vec::new();
    for (index, raw) in csv.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut fields = text.splitn(3, ',').map(str::trim);
        let date_text = fields.next().unwrap_or_default();
        if date_text.eq_ignore_ascii_case("date") {
            continue; // the header
        }
        let err = |message: String| CalendarError { line, message };
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
            .map_err(|_| err(format!("`{date_text}` is not a date (YYYY-MM-DD)")))?;
        let kind = match fields.next() {
            Some("holiday") => DayKind::Holiday,
            Some("workday") => DayKind::Workday,
            Some(other) => {
                return Err(err(format!("kind `{other}` is not `holiday` or `workday`")));
            }
            None => return Err(err("missing kind (`holiday` or `workday`)".into())),
        };
        check_day(date, kind).map_err(err)?;
        let name = fields.next().unwrap_or_default().trim_matches('"').to_owned();
        entries.push((date, DayEntry { kind, name }));
    }
    Ok(entries)
}

/// 1 January to 31 December of `year`.
fn year_span(year: i32) -> Option<std::ops::RangeInclusive<NaiveDate>> {
    Some(NaiveDate::from_ymd_opt(year, 1, 1)?..=NaiveDate::from_ymd_opt(year, 12, 31)?)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Mondays to Fridays from a fixed epoch up to and including `date` (may be negative);
/// only differences are used.
fn weekdays_up_to(date: NaiveDate) -> i64 {
    // Day 1 of the Common Era (0001-01-01) is a Monday.
    let days = i64::from(date.num_days_from_ce()); // 1 for 0001-01-01
    let weeks = (days - 1).div_euclid(7);
    let rest = (days - 1).rem_euclid(7) + 1; // 1..=7 days into the week, Monday first
    weeks * 5 + rest.min(5)
}

/// The Shanghai calendar date of an instant.
pub(crate) fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&crate::shanghai()).date_naive()
}

/// The last Shanghai day an instant still covers: 00:00 belongs to the day before.
fn last_day_of(t: DateTime<Utc>) -> NaiveDate {
    let local = t.with_timezone(&crate::shanghai());
    if local.time() == NaiveTime::MIN {
        local.date_naive().pred_opt().expect("date in range")
    } else {
        local.date_naive()
    }
}

/// 00:00 Shanghai of `date`, in UTC.
fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    crate::shanghai()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has exactly one mapping")
        .with_timezone(&Utc)
}

/// The end of `date` in Shanghai: 00:00 of the next day, in UTC.
fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    start_of_day(date.checked_add_days(Days::new(1)).expect("date in range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_the_uncovered_years_deadlines_may_reach() {
        let policy = crate::sla::SlaPolicy::default();
        let at = |s: &str| {
            crate::shanghai()
                .from_local_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        let gaps = |cal: &Calendar, now: &str| cal.gaps(at(now), policy.horizon(at(now), cal));
        let official = Calendar::official();
        // 4 December 2026: 15 working days and a 10-day extension end on 8 January 2027.
        assert_eq!(policy.horizon(at("2026-12-04 10:00"), &official), at("2027-01-09 00:00"));
        assert_eq!(gaps(&official, "2026-12-04 10:00"), [Gap { year: 2027, reached: true }]);
        // From 1 November the coming year is watched before any deadline reaches it.
        assert_eq!(gaps(&official, "2026-11-02 09:00"), [Gap { year: 2027, reached: false }]);
        assert_eq!(gaps(&official, "2026-11-01 00:00"), [Gap { year: 2027, reached: false }]);
        assert_eq!(gaps(&official, "2026-10-31 23:59"), []);
        // A year already under way and not covered.
        assert_eq!(gaps(&official, "2027-03-01 09:00"), [Gap { year: 2027, reached: true }]);
        // Loading the notice ends it.
        let mut with_2027 = Calendar::official();
        with_2027.extend_from_csv("2027-01-01,holiday,New Year's Day\n").unwrap();
        assert_eq!(gaps(&with_2027, "2026-12-04 10:00"), []);
        // A longer policy reaches the next year earlier.
        let long = crate::sla::SlaPolicy::from_toml("[default]\nreply_complex = \"60d\"\n").unwrap();
        let now = at("2026-10-01 09:00");
        assert_eq!(official.gaps(now, long.horizon(now, &official)), [Gap { year: 2027, reached: true }]);
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn official_calendar_loads_and_covers_its_years() {
        let cal = Calendar::official();
        assert!((2020..=2026).all(|y| cal.covers(y)));
        assert!(!cal.covers(2019) && !cal.covers(2027));
        assert_eq!(cal.covered_years().collect::<Vec<_>>(), (2020..=2026).collect::<Vec<_>>());
        assert_eq!(cal.entry(d("2026-02-17")).unwrap().name, "Spring Festival");
    }

    #[test]
    fn weekly_rhythm_with_exceptions() {
        let cal = Calendar::official();
        assert!(cal.is_working_day(d("2026-02-13"))); // Friday
        assert!(cal.is_working_day(d("2026-02-14"))); // adjusted Saturday
        assert!(!cal.is_working_day(d("2026-02-16"))); // Monday in Spring Festival
        assert!(!cal.is_working_day(d("2026-03-07"))); // ordinary Saturday
        assert!(cal.is_working_day(d("2026-03-09"))); // ordinary Monday
        // An uncovered year: weekends only.
        assert!(cal.is_working_day(d("2027-01-01"))); // a Friday; its holiday is unknown
        assert!(!cal.is_working_day(d("2027-01-02")));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = Calendar::from_csv("date,kind,name\n2025-13-01,holiday,x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.to_string(), "calendar line 2: `2025-13-01` is not a date (YYYY-MM-DD)");
        let e = Calendar::from_csv("# c\n\n2025-10-01,holidy,National Day\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("`holidy` is not `holiday` or `workday`"), "{e}");
        let e = Calendar::from_csv("2025-10-01\n").unwrap_err();
        assert!(e.message.contains("missing kind"), "{e}");
        let e = Calendar::from_csv("2025-09-29,workday,x\n").unwrap_err();
        assert!(e.message.contains("adjusted Saturday or Sunday"), "{e}");
    }

    #[test]
    fn extension_overrides_and_is_atomic() {
        let mut cal = Calendar::from_csv("2027-01-01,holiday,New Year's Day\n").unwrap();
        assert!(!cal.is_working_day(d("2027-01-01")));
        assert!(cal.covers(2027));
        // A later notice turns a Saturday into a working day and adds a holiday.
        cal.extend_from_csv("date,kind,name\n2027-01-02,workday,x\n2027-01-04,holiday,x\n").unwrap();
        assert!(cal.is_working_day(d("2027-01-02")));
        assert!(!cal.is_working_day(d("2027-01-04")));
        // A later entry for the same date replaces the earlier one.
        cal.extend_from_csv("2027-01-04,holiday,changed\n").unwrap();
        assert_eq!(cal.entry(d("2027-01-04")).unwrap().name, "changed");
        // A bad file changes nothing.
        let before = cal.clone();
        assert!(cal.extend_from_csv("2028-01-03,holiday,x\nbad,holiday,x\n").is_err());
        assert_eq!(cal, before);
        assert!(!cal.covers(2028));
    }

    fn day(date: &str, kind: DayKind, name: &str) -> Day {
        Day { date: d(date), kind, name: name.into() }
    }

    #[test]
    fn a_notice_is_checked_field_by_field() {
        use DayKind::{Holiday, Workday};
        let good = vec![
            day("2027-02-20", Workday, " Spring Festival "),
            day("2027-01-01", Holiday, "New Year's Day"),
        ];
        let days = parse_notice(2027, good).unwrap();
        assert_eq!(days[0], day("2027-01-01", Holiday, "New Year's Day"), "by date");
        assert_eq!(days[1].name, "Spring Festival", "trimmed");
        let refused = |year: i32, days: Vec<Day>| {
            let e = parse_notice(year, days).unwrap_err();
            format!("{}: {}", e.field, e.message)
        };
        assert_eq!(
            refused(1999, vec![day("1999-01-01", Holiday, "x")]),
            "year: 1999 is not a year from 2000 to 2100"
        );
        assert!(refused(2027, vec![]).starts_with("days: must list"));
        assert_eq!(
            refused(2027, vec![day("2027-01-01", Holiday, "x"), day("2028-01-01", Holiday, "x")]),
            "days[1].date: 2028-01-01 is not in 2027"
        );
        assert_eq!(
            refused(2027, vec![day("2027-01-01", Holiday, "x"), day("2027-01-01", Holiday, "y")]),
            "days[1].date: 2027-01-01 is also days[0]"
        );
        assert!(
            refused(2027, vec![day("2027-01-04", Workday, "x")])
                .starts_with("days[0].kind: 2027-01-04 is a Mon")
        );
        assert_eq!(refused(2027, vec![day("2027-01-01", Holiday, " ")]), "days[0].name: must not be empty");
    }

    #[test]
    fn a_year_is_replaced_whole() {
        let mut cal = Calendar::official();
        assert!(!cal.is_working_day(d("2026-10-01")));
        // Another notice for 2026: National Day only, on one day.
        cal.replace_year(2026, &[day("2026-10-01", DayKind::Holiday, "National Day")]);
        assert_eq!(cal.days_of(2026), [day("2026-10-01", DayKind::Holiday, "National Day")]);
        assert!(cal.is_working_day(d("2026-10-02")), "the earlier notice's other days of 2026 are gone");
        assert!(cal.is_working_day(d("2026-02-17")) && cal.entry(d("2026-02-17")).is_none());
        assert!(!cal.is_working_day(d("2025-10-01")), "other years keep theirs");
        // A year not covered before is covered after.
        assert!(!cal.covers(2027));
        cal.replace_year(2027, &[day("2027-01-01", DayKind::Holiday, "New Year's Day")]);
        assert!(cal.covers(2027) && !cal.is_working_day(d("2027-01-01")));
        assert_eq!(cal.covered_years().last(), Some(2027));
    }

    #[test]
    fn weekday_arithmetic_matches_counting() {
        let cal = Calendar::default();
        let start = d("2024-12-25");
        for offset in 0..40 {
            let end = start + Days::new(offset);
            let counted = (1..=offset).filter(|k| cal.is_working_day(start + Days::new(*k))).count() as i64;
            assert_eq!(cal.working_days_between(start, end), counted, "{end}");
        }
    }
}
