//! The time-limit policy: how long each step of a work order may take.
//!
//! Built-in defaults follow the Shandong 12348 rules (DOMAIN.md): dispatch and sign-off
//! within 1 working day (urgent: 1 and 2 hours), reply within 5 working days (complex
//! 15), legal aid within 7 (the Legal Aid Law, which binds complex applications too),
//! callback and redo pass-on within 1, extensions of at most 10 working days.
//!
//! A TOML document overlays them field by field, so a county writes only what differs.
//! A limit is looked up most specific first: category + urgency, category, urgency,
//! default. Parsing goes through serde into raw strings, then each value is checked
//! here so that an error names the full key (`category.legal_aid.reply`).
//! [`SlaPolicy::to_toml`] writes the whole policy in force, every table it holds, in
//! the same format, so that reading it back gives the same policy.

use crate::calendar::Calendar;
use crate::model::{Category, DeadlineKind, Urgency};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest limit accepted, to catch typos such as `"500d"`.
const MAX_DAYS: u32 = 366;
const MAX_HOURS: u32 = 24 * 366;

/// One time limit: working days on the official calendar, or plain hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    WorkingDays(u32),
    Hours(u32),
}

impl Limit {
    /// Parses `"Nd"` (N working days) or `"Nh"` (N hours), N from 1.
    pub fn parse(text: &str) -> Result<Limit, String> {
        let shape = || format!("{text:?} is not \"Nd\" or \"Nh\"");
        let (number, unit) = match (text.strip_suffix('d'), text.strip_suffix('h')) {
            (Some(number), _) => (number, 'd'),
            (_, Some(number)) => (number, 'h'),
            _ => return Err(shape()),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(shape());
        }
        let n: u32 = number.parse().map_err(|_| format!("{text:?} is too long a limit"))?;
        let (limit, max) = match unit {
            'd' => (Limit::WorkingDays(n), MAX_DAYS),
            _ => (Limit::Hours(n), MAX_HOURS),
        };
        if n == 0 {
            return Err(format!("{text:?} must be at least 1"));
        }
        if n > max {
            return Err(format!("{text:?} is too long a limit (at most {max}{unit})"));
        }
        Ok(limit)
    }

    /// The due instant for a step that started at `from`.
    pub fn due_from(self, from: DateTime<Utc>, cal: &Calendar) -> DateTime<Utc> {
        match self {
            Limit::WorkingDays(n) => cal.add_working_days(from, n),
            Limit::Hours(h) => cal.add_hours(from, h),
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::WorkingDays(n) => write!(f, "{n}d"),
            Limit::Hours(n) => write!(f, "{n}h"),
        }
    }
}

/// A policy document that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, a key the policy does not know, or a value of the wrong type: toml's
    /// message after the dotted key it is about (`default.repyl: unknown field ...`), or
    /// after its line where no key can be named.
    #[error("{0}")]
    Syntax(String),
    /// A value or table name that is wrong; `key` is its dotted path.
    #[error("{key}: {message}")]
    Value { key: String, message: String },
}

/// Which field of a limits table a deadline reads. `reply_complex` is the reply limit
/// of complex orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Dispatch,
    SignOff,
    Reply,
    ReplyComplex,
    Callback,
    Redo,
}

impl Field {
    fn of(kind: DeadlineKind, complex: bool) -> Field {
        match kind {
            DeadlineKind::Dispatch => Field::Dispatch,
            DeadlineKind::SignOff => Field::SignOff,
            DeadlineKind::Reply if complex => Field::ReplyComplex,
            DeadlineKind::Reply => Field::Reply,
            DeadlineKind::Callback => Field::Callback,
            DeadlineKind::Redo => Field::Redo,
        }
    }
}

/// One limits table; `None` falls through to the next less specific table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Limits {
    dispatch: Option<Limit>,
    sign_off: Option<Limit>,
    reply: Option<Limit>,
    reply_complex: Option<Limit>,
    callback: Option<Limit>,
    redo: Option<Limit>,
}

impl Limits {
    fn get(&self, field: Field) -> Option<Limit> {
        match field {
            Field::Dispatch => self.dispatch,
            Field::SignOff => self.sign_off,
            Field::Reply => self.reply,
            Field::ReplyComplex => self.reply_complex,
            Field::Callback => self.callback,
            Field::Redo => self.redo,
        }
    }

    /// The table as written in a policy document.
    fn raw(&self) -> RawLimits {
        let text = |l: Option<Limit>| l.map(|l| l.to_string());
        RawLimits {
            dispatch: text(self.dispatch),
            sign_off: text(self.sign_off),
            reply: text(self.reply),
            reply_complex: text(self.reply_complex),
            callback: text(self.callback),
            redo: text(self.redo),
        }
    }

