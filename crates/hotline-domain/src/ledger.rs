//! The duty ledger of the counsel programme ("one counsel for every village, one team
//! for every township"): what village counsel and township legal service teams record
//! of their service, the "nine ones" of each village, the monthly report, the duties
//! they are held to, and the figures of the year's report.
//!
//! Pure: the rules are decided here from their inputs (the official calendar, the
//! policy, what storage counted), so they are tested without a database.
//!
//! - **On-site days.** A visit is checked in and out with the position the phone
//!   reports; a position farther than the policy's radius from the unit (or a unit
//!   without a position) flags the visit for review instead of refusing it. A day counts
//!   once per counsel: the distinct working days (official calendar) with a visit that
//!   was checked out and is clean or accepted on review.
//! - **Records** are typed by the report's six functions ([`Detail`]); each is one
//!   service. A record made from a work order counts the order once: through the record.
//! - **Duties** ([`compliance`]): at least `min_on_site_days` on-site working days a
//!   month per village counsel (in their villages of a township, together) and per
//!   township team (any member at the township); at least `min_education_events`
//!   legal-education events a year per village and per team, pro rata by the month;
//!   each counsel's monthly report submitted by the policy's day of the next month.
//! - **The year's figures** ([`YearFigures::tally`]): every figure of the report's table,
//!   from what the records and the work orders without a record add up to.

use crate::calendar::shanghai_date;
use crate::model::{Category, Subcategory, named_enum};
use crate::{Calendar, FieldError};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

named_enum!(
    /// Whose duty a unit of the ledger is: a village's counsel, or a township's team.
    Duty {
        Village => "village",
        Team => "team",
    }
);

named_enum!(
    /// The report's six functions of counsel and teams (六种职能).
    Function {
        /// 化解矛盾纠纷: a dispute mediated.
        Mediation => "mediation",
        /// 重大决策论证: a decision or document reviewed.
        DocumentReview => "document_review",
        /// 提供法律咨询: a consultation answered, or another legal service to villagers.
        Consultation => "consultation",
        /// 重要合同审查: a contract reviewed.
        ContractReview => "contract_review",
        /// 指导案件办理: a case guided or represented.
        Case => "case",
        /// 法制宣传教育: a legal-education event.
        Education => "education",
    }
);

named_enum!(
    MediationOutcome {
        Resolved => "resolved",
        Unresolved => "unresolved",
        /// Passed on (to the township, a court, another body).
        Referred => "referred",
    }
);

named_enum!(
    /// What was reviewed. A township team reviews major decisions, normative documents,
    /// contracts in negotiation and emergency responses; a village counsel the village's
    /// affairs (village decisions, rules and notices).
    DocumentKind {
        MajorDecision => "major_decision",
        NormativeDocument => "normative_document",
        Contract => "contract",
        Emergency => "emergency",
        VillageAffairs => "village_affairs",
    }
);

named_enum!(
    ConsultationKind {
        /// A legal question answered (解答法律咨询).
        Answered => "answered",
        /// Another legal service to villagers (其他法律服务): a document drafted, a
        /// procedure explained and accompanied, a paper checked.
        OtherService => "other_service",
    }
);

named_enum!(
    CaseKind {
        Lawsuit => "lawsuit",
        Arbitration => "arbitration",
        AdministrativeReview => "administrative_review",
        /// Helped a person apply for legal aid (帮助申请法律援助).
        LegalAidApplication => "legal_aid_application",
        /// Handled a legal-aid case (办理法律援助案件).
        LegalAidCase => "legal_aid_case",
    }
);

named_enum!(
    CaseRole {
        Guided => "guided",
        Represented => "represented",
    }
);

named_enum!(
    EducationKind {
        /// A lecture or class (法治讲座); `audience` people.
        Lecture => "lecture",
        /// Legal-education boards put up (法治宣传栏); `copies` boards.
        Board => "board",
        /// Brochures handed out (宣传手册); `copies` brochures.
        Brochures => "brochures",
        /// Letters to villagers delivered (致村民的一封信); `copies` letters.
        Letters => "letters",
    }
);

named_enum!(
    /// The "nine ones" (九个一) a village counsel does in each village every year.
    NineOne {
        /// 入一次户: visit every household.
        HouseholdVisits => "household_visits",
        /// 给一张便民联系卡
        ContactCard => "contact_card",
        /// 送一张法律明白纸
        LegalSheet => "legal_sheet",
        /// 发一份调查问卷
        Questionnaire => "questionnaire",
        /// 送致广大群众一封信
        Letter => "letter",
        /// 建一个公示栏
        NoticeBoard => "notice_board",
        /// 制定一个村规民约
        VillageRules => "village_rules",
        /// 上好一堂法治课
        LawClass => "law_class",
        /// 每月向乡镇(街道)汇报一次情况
        MonthlyReport => "monthly_report",
    }
);

named_enum!(
    /// A monthly report: submitted to the township, then approved or returned with a
    /// reason by the station lead; a returned report is submitted again.
    ReportState {
        Submitted => "submitted",
        Approved => "approved",
        Returned => "returned",
    }
);

named_enum!(
    /// The review of a visit flagged for its position.
    VisitReview {
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
    }
);

