//! Calls: recording with request ids, labelled suggestions and their acceptance.

use super::{assert_conflict, assert_not_found, assert_reused, at, dec, join_all, key, mins, phone, place};
use crate::{Call, Store, Wrote};
use chrono::{DateTime, Utc};
use hotline_domain::{Caller, Category, Channel, Place, Subcategory, Urgency};
use uuid::Uuid;

pub(crate) fn call(agent: Uuid, call_time: DateTime<Utc>, caller_phone: Option<&str>) -> Call {
    Call {
        id: Uuid::new_v4(),
        telephony_call_id: Some(format!("cti-{}", call_time.timestamp_micros())),
        channel: Channel::Phone,
        call_time,
        agent_id: agent,
        caller: Caller {
            name: caller_phone.map(|_| "张三".to_owned()),
            phone: caller_phone.map(phone),
            anonymous: caller_phone.is_none(),
            confidential: false,
            id_number: None,
        },
        place: place("371502001001"),
        category: Category::Consultation,
        subcategory: Subcategory::LabourWages,
        urgency: Urgency::Normal,
        summary: "工资被拖欠三个月，咨询如何维权".into(),
        answer: Some("可向劳动监察大队投诉，或申请劳动仲裁".into()),
        amount_in_dispute: Some(dec("12000.50")),
        created_at: call_time + mins(3),
        suggestion: Some(crate::CallSuggestion {
            category: Category::Consultation,
            second_category: Some(Category::LegalAid),
            subcategory: Subcategory::LabourWages,
        }),
    }
}

pub async fn calls_labelled_and_acceptance(store: &dyn Store) {
    use crate::{CallSuggestion, SuggestionFilter};
    let agent = Uuid::new_v4();
    let suggest = |category, second, subcategory| {
        Some(CallSuggestion { category, second_category: second, subcategory })
    };
    let base = call(agent, at("2026-11-26T01:00:00Z"), None);
    let calls = [
        // Suggested first and right, subcategory right.
        Call { id: Uuid::new_v4(), created_at: at("2026-11-26T01:00:00Z"), ..base.clone() },
        // The agent chose the runner-up.
        Call {
            id: Uuid::new_v4(),
            created_at: at("2026-11-26T02:00:00Z"),
            category: Category::LegalAid,
            subcategory: Subcategory::Other,
            ..base.clone()
        },
        // Neither category suggested; another county.
        Call {
            id: Uuid::new_v4(),
            created_at: at("2026-11-27T01:00:00Z"),
            category: Category::Mediation,
            place: Place { county_id: "371521".into(), ..base.place.clone() },
            suggestion: suggest(Category::LegalEducation, None, Subcategory::LabourWages),
            ..base.clone()
        },
        // Recorded without a suggestion: learned from, not counted.
        Call { id: Uuid::new_v4(), created_at: at("2026-11-27T02:00:00Z"), suggestion: None, ..base.clone() },
    ];
    for c in &calls {
        store.record_call(c, None).await.unwrap();
    }
    assert_eq!(store.get_call(calls[3].id).await.unwrap().suggestion, None);

    // Creation order, resumable from any cursor.
    let all = store.labelled_calls(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|l| l.cursor.id).collect::<Vec<_>>(),
        calls.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    assert_eq!(all[1].category, Category::LegalAid);
    assert_eq!(all[1].summary, base.summary);
    let rest = store.labelled_calls(Some(all[1].cursor), 1).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].cursor.id, calls[2].id);
    assert!(store.labelled_calls(Some(all[3].cursor), 10).await.unwrap().is_empty());

    let acc = store.suggestion_acceptance(&SuggestionFilter::default()).await.unwrap();
    let by = |c| acc.iter().find(|a| a.category == c).copied().unwrap();
    assert_eq!(acc.len(), 3);
    let consult = by(Category::Consultation);
    assert_eq!(
        (consult.calls, consult.suggested_first, consult.in_top_two, consult.subcategory_first),
        (1, 1, 1, 1)
    );
    let aid = by(Category::LegalAid);
    assert_eq!((aid.calls, aid.suggested_first, aid.in_top_two, aid.subcategory_first), (1, 0, 1, 0));
    let med = by(Category::Mediation);
    assert_eq!((med.calls, med.suggested_first, med.in_top_two, med.subcategory_first), (1, 0, 0, 1));

    let one_county = SuggestionFilter { county_id: Some("371521".into()), ..Default::default() };
    let acc = store.suggestion_acceptance(&one_county).await.unwrap();
    assert_eq!(acc.iter().map(|a| a.category).collect::<Vec<_>>(), vec![Category::Mediation]);
    let first_day = SuggestionFilter {
        created_from: Some(at("2026-11-26T00:00:00Z")),
        created_to: Some(at("2026-11-26T02:00:00Z")),
        ..Default::default()
    };
    let acc = store.suggestion_acceptance(&first_day).await.unwrap();
    assert_eq!(
        acc.iter().map(|a| (a.category, a.calls)).collect::<Vec<_>>(),
        vec![(Category::Consultation, 1)]
    );
}

