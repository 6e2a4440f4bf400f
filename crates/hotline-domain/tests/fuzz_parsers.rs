//! Property tests of every parser at the edge of the domain: phone numbers, amounts of
//! yuan, bounded text, and the SLA and routing policy documents. For any input each one
//! either returns a value that validates again (and round-trips where it has a text
//! form) or an error naming the field; none panics. Bounded case counts keep the run
//! short enough for every CI run.

use chrono::{TimeZone, Utc};
use hotline_domain::values::{
    IdNumber, MAX_YUAN, Phone, limits, parse_optional_text, parse_text, parse_yuan,
};
use hotline_domain::{Calendar, RoutingPolicy, SlaPolicy};
use hotline_domain::{Category, DeadlineKind, Subcategory, Urgency};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn config() -> ProptestConfig {
    // `PROPTEST_CASES` raises the count for a longer search.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Text that looks like what a console or a telephony adapter sends, plus noise.
fn phone_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "(\\+86|0086)?[ -]?1[0-9]{10}",
        "0[0-9]{2,3}-?[0-9]{7,8}",
        "1[0-9]{4}",
        "[0-9 ()+-]{0,20}",
        any::<String>(),
    ]
}

fn amount_like() -> impl Strategy<Value = String> {
    prop_oneof!["[+-]?[0-9]{0,14}(\\.[0-9]{0,4})?", "[0-9]{1,30}", "[0-9eE_.,+ -]{0,12}", any::<String>(),]
}

fn id_number_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[1-6][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
        "[0-9 xX]{15,20}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn id_number_never_panics_and_round_trips(raw in id_number_like()) {
        match IdNumber::parse("caller.id_number", &raw) {
            Ok(id) => {
                prop_assert_eq!(id.expose().len(), 18);
                let again = IdNumber::parse("caller.id_number", id.expose()).unwrap();
                prop_assert_eq!(again.expose(), id.expose());
                let masked = id.masked();
                prop_assert_eq!(masked.len(), 18);
                prop_assert!(!masked.contains(&id.expose()[3..14]));
            }
            Err(e) => prop_assert_eq!(e.field.as_str(), "caller.id_number"),
        }
    }

    #[test]
    fn phone_never_panics_and_normalises(raw in phone_like()) {
        match Phone::parse("caller.phone", &raw) {
            Ok(p) => {
                let digits = p.expose();
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{digits:?}");
                prop_assert!(matches!(digits.len(), 5 | 10..=12), "{digits:?}");
                // Normalised numbers parse to themselves.
                let again = Phone::parse("caller.phone", digits).expect("normalised form parses");
                prop_assert_eq!(again.expose(), digits);
                let masked = p.masked();
                prop_assert_eq!(masked.chars().count(), digits.len());
                if digits.len() > 7 {
                    prop_assert_eq!(&masked[..3], &digits[..3]);
                    prop_assert!(masked[3..digits.len() - 4].chars().all(|c| c == '*'));
                } else {
                    prop_assert!(masked.chars().all(|c| c == '*'));
                }
                let debug = format!("{p:?}");
                prop_assert!(!debug.contains(digits), "{debug}");
            }
            Err(e) => prop_assert_eq!(e.field, "caller.phone"),
        }
    }

    #[test]
    fn yuan_never_panics_and_is_exact(raw in amount_like()) {
        match parse_yuan("amount_in_dispute", &raw) {
            Ok(v) => {
                prop_assert!(v >= Decimal::ZERO);
                prop_assert!(v <= Decimal::from(MAX_YUAN));
                prop_assert_eq!(v.scale(), 2);
                // The canonical text parses back to the same amount.
                let again = parse_yuan("amount_in_dispute", &v.to_string()).expect("canonical text parses");
                prop_assert_eq!(again, v);
                prop_assert_eq!(again.to_string(), v.to_string());
            }
            Err(e) => prop_assert_eq!(e.field, "amount_in_dispute"),
        }
    }

    #[test]
    fn yuan_accepts_every_amount_in_fen(fen in 0i64..=MAX_YUAN * 100) {
        let text = format!("{}.{:02}", fen / 100, fen % 100);
        let v = parse_yuan("amount", &text).expect("a whole number of fen");
        prop_assert_eq!(v, Decimal::new(fen, 2));
    }

    #[test]
    fn text_never_panics_and_respects_limits(raw in any::<String>(), max in prop_oneof![Just(limits::NAME), Just(limits::ID), Just(limits::NOTE), 0usize..8]) {
        match parse_text("summary", &raw, max) {
            Ok(t) => {
                prop_assert!(!t.is_empty());
                prop_assert_eq!(t.trim(), t.as_str());
                prop_assert!(t.chars().count() <= max);
                prop_assert!(!t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')));
                prop_assert_eq!(parse_text("summary", &t, max).unwrap(), t);
            }
            Err(e) => prop_assert_eq!(e.field, "summary"),
        }
        match parse_optional_text("note", &raw, max) {
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Ok(Some(t)) => prop_assert_eq!(parse_text("note", &raw, max).unwrap(), t),
            Err(e) => prop_assert_eq!(e.field, "note"),
        }
    }

    #[test]
    fn long_chinese_text_is_counted_in_characters(n in 0usize..3000) {
        let raw = "调".repeat(n);
        let r = parse_optional_text("answer", &raw, limits::SUMMARY);
        prop_assert_eq!(r.is_ok(), n <= limits::SUMMARY);
    }
}

