//! Tokens over real gRPC on both backends: missing, tampered, expired and revoked
//! tokens are UNAUTHENTICATED; sign-out and deactivation revoke; repeated failures lock
//! a username (known or not, alike) until the lock ends; one request checks its token
//! once, however many layers and handlers read the caller.

use hotline_proto::v1 as pb;
use hotline_server::auth::Tokens;
use hotline_tests::{Backend, Clients, DEMO_PASSWORD, ManualClock, TestApp, on_both_backends};
use std::sync::Arc;
use tonic::Code;

on_both_backends!(
    missing_tampered_and_expired_tokens,
    sign_out_revokes_the_token,
    deactivation_revokes_every_token,
    repeated_failures_lock_and_release,
    one_request_verifies_its_token_once,
);

async fn refused(c: &mut Clients) -> tonic::Status {
    c.calls.get_call(pb::GetCallRequest { id: uuid::Uuid::new_v4().to_string() }).await.unwrap_err()
}

/// Whether the token still works: an unknown call is NOT_FOUND for a valid token of a
/// city-wide reader, PERMISSION_DENIED for one with a narrower jurisdiction.
async fn works(c: &mut Clients) -> bool {
    match refused(c).await.code() {
        Code::NotFound | Code::PermissionDenied => true,
        Code::Unauthenticated => false,
        other => panic!("unexpected {other:?}"),
    }
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Result<String, tonic::Status> {
    let mut auth = pb::auth_service_client::AuthServiceClient::new(app.channel());
    auth.sign_in(pb::SignInRequest { username: username.into(), password: password.into() })
        .await
        .map(|r| r.into_inner().token)
}

async fn missing_tampered_and_expired_tokens(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("hotline-tokens-{}", uuid::Uuid::new_v4()));
    let key_file = dir.join("signing.key");
    let kf = key_file.clone();
    let Some(app) = TestApp::spawn_configured(backend, &move |c| c.keys.signing_key_file = kf.clone()).await
    else {
        return;
    };
    let mut agent = app.sign_in("agent").await;
    assert!(works(&mut agent).await);

    let e = refused(&mut app.anonymous()).await;
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("missing"), "{}", e.message());
    assert_eq!(refused(&mut app.with_authorization("Basic abc")).await.code(), Code::Unauthenticated);
    assert_eq!(
        refused(&mut app.with_authorization("Bearer not.a.token")).await.code(),
        Code::Unauthenticated
    );

    // A token altered anywhere (claims or signature) is refused.
    let token = sign_in(&app, "agent", DEMO_PASSWORD).await.unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let flip = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        let i = b.len() / 2;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    for forged in [
        format!("{}.{}.{}", parts[0], flip(parts[1]), parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], flip(parts[2])),
    ] {
        let e = refused(&mut app.with_authorization(&format!("Bearer {forged}"))).await;
        assert_eq!(e.code(), Code::Unauthenticated, "{forged}");
    }
    // Signed with another key; and with the server's own key but expired.
    let user = app.store.user_by_username("agent").await.unwrap().unwrap();
    let now = chrono::Utc::now();
    let other = Tokens::new(&[7u8; 32], chrono::Duration::minutes(5)).issue(&user, now).0;
    assert_eq!(
        refused(&mut app.with_authorization(&format!("Bearer {other}"))).await.code(),
        Code::Unauthenticated
    );
    let key = hotline_server::auth::load_or_create_key(&key_file).unwrap();
    let fresh = Tokens::new(&key, chrono::Duration::minutes(5)).issue(&user, now).0;
    assert!(
        works(&mut app.with_authorization(&format!("Bearer {fresh}"))).await,
        "the test signs as the server"
    );
    let expired =
        Tokens::new(&key, chrono::Duration::minutes(5)).issue(&user, now - chrono::Duration::minutes(6)).0;
    let e = refused(&mut app.with_authorization(&format!("Bearer {expired}"))).await;
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("expired"), "{}", e.message());
    app.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn sign_out_revokes_the_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let token = sign_in(&app, "agent", DEMO_PASSWORD).await.unwrap();
    let bearer = format!("Bearer {token}");
    let mut first = app.with_authorization(&bearer);
    let mut second = app.sign_in("agent").await;
    assert!(works(&mut first).await);
    first.auth.sign_out(pb::SignOutRequest {}).await.expect("sign out");
    let e = refused(&mut first).await;
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("revoked"), "{}", e.message());
    assert_eq!(first.auth.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(first.auth.sign_out(pb::SignOutRequest {}).await.unwrap_err().code(), Code::Unauthenticated);
    assert!(works(&mut second).await, "only the signed-out token is revoked");
    let e = app.anonymous().auth.sign_out(pb::SignOutRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    // Still revoked after a restart: the revocation is stored.
    let app = app.restart().await;
    assert!(!works(&mut app.with_authorization(&bearer)).await);
    assert!(works(&mut app.sign_in("agent").await).await);
    app.stop().await;
}

async fn deactivation_revokes_every_token(backend: Backend) {
    let Some(app) = TestApp::spawn_configured(backend, &|c| c.auth.revocation_refresh_secs = 1).await else {
        return;
    };
    let mut admin = app.sign_in("admin").await;
    let mut agent2 = app.sign_in("agent2").await;
    let mut agent2_again = app.sign_in("agent2").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let id = agent2.user.id.clone();

    let e =
        dispatcher.auth.deactivate_user(pb::DeactivateUserRequest { user_id: id.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = admin.auth.deactivate_user(pb::DeactivateUserRequest { user_id: "x".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let unknown = uuid::Uuid::new_v4().to_string();
    let e = admin.auth.deactivate_user(pb::DeactivateUserRequest { user_id: unknown }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let own = admin.user.id.clone();
    let e = admin.auth.deactivate_user(pb::DeactivateUserRequest { user_id: own }).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    let r = admin.auth.deactivate_user(pb::DeactivateUserRequest { user_id: id }).await.unwrap().into_inner();
    assert_eq!(r.sessions_revoked, 2);
    assert!(!works(&mut agent2).await && !works(&mut agent2_again).await);
    let e = sign_in(&app, "agent2", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::Unauthenticated, "wrong username or password"));
    assert!(works(&mut dispatcher).await);

    // Deactivated elsewhere (another instance, or `hotline user deactivate`): this
    // server refuses the token within its refresh period.
    let mut agent = app.sign_in("agent").await;
    assert!(works(&mut agent).await);
    let user = app.store.user_by_username("agent").await.unwrap().unwrap();
    app.store.set_user_active(user.id, false, chrono::Utc::now()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while works(&mut agent).await {
        assert!(std::time::Instant::now() < deadline, "the revocation never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.stop().await;
}

async fn repeated_failures_lock_and_release(backend: Backend) {
    let t0 = chrono::Utc::now();
    let clock = ManualClock::new(t0);
    let Some(app) =
        TestApp::spawn_with_clock(backend, Some(clock.clone() as Arc<dyn hotline_server::Clock>)).await
    else {
        return;
    };
    let wrong = "wrong username or password";
    for i in 0..5 {
        clock.set(t0 + chrono::Duration::minutes(i));
        let e = sign_in(&app, "agent", "not-the-password-1").await.unwrap_err();
        assert_eq!((e.code(), e.message()), (Code::Unauthenticated, wrong));
        // An unknown username is treated alike.
        let e = sign_in(&app, "nobody", "not-the-password-1").await.unwrap_err();
        assert_eq!((e.code(), e.message()), (Code::Unauthenticated, wrong));
    }
    // Locked: even the right password is refused, with the same answer as for a
    // username that does not exist.
    clock.set(t0 + chrono::Duration::minutes(10));
    let known = sign_in(&app, "agent", DEMO_PASSWORD).await.unwrap_err();
    let unknown = sign_in(&app, "nobody", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(known.code(), Code::Unauthenticated);
    assert!(known.message().contains("too many failed sign-ins"), "{}", known.message());
    assert_eq!((known.code(), known.message()), (unknown.code(), unknown.message()));
    assert!(sign_in(&app, "agent2", DEMO_PASSWORD).await.is_ok(), "other usernames are not locked");
    // Four failures in the window do not lock.
    for i in 0..4 {
        clock.set(t0 + chrono::Duration::minutes(i));
        let _ = sign_in(&app, "agent2", "not-the-password-1").await.unwrap_err();
    }
    assert!(sign_in(&app, "agent2", DEMO_PASSWORD).await.is_ok());
    // After the lock (15 minutes from the fifth failure), the right password works.
    clock.set(t0 + chrono::Duration::minutes(4 + 15));
    assert!(sign_in(&app, "agent", DEMO_PASSWORD).await.is_ok());
    app.stop().await;
}

/// Every request with a token costs one verification (signature, expiry, revocation),
/// whether it passes the limits layer, the authorization layer and its handler, or is
/// refused by one of them; sign-in and a request without a token cost none.
async fn one_request_verifies_its_token_once(backend: Backend) {
    // A per-user rate limit makes the limits layer read the caller too.
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        c.limits.user_requests_per_second = 10_000;
        c.limits.user_burst = 10_000;
    })
    .await
    else {
        return;
    };
    let count = || app.tokens.verifications();
    let before = count();
    let mut agent = app.sign_in("agent").await;
    let mut admin = app.sign_in("admin").await;
    assert_eq!(count(), before, "signing in checks no token");

    let mut step = count();
    let mut once = |what: &str| {
        let now = count();
        assert_eq!(now - step, 1, "{what}: {} verifications", now - step);
        step = now;
    };
    // A write with a request id: limits, role cell, request key, scope and handler.
    let call =
        agent.calls.record_call(hotline_tests::sample_call("once-1")).await.expect("record").into_inner();
    once("RecordCall");
    agent.calls.get_call(pb::GetCallRequest { id: call.id.clone() }).await.expect("get call");
    once("GetCall");
    agent.auth.who_am_i(pb::WhoAmIRequest {}).await.expect("who am i");
    once("WhoAmI");
    admin.orders.list_work_orders(pb::ListWorkOrdersRequest::default()).await.expect("list orders");
    once("ListWorkOrders");
    // Refused by the role cell after its one check.
    let e = agent.auth.deactivate_user(pb::DeactivateUserRequest { user_id: call.id }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    once("DeactivateUser refused");
    // A token that does not verify is checked once and refused.
    let e = refused(&mut app.with_authorization("Bearer not.a.token")).await;
    assert_eq!(e.code(), Code::Unauthenticated);
    once("a bad token");
    agent.auth.sign_out(pb::SignOutRequest {}).await.expect("sign out");
    once("SignOut");
    assert_eq!(refused(&mut agent).await.code(), Code::Unauthenticated);
    once("a revoked token");

    let e = refused(&mut app.anonymous()).await;
    assert_eq!(e.code(), Code::Unauthenticated);
    assert_eq!(count(), step, "a request without a token checks none");
    app.stop().await;
}
