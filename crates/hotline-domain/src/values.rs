//! Validated values parsed at the edge: phone numbers, money, bounded text.
//! Each `parse` names the field it was given when it refuses.

use crate::error::FieldError;
use chrono::Datelike;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A mainland Chinese phone number, normalised to digits only: an 11-digit mobile
/// (`1[3-9]xxxxxxxxx`) or a landline with its area code (`0` + 2-3 digits + 7-8 digits),
/// or a 5-digit service number such as 12348 / 12345. Spaces, dashes and a leading
/// `+86` / `0086` are accepted and dropped.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let mut digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        if let Some(rest) = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")) {
            digits = rest.to_owned();
        }
        if digits.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, "must contain only digits, spaces and dashes"));
        }
        let b = digits.as_bytes();
        let ok = match b[0] {
            b'1' if b.len() == 11 => (b'3'..=b'9').contains(&b[1]),
            b'1' => b.len() == 5, // 12348, 12345, 110 style service numbers of five digits
            b'0' => (10..=12).contains(&b.len()) && b[1] != b'0',
            _ => false,
        };
        if !ok {
            return Err(FieldError::new(
                field,
                "is not a valid phone number (11-digit mobile, or landline with area code)",
            ));
        }
        Ok(Phone(digits))
    }

    /// The full number. Callers of this must have the right to see it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****8000`: the first three and last four digits.
    pub fn masked(&self) -> String {
        let s = &self.0;
        if s.len() <= 7 {
            return "*".repeat(s.len());
        }
        format!("{}{}{}", &s[..3], "*".repeat(s.len() - 7), &s[s.len() - 4..])
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a full number, not even in debug output.
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse("phone", &s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// A resident identity card number (居民身份证号码, GB 11643): 17 digits and an ISO
/// 7064 MOD 11-2 check character (`0`-`9` or `X`), 18 characters in all. Spaces are
/// dropped and a lowercase `x` is taken as `X`; the date of birth (characters 7-14) must
/// be a real date. Like [`Phone`], its `Debug` never prints the whole number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s: String = raw.chars().filter(|c| *c != ' ').map(|c| c.to_ascii_uppercase()).collect();
        if s.chars().count() != 18 {
            return Err(FieldError::new(field, "must be an 18-character resident identity card number"));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(FieldError::new(field, "must be 17 digits followed by a digit or X"));
        }
        let (y, m, d) = (&s[6..10], &s[10..12], &s[12..14]);
        let valid_date = chrono::NaiveDate::from_ymd_opt(
            y.parse().unwrap_or(0),
            m.parse().unwrap_or(0),
            d.parse().unwrap_or(0),
        )
        .is_some_and(|date| date.year() >= 1900);
        if !valid_date {
            return Err(FieldError::new(field, "does not hold a valid date of birth"));
        }
        if b[17] != Self::check_char(&b[..17]) {
            return Err(FieldError::new(field, "has a wrong check character"));
        }
        Ok(IdNumber(s))
    }

    /// The ISO 7064 MOD 11-2 check character of the first 17 digits.
    fn check_char(digits: &[u8]) -> u8 {
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: &[u8; 11] = b"10X98765432";
        let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        CHECK[(sum % 11) as usize]
    }

    /// The full number. Callers of this must have the right to see it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `371***********123X`: the first three and last four characters.
    pub fn masked(&self) -> String {
        let s = &self.0;
        format!("{}{}{}", &s[..3], "*".repeat(s.len() - 7), &s[s.len() - 4..])
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse("id_number", &s)
    }
}

impl From<IdNumber> for String {
    fn from(p: IdNumber) -> String {
        p.0
    }
}

/// A caller's name as others than those who must call them see it: the first character
/// and one `*` for each of the rest (`张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// Largest amount accepted anywhere: one hundred billion yuan.
pub const MAX_YUAN: i64 = 100_000_000_000;

