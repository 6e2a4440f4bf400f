//! The privacy part of the store suite: caller data sealed at rest (read back from the
//! raw tables), found by its keyed hash, re-sealed on rotation; the record of full
//! views; sessions and revocation; the failed sign-in count.
//!
//! The caller-data cases need more than a store: a backend gives them a [`RawAccess`],
//! which opens the same database with other keys and reads tables as stored. Run them
//! with [`privacy_store_tests!`](crate::privacy_store_tests):
//!
//! ```text
//! async fn raw() -> Option<(MyRaw, Guard)> { ... }
//! hotline_store::privacy_store_tests!(raw());
//! ```

use crate::testsuite::at;
use crate::testsuite::calls::call;
use crate::testsuite::orders::{basic_order, create};
use crate::{
    CallerDataView, CallerField, CallerKeys, LockoutPolicy, PageRequest, Revocations, Session, Store,
    StoreError, ViewFilter,
};
use async_trait::async_trait;
use chrono::TimeDelta;
use hotline_domain::queue::CallRecord;
use hotline_domain::{IdNumber, Phone, Role};
use uuid::Uuid;

/// Raw access to one backend's database, for the cases that must see past the store.
#[async_trait]
pub trait RawAccess: Send + Sync {
    /// A store on the same database, sealing with `keys`.
    async fn open(&self, keys: CallerKeys) -> Box<dyn Store>;
    /// Every value of every row of `table`, as text, exactly as stored.
    async fn raw_text(&self, table: &str) -> Vec<String>;
    /// Runs one SQL statement as it is.
    async fn execute(&self, sql: &str);
}

/// Expands to one `#[tokio::test]` per case that needs a [`RawAccess`].
#[macro_export]
macro_rules! privacy_store_tests {
    ($setup:expr) => {
        $crate::privacy_store_tests!(@cases $setup;
            caller_data_is_sealed_at_rest,
            caller_keys_rotate,
            caller_key_ids_name_the_sealing_keys,
            clear_rows_from_before_encryption_are_sealed,
            caller_views_are_recorded_and_listed,
            sessions_revoke_and_deactivate,
            sign_in_failures_lock_and_release,
        );
    };
    (@cases $setup:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((raw, guard)) = ($setup).await else {
                    return;
                };
                $crate::testsuite::privacy::$case(&raw).await;
                drop(raw);
                drop(guard);
            }
        )+
    };
}

const PHONE: &str = "13812345678";
const NAME: &str = "欧阳娜娜";
const ID: &str = "11010519491231002X";

fn key(n: u8) -> Vec<u8> {
    vec![n; 32]
}

fn keys(current: u8, older: &[u8]) -> CallerKeys {
    CallerKeys::new(&key(current), &older.iter().map(|n| key(*n)).collect::<Vec<_>>()).unwrap()
}

fn phone() -> Phone {
    Phone::parse("p", PHONE).unwrap()
}

/// A call, an order and a queue call of the same identified caller.
async fn write_caller(store: &dyn Store) -> (crate::Call, hotline_domain::WorkOrder) {
    let agent = Uuid::new_v4();
    let mut c = call(agent, at("2026-11-20T01:00:00Z"), Some(PHONE));
    c.caller.name = Some(NAME.into());
    c.caller.id_number = Some(IdNumber::parse("i", ID).unwrap());
    store.record_call(&c, None).await.unwrap();
    let mut o = basic_order(agent, at("2026-11-20T02:00:00Z"), "371502001001");
    o.caller = c.caller.clone();
    o.call_id = Some(c.id);
    let (o, _) = create(store, &o).await;
    let q = CallRecord {
        id: format!("cti-{}", Uuid::new_v4().simple()),
        caller_phone: PHONE.into(),
        line: "12348".into(),
        skills: vec![],
        offered_at: at("2026-11-20T00:59:00Z"),
        agent_id: Some(agent),
        answered_at: None,
        abandoned_at: None,
        ended_at: None,
        wrap_ended_at: None,
        transfers: 0,
    };
    let entry = crate::QueueLogEntry {
        at: q.offered_at,
        kind: "offered".into(),
        call_id: Some(q.id.clone()),
        agent_id: None,
        actor_id: None,
        payload: serde_json::json!({}),
    };
    store.save_queue_change(&entry, &[], std::slice::from_ref(&q)).await.unwrap();
    (c, o)
}

/// Asserts no stored value of the caller tables holds the caller's number, name or
/// identity card number, in any common spelling.
async fn assert_nothing_clear(raw: &dyn RawAccess) {
    for table in ["calls", "work_orders", "queue_calls", "work_order_events", "queue_events"] {
        let values = raw.raw_text(table).await;
        assert!(!values.is_empty() || table.ends_with("events"), "{table} has rows");
        for v in &values {
            for secret in [PHONE, "138 1234 5678", "138-1234-5678", NAME, ID, "110105194912"] {
                assert!(!v.contains(secret), "{table} holds `{secret}` in clear: {v}");
            }
        }
    }
}