    /// Sets every field the raw table gives, checking each under `path`.
    fn overlay(&mut self, raw: &RawLimits, path: &str) -> Result<(), PolicyError> {
        let slots = [
            ("dispatch", &raw.dispatch, &mut self.dispatch),
            ("sign_off", &raw.sign_off, &mut self.sign_off),
            ("reply", &raw.reply, &mut self.reply),
            ("reply_complex", &raw.reply_complex, &mut self.reply_complex),
            ("callback", &raw.callback, &mut self.callback),
            ("redo", &raw.redo, &mut self.redo),
        ];
        for (name, text, slot) in slots {
            if let Some(text) = text {
                let limit = Limit::parse(text)
                    .map_err(|message| PolicyError::Value { key: join(path, name), message })?;
                *slot = Some(limit);
            }
        }
        Ok(())
    }
}

/// The time limits in force. `Default` is the built-in policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    max_extension_days: u32,
    /// Complete: every field is set.
    default: Limits,
    urgency: BTreeMap<Urgency, Limits>,
    category: BTreeMap<Category, Limits>,
    category_urgency: BTreeMap<(Category, Urgency), Limits>,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        use Limit::{Hours, WorkingDays};
        let default = Limits {
            dispatch: Some(WorkingDays(1)),
            sign_off: Some(WorkingDays(1)),
            reply: Some(WorkingDays(5)),
            reply_complex: Some(WorkingDays(15)),
            callback: Some(WorkingDays(1)),
            redo: Some(WorkingDays(1)),
        };
        let urgent = Limits { dispatch: Some(Hours(1)), sign_off: Some(Hours(2)), ..Limits::default() };
        let legal_aid =
            Limits { reply: Some(WorkingDays(7)), reply_complex: Some(WorkingDays(7)), ..Limits::default() };
        SlaPolicy {
            max_extension_days: 10,
            default,
            urgency: BTreeMap::from([(Urgency::Urgent, urgent)]),
            category: BTreeMap::from([(Category::LegalAid, legal_aid)]),
            category_urgency: BTreeMap::new(),
        }
    }
}

impl SlaPolicy {
    /// The built-in policy overlaid with a TOML document (see the module docs).
    pub fn from_toml(text: &str) -> Result<SlaPolicy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let mut policy = SlaPolicy::default();
        if let Some(days) = raw.max_extension_days {
            if days > MAX_DAYS {
                return Err(PolicyError::Value {
                    key: "max_extension_days".into(),
                    message: format!("{days} is too long an extension (at most {MAX_DAYS})"),
                });
            }
            policy.max_extension_days = days;
        }
        if let Some(t) = &raw.default {
            policy.default.overlay(t, "default")?;
        }
        for (urgency, t) in [(Urgency::Normal, &raw.normal), (Urgency::Urgent, &raw.urgent)] {
            if let Some(t) = t {
                policy.urgency.entry(urgency).or_default().overlay(t, urgency.as_str())?;
            }
        }
        for (name, t) in &raw.category {
            let path = format!("category.{name}");
            let category: Category = name.parse().map_err(|_| PolicyError::Value {
                key: path.clone(),
                message: format!(
                    "unknown category {name:?}; expected one of {}",
                    Category::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                ),
            })?;
            policy.category.entry(category).or_default().overlay(&t.limits(), &path)?;
            for (urgency, u) in [(Urgency::Normal, &t.normal), (Urgency::Urgent, &t.urgent)] {
                if let Some(u) = u {
                    let sub = join(&path, urgency.as_str());
                    policy.category_urgency.entry((category, urgency)).or_default().overlay(u, &sub)?;
                }
            }
        }
        Ok(policy)
    }

    /// The whole policy as a TOML document: every table, the built-in ones included.
    /// [`SlaPolicy::from_toml`] reads it back as this very policy.
    pub fn to_toml(&self) -> String {
        let mut category: BTreeMap<String, RawCategory> = BTreeMap::new();
        for (c, limits) in &self.category {
            category.insert(c.as_str().to_owned(), RawCategory::from(limits.raw()));
        }
        for ((c, urgency), limits) in &self.category_urgency {
            let entry = category.entry(c.as_str().to_owned()).or_default();
            let slot = match urgency {
                Urgency::Normal => &mut entry.normal,
                Urgency::Urgent => &mut entry.urgent,
            };
            *slot = Some(limits.raw());
        }
        let raw = RawPolicy {
            max_extension_days: Some(self.max_extension_days),
            default: Some(self.default.raw()),
            normal: self.urgency.get(&Urgency::Normal).map(Limits::raw),
            urgent: self.urgency.get(&Urgency::Urgent).map(Limits::raw),
            category,
        };
        toml::to_string(&raw).expect("a time-limit policy serialises")
    }

    /// The limit for a deadline. `complex` matters only for the reply.
    pub fn limit(&self, kind: DeadlineKind, category: Category, urgency: Urgency, complex: bool) -> Limit {
        let field = Field::of(kind, complex);
        self.category_urgency
            .get(&(category, urgency))
            .and_then(|t| t.get(field))
            .or_else(|| self.category.get(&category).and_then(|t| t.get(field)))
            .or_else(|| self.urgency.get(&urgency).and_then(|t| t.get(field)))
            .or_else(|| self.default.get(field))
            .expect("the default table sets every field")
    }

    /// When a step of this kind that starts at `from` is due.
    pub fn due(
        &self,
        kind: DeadlineKind,
        category: Category,
        urgency: Urgency,
        complex: bool,
        from: DateTime<Utc>,
        cal: &Calendar,
    ) -> DateTime<Utc> {
        self.limit(kind, category, urgency, complex).due_from(from, cal)
    }

    /// The furthest instant a deadline decided at `now` can fall on: the longest limit
    /// of any table counted from `now`, moved on by the longest extension.
    pub fn horizon(&self, now: DateTime<Utc>, cal: &Calendar) -> DateTime<Utc> {
        const FIELDS: [Field; 6] = [
            Field::Dispatch,
            Field::SignOff,
            Field::Reply,
            Field::ReplyComplex,
            Field::Callback,
            Field::Redo,
        ];
        let tables = std::iter::once(&self.default)
            .chain(self.urgency.values())
            .chain(self.category.values())
            .chain(self.category_urgency.values());
        let longest = tables
            .flat_map(|t| FIELDS.iter().filter_map(|f| t.get(*f)))
            .map(|limit| limit.due_from(now, cal))
            .max()
            .unwrap_or(now);
        cal.extend_due(longest, self.max_extension_days)
    }

    /// The most working days one extension request may ask for.
    pub fn max_extension_days(&self) -> u32 {
        self.max_extension_days
    }
}

