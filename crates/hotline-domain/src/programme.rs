//! The programme policy: the rates at which the special fund pays counsel for the
//! services it buys (yuan per unit of each kind of service), and what the public
//! disclosure boards print beside the directory's people (their duties and the
//! supervision phone). Built-in defaults, overlaid by a TOML document like the routing
//! and time-limit policies.

use crate::Phone;
use crate::sla::{PolicyError, syntax_error};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The built-in policy (also what `GetProgrammePolicy` shows before any edit).
pub const DEFAULT_PROGRAMME_TOML: &str = r#"# Rates the special fund pays counsel at, in yuan per unit of service.
[rates]
on_site_day = "300.00"        # a working day served on site in a village or at the station
legal_education = "500.00"    # a legal-education session or lecture held
consultation = "50.00"        # a legal question answered (a work order or a ledger record)
mediation = "200.00"          # a dispute mediated
document = "100.00"           # a contract reviewed or a legal document drafted
legal_aid = "800.00"          # a legal aid case handled

# What the public disclosure boards print.
[board]
supervision_phone = "12348"
counsel_duties = [
  "每月在所联系村（居）开展法律服务不少于4个工作日",
  "每年开展法治宣传教育不少于2次",
  "解答法律咨询，参与调解矛盾纠纷，办理12348热线转办的工单",
  "每月向乡镇（街道）汇报一次工作情况",
]
team_duties = [
  "每月在乡镇（街道）法律服务工作站服务不少于4个工作日",
  "每年开展法治宣传教育活动不少于2次",
  "指导村（居）法律顾问工作，调处较大矛盾纠纷",
]
"#;

/// The most a rate may be, in yuan per unit.
pub const MAX_RATE_YUAN: i64 = 1_000_000;
/// The most service kinds a policy may name.
pub const MAX_KINDS: usize = 64;
/// The most lines of duties a board prints.
pub const MAX_DUTIES: usize = 20;

/// The policy in force. `Default` is the built-in policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammePolicy {
    /// Yuan per unit, by service kind (`[a-z][a-z0-9_]*`, at most 32 characters).
    pub rates: BTreeMap<String, Decimal>,
    pub board: Board,
}

/// What the disclosure boards print beside the directory's people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The supervision phone printed on every board (as written).
    pub supervision_phone: String,
    /// A county's own supervision phone, by county id, for the boards of its townships
    /// and villages.
    pub county_supervision_phones: BTreeMap<String, String>,
    /// A village counsel's duties, one line each.
    pub counsel_duties: Vec<String>,
    /// A township legal service team's duties, one line each.
    pub team_duties: Vec<String>,
}

impl Board {
    /// The supervision phone of a board in `county_id`.
    pub fn supervision_phone(&self, county_id: &str) -> &str {
        self.county_supervision_phones.get(county_id).unwrap_or(&self.supervision_phone)
    }
}

impl Default for ProgrammePolicy {
    fn default() -> Self {
        ProgrammePolicy::from_toml(DEFAULT_PROGRAMME_TOML).expect("the built-in programme policy parses")
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    rates: BTreeMap<String, RawAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    board: Option<RawBoard>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supervision_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counsel_duties: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team_duties: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    county: BTreeMap<String, RawCounty>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawCounty {
    supervision_phone: String,
}

/// A rate as written: decimal text (`"300.00"`) or a whole number.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum RawAmount {
    Text(String),
    Int(i64),
}

fn value(key: String, message: impl Into<String>) -> PolicyError {
    PolicyError::Value { key, message: message.into() }
}

fn rate(key: &str, raw: &RawAmount) -> Result<Decimal, PolicyError> {
    let text = match raw {
        RawAmount::Text(t) => t.clone(),
        RawAmount::Int(i) => i.to_string(),
    };
    let parsed = crate::values::parse_yuan(key, &text).map_err(|e| value(key.to_owned(), e.message))?;
    if parsed.is_zero() {
        return Err(value(key.to_owned(), "a rate must be above zero"));
    }
    if parsed > Decimal::from(MAX_RATE_YUAN) {
        return Err(value(key.to_owned(), format!("a rate must be at most {MAX_RATE_YUAN} yuan")));
    }
    Ok(parsed)
}

/// A service kind's name: a lowercase ASCII letter, then letters, digits and `_`, at
/// most 32 characters.
pub fn is_kind_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn phone(key: String, raw: &str) -> Result<String, PolicyError> {
    Phone::parse(&key, raw).map_err(|e| value(key.clone(), e.message))?;
    Ok(raw.trim().to_owned())
}

fn duties(key: &str, lines: &[String]) -> Result<Vec<String>, PolicyError> {
    if lines.len() > MAX_DUTIES {
        return Err(value(key.to_owned(), format!("at most {MAX_DUTIES} lines")));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            crate::values::parse_text(&format!("{key}[{i}]"), l, 200).map_err(|e| value(e.field, e.message))
        })
        .collect()
}

