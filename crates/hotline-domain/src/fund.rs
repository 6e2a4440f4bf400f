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

/// A level of government that holds dedicated accounts of the fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FundLevel {
    City,
    County,
    Township,
}

impl FundLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            FundLevel::City => "city",
            FundLevel::County => "county",
            FundLevel::Township => "township",
        }
    }

    pub fn parse(s: &str) -> Option<FundLevel> {
        Some(match s {
            "city" => FundLevel::City,
            "county" => FundLevel::County,
            "township" => FundLevel::Township,
            _ => return None,
        })
    }
}

impl std::fmt::Display for FundLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one dedicated account receives of a year's fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The unit that holds the account: the city, a county or a township.
    pub unit_id: String,
    pub level: FundLevel,
    pub amount: Decimal,
}

/// A year's fund as it is shared out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub amount: Decimal,
    /// The three levels' shares, by [`LEVEL_SHARES`]: city, county, township.
    pub levels: [Decimal; 3],
    /// Every account's credit: the city's, then each county's, then each township's, in
    /// the order given. They add up to `amount` exactly.
    pub credits: Vec<Credit>,
}

/// Shares out a year's fund (`field` names it in errors).
///
/// **The rule.** The amount is split city : county : township by [`LEVEL_SHARES`]
/// (3 : 5 : 2). The county share is then split among `counties` and the township share
/// among `townships`, each in proportion to its weight: the number of villages it has
/// (a county's are those of its townships). Every split is [`split`], so each follows
/// the rule for the last fen and the credits add up to the amount exactly. A unit with
/// no village gets nothing (its account is credited 0.00).
///
/// Refused (`Precondition`) when a level has no unit or its units have no village
/// between them: that share could not be placed.
pub fn allocate(
    field: &str,
    amount: Decimal,
    city_id: &str,
    counties: &[(String, u32)],
    townships: &[(String, u32)],
) -> Result<Allocation, crate::DomainError> {
    let parts = split(field, amount, &LEVEL_SHARES)?;
    let levels = [parts[0], parts[1], parts[2]];
    let mut credits = vec![Credit { unit_id: city_id.to_owned(), level: FundLevel::City, amount: levels[0] }];
    for (level, share, units) in
        [(FundLevel::County, levels[1], counties), (FundLevel::Township, levels[2], townships)]
    {
        let weights: Vec<u32> = units.iter().map(|(_, w)| *w).collect();
        if weights.iter().all(|&w| w == 0) {
            return Err(crate::DomainError::Precondition(format!(
                "the directory has no {level} with a village to share the {level} share among"
            )));
        }
        let shares = split(field, share, &weights)?;
        credits.extend(units.iter().zip(shares).map(|((id, _), amount)| Credit {
            unit_id: id.clone(),
            level,
            amount,
        }));
    }
    Ok(Allocation { amount, levels, credits })
}

/// The largest yearly growth rate accepted (a doubling).
pub const MAX_GROWTH_RATE: Decimal = Decimal::ONE;

/// Parses a yearly growth rate: decimal text, above -1 (the fund cannot vanish) and at
/// most [`MAX_GROWTH_RATE`], with at most four decimal places (0.01 %), e.g. `0.05`
/// for 5 %.
pub fn parse_growth_rate(field: &str, raw: &str) -> Result<Decimal, FieldError> {
    let raw = raw.trim();
    let not_decimal = || FieldError::new(field, format!("`{raw}` is not a decimal rate (e.g. 0.05 for 5 %)"));
    let unsigned = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(not_decimal());
    }
    let rate: Decimal = raw.parse().map_err(|_| not_decimal())?;
    if rate.normalize().scale() > 4 {
        return Err(FieldError::new(field, "must have at most 4 decimal places"));
    }
    if rate <= -Decimal::ONE || rate > MAX_GROWTH_RATE {
        return Err(FieldError::new(field, "must be above -1 and at most 1"));
    }
    Ok(rate.normalize())
}

/// Next year's fund from this year's: `amount × (1 + rate)`, rounded to the fen, a half
/// fen away from zero (四舍五入: 0.005 yuan rounds up to 0.01).
pub fn grow(field: &str, amount: Decimal, rate: Decimal) -> Result<Decimal, FieldError> {
    let grown = amount
        .checked_mul(Decimal::ONE + rate)
        .ok_or_else(|| FieldError::new(field, "the grown amount is out of range"))?;
    let mut grown = grown.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    grown.rescale(2);
    if grown > Decimal::from(crate::values::MAX_YUAN) {
        return Err(FieldError::new(field, "the grown amount is larger than any amount the hotline handles"));
    }
    Ok(grown)
}

/// What a service costs at `rate` yuan per unit for `quantity` units, exact to the fen
/// (a rate has at most two places, so the product has too).
pub fn cost(rate: Decimal, quantity: u32) -> Decimal {
    let mut c = rate * Decimal::from(quantity);
    c.rescale(2);
    c
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

    #[test]
    fn the_reports_fund_is_shared_by_village_count() {
        let counties = vec![("371502".to_owned(), 5), ("371503".to_owned(), 0), ("371521".to_owned(), 2)];
        let townships =
            vec![("371502101".to_owned(), 3), ("371502102".to_owned(), 2), ("371521101".to_owned(), 2)];
        let a = allocate("amount", yuan("26000000.00"), "371500", &counties, &townships).unwrap();
        assert_eq!(a.levels, [yuan("7800000.00"), yuan("13000000.00"), yuan("5200000.00")]);
        let got: Vec<(&str, Decimal)> = a.credits.iter().map(|c| (c.unit_id.as_str(), c.amount)).collect();
        assert_eq!(
            got,
            [
                ("371500", yuan("7800000.00")),
                // 13,000,000 x 5/7 = 9,285,714.2857..., x 2/7 = 3,714,285.7142...
                ("371502", yuan("9285714.29")),
                ("371503", yuan("0.00")),
                ("371521", yuan("3714285.71")),
                // 5,200,000 x 3/7 = 2,228,571.428..., x 2/7 = 1,485,714.2857...
                ("371502101", yuan("2228571.43")),
                ("371502102", yuan("1485714.29")),
                ("371521101", yuan("1485714.28")),
            ]
        );
        assert_eq!(a.credits.iter().map(|c| c.amount).sum::<Decimal>(), yuan("26000000.00"));
        let none = allocate("amount", yuan("1"), "c", &[("a".into(), 0)], &townships).unwrap_err();
        assert!(none.to_string().contains("no county with a village"), "{none}");
    }

    #[test]
    fn growth_rounds_half_a_fen_up() {
        assert_eq!(grow("g", yuan("26000000.00"), yuan("0.05")).unwrap(), yuan("27300000.00"));
        // 100.10 x 1.0005 = 100.15005 -> 100.15; 0.10 x 1.05 = 0.105 -> 0.11.
        assert_eq!(grow("g", yuan("100.10"), yuan("0.0005")).unwrap(), yuan("100.15"));
        assert_eq!(grow("g", yuan("0.10"), yuan("0.05")).unwrap(), yuan("0.11"));
        assert_eq!(grow("g", yuan("0.10"), yuan("-0.05")).unwrap(), yuan("0.10"));
        assert_eq!(parse_growth_rate("r", " 0.05 ").unwrap(), yuan("0.05"));
        for bad in ["", "5%", "1e-2", "-1", "1.5", "0.00001"] {
            assert_eq!(parse_growth_rate("r", bad).unwrap_err().field, "r", "{bad}");
        }
        assert_eq!(cost(yuan("200.00"), 3), yuan("600.00"));
    }
}