/// Money as decimal text in JSON (`"8236.40"`), `null` when absent.
mod yuan {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&format!("{d:.2}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| Decimal::from_str_exact(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// What a record is: one of the six functions, with its own fields. Each record is one
/// service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "function", rename_all = "snake_case")]
pub enum Detail {
    Mediation {
        parties: u32,
        subject: Subcategory,
        summary: Option<String>,
        outcome: MediationOutcome,
        #[serde(with = "yuan")]
        amount_in_dispute: Option<Decimal>,
    },
    DocumentReview {
        kind: DocumentKind,
        title: String,
    },
    Consultation {
        kind: ConsultationKind,
        subject: Subcategory,
        summary: Option<String>,
    },
    ContractReview {
        title: String,
        /// The contract's amount.
        #[serde(with = "yuan")]
        amount: Option<Decimal>,
        /// The economic loss the review recovered or avoided.
        #[serde(with = "yuan")]
        loss_recovered: Option<Decimal>,
    },
    Case {
        kind: CaseKind,
        role: CaseRole,
        subject: Subcategory,
        summary: Option<String>,
    },
    Education {
        kind: EducationKind,
        title: String,
        /// People reached (a lecture's audience).
        audience: u32,
        /// Boards, brochures or letters.
        copies: u32,
    },
}

/// The most parties, audience or copies one record may carry.
pub const MAX_COUNT: u32 = 1_000_000;

impl Detail {
    pub fn function(&self) -> Function {
        match self {
            Detail::Mediation { .. } => Function::Mediation,
            Detail::DocumentReview { .. } => Function::DocumentReview,
            Detail::Consultation { .. } => Function::Consultation,
            Detail::ContractReview { .. } => Function::ContractReview,
            Detail::Case { .. } => Function::Case,
            Detail::Education { .. } => Function::Education,
        }
    }

    /// The record's kind within its function, as stored and counted: the outcome of a
    /// mediation, the kind of the others; a contract review has one kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Detail::Mediation { outcome, .. } => outcome.as_str(),
            Detail::DocumentReview { kind, .. } => kind.as_str(),
            Detail::Consultation { kind, .. } => kind.as_str(),
            Detail::ContractReview { .. } => "contract",
            Detail::Case { kind, .. } => kind.as_str(),
            Detail::Education { kind, .. } => kind.as_str(),
        }
    }

    pub fn audience(&self) -> u32 {
        match self {
            Detail::Education { audience, .. } => *audience,
            _ => 0,
        }
    }

    pub fn copies(&self) -> u32 {
        match self {
            Detail::Education { copies, .. } => *copies,
            _ => 0,
        }
    }

    pub fn loss_recovered(&self) -> Option<Decimal> {
        match self {
            Detail::ContractReview { loss_recovered, .. } => *loss_recovered,
            _ => None,
        }
    }

    /// The rules between a record's fields and whose duty it is, each refusal naming
    /// the field under the proto's oneof name (`document.kind`, `education.copies`).
    pub fn check(&self, duty: Duty) -> Result<(), FieldError> {
        match self {
            Detail::Mediation { parties, .. } => {
                if *parties < 2 || *parties > MAX_COUNT {
                    return Err(FieldError::new("dispute.parties", format!("must be 2 to {MAX_COUNT}")));
                }
            }
            Detail::DocumentReview { kind, .. } => {
                let village = *kind == DocumentKind::VillageAffairs;
                if village != (duty == Duty::Village) {
                    let msg = if village {
                        "village_affairs is a village counsel's review; a township team reviews major \
                         decisions, normative documents, contracts and emergency responses"
                    } else {
                        "a village counsel reviews village_affairs; the other kinds are a township team's"
                    };
                    return Err(FieldError::new("document.kind", msg));
                }
            }
            Detail::Consultation { .. } | Detail::ContractReview { .. } | Detail::Case { .. } => {}
            Detail::Education { kind, audience, copies, .. } => {
                if *audience > MAX_COUNT {
                    return Err(FieldError::new("education.audience", format!("at most {MAX_COUNT}")));
                }
                if *copies > MAX_COUNT {
                    return Err(FieldError::new("education.copies", format!("at most {MAX_COUNT}")));
                }
                match kind {
                    EducationKind::Lecture if *audience == 0 => {
                        return Err(FieldError::new("education.audience", "a lecture needs its audience"));
                    }
                    EducationKind::Lecture if *copies != 0 => {
                        return Err(FieldError::new("education.copies", "a lecture has no copies"));
                    }
                    EducationKind::Board | EducationKind::Brochures | EducationKind::Letters
                        if *copies == 0 =>
                    {
                        return Err(FieldError::new(
                            "education.copies",
                            "how many boards, brochures or letters: at least 1",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// A month of the calendar, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// The month of a date.
    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    /// The month `YYYY-MM` (years 2000 to 2099).
    pub fn parse(field: &str, raw: &str) -> Result<Month, FieldError> {
        let bad = || FieldError::new(field, format!("`{raw}` is not a month (YYYY-MM)"));
        let (y, m) = raw.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(2000..=2099).contains(&year) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("date in range")
    }

    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.first_day().iter_days().take_while(move |d| *d <= self.last_day())
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        Month::of(date) == self
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Month, FieldError> {
        Month::parse("month", &s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

/// A calendar date `YYYY-MM-DD` (Asia/Shanghai), years 2000 to 2099.
pub fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, format!("`{raw}` is not a date (YYYY-MM-DD)")))?;
    if !(2000..=2099).contains(&date.year()) {
        return Err(FieldError::new(field, "must be in the years 2000 to 2099"));
    }
    Ok(date)
}

/// The Shanghai date of an instant: the day a visit or a record belongs to.
pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    shanghai_date(t)
}

/// 00:00 Shanghai of `date`, in UTC.
pub fn start_of(date: NaiveDate) -> DateTime<Utc> {
    crate::shanghai()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has exactly one mapping")
        .with_timezone(&Utc)
}

/// The duties and limits of the programme (`[ledger]` in the server's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LedgerPolicy {
    /// A check-in or check-out farther than this from the unit's position flags the
    /// visit for review.
    pub radius_km: f64,
    /// On-site working days a month: per village counsel, per township team.
    pub min_on_site_days: u32,
    /// Legal-education events a year: per village, per township team.
    pub min_education_events: u32,
    /// A month's report is due by the end of this day of the next month.
    pub report_due_day: u32,
}

impl Default for LedgerPolicy {
    fn default() -> Self {
        LedgerPolicy { radius_km: 3.0, min_on_site_days: 4, min_education_events: 2, report_due_day: 5 }
    }
}

impl LedgerPolicy {
    /// The policy's own rules: a radius above 0 and at most 100 km, a due day 1 to 28,
    /// duties no larger than a month or a year holds.
    pub fn check(&self) -> Result<(), String> {
        if !(self.radius_km.is_finite() && self.radius_km > 0.0 && self.radius_km <= 100.0) {
            return Err("on_site_radius_km must be above 0 and at most 100".into());
        }
        if !(1..=28).contains(&self.report_due_day) {
            return Err("report_due_day must be 1 to 28".into());
        }
        if self.min_on_site_days > 23 {
            return Err("min_on_site_days must be at most 23 (the working days of a month)".into());
        }
        if self.min_education_events > 365 {
            return Err("min_education_events must be at most 365".into());
        }
        Ok(())
    }

    /// When a month's report is due: the end (00:00 Shanghai after) of day
    /// `report_due_day` of the next month.
    pub fn report_due(&self, month: Month) -> DateTime<Utc> {
        let day = month.next().first_day() + Days::new(u64::from(self.report_due_day));
        start_of(day)
    }

    /// Whether a position `distance_km` from the unit (`None`: the unit has no position)
    /// is outside the radius.
    pub fn outside(&self, distance_km: Option<f64>) -> bool {
        distance_km.is_none_or(|d| d > self.radius_km)
    }

    /// Legal-education events a village or team should have held by the end of `month`:
    /// the year's minimum pro rata, rounded up (2 a year: 1 by June, 2 by December).
    pub fn education_due_by(&self, month: Month) -> u32 {
        (self.min_education_events * month.number()).div_ceil(12)
    }
}

/// What a monthly report carries, assembled from the ledger when it is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    /// On-site working days in the counsel's villages of the township.
    pub on_site_days: u32,
    /// Those days.
    pub days: Vec<NaiveDate>,
    /// Records of the month in those villages, by function.
    pub records: BTreeMap<Function, u64>,
}

/// A visit as the duties count it: checked out, of the day it was checked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitDay {
    pub person_id: String,
    pub unit_id: String,
    pub duty: Duty,
    pub township_id: String,
    pub day: NaiveDate,
    /// `None`: clean (not flagged); otherwise the review.
    pub review: Option<VisitReview>,
}

impl VisitDay {
    /// Counts as an on-site day: clean, or accepted on review.
    pub fn counts(&self) -> bool {
        matches!(self.review, None | Some(VisitReview::Accepted))
    }

    pub fn pending(&self) -> bool {
        self.review == Some(VisitReview::Pending)
    }
}

/// The distinct working days among `days`, in order.
pub fn working_days<'a>(
    calendar: &Calendar,
    days: impl IntoIterator<Item = &'a NaiveDate>,
) -> Vec<NaiveDate> {
    let set: BTreeSet<NaiveDate> =
        days.into_iter().copied().filter(|d| calendar.is_working_day(*d)).collect();
    set.into_iter().collect()
}

/// A village counsel's post in one township: the villages they counsel there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounselPost {
    pub person_id: String,
    pub name: String,
    pub township_id: String,
    pub county_id: String,
    pub villages: Vec<String>,
}

/// A village, its township and county, and its counsel (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillagePost {
    pub village_id: String,
    pub township_id: String,
    pub county_id: String,
    pub counsel_id: Option<String>,
}