pub async fn caller_data_is_sealed_at_rest(raw: &dyn RawAccess) {
    let store = raw.open(keys(1, &[])).await;
    let (c, o) = write_caller(store.as_ref()).await;
    assert_nothing_clear(raw).await;
    // The sealed values carry the key's id.
    let kid = keys(1, &[]).current_id().to_owned();
    let values = raw.raw_text("calls").await;
    assert!(values.iter().any(|v| v.starts_with(&format!("c1:{kid}:"))), "sealed under {kid}");
    // The store reads everything back, and finds the history by the number's hash.
    assert_eq!(store.get_call(c.id).await.unwrap(), c);
    assert_eq!(store.get_order(o.id).await.unwrap(), o);
    let (calls, orders) = store.caller_history(&phone(), 10).await.unwrap();
    assert_eq!((calls, orders), (vec![c.clone()], vec![o.clone()]));
    let (_, queue_calls) = store.load_queue(at("2026-11-20T00:00:00Z")).await.unwrap();
    assert_eq!(queue_calls[0].caller_phone, PHONE);
    // Another key reads nothing, and finds nothing.
    let stranger = raw.open(keys(9, &[])).await;
    assert!(matches!(stranger.get_call(c.id).await, Err(StoreError::Other(_))));
    let (calls, orders) = stranger.caller_history(&phone(), 10).await.unwrap();
    assert!(calls.is_empty() && orders.is_empty());
}

pub async fn caller_keys_rotate(raw: &dyn RawAccess) {
    let old = raw.open(keys(1, &[])).await;
    let (c, o) = write_caller(old.as_ref()).await;
    // The new key seals, the old one still reads, history finds the old rows.
    let rotating = raw.open(keys(2, &[1])).await;
    assert_eq!(rotating.get_call(c.id).await.unwrap(), c);
    assert_eq!(rotating.caller_history(&phone(), 10).await.unwrap(), (vec![c.clone()], vec![o.clone()]));
    let (c2, o2) = write_caller(rotating.as_ref()).await;
    let done = rotating.reseal_callers(false).await.unwrap();
    assert_eq!((done.calls, done.orders, done.queue_calls), (1, 1, 1), "only the old rows");
    assert_eq!(rotating.reseal_callers(false).await.unwrap().total(), 0, "nothing left");
    // Without the old key everything still reads and is found.
    let new = raw.open(keys(2, &[])).await;
    assert_eq!(new.get_call(c.id).await.unwrap(), c);
    assert_eq!(new.get_order(o.id).await.unwrap(), o);
    let (calls, orders) = new.caller_history(&phone(), 10).await.unwrap();
    assert_eq!(calls.len() + orders.len(), 4);
    assert!(calls.contains(&c2) && orders.contains(&o2));
    let old_kid = keys(1, &[]).current_id().to_owned();
    for table in ["calls", "work_orders", "queue_calls"] {
        assert!(!raw.raw_text(table).await.iter().any(|v| v.contains(&old_kid)), "{table} re-sealed");
    }
    assert_nothing_clear(raw).await;
}

pub async fn caller_key_ids_name_the_sealing_keys(raw: &dyn RawAccess) {
    let id = |n: u8| keys(n, &[]).current_id().to_owned();
    let old = raw.open(keys(1, &[])).await;
    assert_eq!(old.caller_key_ids().await.unwrap(), Vec::<String>::new(), "an empty database");
    write_caller(old.as_ref()).await;
    assert_eq!(old.caller_key_ids().await.unwrap(), vec![id(1)]);
    // Any store names them, whichever keys it has.
    let stranger = raw.open(keys(9, &[])).await;
    assert_eq!(stranger.caller_key_ids().await.unwrap(), vec![id(1)]);
    let rotating = raw.open(keys(2, &[1])).await;
    write_caller(rotating.as_ref()).await;
    let mut both = vec![id(1), id(2)];
    both.sort();
    assert_eq!(rotating.caller_key_ids().await.unwrap(), both);
    // Each table counts: a key left in one table only is named.
    rotating.reseal_callers(false).await.unwrap();
    assert_eq!(rotating.caller_key_ids().await.unwrap(), vec![id(2)]);
    for table in ["calls", "work_orders", "queue_calls"] {
        raw.execute(&format!("update {table} set caller_key_id = '{}'", id(3))).await;
        let mut ids = vec![id(2), id(3)];
        ids.sort();
        assert_eq!(rotating.caller_key_ids().await.unwrap(), ids, "{table}");
        raw.execute(&format!("update {table} set caller_key_id = '{}'", id(2))).await;
    }
    // Rows in clear (no key id) name no key.
    for table in ["calls", "work_orders", "queue_calls"] {
        raw.execute(&format!("update {table} set caller_key_id = null")).await;
    }
    assert_eq!(rotating.caller_key_ids().await.unwrap(), Vec::<String>::new());
}

