//! Users: creation, lookup by username in any ASCII case, conflicts.

use super::{assert_conflict, assert_not_found, at};
use crate::{Store, User};
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
    assert_eq!(store.create_user(&counsel).await.unwrap(), counsel);
    let agent = user("agent01", Role::SeatAgent);
    store.create_user(&agent).await.unwrap();

    assert_eq!(store.get_user(counsel.id).await.unwrap(), counsel);
    assert_eq!(store.user_by_username("agent01").await.unwrap(), Some(agent.clone()));
    assert_eq!(store.user_by_username("wang").await.unwrap(), Some(counsel.clone()));
    assert_eq!(store.user_by_username("nobody").await.unwrap(), None);
    let id = Uuid::new_v4();
    assert_not_found(store.get_user(id).await, "user", &id.to_string());

    // The username is taken; the same id twice.
    assert_conflict(store.create_user(&user("agent01", Role::Dispatcher)).await);
    assert_conflict(store.create_user(&User { username: "other".into(), ..agent.clone() }).await);
    assert_eq!(store.user_by_username("other").await.unwrap(), None);
    assert_eq!(store.get_user(agent.id).await.unwrap(), agent);
}

pub async fn users_are_one_in_any_ascii_case(store: &dyn Store) {
    let zhang = user("Zhang.Wei", Role::SeatAgent);
    store.create_user(&zhang).await.unwrap();
    // Stored as given; found in any ASCII case, and with spaces around.
    for typed in ["Zhang.Wei", "zhang.wei", "ZHANG.WEI", " zHaNg.wEi "] {
        assert_eq!(store.user_by_username(typed).await.unwrap(), Some(zhang.clone()), "{typed}");
    }
    // Only ASCII folds: a full-width spelling is another name.
    assert_eq!(store.user_by_username("ＺＨＡＮＧ.ＷＥＩ").await.unwrap(), None);
    // No other spelling of the name can be taken.
    for taken in ["zhang.wei", "ZHANG.WEI"] {
        assert_conflict(store.create_user(&user(taken, Role::Dispatcher)).await);
        assert_eq!(store.user_by_username(taken).await.unwrap(), Some(zhang.clone()));
    }
}