/// One value of a policy document: right, wrong, or absurd.
fn limit_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..400).prop_map(|n| format!("\"{n}d\"")),
        (1u32..9000).prop_map(|n| format!("\"{n}h\"")),
        "\"[0-9dh五 -]{0,12}\"",
        any::<u64>().prop_map(|n| format!("\"{n}h\"")),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("true".to_owned()),
    ]
}

fn sla_document() -> impl Strategy<Value = String> {
    let table = prop_oneof![
        Just("default".to_owned()),
        Just("normal".to_owned()),
        Just("urgent".to_owned()),
        Just("category.legal_aid".to_owned()),
        Just("category.mediation.urgent".to_owned()),
        Just("category.consultation.normal".to_owned()),
        "category\\.[a-z_]{1,12}",
        "[a-z_]{1,10}",
    ];
    let key = prop_oneof![
        Just("dispatch"),
        Just("sign_off"),
        Just("reply"),
        Just("reply_complex"),
        Just("callback"),
        Just("redo"),
        Just("unknown"),
    ];
    let entry = (table, proptest::collection::vec((key, limit_value()), 0..4));
    (
        proptest::option::of(prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (0u32..40).prop_map(|n| n.to_string())
        ]),
        proptest::collection::vec(entry, 0..4),
    )
        .prop_map(|(max_ext, tables)| {
            let mut doc = String::new();
            if let Some(m) = max_ext {
                doc.push_str(&format!("max_extension_days = {m}\n"));
            }
            for (name, kvs) in tables {
                doc.push_str(&format!("[{name}]\n"));
                for (k, v) in kvs {
                    doc.push_str(&format!("{k} = {v}\n"));
                }
            }
            doc
        })
}

fn routing_document() -> impl Strategy<Value = String> {
    let category = prop_oneof![
        Just("mediation"),
        Just("legal_aid"),
        Just("consultation"),
        Just("legal_education"),
        Just("nonsense"),
    ];
    let sub = prop_oneof![
        Just(""),
        Just(".subcategory.land_contract"),
        Just(".subcategory.labour_wages"),
        Just(".subcategory.nope")
    ];
    let kv = prop_oneof![
        prop_oneof![
            Just("village_counsel"),
            Just("township_team"),
            Just("county_centre"),
            Just("station_lead"),
            Just("mars")
        ]
        .prop_map(|l| format!("level = \"{l}\"")),
        prop_oneof![Just("county_centre"), Just("x")].prop_map(|l| format!("escalate_to = \"{l}\"")),
        amount_like().prop_map(|a| format!("escalate_above = {a:?}")),
        any::<i64>().prop_map(|n| format!("escalate_parties_above = {n}")),
        Just("other = 1".to_owned()),
    ];
    proptest::collection::vec((category, sub, proptest::collection::vec(kv, 0..4)), 0..4).prop_map(|tables| {
        let mut doc = String::new();
        for (c, s, kvs) in tables {
            doc.push_str(&format!("[category.{c}{s}]\n"));
            for kv in kvs {
                doc.push_str(&kv);
                doc.push('\n');
            }
        }
        doc
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sla_policy_never_panics(doc in prop_oneof![sla_document(), any::<String>()]) {
        match SlaPolicy::from_toml(&doc) {
            Ok(policy) => {
                prop_assert!(policy.max_extension_days() <= 366);
                // Every deadline of an accepted policy can be computed, and extended.
                let cal = Calendar::official();
                let _ = cal.extend_due(Utc.with_ymd_and_hms(2025, 6, 1, 16, 0, 0).unwrap(), policy.max_extension_days());
                let from = Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap();
                for category in Category::ALL {
                    for urgency in [Urgency::Normal, Urgency::Urgent] {
                        for kind in [DeadlineKind::Dispatch, DeadlineKind::SignOff, DeadlineKind::Reply, DeadlineKind::Callback, DeadlineKind::Redo] {
                            for complex in [false, true] {
                                let due = policy.due(kind, *category, urgency, complex, from, &cal);
                                prop_assert!(due > from);
                            }
                        }
                    }
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn routing_policy_never_panics_and_round_trips(doc in prop_oneof![routing_document(), any::<String>()]) {
        match RoutingPolicy::from_toml(&doc) {
            Ok(policy) => {
                let again = RoutingPolicy::from_toml(&policy.to_toml()).expect("its own TOML parses");
                prop_assert_eq!(again.to_toml(), policy.to_toml());
                for category in Category::ALL {
                    for sub in Subcategory::ALL {
                        let _ = policy.choose(*category, *sub, Some(Decimal::new(123_456, 2)));
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("routing policy: ")),
        }
    }
}