pub async fn clear_rows_from_before_encryption_are_sealed(raw: &dyn RawAccess) {
    let store = raw.open(keys(1, &[])).await;
    let (c, o) = write_caller(store.as_ref()).await;
    // As a row stored before encryption: clear values, no key id, no hash.
    for table in ["calls", "work_orders"] {
        raw.execute(&format!(
            "update {table} set caller_name = '{NAME}', caller_phone = '{PHONE}', caller_id_number = '{ID}', \
             caller_phone_hash = null, caller_key_id = null"
        ))
        .await;
    }
    raw.execute(&format!("update queue_calls set caller_phone = '{PHONE}', caller_key_id = null")).await;
    assert!(raw.raw_text("calls").await.iter().any(|v| v == PHONE), "the raw read sees clear values");
    assert_eq!(store.get_call(c.id).await.unwrap(), c, "clear rows still read");
    let done = store.reseal_callers(true).await.unwrap();
    assert_eq!((done.calls, done.orders, done.queue_calls), (1, 1, 1));
    assert_nothing_clear(raw).await;
    assert_eq!(store.get_call(c.id).await.unwrap(), c);
    assert_eq!(store.caller_history(&phone(), 10).await.unwrap(), (vec![c], vec![o]));
    // A clear value in a row that claims a key is refused, not shown.
    raw.execute(&format!("update calls set caller_phone = '{PHONE}'")).await;
    let e = store.caller_history(&phone(), 10).await.unwrap_err().to_string();
    assert!(e.contains("caller_phone") && !e.contains(PHONE), "{e}");
}

