//! What the server acknowledges is stored, and writes work again once their cause is
//! gone: requests cancelled at every point of a write, a full disk, the server's own
//! deadline, and the health service while the store cannot write. Over real gRPC, on
//! SQLite and on PostgreSQL.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_backends!(cancelled_requests_leave_no_write_half_done);

/// What the server answered OK during a storm, and how many storm requests it did not.
#[derive(Default)]
struct Acknowledged {
    calls: Mutex<Vec<String>>,
    orders: Mutex<Vec<String>>,
    storm_ok: AtomicU64,
    storm_cut: AtomicU64,
}

impl Acknowledged {
    fn count<T>(&self, answer: &Result<T, tonic::Status>) {
        match answer {
            Ok(_) => self.storm_ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.storm_cut.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// A request carrying `deadline` as its `grpc-timeout`.
fn within<T>(message: T, deadline: Duration) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.set_timeout(deadline);
    req
}

/// Deadlines from 0.2 ms to `longest`, spread so that cancellation lands at every point
/// of a write: before the writer takes it, while it runs, while it commits, after.
fn deadline(n: u64, longest: Duration) -> Duration {
    let span = (longest.as_micros() as u64).max(1000) - 200;
    Duration::from_micros(200 + (n * 7919) % span)
}

/// One client of the storm: records calls and creates orders with short deadlines,
/// some enforced by the server (`grpc-timeout`), some by the client dropping the call.
async fn storm_client(
    mut agent: Clients,
    id: u64,
    until: Instant,
    longest: Duration,
    acked: Arc<Acknowledged>,
) {
    let mut n = id * 100_000;
    let mut calls: Vec<String> = Vec::new();
    while Instant::now() < until {
        n += 1;
        let d = deadline(n, longest);
        let call = agent.calls.record_call(within(sample_call(&format!("storm-call-{n}")), d));
        // Every third request is also dropped by the client at its deadline.
        let answer = if n.is_multiple_of(3) {
            tokio::time::timeout(d, call).await.unwrap_or_else(|_| Err(tonic::Status::cancelled("dropped")))
        } else {
            call.await
        };
        acked.count(&answer);
        if let Ok(call) = answer {
            let id = call.into_inner().id;
            acked.calls.lock().unwrap().push(id.clone());
            calls.push(id);
        }
        let Some(call_id) = calls.last().cloned() else { continue };
        n += 1;
        let create = pb::CreateWorkOrderRequest {
            request_id: format!("storm-order-{n}"),
            call_id,
            register_only: true,
            ..Default::default()
        };
        let d = deadline(n, longest);
        let create = agent.orders.create_work_order(within(create, d));
        let answer = if n.is_multiple_of(3) {
            tokio::time::timeout(d, create).await.unwrap_or_else(|_| Err(tonic::Status::cancelled("dropped")))
        } else {
            create.await
        };
        acked.count(&answer);
        if let Ok(order) = answer {
            acked.orders.lock().unwrap().push(order.into_inner().id);
        }
    }
}

/// Records a call and creates its order with no deadline; both must succeed.
async fn intake(agent: &mut Clients, rid: &str) -> (String, String) {
    let call = agent.calls.record_call(sample_call(&format!("call-{rid}"))).await.expect("record call");
    let call_id = call.into_inner().id;
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: rid.into(),
            call_id: call_id.clone(),
            register_only: true,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("create work order {rid}: {e}"))
        .into_inner();
    (call_id, order.id)
}

/// Many requests with deadlines of a few milliseconds against a writer kept busy by
/// other clients; then every acknowledged call and order is stored, after a clean
/// restart too, and writes of every kind still work.
async fn cancelled_requests_leave_no_write_half_done(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // Deadlines reach to three times an unhurried intake, whatever this machine's speed.
    let mut agent = app.sign_in("agent").await;
    let started = Instant::now();
    for n in 0..5 {
        intake(&mut agent, &format!("warm-{n}")).await;
    }
    let longest = started.elapsed() * 3 / 5;
    let acked = Arc::new(Acknowledged::default());
    let mut storm = Vec::new();
    for _ in 0..12 {
        storm.push(app.sign_in_own_connection("agent").await);
    }
    let mut busy = Vec::new();
    for _ in 0..3 {
        busy.push(app.sign_in("agent").await);
    }
    let until = Instant::now() + Duration::from_millis(2500);
    let mut tasks = Vec::new();
    for (id, agent) in storm.into_iter().enumerate() {
        tasks.push(tokio::spawn(storm_client(agent, id as u64, until, longest, acked.clone())));
    }
    // Writers with no deadline keep the writer busy all along.
    for (id, mut agent) in busy.into_iter().enumerate() {
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                let (call, order) = intake(&mut agent, &format!("busy-{id}-{n}")).await;
                acked.calls.lock().unwrap().push(call);
                acked.orders.lock().unwrap().push(order);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let calls: HashSet<String> = acked.calls.lock().unwrap().iter().cloned().collect();
    let orders: HashSet<String> = acked.orders.lock().unwrap().iter().cloned().collect();
    let (ok, cut) = (acked.storm_ok.load(Ordering::Relaxed), acked.storm_cut.load(Ordering::Relaxed));
    eprintln!(
        "deadlines up to {longest:?}: {ok} storm requests answered OK, {cut} not; \
         acknowledged in all: {} calls, {} orders",
        calls.len(),
        orders.len()
    );
    assert!(ok >= 5 && cut >= 50, "the storm must see both answers and cancellations: {ok} OK, {cut} not");

    // Right after the storm, transactional writes of every kind work.
    let mut agent = app.sign_in("agent").await;
    intake(&mut agent, "after-storm").await;
    let _ = app.sign_in("dispatcher").await;

    // A clean stop and a fresh store on the same database: everything acknowledged is there.
    let app = app.restart().await;
    let missing_calls = missing(&calls, |id| app.store.get_call(id)).await;
    let missing_orders = missing(&orders, |id| app.store.get_order(id)).await;
    assert!(
        missing_calls.is_empty() && missing_orders.is_empty(),
        "acknowledged but not stored: {} of {} calls, {} of {} orders",
        missing_calls.len(),
        calls.len(),
        missing_orders.len(),
        orders.len()
    );
    let mut agent = app.sign_in("agent").await;
    intake(&mut agent, "after-restart").await;
    app.stop().await;
}

/// The ids of `ids` that `get` does not find.
async fn missing<T, F, Fut>(ids: &HashSet<String>, get: F) -> Vec<String>
where
    F: Fn(uuid::Uuid) -> Fut,
    Fut: std::future::Future<Output = hotline_store::Result<T>>,
{
    let mut out = Vec::new();
    for id in ids {
        let uuid: uuid::Uuid = id.parse().expect("uuid");
        match get(uuid).await {
            Ok(_) => {}
            Err(hotline_store::StoreError::NotFound { .. }) => out.push(id.clone()),
            Err(e) => panic!("reading {id}: {e}"),
        }
    }
    out
}
