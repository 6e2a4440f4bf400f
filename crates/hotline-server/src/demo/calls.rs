//! The demo's simulated telephony layer: with `hotline serve --demo` and `[demo]
//! calls_per_hour` (or `--demo-calls-per-hour`), calls come in without a telephone
//! system, so that the seat console can be tried. It plays the CTI through the very
//! `TelephonyService` RPCs a real one uses, over gRPC to the server's own address,
//! signed in as the demo user `cti`:
//!
//! - calls are offered at random (Poisson) arrivals at the configured rate, from
//!   made-up numbers, about one in three from a few regular callers;
//! - the core rings an available agent (the longest idle); 2 to 4 s later the call is
//!   answered at that seat, and the talk ends 30 to 120 s after that;
//! - a call that nobody answered (no agent free at the offer, or the agent rung left
//!   meanwhile) is abandoned 60 s after its offer.

use crate::demo::DEMO_PASSWORD;
use hotline_proto::v1 as pb;
use pb::telephony_service_client::TelephonyServiceClient;
use rand::{Rng, SeedableRng};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

/// The demo user the simulated telephony layer signs in as.
pub const USERNAME: &str = "cti";
/// The line every simulated call comes in on.
const LINE: &str = "0635-12348";
/// Seconds from the ring to the answer.
const ANSWER_AFTER_SECS: (f64, f64) = (2.0, 4.0);
/// Seconds from the answer to the end of the talk.
const TALK_SECS: (f64, f64) = (30.0, 120.0);
/// A call not answered this long after its offer is abandoned.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// The share of calls from [`REGULARS`].
const REGULAR_SHARE: f64 = 0.35;
/// Made-up callers who call again and again.
pub const REGULARS: &[&str] =
    &["13906351234", "15806352468", "0635-8123456", "18763509876", "13562517788", "0635-2912348"];

/// Offers `calls_per_hour` calls an hour to the server at `addr` (plain gRPC) until the
/// task is dropped; each call plays out in a task of its own, dropped with this one.
/// Returns only when it cannot sign in as [`USERNAME`].
pub async fn run(addr: SocketAddr, calls_per_hour: u32) {
    if calls_per_hour == 0 {
        return;
    }
    let channel = match tonic::transport::Endpoint::from_shared(format!("http://{addr}")) {
        Ok(endpoint) => endpoint.connect_lazy(),
        Err(e) => {
            tracing::error!(error = %e, "demo calls: no address to call");
            return;
        }
    };
    let cti = Arc::new(Cti { channel, token: tokio::sync::Mutex::new(None) });
    let mut signed_in = Err(Status::unknown("not tried"));
    for _ in 0..5 {
        signed_in = cti.token().await;
        if signed_in.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Err(e) = signed_in {
        tracing::error!(error = %e.message(), user = USERNAME, "demo calls: cannot sign in; no simulated calls");
        return;
    }
    tracing::info!(calls_per_hour, "demo calls: the simulated telephony layer is offering calls");
    let mut rng = rand::rngs::StdRng::from_entropy();
    let mean_gap = 3600.0 / f64::from(calls_per_hour);
    let mut calls = tokio::task::JoinSet::new();
    loop {
        // Exponential gaps between arrivals: a Poisson process.
        let gap = -(1.0 - rng.r#gen::<f64>()).ln() * mean_gap;
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        while calls.try_join_next().is_some() {}
        let call = DemoCall {
            id: format!("demo-{}", uuid::Uuid::now_v7().simple()),
            phone: demo_number(&mut rng),
            answer_after: seconds(&mut rng, ANSWER_AFTER_SECS),
            talk: seconds(&mut rng, TALK_SECS),
        };
        calls.spawn(cti.clone().play(call));
    }
}

fn seconds(rng: &mut impl Rng, (low, high): (f64, f64)) -> Duration {
    Duration::from_secs_f64(rng.gen_range(low..=high))
}

/// A made-up calling number: one of [`REGULARS`], or a new mobile or local number.
pub fn demo_number(rng: &mut impl Rng) -> String {
    if rng.gen_bool(REGULAR_SHARE) {
        return REGULARS[rng.gen_range(0..REGULARS.len())].to_owned();
    }
    if rng.gen_bool(0.2) {
        return format!("0635-{:07}", rng.gen_range(2_000_000..9_000_000));
    }
    let prefix = ["139", "158", "187", "135", "152", "177"][rng.gen_range(0..6)];
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000))
}

/// One simulated call and how it will go.
struct DemoCall {
    id: String,
    phone: String,
    answer_after: Duration,
    talk: Duration,
}

/// The simulated telephony layer's connection and token.
struct Cti {
    channel: Channel,
    /// The `cti` user's token; `None` until signed in.
    token: tokio::sync::Mutex<Option<String>>,
}