/// Parses an exact amount of yuan: decimal text, not negative, at most two places.
pub fn parse_yuan(field: &str, raw: &str) -> Result<Decimal, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    let not_decimal = || FieldError::new(field, format!("`{raw}` is not a decimal amount of yuan"));
    // Plain decimal text only: `Decimal`'s parser also takes `1e5` and `1_000`.
    let unsigned = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if !unsigned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(not_decimal());
    }
    let value: Decimal = raw.parse().map_err(|_| not_decimal())?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(FieldError::new(field, "must not be negative"));
    }
    if value.normalize().scale() > 2 {
        return Err(FieldError::new(field, "must have at most 2 decimal places (fen)"));
    }
    if value > Decimal::from(MAX_YUAN) {
        return Err(FieldError::new(field, "is larger than any amount the hotline handles"));
    }
    let mut v = value.normalize();
    v.rescale(2);
    Ok(v)
}

/// Parses free text: trimmed, and required non-empty unless `optional`; at most `max`
/// characters (not bytes, so Chinese text gets the same room as Latin).
pub fn parse_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    check_len(field, t, max)?;
    Ok(t.to_owned())
}

/// Like [`parse_text`] but empty input is `None`.
pub fn parse_optional_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    check_len(field, t, max)?;
    Ok(Some(t.to_owned()))
}

fn check_len(field: &str, t: &str, max: usize) -> Result<(), FieldError> {
    let n = t.chars().count();
    if n > max {
        return Err(FieldError::new(field, format!("is {n} characters long; at most {max} allowed")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// Text limits used across the API, in characters.
pub mod limits {
    pub const NAME: usize = 50;
    pub const SUMMARY: usize = 2000;
    pub const ANSWER: usize = 4000;
    pub const NOTE: usize = 1000;
    pub const ID: usize = 64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("p", "138 0013 8000").unwrap().expose(), "13800138000");
        assert_eq!(Phone::parse("p", "+86 13800138000").unwrap().expose(), "13800138000");
        assert_eq!(Phone::parse("p", "0635-8241234").unwrap().expose(), "06358241234");
        assert_eq!(Phone::parse("p", "12348").unwrap().expose(), "12348");
        assert_eq!(Phone::parse("p", "13800138000").unwrap().masked(), "138****8000");
        for bad in ["", "abc", "1380013800", "12800138000", "23800138000", "138001380001", "0035-8241234"] {
            let e = Phone::parse("caller.phone", bad).unwrap_err();
            assert_eq!(e.field, "caller.phone", "{bad}");
        }
        assert_eq!(format!("{:?}", Phone::parse("p", "13800138000").unwrap()), "Phone(138****8000)");
    }

    #[test]
    fn id_numbers() {
        // GB 11643's own example and a number ending in X.
        let id = IdNumber::parse("p", "11010519491231002X").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(IdNumber::parse("p", "11010519491231002x").unwrap(), id);
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110***********002X)");
        assert!(IdNumber::parse("p", "371502199001011234").is_ok());
        for bad in [
            "",
            "11010519491231002",
            "110105194912310021",
            "1101051949123100XX",
            "110105194913310021",
            "11010518991231002X",
            "11010519491231002Y",
        ] {
            assert_eq!(
                IdNumber::parse("caller.id_number", bad).unwrap_err().field,
                "caller.id_number",
                "{bad}"
            );
        }
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn money() {
        assert_eq!(parse_yuan("a", "12.5").unwrap().to_string(), "12.50");
        assert_eq!(parse_yuan("a", "8200000").unwrap().to_string(), "8200000.00");
        assert_eq!(parse_yuan("a", "0").unwrap().to_string(), "0.00");
        assert_eq!(parse_yuan("a", "1.230").unwrap().to_string(), "1.23");
        assert!(parse_yuan("a", "-1").is_err());
        assert!(parse_yuan("a", "1.234").is_err());
        assert!(parse_yuan("a", "1e5").is_err());
        assert!(parse_yuan("a", "1_000").is_err());
        assert!(parse_yuan("a", "+-1").is_err());
        assert_eq!(parse_yuan("a", "-0").unwrap().to_string(), "0.00");
        assert!(parse_yuan("a", "").is_err());
        assert!(parse_yuan("a", "100000000001").is_err());
    }

    #[test]
    fn text() {
        assert_eq!(parse_text("s", "  你好 ", 2).unwrap(), "你好");
        assert!(parse_text("s", "   ", 2).is_err());
        assert!(parse_text("s", "你好吗", 2).is_err());
        assert_eq!(parse_optional_text("s", " ", 2).unwrap(), None);
        assert!(parse_text("s", "a\u{0}b", 10).is_err());
    }
}
