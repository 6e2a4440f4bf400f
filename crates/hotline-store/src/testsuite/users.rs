//! Users: creation (with request ids), lookup by username in any ASCII case,
//! conflicts, the list, and a new password revoking the user's sessions.

use super::{assert_conflict, assert_not_found, at, key};
use crate::{PageRequest, Session, Store, StoreError, User, UserFilter};
use chrono::TimeDelta;
use hotline_domain::Role;
use uuid::Uuid;

fn user(username: &str, role: Role) -> User {
    User {
        id: Uuid::new_v4(),
        username: username.into(),
        display_name: format!("{username} 用户"),
        role,
        unit_id: "371502".into(),
        person_id: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        active: true,
        created_at: at("2026-11-26T08:00:00.123456Z"),
    }
}

pub async fn users_create_and_lookup(store: &dyn Store) {
    let mut counsel = user("wang", Role::Counsel);
    counsel.person_id = Some("p-0001".into());
    counsel.unit_id = "371502001001".into();
    counsel.active = false;
    let created = store.create_user(&counsel, None).await.unwrap();
    assert_eq!((created.value, created.created), (counsel.clone(), true));
    let agent = user("agent01", Role::SeatAgent);
    store.create_user(&agent, None).await.unwrap();

    assert_eq!(store.get_user(counsel.id).await.unwrap(), counsel);
    assert_eq!(store.user_by_username("agent01").await.unwrap(), Some(agent.clone()));
    assert_eq!(store.user_by_username("wang").await.unwrap(), Some(counsel.clone()));
    assert_eq!(store.user_by_username("nobody").await.unwrap(), None);
    let id = Uuid::new_v4();
    assert_not_found(store.get_user(id).await, "user", &id.to_string());

    // The username is taken; the same id twice.
    assert_conflict(store.create_user(&user("agent01", Role::Dispatcher), None).await);
    assert_conflict(store.create_user(&User { username: "other".into(), ..agent.clone() }, None).await);
    assert_eq!(store.user_by_username("other").await.unwrap(), None);
    assert_eq!(store.get_user(agent.id).await.unwrap(), agent);
}

pub async fn users_are_one_in_any_ascii_case(store: &dyn Store) {
    let zhang = user("Zhang.Wei", Role::SeatAgent);
    store.create_user(&zhang, None).await.unwrap();
    // Stored as given; found in any ASCII case, and with spaces around.
    for typed in ["Zhang.Wei", "zhang.wei", "ZHANG.WEI", " zHaNg.wEi "] {
        assert_eq!(store.user_by_username(typed).await.unwrap(), Some(zhang.clone()), "{typed}");
    }
    // Only ASCII folds: a full-width spelling is another name.
    assert_eq!(store.user_by_username("ＺＨＡＮＧ.ＷＥＩ").await.unwrap(), None);
    // No other spelling of the name can be taken.
    for taken in ["zhang.wei", "ZHANG.WEI"] {
        assert_conflict(store.create_user(&user(taken, Role::Dispatcher), None).await);
        assert_eq!(store.user_by_username(taken).await.unwrap(), Some(zhang.clone()));
    }
}

pub async fn users_create_with_request_ids(store: &dyn Store) {
    let admin = Uuid::new_v4();
    let li = user("li.na", Role::Dispatcher);
    let k = key(admin, "create-li", "li.na");
    assert!(store.create_user(&li, Some(&k)).await.unwrap().created);
    // A repeat answers with the user made first, whatever the new id it drew.
    let again = store.create_user(&User { id: Uuid::new_v4(), ..li.clone() }, Some(&k)).await.unwrap();
    assert_eq!((again.value, again.created), (li.clone(), false));
    // The id with another request is refused and writes nothing.
    let other = user("zhou", Role::Dispatcher);
    match store.create_user(&other, Some(&key(admin, "create-li", "zhou"))).await {
        Err(StoreError::RequestReused { request_id }) => assert_eq!(request_id, "create-li"),
        r => panic!("expected RequestReused, got {r:?}"),
    }
    assert_eq!(store.user_by_username("zhou").await.unwrap(), None);
    // A new id for a taken name: the name's conflict; the id stays free.
    assert_conflict(store.create_user(&user("LI.NA", Role::Dispatcher), Some(&key(admin, "n2", "x"))).await);
    assert!(store.create_user(&other, Some(&key(admin, "n2", "zhou"))).await.unwrap().created);
    // Ids are one registry across writes: a call's id is not a user's.
    assert_eq!(store.repeat_of(&k).await.unwrap(), Some(crate::Wrote::User(li.id)));
}