/// A document toml refused, named by the dotted key its error points at: the key of the
/// line (under the table above it), or the table a header line names.
pub(crate) fn syntax_error(text: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim();
    let Some(before) = e.span().and_then(|s| text.get(..s.start)) else {
        return PolicyError::Syntax(message.to_owned());
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_no = before.matches('\n').count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = |l: &str| l.strip_prefix('[').and_then(|h| h.split(']').next()).map(|h| h.trim().to_owned());
    let key = if line.starts_with('[') {
        header(line)
    } else {
        line.split_once('=').map(|(key, _)| {
            let key = key.trim().to_owned();
            let table =
                text[..line_start].lines().rev().map(str::trim).find(|l| l.starts_with('[')).and_then(header);
            table.map_or(key.clone(), |t| join(&t, &key))
        })
    };
    match key.filter(|k| !k.is_empty()) {
        Some(key) => PolicyError::Syntax(format!("{key}: {message}")),
        None => PolicyError::Syntax(format!("line {line_no}: {message}")),
    }
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_extension_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<RawLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normal: Option<RawLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urgent: Option<RawLimits>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    category: BTreeMap<String, RawCategory>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_off: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_complex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redo: Option<String>,
}

/// A category table: its own limits plus optional per-urgency tables. Written out
/// rather than flattened because serde cannot combine `flatten` with unknown-field checks.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_off: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_complex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normal: Option<RawLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urgent: Option<RawLimits>,
}

impl From<RawLimits> for RawCategory {
    fn from(l: RawLimits) -> RawCategory {
        RawCategory {
            dispatch: l.dispatch,
            sign_off: l.sign_off,
            reply: l.reply,
            reply_complex: l.reply_complex,
            callback: l.callback,
            redo: l.redo,
            normal: None,
            urgent: None,
        }
    }
}

impl RawCategory {
    fn limits(&self) -> RawLimits {
        RawLimits {
            dispatch: self.dispatch.clone(),
            sign_off: self.sign_off.clone(),
            reply: self.reply.clone(),
            reply_complex: self.reply_complex.clone(),
            callback: self.callback.clone(),
            redo: self.redo.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_print() {
        assert_eq!(Limit::parse("5d"), Ok(Limit::WorkingDays(5)));
        assert_eq!(Limit::parse("12h"), Ok(Limit::Hours(12)));
        assert_eq!(Limit::WorkingDays(15).to_string(), "15d");
        for bad in ["", "d", "7x", "5", " 5d", "-1d", "1.5d", "5dd", "五d", "d五", "五"] {
            assert!(Limit::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Limit::parse("7x").unwrap_err(), r#""7x" is not "Nd" or "Nh""#);
        assert!(Limit::parse("0h").unwrap_err().contains("at least 1"));
        assert!(Limit::parse("999d").unwrap_err().contains("too long"));
        assert!(Limit::parse("99999999999d").unwrap_err().contains("too long"));
    }

    #[test]
    fn the_whole_policy_is_written_and_read_back() {
        let default = SlaPolicy::default();
        let text = default.to_toml();
        for part in [
            "max_extension_days = 10",
            "[default]",
            "reply_complex = \"15d\"",
            "[urgent]",
            "[category.legal_aid]",
        ] {
            assert!(text.contains(part), "{part:?} in\n{text}");
        }
        assert_eq!(SlaPolicy::from_toml(&text).unwrap(), default);
        let edited = SlaPolicy::from_toml(
            "max_extension_days = 5\n[normal]\nreply = \"4d\"\n[category.mediation]\nsign_off = \"2d\"\n\
             [category.mediation.urgent]\nsign_off = \"4h\"\n[category.consultation.normal]\ncallback = \"2d\"\n",
        )
        .unwrap();
        assert_eq!(SlaPolicy::from_toml(&edited.to_toml()).unwrap(), edited, "{}", edited.to_toml());
        assert_ne!(edited, default);
    }
}
