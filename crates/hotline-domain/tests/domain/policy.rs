//! The SLA policy: built-in defaults, TOML overlays and their resolution order.

use crate::fixtures::{CALENDAR, actor, sample, sh, utc};
use DeadlineKind as K;
use Limit::{Hours, WorkingDays};
use hotline_domain::*;

const EXAMPLE: &str = r#"
max_extension_days = 10
[default]
dispatch = "1d"      # "Nd" = N working days, "Nh" = N hours
sign_off = "1d"
reply = "5d"
reply_complex = "15d"
callback = "1d"
redo = "1d"
[urgent]
dispatch = "1h"
sign_off = "2h"
[category.legal_aid]
reply = "7d"
[category.mediation.urgent]
sign_off = "4h"
"#;

#[test]
fn built_in_defaults_follow_the_rules() {
    let p = SlaPolicy::default();
    let n = Urgency::Normal;
    let u = Urgency::Urgent;
    let c = Category::Consultation;
    assert_eq!(p.limit(K::Dispatch, c, n, false), WorkingDays(1));
    assert_eq!(p.limit(K::Dispatch, c, u, false), Hours(1));
    assert_eq!(p.limit(K::SignOff, c, n, false), WorkingDays(1));
    assert_eq!(p.limit(K::SignOff, c, u, false), Hours(2));
    assert_eq!(p.limit(K::Reply, c, n, false), WorkingDays(5));
    assert_eq!(p.limit(K::Reply, c, n, true), WorkingDays(15));
    assert_eq!(p.limit(K::Reply, c, u, false), WorkingDays(5));
    assert_eq!(p.limit(K::Reply, Category::LegalAid, n, false), WorkingDays(7));
    // The Legal Aid Law's 7 days bind complex applications too.
    assert_eq!(p.limit(K::Reply, Category::LegalAid, n, true), WorkingDays(7));
    assert_eq!(p.limit(K::Callback, c, n, false), WorkingDays(1));
    assert_eq!(p.limit(K::Redo, c, n, false), WorkingDays(1));
    assert_eq!(p.max_extension_days(), 10);
    // `complex` changes only the reply.
    assert_eq!(p.limit(K::SignOff, c, n, true), WorkingDays(1));
}

#[test]
fn the_example_document_and_its_resolution_order() {
    let p = SlaPolicy::from_toml(EXAMPLE).unwrap();
    // category + urgency beats urgency.
    assert_eq!(p.limit(K::SignOff, Category::Mediation, Urgency::Urgent, false), Hours(4));
    assert_eq!(p.limit(K::SignOff, Category::Consultation, Urgency::Urgent, false), Hours(2));
    assert_eq!(p.limit(K::SignOff, Category::Mediation, Urgency::Normal, false), WorkingDays(1));
    // Unset in the mediation+urgent table: falls to [urgent].
    assert_eq!(p.limit(K::Dispatch, Category::Mediation, Urgency::Urgent, false), Hours(1));
    assert_eq!(p.limit(K::Reply, Category::LegalAid, Urgency::Urgent, false), WorkingDays(7));
    // The example restates the defaults, so otherwise it is the built-in policy with
    // one more table.
    let mut expected = SlaPolicy::default();
    assert_ne!(p, expected);
    expected = SlaPolicy::from_toml("[category.mediation.urgent]\nsign_off = \"4h\"\n").unwrap();
    assert_eq!(p, expected);
}

#[test]
fn category_beats_urgency() {
    let p = SlaPolicy::from_toml("[urgent]\nsign_off = \"3h\"\n[category.mediation]\nsign_off = \"2d\"\n")
        .unwrap();
    assert_eq!(p.limit(K::SignOff, Category::Mediation, Urgency::Urgent, false), WorkingDays(2));
    assert_eq!(p.limit(K::SignOff, Category::Consultation, Urgency::Urgent, false), Hours(3));
    assert_eq!(p.limit(K::SignOff, Category::Consultation, Urgency::Normal, false), WorkingDays(1));
}

#[test]
fn overlays_keep_what_they_do_not_mention() {
    let p =
        SlaPolicy::from_toml("[category.legal_aid]\ncallback = \"2d\"\n[default]\nreply = \"4d\"\n").unwrap();
    assert_eq!(p.limit(K::Callback, Category::LegalAid, Urgency::Normal, false), WorkingDays(2));
    assert_eq!(p.limit(K::Reply, Category::LegalAid, Urgency::Normal, false), WorkingDays(7));
    assert_eq!(p.limit(K::Reply, Category::Consultation, Urgency::Normal, false), WorkingDays(4));
    assert_eq!(p.limit(K::Reply, Category::Consultation, Urgency::Normal, true), WorkingDays(15));
    assert_eq!(SlaPolicy::from_toml("").unwrap(), SlaPolicy::default());
    let p = SlaPolicy::from_toml("[normal]\nsign_off = \"2d\"\n").unwrap();
    assert_eq!(p.limit(K::SignOff, Category::Consultation, Urgency::Normal, false), WorkingDays(2));
    assert_eq!(p.limit(K::SignOff, Category::Consultation, Urgency::Urgent, false), Hours(2));
}