pub async fn users_list_by_name_with_filters(store: &dyn Store) {
    let mut names = vec!["b.dispatcher", "Agent.Zhao", "agent.li", "C-counsel", "agent_wu", "Agent.Qian"];
    for (i, name) in names.iter().enumerate() {
        let role = if name.starts_with(['a', 'A']) { Role::SeatAgent } else { Role::Dispatcher };
        let mut u = user(name, role);
        u.active = i != 1;
        store.create_user(&u, None).await.unwrap();
    }
    // By the name in any case, byte by byte ('.' before '_'), then as spelt.
    names.sort_by_key(|n| (n.to_ascii_lowercase(), n.to_string()));
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = store.list_users(&UserFilter::default(), &page).await.unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|u| u.username.clone()));
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, names);
    assert_eq!(
        seen[..4],
        ["agent.li", "Agent.Qian", "Agent.Zhao", "agent_wu"].map(String::from)[..],
        "{seen:?}"
    );
    let agents = UserFilter { role: Some(Role::SeatAgent), active: None };
    let all = store.list_users(&agents, &PageRequest::first(50)).await.unwrap();
    assert_eq!(all.items.len(), 4);
    assert!(all.next_cursor.is_none());
    let inactive = UserFilter { role: Some(Role::SeatAgent), active: Some(false) };
    let off = store.list_users(&inactive, &PageRequest::first(50)).await.unwrap();
    assert_eq!(off.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["Agent.Zhao"]);
    let bad = PageRequest { limit: 5, cursor: Some("not-a-cursor".into()) };
    assert!(matches!(store.list_users(&agents, &bad).await, Err(StoreError::BadCursor)));
}

pub async fn users_new_password_revokes_their_sessions(store: &dyn Store) {
    let now = at("2026-11-20T01:00:00Z");
    let (sun, moon) = (user("sun", Role::Dispatcher), user("moon", Role::Dispatcher));
    for u in [&sun, &moon] {
        store.create_user(u, None).await.unwrap();
    }
    let session = |user_id, hours| Session {
        id: Uuid::new_v4(),
        user_id,
        issued_at: now,
        expires_at: now + TimeDelta::hours(hours),
        revoked_at: None,
    };
    let (a, b, c, other) =
        (session(sun.id, 12), session(sun.id, 2), session(sun.id, 3), session(moon.id, 12));
    for s in [&a, &b, &c, &other] {
        store.create_session(s).await.unwrap();
    }
    assert!(store.revoke_session(c.id, sun.id, now).await.unwrap());
    let mut revoked = store.set_password(sun.id, "$argon2id$new", now).await.unwrap();
    revoked.sort();
    let mut want = vec![(a.id, a.expires_at), (b.id, b.expires_at)];
    want.sort();
    assert_eq!(revoked, want, "the sessions still valid, not the one revoked before");
    assert_eq!(store.get_user(sun.id).await.unwrap().password_hash, "$argon2id$new");
    assert!(store.get_user(sun.id).await.unwrap().active, "still active");
    let r = store.revocations(now).await.unwrap();
    assert_eq!(r.sessions.len(), 3, "{r:?}");
    assert!(!r.sessions.iter().any(|(id, _)| *id == other.id), "another user's sessions stay");
    assert!(r.inactive_users.is_empty());
    let id = Uuid::new_v4();
    assert_not_found(store.set_password(id, "x", now).await, "user", &id.to_string());
}