/// A township (its team's duty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamPost {
    pub township_id: String,
    pub county_id: String,
}

/// A monthly report as the duties read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportStatus {
    pub person_id: String,
    pub township_id: String,
    pub state: ReportState,
    pub first_submitted_at: DateTime<Utc>,
}

/// Every duty holder of the directory: each counsel's posts (ordered by person, then
/// township; villages in the counsel's order), every village (by id, with its first
/// counsel by id) and every township team (by id). It changes only with the directory,
/// so the server keeps it with the routing index of the same directory version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DutyPosts {
    pub counsel: Vec<CounselPost>,
    pub villages: Vec<VillagePost>,
    pub teams: Vec<TeamPost>,
}

impl DutyPosts {
    /// The posts of the directory routing reads: its villages, its people (each with the
    /// villages they counsel, in order), their names, and its townships.
    pub fn build(
        villages: &[crate::routing::VillageInput],
        people: &[crate::routing::PersonInput],
        names: &HashMap<String, String>,
        townships: &[TeamPost],
    ) -> DutyPosts {
        let place: HashMap<&str, &crate::routing::VillageInput> =
            villages.iter().map(|v| (v.id.as_str(), v)).collect();
        let mut first_counsel: HashMap<&str, &str> = HashMap::new();
        let mut people: Vec<&crate::routing::PersonInput> = people.iter().collect();
        people.sort_by(|a, b| a.id.cmp(&b.id));
        let mut counsel = Vec::new();
        for person in people {
            // Their posts by township, each with its villages in the counsel's order.
            let mut posts: BTreeMap<&str, CounselPost> = BTreeMap::new();
            for v in person.villages.iter().filter_map(|id| place.get(id.as_str())) {
                first_counsel.entry(v.id.as_str()).or_insert(person.id.as_str());
                posts
                    .entry(v.township_id.as_str())
                    .or_insert_with(|| CounselPost {
                        person_id: person.id.clone(),
                        name: names.get(&person.id).cloned().unwrap_or_default(),
                        township_id: v.township_id.clone(),
                        county_id: v.county_id.clone(),
                        villages: Vec::new(),
                    })
                    .villages
                    .push(v.id.clone());
            }
            counsel.extend(posts.into_values());
        }
        let mut villages: Vec<VillagePost> = villages
            .iter()
            .map(|v| VillagePost {
                village_id: v.id.clone(),
                township_id: v.township_id.clone(),
                county_id: v.county_id.clone(),
                counsel_id: first_counsel.get(v.id.as_str()).map(|p| (*p).to_owned()),
            })
            .collect();
        villages.sort_by(|a, b| a.village_id.cmp(&b.village_id));
        let mut teams = townships.to_vec();
        teams.sort_by(|a, b| a.township_id.cmp(&b.township_id));
        DutyPosts { counsel, villages, teams }
    }
}