impl ProgrammePolicy {
    /// Parses a document over the built-in policy: `[rates]`, when given, replaces the
    /// rates whole (a kind left out can no longer be paid for); each key of `[board]`
    /// replaces the built-in one; `[board.county.<id>]` sets a county's supervision phone.
    /// Errors name the dotted key at fault.
    pub fn from_toml(text: &str) -> Result<ProgrammePolicy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let builtin = if text == DEFAULT_PROGRAMME_TOML { None } else { Some(ProgrammePolicy::default()) };
        let mut rates = BTreeMap::new();
        if raw.rates.len() > MAX_KINDS {
            return Err(value("rates".into(), format!("at most {MAX_KINDS} kinds of service")));
        }
        for (kind, amount) in &raw.rates {
            let key = format!("rates.{kind}");
            if !is_kind_name(kind) {
                return Err(value(
                    key,
                    "a kind of service is a lowercase letter, then letters, digits and `_` (at most 32)",
                ));
            }
            rates.insert(kind.clone(), rate(&key, amount)?);
        }
        let (base_rates, base_board) = match builtin {
            Some(b) => (b.rates, Some(b.board)),
            None => (BTreeMap::new(), None),
        };
        if rates.is_empty() {
            rates = base_rates;
        }
        let raw_board = raw.board.unwrap_or_default();
        let supervision_phone = match (&raw_board.supervision_phone, &base_board) {
            (Some(p), _) => phone("board.supervision_phone".into(), p)?,
            (None, Some(b)) => b.supervision_phone.clone(),
            (None, None) => return Err(value("board.supervision_phone".into(), "is required")),
        };
        let counsel_duties = match (&raw_board.counsel_duties, &base_board) {
            (Some(d), _) => duties("board.counsel_duties", d)?,
            (None, Some(b)) => b.counsel_duties.clone(),
            (None, None) => Vec::new(),
        };
        let team_duties = match (&raw_board.team_duties, &base_board) {
            (Some(d), _) => duties("board.team_duties", d)?,
            (None, Some(b)) => b.team_duties.clone(),
            (None, None) => Vec::new(),
        };
        let mut county_supervision_phones = BTreeMap::new();
        for (county, c) in &raw_board.county {
            let key = format!("board.county.{county}");
            if county.is_empty() || county.len() > 64 {
                return Err(value(key, "is not a unit id"));
            }
            county_supervision_phones
                .insert(county.clone(), phone(format!("{key}.supervision_phone"), &c.supervision_phone)?);
        }
        Ok(ProgrammePolicy {
            rates,
            board: Board { supervision_phone, county_supervision_phones, counsel_duties, team_duties },
        })
    }

    /// The whole policy as TOML: a document [`ProgrammePolicy::from_toml`] takes back
    /// unchanged.
    pub fn to_toml(&self) -> String {
        let raw = RawPolicy {
            rates: self.rates.iter().map(|(k, v)| (k.clone(), RawAmount::Text(format!("{v:.2}")))).collect(),
            board: Some(RawBoard {
                supervision_phone: Some(self.board.supervision_phone.clone()),
                counsel_duties: Some(self.board.counsel_duties.clone()),
                team_duties: Some(self.board.team_duties.clone()),
                county: self
                    .board
                    .county_supervision_phones
                    .iter()
                    .map(|(k, v)| (k.clone(), RawCounty { supervision_phone: v.clone() }))
                    .collect(),
            }),
        };
        toml::to_string(&raw).expect("the policy serialises")
    }

    /// The rate of a kind of service, or the error naming `field` and the kinds known.
    pub fn rate(&self, field: &str, kind: &str) -> Result<Decimal, crate::FieldError> {
        self.rates.get(kind).copied().ok_or_else(|| {
            let known: Vec<&str> = self.rates.keys().map(String::as_str).collect();
            crate::FieldError::new(
                field,
                format!(
                    "`{kind}` is not a kind of service the programme policy rates ({})",
                    known.join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_builtin_policy_round_trips() {
        let p = ProgrammePolicy::default();
        assert_eq!(p.rates["on_site_day"], Decimal::from_str("300.00").unwrap());
        assert_eq!(p.board.supervision_phone, "12348");
        assert_eq!(p.board.counsel_duties.len(), 4);
        assert_eq!(ProgrammePolicy::from_toml(&p.to_toml()).unwrap(), p);
    }

    #[test]
    fn a_document_overlays_the_builtin_policy() {
        let p = ProgrammePolicy::from_toml(
            "[rates]\nmediation = 250\nvisit = \"80.5\"\n[board.county.371502]\nsupervision_phone = \"0635-8241234\"\n",
        )
        .unwrap();
        assert_eq!(p.rates.len(), 2, "[rates] replaces the rates whole");
        assert_eq!(p.rates["visit"].to_string(), "80.50");
        assert_eq!(p.board.supervision_phone("371502"), "0635-8241234");
        assert_eq!(p.board.supervision_phone("371521"), "12348");
        assert_eq!(p.board.team_duties, ProgrammePolicy::default().board.team_duties);
        let e = p.rate("service_kind", "lecture").unwrap_err();
        assert!(e.to_string().starts_with("service_kind: `lecture` is not a kind"), "{e}");
    }

    #[test]
    fn bad_documents_name_the_key() {
        for (doc, key) in [
            ("[rates]\nmediation = \"-1\"", "rates.mediation: "),
            ("[rates]\nmediation = \"0\"", "rates.mediation: "),
            ("[rates]\nmediation = \"1.001\"", "rates.mediation: "),
            ("[rates]\nMediation = \"1\"", "rates.Mediation: "),
            ("[board]\nsupervision_phone = \"12\"", "board.supervision_phone: "),
            ("[board]\nsupervison_phone = \"12348\"", "board.supervison_phone: "),
            ("[board]\nteam_duties = [\"\"]", "board.team_duties[0]: "),
            ("[board.county.371502]\nsupervision_phone = \"x\"", "board.county.371502.supervision_phone: "),
        ] {
            let e = ProgrammePolicy::from_toml(doc).unwrap_err().to_string();
            assert!(e.starts_with(key), "{doc}: {e}");
        }
    }
}
