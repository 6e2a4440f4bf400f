//! Users: every counsel and station lead is a directory person who serves their unit
//! (the demo's and those `hotline user add` creates), and a username is one name in any
//! ASCII case, at sign-in, in the lock-out and in the rate limit.

use hotline_domain::Role;
use hotline_proto::v1 as pb;
use hotline_server::cli::{NewUser, add_user};
use hotline_server::demo::USERS;
use hotline_tests::{Backend, DEMO_PASSWORD, TestApp, on_both_backends};
use tonic::Code;

on_both_backends!(
    every_counsel_and_station_lead_serves_their_unit,
    user_add_refuses_a_counsel_or_lead_who_is_no_person_of_their_unit,
    usernames_are_one_in_any_case,
    failures_in_any_case_count_for_one_username,
);

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Result<pb::SignInResponse, tonic::Status> {
    let mut auth = pb::auth_service_client::AuthServiceClient::new(app.channel());
    let req = pb::SignInRequest { username: username.into(), password: password.into() };
    auth.sign_in(req).await.map(tonic::Response::into_inner)
}

async fn every_counsel_and_station_lead_serves_their_unit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let snapshot = app.store.routing_snapshot().await.expect("snapshot");
    let built = hotline_server::routing::Built::from_snapshot(snapshot);
    let mut checked = 0;
    for (username, _, role, unit, person) in USERS {
        if !matches!(role, Role::Counsel | Role::StationLead) {
            continue;
        }
        let person = person.unwrap_or_else(|| panic!("{username} names no directory person"));
        assert!(built.index.serves(person, unit), "{username}: {person} does not serve {unit}");
        // Signed in, the user is that person.
        let user = sign_in(&app, username, DEMO_PASSWORD).await.expect("sign in").user.expect("user");
        assert_eq!(user.person_id, person, "{username}");
        checked += 1;
    }
    assert_eq!(checked, 5, "counsel, counsel2, counsel3, lead, lead2");
    app.stop().await;
}

fn new(username: &str, role: Role, unit: &str, person: Option<&str>) -> NewUser {
    NewUser {
        username: username.into(),
        role,
        unit: unit.into(),
        person: person.map(Into::into),
        display_name: None,
    }
}

async fn user_add_refuses_a_counsel_or_lead_who_is_no_person_of_their_unit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let store = app.store.as_ref();
    let password = || -> anyhow::Result<String> { Ok("village counsel 2026".to_owned()) };
    let refused = [
        (new("zhao", Role::StationLead, "371502102", None), "a station_lead needs --person"),
        (new("zhao", Role::Counsel, "371502102001", None), "a counsel needs --person"),
        (new("zhao", Role::Counsel, "371502102001", Some("P9999")), "person `P9999`"),
        (new("zhao", Role::Counsel, "371502102001", Some("P0001")), "person `P0001` does not serve unit"),
        (new("zhao", Role::StationLead, "371502102", Some("P0003")), "person `P0003` does not serve unit"),
        (new("zhao", Role::StationLead, "371502", Some("P0004")), "does not serve unit `371502`"),
        (new("COUNSEL", Role::Counsel, "371502101001", Some("P0001")), "`counsel` is taken"),
    ];
    let before = app.table_counts().await;
    for (user, words) in refused {
        let what = format!("{user:?}");
        let e = add_user(store, user, password).await.expect_err(&what);
        assert!(e.to_string().contains(words), "{what}: {e}");
    }
    assert_eq!(app.table_counts().await, before, "nothing written");

    // A person who serves the unit: a counsel of one of their villages, a lead of their
    // township; they sign in over gRPC.
    let counsel = add_user(store, new("Zhao.Min", Role::Counsel, "371502102002", Some("P0004")), password);
    assert_eq!(counsel.await.expect("counsel").username, "Zhao.Min");
    let lead = add_user(store, new("wang.qiang", Role::StationLead, "371502101", Some("P0003")), password);
    lead.await.expect("lead");
    let user = sign_in(&app, "zhao.min", "village counsel 2026").await.expect("sign in").user.expect("user");
    assert_eq!((user.username.as_str(), user.person_id.as_str()), ("Zhao.Min", "P0004"));
    app.stop().await;
}

async fn usernames_are_one_in_any_case(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    for typed in ["AGENT", "Agent", " agent "] {
        let user = sign_in(&app, typed, DEMO_PASSWORD).await.unwrap_or_else(|e| panic!("{typed}: {e}"));
        assert_eq!(user.user.expect("user").username, "agent", "stored as given");
    }
    let e = sign_in(&app, "ＡＧＥＮＴ", DEMO_PASSWORD).await.expect_err("full-width is another name");
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = sign_in(&app, "AGENT", "wrong password 1").await.expect_err("wrong password");
    assert_eq!((e.code(), e.message()), (Code::Unauthenticated, "wrong username or password"));
    app.stop().await;
}

async fn failures_in_any_case_count_for_one_username(backend: Backend) {
    // The lock-out (5 failures) by the folded name.
    let Some(app) = TestApp::spawn(backend).await else { return };
    for typed in ["agent", "AGENT", "Agent", "aGENT", "agenT"] {
        let e = sign_in(&app, typed, "wrong password 1").await.expect_err("wrong");
        assert_eq!(e.message(), "wrong username or password", "{typed}");
    }
    let e = sign_in(&app, "agent", DEMO_PASSWORD).await.expect_err("locked");
    assert!(e.message().contains("too many failed sign-ins"), "{e:?}");
    assert!(sign_in(&app, "agent2", DEMO_PASSWORD).await.is_ok(), "another username is not locked");
    app.stop().await;

    // The per-username rate limit (3 a minute here) by the folded name.
    let Some(app) = TestApp::spawn_with_config(backend, |c| c.limits.username_sign_ins_per_minute = 3).await
    else {
        return;
    };
    for typed in ["Dispatcher", "DISPATCHER", "dispatcher"] {
        sign_in(&app, typed, DEMO_PASSWORD).await.unwrap_or_else(|e| panic!("{typed}: {e}"));
    }
    let e = sign_in(&app, "dispatcheR", DEMO_PASSWORD).await.expect_err("limited");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(sign_in(&app, "callback", DEMO_PASSWORD).await.is_ok(), "another username is not limited");
    app.stop().await;
}
