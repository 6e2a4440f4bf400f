//! Users: every counsel and station lead is a directory person who serves their unit
//! (the demo's and those `hotline user add` or `CreateUser` creates), and a username is
//! one name in any ASCII case, at sign-in, in the lock-out and in the rate limit. A city
//! admin lists users, creates them (idempotently) and sets new passwords over gRPC.

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
    a_city_admin_lists_users_by_name_role_and_state,
    a_city_admin_creates_users_by_the_rules_of_user_add,
    create_user_repeats_by_request_id,
    a_new_password_revokes_every_token_of_the_user,
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
        (new("zhao", Role::StationLead, "371502102", None), "--person: a station_lead must name their"),
        (new("zhao", Role::Counsel, "371502102001", None), "--person: a counsel must name their directory"),
        (new("zhao", Role::Counsel, "371502102001", Some("P9999")), "--person: person `P9999` not found"),
        (new("zhao", Role::Counsel, "371599", None), "--unit: unit `371599` not found"),
        (new("zhao li", Role::Dispatcher, "371502", None), "--username: letters, digits"),
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

fn bad(e: tonic::Status, code: Code, start: &str) {
    assert_eq!(e.code(), code, "{e:?}");
    assert!(e.message().starts_with(start), "{start:?}: {}", e.message());
}

async fn list_all(admin: &hotline_tests::Clients, req: pb::ListUsersRequest) -> Vec<pb::User> {
    let mut auth = admin.auth.clone();
    let mut out = Vec::new();
    let mut req = pb::ListUsersRequest {
        page: Some(pb::PageRequest { page_size: 3, page_token: String::new() }),
        ..req
    };
    loop {
        let page = auth.list_users(req.clone()).await.expect("list users").into_inner();
        assert!(page.users.len() <= 3);
        out.extend(page.users);
        if page.next_page_token.is_empty() {
            return out;
        }
        req.page.as_mut().expect("page").page_token = page.next_page_token;
    }
}

async fn a_city_admin_lists_users_by_name_role_and_state(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.sign_in("admin").await;
    let all = list_all(&admin, pb::ListUsersRequest::default()).await;
    let mut names: Vec<&str> = USERS.iter().map(|u| u.0).collect();
    names.sort();
    assert_eq!(all.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), names, "by name, every page");
    assert!(all.iter().all(|u| u.active && u.created_at.is_some()));
    let counsel =
        list_all(&admin, pb::ListUsersRequest { role: pb::Role::Counsel as i32, ..Default::default() }).await;
    let counsel: Vec<_> = counsel.iter().map(|u| (u.username.as_str(), u.person_id.as_str())).collect();
    assert_eq!(counsel, [("counsel", "P0001"), ("counsel2", "P0002"), ("counsel3", "P0004")]);
    // Deactivated users show as such, and the filter finds them.
    let agent2 = all.iter().find(|u| u.username == "agent2").expect("agent2").id.clone();
    admin
        .auth
        .clone()
        .deactivate_user(pb::DeactivateUserRequest { user_id: agent2.clone() })
        .await
        .expect("deactivate");
    let off = list_all(&admin, pb::ListUsersRequest { active: Some(false), ..Default::default() }).await;
    assert_eq!(off.iter().map(|u| (u.id.as_str(), u.active)).collect::<Vec<_>>(), [(agent2.as_str(), false)]);
    let on = list_all(&admin, pb::ListUsersRequest { active: Some(true), ..Default::default() }).await;
    assert_eq!(on.len(), USERS.len() - 1);
    // A page token belongs to its filter; a bad role is named.
    let mut auth = admin.auth.clone();
    let first = pb::ListUsersRequest {
        page: Some(pb::PageRequest { page_size: 2, page_token: String::new() }),
        ..Default::default()
    };
    let token = auth.list_users(first).await.expect("page").into_inner().next_page_token;
    let other = pb::ListUsersRequest {
        role: pb::Role::Counsel as i32,
        page: Some(pb::PageRequest { page_size: 2, page_token: token }),
        ..Default::default()
    };
    bad(auth.list_users(other).await.unwrap_err(), Code::InvalidArgument, "page.page_token:");
    bad(
        auth.list_users(pb::ListUsersRequest { role: 42, ..Default::default() }).await.unwrap_err(),
        Code::InvalidArgument,
        "role: 42",
    );
    // Only a city admin.
    for who in ["dispatcher", "county", "lead"] {
        let e = app.sign_in(who).await.auth.list_users(pb::ListUsersRequest::default()).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{who}");
    }
    app.stop().await;
}

