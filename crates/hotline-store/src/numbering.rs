//! Work-order numbers, shared by the backends so both number alike.

use chrono::{DateTime, Utc};

/// The Shanghai (UTC+8) calendar day of `created_at` as `yyyymmdd`: the day part of an
/// order number, and the key of that day's sequence counter.
pub fn order_day(created_at: DateTime<Utc>) -> String {
    created_at.with_timezone(&hotline_domain::shanghai()).format("%Y%m%d").to_string()
}

/// `GD` + day (`yyyymmdd`) + the day's sequence, zero-padded to 6 digits.
pub fn order_number(day: &str, seq: i64) -> String {
    format!("GD{day}{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_the_shanghai_day() {
        let t: DateTime<Utc> = "2026-11-26T16:00:00Z".parse().unwrap();
        assert_eq!(order_day(t), "20261127");
        let t: DateTime<Utc> = "2026-11-26T15:59:59.999999Z".parse().unwrap();
        assert_eq!(order_day(t), "20261126");
        assert_eq!(order_number("20261126", 1), "GD20261126000001");
        assert_eq!(order_number("20261126", 123_456), "GD20261126123456");
    }
}