impl Cti {
    /// The current token, signing in first when there is none.
    async fn token(&self) -> Result<String, Status> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_ref() {
            return Ok(t.clone());
        }
        let mut auth = pb::auth_service_client::AuthServiceClient::new(self.channel.clone());
        let req = pb::SignInRequest { username: USERNAME.into(), password: DEMO_PASSWORD.into() };
        let t = auth.sign_in(req).await?.into_inner().token;
        *token = Some(t.clone());
        Ok(t)
    }

    /// Forgets `stale` (refused as expired or revoked), so that the next call signs in
    /// again; a token another call renewed meanwhile is kept.
    async fn forget(&self, stale: &str) {
        let mut token = self.token.lock().await;
        if token.as_deref() == Some(stale) {
            *token = None;
        }
    }

    /// Sends one telephony event with the token, signing in again once if it was refused.
    async fn send<T, R, F, Fut>(&self, message: T, rpc: F) -> Result<R, Status>
    where
        T: Clone,
        F: Fn(TelephonyServiceClient<Channel>, Request<T>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        let mut tried = false;
        loop {
            let token = self.token().await?;
            let mut req = Request::new(message.clone());
            let bearer =
                format!("Bearer {token}").parse().map_err(|_| Status::internal("token is not ASCII"))?;
            req.metadata_mut().insert("authorization", bearer);
            match rpc(TelephonyServiceClient::new(self.channel.clone()), req).await {
                Err(s) if s.code() == Code::Unauthenticated && !tried => {
                    tried = true;
                    self.forget(&token).await;
                }
                result => return result.map(Response::into_inner),
            }
        }
    }

    /// Offers the call and plays it to its end.
    async fn play(self: Arc<Self>, call: DemoCall) {
        let offered = Instant::now();
        let offer = pb::CallOfferedRequest {
            call_id: call.id.clone(),
            caller_phone: call.phone.clone(),
            line: LINE.into(),
            ..Default::default()
        };
        let assigned = match self.send(offer, |mut c, r| async move { c.call_offered(r).await }).await {
            Ok(r) => r.assigned_agent_id,
            Err(e) => {
                tracing::warn!(call_id = %call.id, error = %e.message(), "demo calls: offer refused");
                return;
            }
        };
        if !assigned.is_empty() {
            tokio::time::sleep(call.answer_after).await;
            let answer = pb::CallAnsweredRequest { call_id: call.id.clone(), agent_id: assigned, at: None };
            match self.send(answer, |mut c, r| async move { c.call_answered(r).await }).await {
                Ok(_) => {
                    tokio::time::sleep(call.talk).await;
                    let end = pb::CallEndedRequest { call_id: call.id.clone(), at: None };
                    if let Err(e) = self.send(end, |mut c, r| async move { c.call_ended(r).await }).await {
                        tracing::warn!(call_id = %call.id, error = %e.message(), "demo calls: end refused");
                    }
                    return;
                }
                // The agent rung went on break or signed out: the caller waits on.
                Err(e) => {
                    tracing::debug!(call_id = %call.id, error = %e.message(), "demo calls: not answered")
                }
            }
        }
        tokio::time::sleep_until(offered + GIVE_UP_AFTER).await;
        let abandon = pb::CallAbandonedRequest { call_id: call.id.clone(), wait_ms: 0, at: None };
        match self.send(abandon, |mut c, r| async move { c.call_abandoned(r).await }).await {
            Ok(_) => {}
            // Answered after all, through another path: nothing to abandon.
            Err(e) if e.code() == Code::FailedPrecondition => {}
            Err(e) => tracing::warn!(call_id = %call.id, error = %e.message(), "demo calls: abandon refused"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_valid_and_some_callers_call_again() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12348);
        let numbers: Vec<String> = (0..200).map(|_| demo_number(&mut rng)).collect();
        for n in &numbers {
            hotline_domain::Phone::parse("caller_phone", n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
        let regulars = numbers.iter().filter(|n| REGULARS.contains(&n.as_str())).count();
        assert!((40..=100).contains(&regulars), "{regulars} of 200 from regular callers");
        assert!(distinct.len() > 100 && distinct.len() < 200 - 30, "{} distinct", distinct.len());
        assert!(numbers.iter().any(|n| n.starts_with("0635-")), "some local numbers");
    }

    #[test]
    fn durations_stay_in_their_ranges() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let d = seconds(&mut rng, ANSWER_AFTER_SECS);
            assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(4), "{d:?}");
            let d = seconds(&mut rng, TALK_SECS);
            assert!(d >= Duration::from_secs(30) && d <= Duration::from_secs(120), "{d:?}");
        }
    }
}