fn create(username: &str, role: pb::Role, unit: &str, person: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        username: username.into(),
        display_name: String::new(),
        role: role as i32,
        unit_id: unit.into(),
        person_id: person.into(),
        password: "village counsel 2026".into(),
        request_id: String::new(),
    }
}

async fn a_city_admin_creates_users_by_the_rules_of_user_add(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut auth = app.sign_in("admin").await.auth;
    let counsel = create("Zhao.Min", pb::Role::Counsel, "371502102002", "P0004");
    let refused: Vec<(pb::CreateUserRequest, Code, &str)> = vec![
        (
            pb::CreateUserRequest { username: "zhao min".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "username: letters, digits",
        ),
        (
            pb::CreateUserRequest { username: " ".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "username: must not be empty",
        ),
        (
            pb::CreateUserRequest { username: "x".repeat(65), ..counsel.clone() },
            Code::InvalidArgument,
            "username: is 65 characters",
        ),
        (
            pb::CreateUserRequest { username: "COUNSEL".into(), ..counsel.clone() },
            Code::AlreadyExists,
            "username: `counsel` is taken",
        ),
        (pb::CreateUserRequest { role: 0, ..counsel.clone() }, Code::InvalidArgument, "role: must be set"),
        (
            pb::CreateUserRequest { role: pb::Role::System as i32, ..counsel.clone() },
            Code::InvalidArgument,
            "role: the system role",
        ),
        (
            pb::CreateUserRequest { unit_id: "371599".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "unit_id: unit `371599` not found",
        ),
        (
            pb::CreateUserRequest { person_id: String::new(), ..counsel.clone() },
            Code::InvalidArgument,
            "person_id: a counsel must name",
        ),
        (
            pb::CreateUserRequest { person_id: "P9999".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "person_id: person `P9999` not found",
        ),
        (
            pb::CreateUserRequest { person_id: "P0001".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "person_id: person `P0001` does not serve unit `371502102002`",
        ),
        (
            create("wang.qiang", pb::Role::StationLead, "371502101", ""),
            Code::InvalidArgument,
            "person_id: a station_lead must name",
        ),
        (
            pb::CreateUserRequest { display_name: "名".repeat(51), ..counsel.clone() },
            Code::InvalidArgument,
            "display_name: is 51 characters",
        ),
        (
            pb::CreateUserRequest { password: "short 1".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "password: must be 10 to 128",
        ),
        (
            pb::CreateUserRequest { password: "onlyletterspassword".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "password: must mix",
        ),
        (
            pb::CreateUserRequest { password: "zhao.min 2026!".into(), ..counsel.clone() },
            Code::InvalidArgument,
            "password: must not be or contain the username",
        ),
        (
            pb::CreateUserRequest { request_id: "r".repeat(65), ..counsel.clone() },
            Code::InvalidArgument,
            "request_id: is 65 characters",
        ),
    ];
    let before = app.table_counts().await;
    for (req, code, words) in refused {
        let what = format!("{}/{}/{}", req.username, req.role, req.person_id);
        let e = auth.create_user(req).await.expect_err(&what);
        assert_eq!(e.code(), code, "{what}: {e:?}");
        assert!(e.message().starts_with(words), "{what}: {words:?} vs {}", e.message());
    }
    assert_eq!(app.table_counts().await, before, "nothing written");

    // A counsel of one of their villages, a lead of their township, a dispatcher without
    // a person; each signs in with the password given.
    let made = auth.create_user(counsel).await.expect("counsel").into_inner();
    assert_eq!(
        (
            made.username.as_str(),
            made.role,
            made.unit_id.as_str(),
            made.person_id.as_str(),
            made.display_name.as_str(),
            made.active
        ),
        ("Zhao.Min", pb::Role::Counsel as i32, "371502102002", "P0004", "Zhao.Min", true)
    );
    let lead = create("wang.qiang", pb::Role::StationLead, "371502101", "P0003");
    auth.create_user(lead).await.expect("lead");
    let desk = pb::CreateUserRequest {
        display_name: " 派单员 老王 ".into(),
        ..create("d.wang", pb::Role::Dispatcher, "371500", "")
    };
    let desk = auth.create_user(desk).await.expect("dispatcher").into_inner();
    assert_eq!((desk.display_name.as_str(), desk.person_id.as_str()), ("派单员 老王", ""));
    let signed =
        sign_in(&app, "zhao.min", "village counsel 2026").await.expect("sign in").user.expect("user");
    assert_eq!((signed.id, signed.person_id.as_str()), (made.id, "P0004"));
    // Only a city admin.
    let e = app
        .sign_in("dispatcher")
        .await
        .auth
        .create_user(create("x.y", pb::Role::SeatAgent, "371500", ""))
        .await;
    assert_eq!(e.unwrap_err().code(), Code::PermissionDenied);
    assert!(sign_in(&app, "x.y", "village counsel 2026").await.is_err(), "not made");
    app.stop().await;
}

async fn create_user_repeats_by_request_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut auth = app.sign_in("admin").await.auth;
    let req = pb::CreateUserRequest {
        request_id: "new-desk-1".into(),
        ..create("sun.li", pb::Role::SeatAgent, "371500", "")
    };
    let first = auth.create_user(req.clone()).await.expect("created").into_inner();
    let counts = app.table_counts().await;
    // The same request answers with the same user and writes nothing.
    let again = auth.create_user(req.clone()).await.expect("repeat").into_inner();
    assert_eq!(again, first);
    assert_eq!(app.table_counts().await, counts);
    // The id with anything else, the password included, is refused and writes nothing.
    for other in [
        pb::CreateUserRequest { username: "sun.li2".into(), ..req.clone() },
        pb::CreateUserRequest { password: "another password 2".into(), ..req.clone() },
        pb::CreateUserRequest { role: pb::Role::Dispatcher as i32, ..req.clone() },
    ] {
        bad(
            auth.create_user(other).await.unwrap_err(),
            Code::InvalidArgument,
            "request_id: `new-desk-1` already names",
        );
    }
    assert_eq!(app.table_counts().await, counts);
    // Without an id, the name is taken.
    let plain = pb::CreateUserRequest { request_id: String::new(), ..req.clone() };
    bad(auth.create_user(plain).await.unwrap_err(), Code::AlreadyExists, "username: `sun.li` is taken");
    // The user made first kept the first request's password.
    assert!(sign_in(&app, "sun.li", "village counsel 2026").await.is_ok());
    app.stop().await;
}

async fn a_new_password_revokes_every_token_of_the_user(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.sign_in("admin").await;
    let mut auth = admin.auth.clone();
    // Two sessions of the dispatcher, and the lock-out count of their name.
    let one = app.sign_in("dispatcher").await;
    let two = app.sign_in("dispatcher").await;
    for _ in 0..4 {
        assert!(sign_in(&app, "dispatcher", "wrong password 1").await.is_err());
    }
    let id = one.user.id.clone();
    let reset = |password: &str| pb::ResetPasswordRequest { user_id: id.clone(), password: password.into() };
    bad(
        auth.reset_password(reset("short 1")).await.unwrap_err(),
        Code::InvalidArgument,
        "password: must be 10 to 128",
    );
    bad(
        auth.reset_password(reset("Dispatcher-2026")).await.unwrap_err(),
        Code::InvalidArgument,
        "password: must not be or contain the username",
    );
    let unknown = pb::ResetPasswordRequest {
        user_id: uuid::Uuid::new_v4().to_string(),
        password: "a fine password 9".into(),
    };
    assert_eq!(auth.reset_password(unknown).await.unwrap_err().code(), Code::NotFound);
    let not_id =
        pb::ResetPasswordRequest { user_id: "dispatcher".into(), password: "a fine password 9".into() };
    bad(auth.reset_password(not_id).await.unwrap_err(), Code::InvalidArgument, "user_id:");
    // Only a city admin; the refused calls changed nothing.
    let e = one.auth.clone().reset_password(reset("a fine password 9")).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(one.auth.clone().who_am_i(pb::WhoAmIRequest {}).await.is_ok());

    let done = auth.reset_password(reset("a fine password 9")).await.expect("reset").into_inner();
    assert_eq!(done.sessions_revoked, 2);
    for c in [&one, &two] {
        let e = c.auth.clone().who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
        assert_eq!((e.code(), e.message()), (Code::Unauthenticated, "token revoked; sign in again"));
    }
    assert_eq!(sign_in(&app, "dispatcher", DEMO_PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    // The new password works at once, the failed sign-ins before it forgotten: five more
    // would be needed to lock the name.
    assert!(sign_in(&app, "dispatcher", "wrong password 1").await.is_err());
    let fresh = sign_in(&app, "DISPATCHER", "a fine password 9").await.expect("new password");
    assert_eq!(fresh.user.expect("user").id, id);
    // Other users' tokens are untouched, the admin's own included.
    assert!(admin.auth.clone().who_am_i(pb::WhoAmIRequest {}).await.is_ok());
    app.stop().await;
}
