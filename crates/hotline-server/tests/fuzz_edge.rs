//! Property tests of the server's edge parsers: the request converters of `convert.rs`
//! (caller, target, handling result, timestamps, ids, enums, amounts, pages), and the
//! directory import files (CSV and JSON). For any input each returns a value that
//! validates again, or an error naming the field (or the file's line and record); none
//! panics. Bounded case counts keep the run short enough for every CI run.

use hotline_domain::Phone;
use hotline_proto::v1 as pb;
use hotline_server::convert;
use hotline_server::import::{check, parse_csv, parse_json};
use hotline_store::{MAX_PAGE_SIZE, StoredDirectory, check_directory};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    // `PROPTEST_CASES` raises the count for a longer search.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(384);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \\t]{0,3}",
        "[a-zA-Z0-9 调解村法-]{1,20}",
        "[\\x00-\\x1f]{1,3}",
        "调{40,70}",
        any::<String>(),
    ]
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "1[3-9][0-9]{9}",
        "0[1-9][0-9]{1,2}-[0-9]{7,8}",
        "[0-9 +-]{0,16}",
        any::<String>()
    ]
}

fn amount() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[0-9]{1,12}(\\.[0-9]{1,3})?", "-?[0-9.e_]{1,8}", any::<String>()]
}

fn timestamp() -> impl Strategy<Value = prost_types::Timestamp> {
    prop_oneof![
        (946_684_800i64..4_102_444_800, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
        (any::<i64>(), any::<i32>()).prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    ]
}

fn field_of(e: &hotline_domain::FieldError) -> &str {
    &e.field
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn caller_converter(name in text(), phone in phone(), id_number in "[0-9Xx ]{0,20}|.{0,20}", anonymous: bool, confidential: bool, present: bool) {
        let c = pb::Caller { name: name.clone(), phone: phone.clone(), anonymous, confidential, id_number };
        match convert::caller(present.then_some(&c)) {
            Ok(caller) => {
                prop_assert!(present);
                prop_assert_eq!(caller.anonymous, anonymous);
                if let Some(p) = &caller.phone {
                    let again = Phone::parse("x", p.expose()).unwrap();
                    prop_assert_eq!(again.expose(), p.expose());
                } else {
                    prop_assert!(anonymous && phone.trim().is_empty());
                }
                if let Some(n) = &caller.name {
                    prop_assert!(!anonymous && !n.is_empty() && n.chars().count() <= 50);
                }
            }
            Err(e) => prop_assert!(field_of(&e).starts_with("caller"), "{e}"),
        }
    }

    #[test]
    fn target_converter(unit in text(), assignee in text()) {
        let t = pb::Target { unit_id: unit, assignee_id: assignee };
        match convert::target("to", Some(&t)) {
            Ok(target) => {
                prop_assert!(!target.unit_id.is_empty() && target.unit_id.chars().count() <= 64);
                prop_assert_eq!(convert::code("x", &target.unit_id).unwrap(), target.unit_id);
            }
            Err(e) => prop_assert!(e.field == "to.unit_id" || e.field == "to.assignee_id", "{e}"),
        }
    }

    #[test]
    fn handling_result_converter(
        notes in text(),
        reason in text(),
        resolved: bool,
        recovered in amount(),
        contacted in proptest::option::of(timestamp()),
    ) {
        let r = pb::HandlingResult {
            contacted_at: contacted,
            resolved,
            unresolved_reason: reason,
            notes,
            amount_recovered: recovered,
        };
        match convert::handling_result(Some(&r)) {
            Ok(h) => {
                prop_assert!(h.resolved || h.unresolved_reason.is_some());
                prop_assert!(!h.notes.is_empty());
                if let Some(v) = h.amount_recovered {
                    prop_assert_eq!(convert::optional_yuan("x", &convert::yuan_text(Some(v))).unwrap(), Some(v));
                }
                if let Some(at) = h.contacted_at {
                    prop_assert_eq!(convert::instant("x", &convert::timestamp(at)).unwrap(), at);
                }
            }
            Err(e) => prop_assert!(e.field.starts_with("result."), "{e}"),
        }
    }

    #[test]
    fn instant_converter(t in timestamp()) {
        match convert::instant("from", &t) {
            Ok(at) => {
                prop_assert_eq!(at.timestamp_subsec_nanos() % 1000, 0);
                prop_assert_eq!(convert::instant("from", &convert::timestamp(at)).unwrap(), at);
            }
            Err(e) => prop_assert_eq!(e.field, "from"),
        }
    }

    #[test]
    fn id_and_enum_converters(raw in text(), n: i32) {
        match convert::uuid("order_id", &raw) {
            Ok(id) => prop_assert_eq!(convert::uuid("order_id", &id.to_string()).unwrap(), id),
            Err(e) => prop_assert_eq!(e.field, "order_id"),
        }
        match convert::request_id(&raw) {
            Ok(Some(id)) => prop_assert!(id.chars().count() <= 64),
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Err(e) => prop_assert_eq!(e.field, "request_id"),
        }
        match convert::category("category", n) {
            Ok(c) => prop_assert_eq!(convert::category_pb(c), n),
            Err(e) => prop_assert_eq!(e.field, "category"),
        }
        match convert::state("states[0]", n) {
            Ok(s) => prop_assert_eq!(convert::state_pb(s), n),
            Err(e) => prop_assert_eq!(e.field, "states[0]"),
        }
        match convert::role("role", n) {
            Ok(r) => prop_assert_eq!(convert::role_pb(r), n),
            Err(e) => prop_assert_eq!(e.field, "role"),
        }
    }

    #[test]
    fn amount_converter(raw in amount()) {
        match convert::optional_yuan("amount_in_dispute", &raw) {
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Ok(Some(v)) => prop_assert_eq!(convert::optional_yuan("a", &convert::yuan_text(Some(v))).unwrap(), Some(v)),
            Err(e) => prop_assert_eq!(e.field, "amount_in_dispute"),
        }
    }

    #[test]
    fn page_converter(page_size in prop_oneof![0u32..=600, any::<u32>()], token in prop_oneof![text(), "[A-Za-z0-9_-]{0,600}"]) {
        let p = pb::PageRequest { page_size, page_token: token.clone() };
        match convert::page(Some(&p)) {
            Ok(req) => {
                prop_assert!(req.size() >= 1 && req.size() <= MAX_PAGE_SIZE);
                prop_assert_eq!(req.cursor.as_deref(), Some(token.trim()).filter(|t| !t.is_empty()));
            }
            Err(e) => prop_assert!(e.field == "page.page_size" || e.field == "page.page_token", "{e}"),
        }
    }
}

/// One CSV row: mostly well-formed, with any field possibly broken.
fn csv_row() -> impl Strategy<Value = Vec<String>> {
    let id = prop_oneof![
        4 => "3715[0-9]{2}".prop_map(|s| s),
        1 => text().prop_map(|s| s.replace([',', '"', '\n', '\r'], "")),
    ];
    (
        id.clone(),
        id.clone(),
        id.clone(),
        id,
        text().prop_map(|s| s.replace([',', '"', '\n', '\r'], "")),
        prop_oneof![Just(String::new()), "-?[0-9]{1,3}\\.[0-9]{1,4}", "[a-z]{1,3}"],
        prop_oneof![Just(String::new()), "P[0-9]"],
        prop_oneof![Just(String::new()), "1[3-9][0-9]{9}", "0635-12348", "[0-9a-z]{1,4}"],
    )
        .prop_map(|(city, county, township, village, name, coord, counsel, phone)| {
            let name = if name.is_empty() { "村".to_owned() } else { name };
            vec![
                city,
                "聊城市".into(),
                county,
                "东昌府区".into(),
                township,
                "古楼街道".into(),
                village,
                name,
                coord.clone(),
                coord,
                counsel.clone(),
                if counsel.is_empty() { String::new() } else { "张律师".into() },
                phone,
                String::new(),
            ]
        })
}

const CSV_HEADER: &str = "city_id,city_name,county_id,county_name,township_id,township_name,village_id,village_name,latitude,longitude,counsel_id,counsel_name,counsel_phone,counsel_organization";

/// Parses and checks a directory as `hotline directory import` does, then checks its
/// references as the store does before writing; returns the first refusal's text.
fn import(dir: hotline_store::Directory) -> Result<hotline_store::Directory, String> {
    check(&dir).map_err(|e| format!("{e:#}"))?;
    check_directory(&dir, &StoredDirectory::default()).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Names a record (`units[3].id`, ...) or a CSV line, as every refusal must.
fn names_a_place(message: &str) -> bool {
    ["units[", "stations[", "people[", "institutions[", "CSV line", "directory JSON"]
        .iter()
        .any(|p| message.contains(p))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_import_never_panics(rows in proptest::collection::vec(csv_row(), 0..6)) {
        let mut text = String::from(CSV_HEADER);
        for r in &rows {
            text.push('\n');
            text.push_str(&r.join(","));
        }
        match parse_csv(&text).map_err(|e| format!("{e:#}")).and_then(import) {
            Ok(dir) => {
                for u in &dir.units {
                    prop_assert!(!u.id.trim().is_empty());
                    if let Some(lat) = u.latitude {
                        prop_assert!((-90.0..=90.0).contains(&lat));
                    }
                }
                for p in &dir.people {
                    if let Some(phone) = &p.phone {
                        prop_assert!(phone.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c)), "{phone}");
                    }
                }
                // What was accepted survives the JSON form unchanged.
                let json = serde_json::to_string(&dir).unwrap();
                prop_assert_eq!(parse_json(&json).unwrap(), dir);
            }
            Err(message) => prop_assert!(names_a_place(&message), "{message}"),
        }
    }

    #[test]
    fn csv_text_never_panics(text in prop_oneof![any::<String>(), "[a-z0-9,\"\n\r 村]{0,200}"]) {
        let with_header = format!("{CSV_HEADER}\n{text}");
        for input in [text.as_str(), with_header.as_str()] {
            if let Err(message) = parse_csv(input).map_err(|e| format!("{e:#}")).and_then(import) {
                prop_assert!(!message.is_empty());
            }
        }
    }

    #[test]
    fn json_import_never_panics(
        doc in prop_oneof![
            any::<String>(),
            Just(r#"{"units":[{"id":"1","parent_id":null,"level":"city","name":"聊城市","latitude":null,"longitude":null}],"stations":[],"people":[]}"#.to_owned()),
            (text(), prop_oneof![Just("city"), Just("county"), Just("village"), Just("planet")], any::<f64>())
                .prop_map(|(name, level, lat)| serde_json::json!({
                    "units": [{"id": "371500", "parent_id": null, "level": level, "name": name, "latitude": lat, "longitude": 116.0}],
                    "stations": [{"id": "S1", "township_id": "371500", "name": name, "phone": "12348", "address": null}],
                    "people": [{"id": "P1", "name": "张", "kind": "lawyer", "organization": null, "phone": name,
                        "team_township_id": null, "team_role": null, "villages": ["371500"], "active": true, "capacity": -1}],
                }).to_string()),
        ]
    ) {
        match parse_json(&doc).map_err(|e| format!("{e:#}")).and_then(import) {
            Ok(dir) => prop_assert_eq!(parse_json(&serde_json::to_string(&dir).unwrap()).unwrap(), dir),
            Err(message) => prop_assert!(names_a_place(&message), "{message}"),
        }
    }
}
