//! The special fund for village legal counsel: a year's amount shared between the levels
//! of government by fixed shares (the report's 3 : 5 : 2 for city, county and township),
//! in exact yuan and fen.
//!
//! **The rule for the last fen.** An amount is split in whole fen. Each part first gets
//! its exact share rounded down to the fen; the fen left over (fewer than the number of
//! parts) go one each to the parts whose shares lost the most in rounding down, and
//! between equal losses to the part named first (the higher level of government). So
//! the parts always add up to the amount exactly, no part differs from its exact share
//! by a whole fen or more, and the same amount and shares always give the same parts.

use crate::FieldError;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// The largest amount split: far above any fund, and small enough that every step is
/// exact in integers.
pub const MAX_AMOUNT_YUAN: i64 = 10_000_000_000_000_000;

/// The report's shares of the fund: city, county, township.
pub const LEVEL_SHARES: [u32; 3] = [3, 5, 2];

/// Splits `amount` (yuan, at most two decimal places, not negative) by `shares` (not
/// all zero) under the rule in the module's documentation. The parts have two decimal
/// places and are in the order of `shares`.
pub fn split(field: &str, amount: Decimal, shares: &[u32]) -> Result<Vec<Decimal>, FieldError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(FieldError::new(field, "must not be negative"));
    }
    if amount.normalize().scale() > 2 {
        return Err(FieldError::new(field, "must be in whole fen (at most two decimal places)"));
    }
    let total: u64 = shares.iter().map(|&s| u64::from(s)).sum();
    if total == 0 {
        return Err(FieldError::new("shares", "must not all be zero"));
    }
    if amount > Decimal::from(MAX_AMOUNT_YUAN) {
        return Err(FieldError::new(field, format!("must be at most {MAX_AMOUNT_YUAN} yuan")));
    }
    let fen = (amount * Decimal::ONE_HUNDRED).to_i128().expect("bounded above");
    let total = i128::from(total);
    let mut parts: Vec<i128> = shares.iter().map(|&s| fen * i128::from(s) / total).collect();
    let mut left = fen - parts.iter().sum::<i128>();
    // What each part lost in rounding down, in units of 1/total fen; the largest first,
    // the earlier part first between equals.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(fen * i128::from(shares[i]) % total));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    Ok(parts
        .into_iter()
        .map(|p| Decimal::new(i64::try_from(p).expect("a part is at most the amount"), 2))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn yuan(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_reports_fund_splits_as_the_report_says() {
        let parts = split("amount", yuan("26000000.00"), &LEVEL_SHARES).unwrap();
        assert_eq!(parts, [yuan("7800000.00"), yuan("13000000.00"), yuan("5200000.00")]);
        assert!(parts.iter().all(|p| p.scale() == 2));
    }

    #[test]
    fn the_last_fen_goes_to_the_largest_loss_then_the_higher_level() {
        // 0.01 by 3:5:2: the county's share (0.005) lost the most.
        assert_eq!(split("a", yuan("0.01"), &LEVEL_SHARES).unwrap(), [yuan("0"), yuan("0.01"), yuan("0")]);
        // 0.03 by 1:1:1: no fen left over.
        assert_eq!(split("a", yuan("0.03"), &[1, 1, 1]).unwrap(), [yuan("0.01"); 3]);
        // 0.02 by 1:1:1: equal losses, the two higher levels get them.
        assert_eq!(split("a", yuan("0.02"), &[1, 1, 1]).unwrap(), [yuan("0.01"), yuan("0.01"), yuan("0")]);
        // 100.07 by 3:5:2: exact shares 30.021, 50.035, 20.014.
        assert_eq!(
            split("a", yuan("100.07"), &LEVEL_SHARES).unwrap(),
            [yuan("30.02"), yuan("50.04"), yuan("20.01")]
        );
    }

    #[test]
    fn bad_amounts_and_shares_are_refused_by_name() {
        assert!(split("amount", yuan("-1"), &LEVEL_SHARES).unwrap_err().to_string().contains("amount"));
        let e = split("amount", yuan("1.005"), &LEVEL_SHARES).unwrap_err();
        assert!(e.to_string().contains("whole fen"), "{e}");
        assert!(split("amount", yuan("1"), &[0, 0]).unwrap_err().to_string().contains("shares"));
        // Trailing zeros are whole fen.
        assert_eq!(split("a", yuan("1.000"), &[1]).unwrap(), [yuan("1.00")]);
    }
}