pub async fn caller_views_are_recorded_and_listed(raw: &dyn RawAccess) {
    let store = raw.open(CallerKeys::for_tests()).await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let (o1, o2, c1) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let t = at("2026-11-20T01:00:00Z");
    let view = |i: i64, user, order, call, fields: &[CallerField], rpc: &str| CallerDataView {
        id: 0,
        at: t + TimeDelta::minutes(i),
        user_id: user,
        role: Role::Counsel,
        order_id: order,
        call_id: call,
        fields: fields.to_vec(),
        rpc: rpc.into(),
        telephony_call_id: None,
    };
    use CallerField::*;
    store
        .record_caller_views(&[
            view(0, alice, Some(o1), Some(c1), &[Name, Phone], "GetWorkOrder"),
            view(0, alice, None, Some(c1), &[Name, Phone, IdNumber], "GetCall"),
        ])
        .await
        .unwrap();
    store.record_caller_views(&[view(5, bob, Some(o2), None, &[Phone], "ListWorkOrders")]).await.unwrap();
    store.record_caller_views(&[view(9, alice, Some(o2), None, &[Phone], "sign_off")]).await.unwrap();
    store.record_caller_views(&[]).await.unwrap();
    let queued = CallerDataView {
        telephony_call_id: Some("pbx-0001".into()),
        role: Role::SeatAgent,
        ..view(10, bob, None, None, &[Phone], "GetQueueCall")
    };
    store.record_caller_views(std::slice::from_ref(&queued)).await.unwrap();

    let mut all = store.list_caller_views(&ViewFilter::default(), &PageRequest::first(10)).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(CallerDataView { id: 0, ..all.items[0].clone() }, queued, "the queue call view round-trips");
    all.items.remove(0);
    assert_eq!(all.items[0].rpc, "sign_off", "newest first");
    assert!(all.items.iter().all(|v| v.telephony_call_id.is_none()));
    assert_eq!(all.items[3].fields, vec![Name, Phone]);
    assert_eq!(all.items[2].fields, vec![Name, Phone, IdNumber]);
    assert_eq!(all.items[2].order_id, None);
    assert_eq!(all.items[3].at, t);
    let by = |f: ViewFilter| {
        let store = &store;
        async move {
            store
                .list_caller_views(&f, &PageRequest::first(10))
                .await
                .unwrap()
                .items
                .iter()
                .map(|v| v.rpc.clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        by(ViewFilter { user_id: Some(bob), ..Default::default() }).await,
        vec!["GetQueueCall", "ListWorkOrders"]
    );
    assert_eq!(
        by(ViewFilter { order_id: Some(o2), ..Default::default() }).await,
        vec!["sign_off", "ListWorkOrders"]
    );
    let window = ViewFilter {
        from: Some(t + TimeDelta::minutes(1)),
        to: Some(t + TimeDelta::minutes(9)),
        ..Default::default()
    };
    assert_eq!(by(window).await, vec!["ListWorkOrders"]);
    // Pages.
    let first = store.list_caller_views(&ViewFilter::default(), &PageRequest::first(3)).await.unwrap();
    let cursor = first.next_cursor.clone().expect("more");
    let second = store
        .list_caller_views(&ViewFilter::default(), &PageRequest { limit: 3, cursor: Some(cursor) })
        .await
        .unwrap();
    assert_eq!((first.items.len(), second.items.len(), second.next_cursor), (3, 2, None));
    assert_eq!(second.items[1], all.items[3]);
    let bad = PageRequest { limit: 3, cursor: Some("nope".into()) };
    assert!(matches!(
        store.list_caller_views(&ViewFilter::default(), &bad).await,
        Err(StoreError::BadCursor)
    ));
}

pub async fn sessions_revoke_and_deactivate(raw: &dyn RawAccess) {
    let store = raw.open(CallerKeys::for_tests()).await;
    let now = at("2026-11-20T01:00:00Z");
    let mut user = crate::User {
        id: Uuid::new_v4(),
        username: "session.user".into(),
        display_name: "S".into(),
        role: Role::SeatAgent,
        unit_id: "371502".into(),
        person_id: None,
        password_hash: "x".into(),
        active: true,
        created_at: now,
    };
    store.create_user(&user, None).await.unwrap();
    let session = |id, hours| Session {
        id,
        user_id: user.id,
        issued_at: now,
        expires_at: now + TimeDelta::hours(hours),
        revoked_at: None,
    };
    let (s1, s2, s3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    store.create_session(&session(s1, 12)).await.unwrap();
    store.create_session(&session(s2, 12)).await.unwrap();
    store.create_session(&session(s3, 1)).await.unwrap();
    assert_eq!(store.revocations(now).await.unwrap(), Revocations::default());
    // Only the owner revokes, once.
    assert!(!store.revoke_session(s1, Uuid::new_v4(), now).await.unwrap());
    assert!(store.revoke_session(s1, user.id, now).await.unwrap());
    assert!(!store.revoke_session(s1, user.id, now).await.unwrap());
    let r = store.revocations(now).await.unwrap();
    assert_eq!(r.sessions, vec![(s1, now + TimeDelta::hours(12))]);
    // Deactivation revokes the rest and marks the user.
    assert_eq!(store.set_user_active(user.id, false, now).await.unwrap(), 2);
    user.active = false;
    assert_eq!(store.get_user(user.id).await.unwrap(), user);
    let r = store.revocations(now).await.unwrap();
    assert_eq!(r.inactive_users, vec![user.id]);
    assert_eq!(r.sessions.len(), 3);
    // Expired sessions drop out.
    assert_eq!(store.revocations(now + TimeDelta::hours(2)).await.unwrap().sessions.len(), 2);
    assert!(matches!(
        store.set_user_active(Uuid::new_v4(), false, now).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.set_user_active(user.id, true, now).await.unwrap(), 0);
    assert!(store.revocations(now).await.unwrap().inactive_users.is_empty());
}

pub async fn sign_in_failures_lock_and_release(raw: &dyn RawAccess) {
    let store = raw.open(CallerKeys::for_tests()).await;
    let policy = LockoutPolicy::default();
    let t = at("2026-11-20T01:00:00Z");
    let min = TimeDelta::minutes;
    for i in 0..4 {
        let c = store.record_sign_in_failure("agent", t + min(i), &policy).await.unwrap();
        assert_eq!((c.failures, c.locked_until), (i as u32 + 1, None));
        assert_eq!(store.sign_in_locked_until("agent", t + min(i)).await.unwrap(), None);
    }
    let c = store.record_sign_in_failure("agent", t + min(4), &policy).await.unwrap();
    assert_eq!(c.locked_until, Some(t + min(19)));
    assert_eq!(store.sign_in_locked_until("agent", t + min(10)).await.unwrap(), Some(t + min(19)));
    assert_eq!(store.sign_in_locked_until("other", t + min(10)).await.unwrap(), None, "per username");
    assert_eq!(store.sign_in_locked_until("agent", t + min(19)).await.unwrap(), None, "released");
    // Success forgets the count.
    store.record_sign_in_failure("b", t, &policy).await.unwrap();
    store.clear_sign_in_failures("b").await.unwrap();
    assert_eq!(store.record_sign_in_failure("b", t, &policy).await.unwrap().failures, 1);
}