/// The part of the city a board covers: all of it, a county, or a township.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Area<'a> {
    pub county_id: Option<&'a str>,
    pub township_id: Option<&'a str>,
}

impl Area<'_> {
    /// Whether a post in `township_id` of `county_id` lies in the area.
    pub fn holds(&self, county_id: &str, township_id: &str) -> bool {
        self.county_id.is_none_or(|c| c == county_id) && self.township_id.is_none_or(|t| t == township_id)
    }
}

/// What storage counted for a compliance board, in its area.
#[derive(Debug, Clone, Default)]
pub struct ComplianceActivity {
    /// Checked-out visits of the month (rejected ones may be left out).
    pub visits: Vec<VisitDay>,
    /// Education records from the start of the year to the end of the month, by unit
    /// (village or township).
    pub education: HashMap<String, u32>,
    /// The month's reports.
    pub reports: Vec<ReportStatus>,
    /// Townships whose monthly meeting of the month was recorded.
    pub meetings: HashSet<String>,
    /// People who are not active now (those of other areas may be listed too).
    pub inactive: HashSet<String>,
}

named_enum!(
    ShortfallKind {
        CounselOnSiteDays => "counsel_on_site_days",
        TeamOnSiteDays => "team_on_site_days",
        VillageEducation => "village_education",
        TeamEducation => "team_education",
        ReportMissing => "report_missing",
        ReportLate => "report_late",
    }
);

/// One duty not met: who (a counsel, or empty for a team or a village), where, what was
/// required and what was done. It borrows its names from the posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall<'a> {
    pub kind: ShortfallKind,
    pub person_id: Option<&'a str>,
    pub name: Option<&'a str>,
    /// The village or township.
    pub unit_id: &'a str,
    pub township_id: &'a str,
    pub county_id: &'a str,
    pub required: u32,
    pub actual: u32,
    /// The period measured is not over yet (the month is running): the count may rise.
    pub provisional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounselRow<'a> {
    pub post: &'a CounselPost,
    /// The counsel is active now (not withdrawn, not disqualified).
    pub active: bool,
    pub on_site_days: u32,
    /// Working days with flagged visits awaiting review only.
    pub pending_days: u32,
    pub report: Option<&'a ReportStatus>,
    pub report_on_time: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow<'a> {
    pub post: &'a TeamPost,
    pub on_site_days: u32,
    pub pending_days: u32,
    pub education_events: u32,
    pub meeting_held: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageRow<'a> {
    pub post: &'a VillagePost,
    pub education_events: u32,
}

/// A compliance board: its rows borrow the posts and the activity it was counted from
/// (a city's board has some ten thousand rows; nothing is copied until it is sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board<'a> {
    pub month: Month,
    pub working_days: u32,
    /// The month is over at `now`.
    pub month_closed: bool,
    pub report_due: DateTime<Utc>,
    /// Education events due by the end of the month (pro rata).
    pub education_due: u32,
    pub counsel: Vec<CounselRow<'a>>,
    pub teams: Vec<TeamRow<'a>>,
    pub villages: Vec<VillageRow<'a>>,
    pub shortfalls: Vec<Shortfall<'a>>,
}

/// Working days counted, and working days with visits awaiting review only.
type DaySets = (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>);