pub async fn calls_record_and_idempotency(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let first = call(agent, at("2026-11-26T01:00:00.000001Z"), Some("13800138000"));
    let req1 = key(agent, "req-1", "first");
    let r = store.record_call(&first, Some(&req1)).await.unwrap();
    assert_eq!(r, crate::Recorded { value: first.clone(), created: true });
    assert_eq!(store.get_call(first.id).await.unwrap(), first);
    assert_eq!(store.repeat_of(&req1).await.unwrap(), Some(Wrote::Call(first.id)));

    // A repeat of the request returns the first call and writes nothing (the server
    // gives each attempt a new call id).
    let retry = Call { id: Uuid::new_v4(), ..first.clone() };
    let r = store.record_call(&retry, Some(&req1)).await.unwrap();
    assert!(!r.created);
    assert_eq!(r.value, first);
    assert_not_found(store.get_call(retry.id).await, "call", &retry.id.to_string());

    // The id with another request is refused and writes nothing.
    let other_request = Call { id: Uuid::new_v4(), summary: "不同的内容".into(), ..first.clone() };
    assert_reused(store.record_call(&other_request, Some(&key(agent, "req-1", "other"))).await, "req-1");
    assert_not_found(store.get_call(other_request.id).await, "call", &other_request.id.to_string());

    // The request id is per user.
    let someone = Uuid::new_v4();
    let other = call(someone, at("2026-11-26T01:05:00Z"), None);
    let r = store.record_call(&other, Some(&key(someone, "req-1", "other"))).await.unwrap();
    assert!(r.created);
    assert_eq!(store.get_call(other.id).await.unwrap(), other);

    // Without a request id every call is new; the same call id twice is a conflict.
    let a = call(agent, at("2026-11-26T02:00:00Z"), Some("0635-8241234"));
    let b = Call { id: Uuid::new_v4(), ..a.clone() };
    assert!(store.record_call(&a, None).await.unwrap().created);
    assert!(store.record_call(&b, None).await.unwrap().created);
    assert_conflict(store.record_call(&a, None).await);
    let minimal = Call {
        telephony_call_id: None,
        answer: None,
        amount_in_dispute: None,
        caller: Caller::default(),
        ..call(agent, at("2026-11-26T03:00:00Z"), None)
    };
    store.record_call(&minimal, None).await.unwrap();
    assert_eq!(store.get_call(minimal.id).await.unwrap(), minimal);

    // Two repeats racing: one stores, both get the same call.
    let c1 = call(agent, at("2026-11-26T04:00:00Z"), Some("13900139000"));
    let c2 = Call { id: Uuid::new_v4(), ..c1.clone() };
    let race = key(agent, "req-race", "race");
    let results =
        join_all(vec![store.record_call(&c1, Some(&race)), store.record_call(&c2, Some(&race))]).await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("racing record_call")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1, "exactly one stored");
    assert_eq!(results[0].value, results[1].value);
    let (calls, _) = store.caller_history(&phone("13900139000"), 10).await.unwrap();
    assert_eq!(calls.len(), 1);

    // Two different requests racing with one id: one stores, the other is refused.
    let d1 = call(agent, at("2026-11-26T05:00:00Z"), Some("13700137000"));
    let d2 = Call { id: Uuid::new_v4(), summary: "另一个来电".into(), ..d1.clone() };
    let results = join_all(vec![
        store.record_call(&d1, Some(&key(agent, "req-two", "d1"))),
        store.record_call(&d2, Some(&key(agent, "req-two", "d2"))),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(r) if r.created)).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_eq!(refused.len(), 1);
    assert_reused(refused.into_iter().next().unwrap(), "req-two");
    let (calls, _) = store.caller_history(&phone("13700137000"), 10).await.unwrap();
    assert_eq!(calls.len(), 1);
}