#[test]
fn errors_name_the_key() {
    let err = SlaPolicy::from_toml("[category.legal_aid]\nreply = \"7x\"\n").unwrap_err();
    assert_eq!(err.to_string(), r#"category.legal_aid.reply: "7x" is not "Nd" or "Nh""#);
    let err = SlaPolicy::from_toml("[category.mediation.urgent]\nsign_off = \"0h\"\n").unwrap_err();
    assert_eq!(
        err,
        PolicyError::Value {
            key: "category.mediation.urgent.sign_off".into(),
            message: r#""0h" must be at least 1"#.into()
        }
    );
    let err = SlaPolicy::from_toml("[urgent]\ndispatch = \"soon\"\n").unwrap_err();
    assert!(err.to_string().starts_with("urgent.dispatch: "), "{err}");
    let err = SlaPolicy::from_toml("[category.divorce]\nreply = \"3d\"\n").unwrap_err();
    assert!(err.to_string().starts_with(r#"category.divorce: unknown category "divorce""#), "{err}");
    assert!(err.to_string().contains("legal_aid"), "{err}");
    // Unknown keys and wrong types are refused, not ignored.
    for bad in [
        "[default]\nrepyl = \"5d\"\n",
        "[urgnet]\nsign_off = \"1h\"\n",
        "max_extension_days = -1\n",
        "[default]\nreply = 5\n",
        "not toml",
    ] {
        assert!(matches!(SlaPolicy::from_toml(bad), Err(PolicyError::Syntax(_))), "{bad:?}");
    }
    // Each names the key it is about, or else its line.
    let named = [
        ("[default]\nrepyl = \"5d\"\n", "default.repyl: unknown field `repyl`"),
        (
            "max_extension_days = 3\n[category.legal_aid]\nreply = \"7d\"\nsign_off_hours = 2\n",
            "category.legal_aid.sign_off_hours: unknown field",
        ),
        ("[default]\nreply = 5\n", "default.reply: "),
        ("[urgnet]\nsign_off = \"1h\"\n", "urgnet: unknown field `urgnet`"),
        ("max_extension_days = -1\n", "max_extension_days: "),
        ("a = 1\nnot toml", "line 2: "),
    ];
    for (bad, words) in named {
        let err = SlaPolicy::from_toml(bad).unwrap_err().to_string();
        assert!(err.starts_with(words), "{bad:?}: {err}");
    }
}

#[test]
fn due_uses_days_or_hours() {
    let p = SlaPolicy::from_toml(EXAMPLE).unwrap();
    let from = sh("2026-02-13 10:00"); // Friday before the Spring Festival
    let due = |kind, category, urgency| p.due(kind, category, urgency, false, from, &CALENDAR);
    assert_eq!(due(K::SignOff, Category::Mediation, Urgency::Urgent), sh("2026-02-13 14:00"));
    assert_eq!(due(K::SignOff, Category::Mediation, Urgency::Normal), utc("2026-02-14T16:00:00Z"));
    // 13 Feb: 14, 24, 25, 26, 27, 28, 2 Mar -> end of Mon 2 Mar.
    assert_eq!(due(K::Reply, Category::LegalAid, Urgency::Normal), utc("2026-03-02T16:00:00Z"));
}

#[test]
fn the_lifecycle_uses_the_policy_it_is_given() {
    let p = SlaPolicy::from_toml("max_extension_days = 5\n[category.mediation.urgent]\nsign_off = \"4h\"\n")
        .unwrap();
    let ctx = |now| Ctx { now, calendar: &CALENDAR, policy: &p };
    let new = crate::fixtures::new_order(Category::Mediation, Urgency::Urgent);
    let order =
        WorkOrder::register(new, &actor(Role::SeatAgent), &ctx(sh("2026-03-02 09:00"))).unwrap().order;
    assert_eq!(order.deadlines.dispatch_due, Some(sh("2026-03-02 10:00")));
    let order = order
        .apply(&sample(Action::Dispatch), &actor(Role::Dispatcher), &ctx(sh("2026-03-02 09:30")))
        .unwrap()
        .order;
    assert_eq!(order.deadlines.sign_off_due, Some(sh("2026-03-02 13:30")));
    let order =
        order.apply(&Command::SignOff, &actor(Role::Counsel), &ctx(sh("2026-03-02 10:00"))).unwrap().order;
    let ask = |days| Command::RequestExtension { days, reason: "调解需要时间".into() };
    let err = order.apply(&ask(6), &actor(Role::Counsel), &ctx(sh("2026-03-03 10:00"))).unwrap_err();
    assert!(matches!(&err, DomainError::Invalid(f) if f.field == "days"), "{err:?}");
    assert!(err.to_string().contains("between 1 and 5"), "{err}");
    assert!(order.apply(&ask(5), &actor(Role::Counsel), &ctx(sh("2026-03-03 10:00"))).is_ok());
}