/// The compliance board of `month` at `now`: every duty holder's figures and every
/// shortfall (see the module's docs) of the posts in `area`. Rows and shortfalls are in
/// the order of the posts (counsel, then teams, then villages; the reports with the
/// counsel).
pub fn compliance<'a>(
    month: Month,
    now: DateTime<Utc>,
    calendar: &Calendar,
    policy: &LedgerPolicy,
    posts: &'a DutyPosts,
    area: Area<'_>,
    activity: &'a ComplianceActivity,
) -> Board<'a> {
    let counsel_posts = || posts.counsel.iter().filter(|p| area.holds(&p.county_id, &p.township_id));
    let month_closed = now >= start_of(month.next().first_day());
    let report_due = policy.report_due(month);
    let education_due = policy.education_due_by(month);
    let working = |d: &NaiveDate| month.contains(*d) && calendar.is_working_day(*d);
    // Counted and pending days per (person, township) of village duty, and per team.
    let mut counsel_days: HashMap<(&str, &str), DaySets> = HashMap::new();
    let mut team_days: HashMap<&str, DaySets> = HashMap::new();
    let villages_of: HashMap<(&str, &str), HashSet<&str>> = counsel_posts()
        .map(|p| {
            ((p.person_id.as_str(), p.township_id.as_str()), p.villages.iter().map(String::as_str).collect())
        })
        .collect();
    for v in activity.visits.iter().filter(|v| working(&v.day)) {
        let slot = match v.duty {
            Duty::Village => {
                let key = (v.person_id.as_str(), v.township_id.as_str());
                if !villages_of.get(&key).is_some_and(|vs| vs.contains(v.unit_id.as_str())) {
                    continue; // a village they no longer counsel
                }
                counsel_days.entry(key).or_default()
            }
            Duty::Team => team_days.entry(v.township_id.as_str()).or_default(),
        };
        if v.counts() {
            slot.0.insert(v.day);
        } else if v.pending() {
            slot.1.insert(v.day);
        }
    }
    let count = |slot: Option<&DaySets>| match slot {
        Some((counted, pending)) => (counted.len() as u32, pending.difference(counted).count() as u32),
        None => (0, 0),
    };
    let reports: HashMap<(&str, &str), &ReportStatus> =
        activity.reports.iter().map(|r| ((r.person_id.as_str(), r.township_id.as_str()), r)).collect();

    let mut shortfalls = Vec::new();
    let mut counsel = Vec::new();
    for post in counsel_posts() {
        let key = (post.person_id.as_str(), post.township_id.as_str());
        let (on_site_days, pending_days) = count(counsel_days.get(&key));
        let shortfall = |kind, required, actual, provisional| Shortfall {
            kind,
            person_id: Some(post.person_id.as_str()),
            name: Some(post.name.as_str()),
            unit_id: post.township_id.as_str(),
            township_id: post.township_id.as_str(),
            county_id: post.county_id.as_str(),
            required,
            actual,
            provisional,
        };
        if on_site_days < policy.min_on_site_days {
            shortfalls.push(shortfall(
                ShortfallKind::CounselOnSiteDays,
                policy.min_on_site_days,
                on_site_days,
                !month_closed,
            ));
        }
        let report = reports.get(&key).copied();
        let on_time = report.as_ref().map(|r| r.first_submitted_at < report_due);
        if now >= report_due {
            match on_time {
                None => shortfalls.push(shortfall(ShortfallKind::ReportMissing, 1, 0, false)),
                Some(false) => shortfalls.push(shortfall(ShortfallKind::ReportLate, 1, 0, false)),
                Some(true) => {}
            }
        }
        counsel.push(CounselRow {
            post,
            active: !activity.inactive.contains(&post.person_id),
            on_site_days,
            pending_days,
            report,
            report_on_time: on_time,
        });
    }
    let mut teams = Vec::new();
    for post in posts.teams.iter().filter(|p| area.holds(&p.county_id, &p.township_id)) {
        let (on_site_days, pending_days) = count(team_days.get(post.township_id.as_str()));
        let education_events = activity.education.get(&post.township_id).copied().unwrap_or(0);
        let shortfall = |kind, required, actual| Shortfall {
            kind,
            person_id: None,
            name: None,
            unit_id: post.township_id.as_str(),
            township_id: post.township_id.as_str(),
            county_id: post.county_id.as_str(),
            required,
            actual,
            provisional: !month_closed,
        };
        if on_site_days < policy.min_on_site_days {
            shortfalls.push(shortfall(ShortfallKind::TeamOnSiteDays, policy.min_on_site_days, on_site_days));
        }
        if education_events < education_due {
            shortfalls.push(shortfall(ShortfallKind::TeamEducation, education_due, education_events));
        }
        teams.push(TeamRow {
            post,
            on_site_days,
            pending_days,
            education_events,
            meeting_held: activity.meetings.contains(&post.township_id),
        });
    }
    let names: HashMap<&str, &str> =
        counsel_posts().map(|p| (p.person_id.as_str(), p.name.as_str())).collect();
    let mut villages = Vec::new();
    for post in posts.villages.iter().filter(|p| area.holds(&p.county_id, &p.township_id)) {
        let education_events = activity.education.get(&post.village_id).copied().unwrap_or(0);
        if education_events < education_due {
            shortfalls.push(Shortfall {
                kind: ShortfallKind::VillageEducation,
                person_id: post.counsel_id.as_deref(),
                name: post.counsel_id.as_deref().and_then(|p| names.get(p)).copied(),
                unit_id: post.village_id.as_str(),
                township_id: post.township_id.as_str(),
                county_id: post.county_id.as_str(),
                required: education_due,
                actual: education_events,
                provisional: !month_closed,
            });
        }
        villages.push(VillageRow { post, education_events });
    }
    Board {
        month,
        working_days: month.days().filter(|d| calendar.is_working_day(*d)).count() as u32,
        month_closed,
        report_due,
        education_due,
        counsel,
        teams,
        villages,
        shortfalls,
    }
}

/// Records of a year as storage groups them: by function and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTally {
    pub function: Function,
    /// [`Detail::kind`].
    pub kind: String,
    pub count: u64,
    pub audience: u64,
    pub copies: u64,
    /// Losses recovered, in fen.
    pub loss_fen: i64,
}

/// Work orders of a year that count without a record, as storage groups them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTally {
    pub category: Category,
    /// The handling result's `resolved` (mediation).
    pub resolved: bool,
    pub count: u64,
}

/// Every figure of the year's report (see docs/architecture.md, "The year's report").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct YearFigures {
    /// Services in all: every record, and every work order counted without one.
    pub services: u64,
    pub consultations_answered: u64,
    pub disputes_resolved: u64,
    pub legal_aid_applications: u64,
    pub legal_aid_cases: u64,
    pub lawsuits: u64,
    pub other_services: u64,
    pub lectures: u64,
    pub lecture_audience: u64,
    pub boards: u64,
    pub brochures: u64,
    pub letters: u64,
    /// By contract review, yuan.
    pub losses_recovered: Decimal,
    // The parts the figures come from.
    pub records: u64,
    pub work_orders: u64,
    pub disputes_mediated: u64,
    pub documents_reviewed: u64,
    pub contracts_reviewed: u64,
    pub arbitrations: u64,
    pub administrative_reviews: u64,
    pub education_events: u64,
}

impl YearFigures {
    /// The figures from the year's records and the orders counted without a record.
    pub fn tally(records: &[RecordTally], orders: &[OrderTally]) -> YearFigures {
        let mut f = YearFigures::default();
        let mut fen: i64 = 0;
        for r in records {
            f.records += r.count;
            match (r.function, r.kind.as_str()) {
                (Function::Consultation, "answered") => f.consultations_answered += r.count,
                (Function::Consultation, _) => f.other_services += r.count,
                (Function::Mediation, outcome) => {
                    f.disputes_mediated += r.count;
                    if outcome == MediationOutcome::Resolved.as_str() {
                        f.disputes_resolved += r.count;
                    }
                }
                (Function::DocumentReview, _) => f.documents_reviewed += r.count,
                (Function::ContractReview, _) => {
                    f.contracts_reviewed += r.count;
                    fen += r.loss_fen;
                }
                (Function::Case, kind) => match kind.parse::<CaseKind>() {
                    Ok(CaseKind::Lawsuit) => f.lawsuits += r.count,
                    Ok(CaseKind::Arbitration) => f.arbitrations += r.count,
                    Ok(CaseKind::AdministrativeReview) => f.administrative_reviews += r.count,
                    Ok(CaseKind::LegalAidApplication) => f.legal_aid_applications += r.count,
                    Ok(CaseKind::LegalAidCase) => f.legal_aid_cases += r.count,
                    Err(_) => {}
                },
                (Function::Education, kind) => {
                    f.education_events += r.count;
                    match kind.parse::<EducationKind>() {
                        Ok(EducationKind::Lecture) => {
                            f.lectures += r.count;
                            f.lecture_audience += r.audience;
                        }
                        Ok(EducationKind::Board) => f.boards += r.copies,
                        Ok(EducationKind::Brochures) => f.brochures += r.copies,
                        Ok(EducationKind::Letters) => f.letters += r.copies,
                        Err(_) => {}
                    }
                }
            }
        }
        for o in orders {
            f.work_orders += o.count;
            match o.category {
                Category::Consultation => f.consultations_answered += o.count,
                Category::Mediation => {
                    f.disputes_mediated += o.count;
                    if o.resolved {
                        f.disputes_resolved += o.count;
                    }
                }
                Category::LegalAid => f.legal_aid_applications += o.count,
                Category::LegalEducation => f.other_services += o.count,
            }
        }
        f.services = f.records + f.work_orders;
        f.losses_recovered = Decimal::new(fen, 2);
        f
    }

    /// The report's table, in its order: (key, Chinese label, value as text).
    pub fn rows(&self) -> Vec<(&'static str, &'static str, String)> {
        let n = |v: u64| v.to_string();
        vec![
            ("services", "提供各类法律服务（件）", n(self.services)),
            ("consultations_answered", "解答群众法律咨询（次）", n(self.consultations_answered)),
            ("disputes_resolved", "化解矛盾纠纷（件）", n(self.disputes_resolved)),
            ("legal_aid_applications", "帮助申请法律援助（件）", n(self.legal_aid_applications)),
            ("legal_aid_cases", "办理法律援助案件（件）", n(self.legal_aid_cases)),
            ("lawsuits", "代理诉讼案件（件）", n(self.lawsuits)),
            ("other_services", "提供其他法律服务（件）", n(self.other_services)),
            ("lectures", "举办法治讲座（期）", n(self.lectures)),
            ("lecture_audience", "讲座受众（人次）", n(self.lecture_audience)),
            ("boards", "制作法治宣传栏（个）", n(self.boards)),
            ("brochures", "发放宣传手册（册）", n(self.brochures)),
            ("letters", "致村民的一封信（封）", n(self.letters)),
            ("losses_recovered", "合同审查挽回经济损失（元）", format!("{:.2}", self.losses_recovered)),
            ("records", "台账记录（条）", n(self.records)),
            ("work_orders", "未另记台账的工单（件）", n(self.work_orders)),
            ("disputes_mediated", "调解矛盾纠纷（件）", n(self.disputes_mediated)),
            ("documents_reviewed", "参与决策论证、文件审查（件）", n(self.documents_reviewed)),
            ("contracts_reviewed", "审查合同（件）", n(self.contracts_reviewed)),
            ("arbitrations", "代理仲裁（件）", n(self.arbitrations)),
            ("administrative_reviews", "代理行政复议（件）", n(self.administrative_reviews)),
            ("education_events", "法制宣传教育活动（次）", n(self.education_events)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn m(s: &str) -> Month {
        Month::parse("month", s).unwrap()
    }

    #[test]
    fn months_parse_and_count_their_days() {
        assert_eq!(m("2025-10").to_string(), "2025-10");
        assert_eq!(m("2025-12").next(), m("2026-01"));
        assert_eq!(m("2024-02").last_day(), d("2024-02-29"));
        assert_eq!(m("2025-10").days().count(), 31);
        for bad in ["2025-13", "2025-1", "25-10", "2025/10", "", "1999-12", "2025-00"] {
            assert_eq!(Month::parse("month", bad).unwrap_err().field, "month", "{bad}");
        }
        assert!(parse_day("day", "2025-02-30").is_err());
        assert_eq!(parse_day("day", " 2025-10-11 ").unwrap(), d("2025-10-11"));
    }

    #[test]
    fn the_report_is_due_at_the_end_of_the_policy_day_of_the_next_month() {
        let p = LedgerPolicy::default();
        // 2025-11-06 00:00 Shanghai is 2025-11-05 16:00 UTC.
        assert_eq!(p.report_due(m("2025-10")).to_rfc3339(), "2025-11-05T16:00:00+00:00");
        assert_eq!(p.report_due(m("2025-12")).to_rfc3339(), "2026-01-05T16:00:00+00:00");
        assert_eq!(p.education_due_by(m("2025-01")), 1);
        assert_eq!(p.education_due_by(m("2025-06")), 1);
        assert_eq!(p.education_due_by(m("2025-07")), 2);
        assert_eq!(p.education_due_by(m("2025-12")), 2);
        assert!(p.outside(None));
        assert!(!p.outside(Some(3.0)));
        assert!(p.outside(Some(3.01)));
        assert!(LedgerPolicy { report_due_day: 29, ..p }.check().is_err());
        assert!(LedgerPolicy { radius_km: 0.0, ..p }.check().is_err());
    }

    #[test]
    fn details_check_their_fields_against_the_duty() {
        let review = |kind| Detail::DocumentReview { kind, title: "x".into() };
        assert!(review(DocumentKind::MajorDecision).check(Duty::Team).is_ok());
        assert_eq!(
            review(DocumentKind::MajorDecision).check(Duty::Village).unwrap_err().field,
            "document.kind"
        );
        assert!(review(DocumentKind::VillageAffairs).check(Duty::Village).is_ok());
        assert!(review(DocumentKind::VillageAffairs).check(Duty::Team).is_err());
        let edu = |kind, audience, copies| Detail::Education { kind, title: "t".into(), audience, copies };
        assert!(edu(EducationKind::Lecture, 80, 0).check(Duty::Village).is_ok());
        assert_eq!(
            edu(EducationKind::Lecture, 0, 0).check(Duty::Village).unwrap_err().field,
            "education.audience"
        );
        assert_eq!(
            edu(EducationKind::Board, 0, 0).check(Duty::Village).unwrap_err().field,
            "education.copies"
        );
        let dispute = |parties| Detail::Mediation {
            parties,
            subject: Subcategory::NeighbourDispute,
            summary: None,
            outcome: MediationOutcome::Resolved,
            amount_in_dispute: None,
        };
        assert_eq!(dispute(1).check(Duty::Village).unwrap_err().field, "dispute.parties");
        // Stored as JSON with money as text.
        let c = Detail::ContractReview {
            title: "租赁合同".into(),
            amount: Some(Decimal::new(1_000_000, 2)),
            loss_recovered: Some(Decimal::new(823_640, 2)),
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["function"], "contract_review");
        assert_eq!(json["loss_recovered"], "8236.40");
        assert_eq!(serde_json::from_value::<Detail>(json).unwrap(), c);
    }

    /// October 2025: National Day and Mid-Autumn from 1 to 8 October, Saturday 11
    /// October worked in exchange (the official calendar the server loads).
    #[test]
    fn compliance_counts_working_days_of_the_official_calendar() {
        let cal = Calendar::official();
        let month = m("2025-10");
        let visit = |person: &str, unit: &str, duty, day: &str, review| VisitDay {
            person_id: person.into(),
            unit_id: unit.into(),
            duty,
            township_id: "T1".into(),
            day: d(day),
            review,
        };
        let posts = DutyPosts {
            counsel: vec![
                CounselPost {
                    person_id: "P1".into(),
                    name: "张明".into(),
                    township_id: "T1".into(),
                    county_id: "C1".into(),
                    villages: vec!["V1".into(), "V2".into()],
                },
                CounselPost {
                    person_id: "P2".into(),
                    name: "李娜".into(),
                    township_id: "T1".into(),
                    county_id: "C1".into(),
                    villages: vec!["V3".into()],
                },
            ],
            villages: ["V1", "V2", "V3"]
                .iter()
                .map(|v| VillagePost {
                    village_id: (*v).into(),
                    township_id: "T1".into(),
                    county_id: "C1".into(),
                    counsel_id: Some(if *v == "V3" { "P2" } else { "P1" }.into()),
                })
                .collect(),
            teams: vec![TeamPost { township_id: "T1".into(), county_id: "C1".into() }],
        };
        let inputs = ComplianceActivity {
            visits: vec![
                // Holidays do not count; the adjusted Saturday does; two villages on one
                // day count once.
                visit("P1", "V1", Duty::Village, "2025-10-02", None),
                visit("P1", "V1", Duty::Village, "2025-10-06", None),
                visit("P1", "V2", Duty::Village, "2025-10-11", None),
                visit("P1", "V1", Duty::Village, "2025-10-13", None),
                visit("P1", "V2", Duty::Village, "2025-10-13", None),
                visit("P1", "V1", Duty::Village, "2025-10-14", Some(VisitReview::Accepted)),
                visit("P1", "V2", Duty::Village, "2025-10-15", Some(VisitReview::Pending)),
                visit("P1", "V2", Duty::Village, "2025-10-16", Some(VisitReview::Rejected)),
                visit("P1", "V1", Duty::Village, "2025-10-20", None),
                // An ordinary Sunday does not count.
                visit("P2", "V3", Duty::Village, "2025-10-19", None),
                visit("P2", "V3", Duty::Village, "2025-10-20", None),
                // A village P2 does not counsel.
                visit("P2", "V1", Duty::Village, "2025-10-21", None),
                visit("P1", "T1", Duty::Team, "2025-10-09", None),
                visit("P2", "T1", Duty::Team, "2025-10-09", None),
                visit("P2", "T1", Duty::Team, "2025-10-10", None),
                visit("P1", "T1", Duty::Team, "2025-10-11", None),
                visit("P1", "T1", Duty::Team, "2025-10-17", None),
            ],
            education: [("V1".to_owned(), 2), ("V3".to_owned(), 1), ("T1".to_owned(), 3)].into(),
            reports: vec![ReportStatus {
                person_id: "P1".into(),
                township_id: "T1".into(),
                state: ReportState::Approved,
                first_submitted_at: start_of(d("2025-11-03")),
            }],
            meetings: HashSet::new(),
            inactive: HashSet::new(),
        };
        // 18 working days: 9 and 10 October, the adjusted Saturday 11, then three
        // full weeks.
        let now = start_of(d("2025-11-20"));
        let board = compliance(month, now, &cal, &LedgerPolicy::default(), &posts, Area::default(), &inputs);
        assert_eq!(board.working_days, 18);
        assert!(board.month_closed);
        let p1 = &board.counsel[0];
        assert_eq!(
            (p1.on_site_days, p1.pending_days),
            (4, 1),
            "11, 13, 14 and 20 Oct, not 2 or 6; 15 pending"
        );
        assert_eq!(p1.report_on_time, Some(true));
        let p2 = &board.counsel[1];
        assert_eq!(p2.on_site_days, 1);
        assert_eq!(board.teams[0].on_site_days, 4);
        assert_eq!(board.education_due, 2);
        let kinds: Vec<(ShortfallKind, &str)> =
            board.shortfalls.iter().map(|s| (s.kind, s.unit_id)).collect();
        assert_eq!(
            kinds,
            [
                (ShortfallKind::CounselOnSiteDays, "T1"),
                (ShortfallKind::ReportMissing, "T1"),
                (ShortfallKind::VillageEducation, "V2"),
                (ShortfallKind::VillageEducation, "V3"),
            ]
        );
        let missing = &board.shortfalls[1];
        assert_eq!(missing.person_id, Some("P2"));
        assert_eq!(board.shortfalls[3].name, Some("李娜"));
        // Before the report's due day no report shortfall; in the running month the
        // counts are provisional.
        let early = compliance(
            month,
            start_of(d("2025-10-20")),
            &cal,
            &LedgerPolicy::default(),
            &posts,
            Area::default(),
            &inputs,
        );
        assert!(!early.month_closed);
        assert!(early.shortfalls.iter().all(|s| s.kind != ShortfallKind::ReportMissing));
        assert!(early.shortfalls.iter().all(|s| s.provisional));
    }

    /// The posts come from the directory as routing reads it: a counsel's villages split
    /// by township in their order, each village with its first counsel by id, and a board
    /// of a county or a township takes only its own.
    #[test]
    fn duty_posts_follow_the_directory_and_boards_take_their_area() {
        use crate::routing::{PersonInput, VillageInput};
        let village = |id: &str, township: &str, county: &str| VillageInput {
            id: id.into(),
            township_id: township.into(),
            county_id: county.into(),
        };
        let person = |id: &str, villages: &[&str]| PersonInput {
            id: id.into(),
            team_township_id: None,
            lead: false,
            villages: villages.iter().map(|v| (*v).to_owned()).collect(),
        };
        let villages = [
            village("V3", "T2", "C2"),
            village("V1", "T1", "C1"),
            village("V2", "T1", "C1"),
            village("V4", "T1", "C1"),
        ];
        // P2 counsels villages of two townships, in its own order; V1 has two counsel.
        let people = [person("P2", &["V2", "V3", "V1", "V9"]), person("P1", &["V1"])];
        let names: HashMap<String, String> = [("P1", "张明"), ("P2", "李娜")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let townships = [
            TeamPost { township_id: "T2".into(), county_id: "C2".into() },
            TeamPost { township_id: "T1".into(), county_id: "C1".into() },
        ];
        let posts = DutyPosts::build(&villages, &people, &names, &townships);
        let counsel: Vec<(&str, &str, &str, Vec<&str>)> = posts
            .counsel
            .iter()
            .map(|p| {
                (
                    p.person_id.as_str(),
                    p.name.as_str(),
                    p.township_id.as_str(),
                    p.villages.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            counsel,
            [
                ("P1", "张明", "T1", vec!["V1"]),
                ("P2", "李娜", "T1", vec!["V2", "V1"]),
                ("P2", "李娜", "T2", vec!["V3"]),
            ],
            "by person, then township; a village not in the directory (V9) is left out"
        );
        let firsts: Vec<(&str, Option<&str>)> =
            posts.villages.iter().map(|v| (v.village_id.as_str(), v.counsel_id.as_deref())).collect();
        assert_eq!(firsts, [("V1", Some("P1")), ("V2", Some("P2")), ("V3", Some("P2")), ("V4", None)]);
        assert_eq!(posts.teams.iter().map(|t| t.township_id.as_str()).collect::<Vec<_>>(), ["T1", "T2"]);

        let month = m("2025-03");
        let now = start_of(d("2025-03-10"));
        let activity =
            ComplianceActivity { inactive: ["P2".to_owned()].into(), ..ComplianceActivity::default() };
        let board = |area| {
            compliance(month, now, &Calendar::official(), &LedgerPolicy::default(), &posts, area, &activity)
        };
        let city = board(Area::default());
        assert_eq!((city.counsel.len(), city.villages.len(), city.teams.len()), (3, 4, 2));
        assert_eq!(city.counsel.iter().map(|c| c.active).collect::<Vec<_>>(), [true, false, false]);
        let county = board(Area { county_id: Some("C2"), township_id: None });
        assert_eq!(county.counsel.len(), 1);
        assert_eq!(county.villages.iter().map(|v| v.post.village_id.as_str()).collect::<Vec<_>>(), ["V3"]);
        assert!(county.shortfalls.iter().all(|s| s.county_id == "C2"));
        let township = board(Area { county_id: None, township_id: Some("T1") });
        assert_eq!(township.teams.len(), 1);
        assert_eq!(township.villages.len(), 3);
        assert!(township.shortfalls.iter().all(|s| s.township_id == "T1"));
    }

    #[test]
    fn the_year_counts_records_and_orders_without_records() {
        let r = |function, kind: &str, count, audience, copies, loss_fen| RecordTally {
            function,
            kind: kind.into(),
            count,
            audience,
            copies,
            loss_fen,
        };
        let records = [
            r(Function::Consultation, "answered", 10, 0, 0, 0),
            r(Function::Consultation, "other_service", 4, 0, 0, 0),
            r(Function::Mediation, "resolved", 3, 0, 0, 0),
            r(Function::Mediation, "unresolved", 1, 0, 0, 0),
            r(Function::Case, "lawsuit", 2, 0, 0, 0),
            r(Function::Case, "legal_aid_application", 5, 0, 0, 0),
            r(Function::Education, "lecture", 2, 150, 0, 0),
            r(Function::Education, "board", 1, 0, 3, 0),
            r(Function::Education, "letters", 1, 0, 200, 0),
            r(Function::ContractReview, "contract", 2, 0, 0, 123_456),
        ];
        let orders = [
            OrderTally { category: Category::Consultation, resolved: false, count: 7 },
            OrderTally { category: Category::Mediation, resolved: true, count: 2 },
            OrderTally { category: Category::Mediation, resolved: false, count: 1 },
            OrderTally { category: Category::LegalAid, resolved: false, count: 1 },
        ];
        let f = YearFigures::tally(&records, &orders);
        assert_eq!(f.records, 31);
        assert_eq!(f.work_orders, 11);
        assert_eq!(f.services, 42);
        assert_eq!(f.consultations_answered, 17);
        assert_eq!(f.other_services, 4);
        assert_eq!(f.disputes_resolved, 5);
        assert_eq!(f.disputes_mediated, 7);
        assert_eq!(f.legal_aid_applications, 6);
        assert_eq!((f.lectures, f.lecture_audience, f.boards, f.letters), (2, 150, 3, 200));
        assert_eq!(f.losses_recovered.to_string(), "1234.56");
        assert_eq!(f.rows()[12], ("losses_recovered", "合同审查挽回经济损失（元）", "1234.56".to_owned()));
    }
}
