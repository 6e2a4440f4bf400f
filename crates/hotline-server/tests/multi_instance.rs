//! Several `hotline serve` processes on one PostgreSQL database and one Redis: any of
//! them serves any RPC, and a watcher on any of them gets every event of its scope
//! exactly once, in order; through reconnects, a Redis outage and a killed instance.
//!
//! Needs PostgreSQL (`HOTLINE_TEST_POSTGRES_URL`), Redis (`HOTLINE_TEST_REDIS_URL`,
//! default `redis://127.0.0.1:6379`; each test uses a stream key of its own) and, for
//! the outage tests, the `redis-server` binary (each runs its own Redis on a free port).
//! Without them a test is skipped with the reason, except under `CI=true`.

mod support;

use hotline_proto::v1 as pb;
use pb::work_order_service_client::WorkOrderServiceClient;
use pb::work_order_update::Update;
use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Authed, Bearer, Cluster, Proc, free_port, skip};
use tonic::{Code, Status, Streaming};

/// The shared Redis, or `None` (skipped) when it is not reachable.
async fn shared_redis() -> Option<String> {
    let url = std::env::var("HOTLINE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    if redis_ping(&url).await {
        Some(url)
    } else {
        skip(&format!("Redis at {url} is not reachable"));
        None
    }
}

async fn redis_ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else { return false };
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(_)))
}

/// A Redis server of this test's own, on a port of its own, without persistence.
struct OwnRedis {
    port: u16,
    proc: Option<Proc>,
}

impl OwnRedis {
    async fn start() -> Option<OwnRedis> {
        if Command::new("redis-server").arg("--version").output().is_err() {
            skip("the redis-server binary is not installed");
            return None;
        }
        let mut r = OwnRedis { port: free_port(), proc: None };
        r.restart().await;
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !redis_ping(&self.url()).await {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(&mut self) {
        self.proc = None;
    }
}

impl Cluster {
    /// `username`'s work-order clients, one per instance (connecting lazily).
    async fn orders(&self, username: &str) -> Vec<Orders> {
        let bearer = Bearer::of(&self.sign_in(username).await.token);
        (0..self.ports.len())
            .map(|i| WorkOrderServiceClient::with_interceptor(self.channel(i), bearer.clone()))
            .collect()
    }

    async fn calls(&self, username: &str, i: usize) -> pb::call_service_client::CallServiceClient<Authed> {
        let bearer = Bearer::of(&self.sign_in(username).await.token);
        pb::call_service_client::CallServiceClient::with_interceptor(self.channel(i), bearer)
    }

    /// Removes this test's stream from the shared Redis.
    async fn drop_stream(&self) {
        if let Some(url) = &self.redis_url
            && let Ok(client) = redis::Client::open(url.as_str())
            && let Ok(mut conn) = client.get_multiplexed_async_connection().await
        {
            let _ = redis::cmd("DEL").arg(&self.stream_key).query_async::<i64>(&mut conn).await;
        }
    }
}

type Orders = WorkOrderServiceClient<Authed>;

/// One event as a watcher saw it: order id, version, cursor.
type Seen = (String, i64, String);

async fn watch(client: &mut Orders, cursor: &str) -> (Streaming<pb::WorkOrderUpdate>, String) {
    let mut s = client
        .watch_work_orders(pb::WatchWorkOrdersRequest { cursor: cursor.into(), unit_id: String::new() })
        .await
        .expect("watch")
        .into_inner();
    if !cursor.is_empty() {
        return (s, cursor.into());
    }
    let first = s.message().await.expect("stream").expect("heartbeat");
    assert!(matches!(first.update, Some(Update::Heartbeat(_))));
    (s, first.cursor)
}

/// Reads until `n` changes arrived (or `within` passed), then makes sure no more come
/// for a moment.
async fn collect(s: &mut Streaming<pb::WorkOrderUpdate>, n: usize, within: Duration) -> Vec<Seen> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, s.message()).await {
            Ok(m) => push_change(&mut out, m.expect("stream").expect("open")),
            Err(_) => panic!("{} of {n} changes within {within:?}", out.len()),
        }
    }
    while let Ok(m) = tokio::time::timeout(Duration::from_millis(1500), s.message()).await {
        push_change(&mut out, m.expect("stream").expect("open"));
    }
    out
}

fn push_change(out: &mut Vec<Seen>, u: pb::WorkOrderUpdate) {
    if let Some(Update::Change(c)) = u.update {
        // Through the outbox and Redis, the created event names the order's number.
        if let Some(e) = c.event.as_ref().filter(|e| e.kind == "created") {
            let payload: serde_json::Value = serde_json::from_str(&e.payload_json).expect("payload json");
            assert_eq!(payload["number"], c.number.as_str(), "{e:?}");
        }
        out.push((c.order_id, c.version, u.cursor));
    }
}

#[track_caller]
fn assert_exactly_once_in_order(seen: &[Seen], expected: usize) {
    assert_in_order_from(seen, expected, 1);
}

/// Every order's events from version `first` on, each once, in version order.
#[track_caller]
fn assert_in_order_from(seen: &[Seen], expected: usize, first: i64) {
    assert_eq!(seen.len(), expected, "every event once: {seen:?}");
    let distinct: HashSet<(&String, i64)> = seen.iter().map(|(o, v, _)| (o, *v)).collect();
    assert_eq!(distinct.len(), expected, "no event twice");
    let mut last: HashMap<&String, i64> = HashMap::new();
    for (order, version, _) in seen {
        let prev = last.insert(order, *version).unwrap_or(first - 1);
        assert_eq!(*version, prev + 1, "events of an order in version order, none missing");
    }
}

fn is_transport(s: &Status) -> bool {
    matches!(s.code(), Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded)
}

/// Records a call and makes an order of it through instance `via`; returns the order.
async fn new_order(
    calls: &mut pb::call_service_client::CallServiceClient<Authed>,
    orders: &mut Orders,
    rid: &str,
) -> Result<pb::WorkOrder, Status> {
    let call = calls
        .record_call(pb::RecordCallRequest {
            request_id: format!("call-{rid}"),
            caller: Some(pb::Caller {
                name: "刘桂兰".into(),
                phone: "13800138000".into(),
                ..Default::default()
            }),
            village_id: "371502101001".into(),
            category: pb::Category::Mediation as i32,
            subcategory: pb::Subcategory::NeighbourDispute as i32,
            urgency: pb::Urgency::Normal as i32,
            summary: "邻居盖房占了我家宅基地，想请村里调解".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: rid.into(),
            call_id: call.id,
            register_only: true,
            ..Default::default()
        })
        .await?
        .into_inner())
}

fn dispatch_request(id: &str, version: i64, rid: &str) -> pb::DispatchWorkOrderRequest {
    pb::DispatchWorkOrderRequest {
        id: id.into(),
        version,
        request_id: rid.into(),
        target: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_every_watcher_every_event_once_in_order() {
    let Some(redis) = shared_redis().await else { return };
    let Some(cluster) = Cluster::start(3, Some(redis)).await else { return };
    // On every instance: the city, the station of the order's township, the counsel.
    let mut watchers = Vec::new();
    for user in ["admin", "lead", "counsel"] {
        for mut client in cluster.orders(user).await {
            let (s, _) = watch(&mut client, "").await;
            watchers.push((user, s));
        }
    }
    const ORDERS: usize = 6;
    let agents = cluster.orders("agent").await;
    let dispatchers = cluster.orders("dispatcher").await;
    let counsel = cluster.orders("counsel").await;
    let mut work = Vec::new();
    for k in 0..ORDERS {
        let mut calls = cluster.calls("agent", k % 3).await;
        let (mut a, mut d, mut c) =
            (agents[k % 3].clone(), dispatchers[(k + 1) % 3].clone(), counsel[(k + 2) % 3].clone());
        work.push(tokio::spawn(async move {
            let o = new_order(&mut calls, &mut a, &format!("o-{k}")).await.expect("create");
            let r =
                d.dispatch_work_order(dispatch_request(&o.id, 1, &format!("d-{k}"))).await.expect("dispatch");
            let v = r.into_inner().work_order.unwrap().version;
            c.sign_off_work_order(pb::SignOffWorkOrderRequest { id: o.id, version: v, ..Default::default() })
                .await
                .expect("sign off");
        }));
    }
    for w in work {
        w.await.unwrap();
    }
    let mut by_user: HashMap<&str, Vec<Vec<Seen>>> = HashMap::new();
    let mut readers = Vec::new();
    for (user, mut s) in watchers {
        // created, dispatched, signed off; the counsel is the assignee of the last two.
        let (expected, first) = if user == "counsel" { (2 * ORDERS, 2) } else { (3 * ORDERS, 1) };
        readers.push(tokio::spawn(async move {
            let seen = collect(&mut s, expected, Duration::from_secs(30)).await;
            assert_in_order_from(&seen, expected, first);
            (user, seen)
        }));
    }
    for r in readers {
        let (user, seen) = r.await.unwrap();
        by_user.entry(user).or_default().push(seen);
    }
    for (user, lists) in &by_user {
        assert_eq!(lists.len(), 3);
        assert!(
            lists.iter().all(|l| l == &lists[0]),
            "{user}: the same events in the same order on every instance"
        );
    }
    cluster.drop_stream().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_with_cursor_to_the_same_and_another_instance() {
    let Some(redis) = shared_redis().await else { return };
    let Some(cluster) = Cluster::start(2, Some(redis)).await else { return };
    let mut admin = cluster.orders("admin").await;
    let agents = cluster.orders("agent").await;
    let dispatchers = cluster.orders("dispatcher").await;
    let (mut s, start) = watch(&mut admin[0], "").await;
    let act = |k: usize| {
        let (mut a, mut d) = (agents[k % 2].clone(), dispatchers[(k + 1) % 2].clone());
        let cluster = &cluster;
        async move {
            let mut calls = cluster.calls("agent", k % 2).await;
            let o = new_order(&mut calls, &mut a, &format!("o-{k}")).await.expect("create");
            d.dispatch_work_order(dispatch_request(&o.id, 1, &format!("d-{k}"))).await.expect("dispatch");
        }
    };
    for k in 0..3 {
        act(k).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 4 {
        push_change(&mut seen, s.message().await.unwrap().unwrap());
    }
    drop(s); // dropped mid-stream
    for k in 3..6 {
        act(k).await;
    }
    // Resume on the other instance, drop again, resume on the first.
    let (mut s, _) = watch(&mut admin[1], &seen.last().unwrap().2).await;
    let before = seen.len();
    while seen.len() < before + 3 {
        push_change(&mut seen, s.message().await.unwrap().unwrap());
    }
    drop(s);
    act(6).await;
    let (mut s, _) = watch(&mut admin[0], &seen.last().unwrap().2).await;
    let rest = collect(&mut s, 14 - seen.len(), Duration::from_secs(20)).await;
    seen.extend(rest);
    assert_exactly_once_in_order(&seen, 14);
    // The same as one uninterrupted stream from the start.
    let (mut whole, _) = watch(&mut admin[1], &start).await;
    assert_eq!(collect(&mut whole, 14, Duration::from_secs(20)).await, seen);
    cluster.drop_stream().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_commands_go_on_and_events_arrive_after() {
    let Some(mut redis) = OwnRedis::start().await else { return };
    let Some(cluster) = Cluster::start(2, Some(redis.url())).await else { return };
    let mut admin = cluster.orders("admin").await;
    let agents = cluster.orders("agent").await;
    let dispatchers = cluster.orders("dispatcher").await;
    let (mut w0, _) = watch(&mut admin[0], "").await;
    let (mut w1, _) = watch(&mut admin[1], "").await;
    let act = |k: usize| {
        let (mut a, mut d) = (agents[k % 2].clone(), dispatchers[(k + 1) % 2].clone());
        let cluster = &cluster;
        async move {
            let mut calls = cluster.calls("agent", k % 2).await;
            let o =
                new_order(&mut calls, &mut a, &format!("o-{k}")).await.expect("create while Redis is down");
            d.dispatch_work_order(dispatch_request(&o.id, 1, &format!("d-{k}")))
                .await
                .expect("dispatch while Redis is down");
        }
    };
    act(0).await;
    let mut seen0 = Vec::new();
    while seen0.len() < 2 {
        push_change(&mut seen0, w0.message().await.unwrap().unwrap());
    }
    // A watcher can see an event before the relay has marked it published:
    // wait for the mark, so the outbox holds only what the outage leaves.
    let pool = cluster.pool().await;
    let marked = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (last, published): (i64, i64) =
                sqlx::query_as("select last, published from event_positions").fetch_one(&pool).await.unwrap();
            if published >= last {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(marked.is_ok(), "the relay marks the events it published before the outage");
    redis.stop();
    for k in 1..5 {
        act(k).await;
    }
    // Every command succeeded; their events wait in the outbox.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (last, published): (i64, i64) =
        sqlx::query_as("select last, published from event_positions").fetch_one(&pool).await.unwrap();
    let waiting: i64 =
        sqlx::query_scalar("select count(*) from event_outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(
        waiting, 8,
        "the events of the commands made during the outage wait (last {last}, published {published})"
    );
    redis.restart().await;
    let rest = collect(&mut w0, 8, Duration::from_secs(30)).await;
    seen0.extend(rest);
    assert_exactly_once_in_order(&seen0, 10);
    let seen1 = collect(&mut w1, 10, Duration::from_secs(30)).await;
    assert_eq!(seen1, seen0, "both instances' watchers get the same events in the same order");
    let waiting: i64 =
        sqlx::query_scalar("select count(*) from event_outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(waiting, 0, "the outbox drained");
}

/// What a watcher received so far, with when each change arrived.
type Arrivals = std::sync::Arc<std::sync::Mutex<Vec<(Seen, Instant)>>>;

/// Reads `s` in the background, noting when each change arrives.
fn record(mut s: Streaming<pb::WorkOrderUpdate>) -> (Arrivals, tokio::task::JoinHandle<()>) {
    let arrivals = Arrivals::default();
    let out = arrivals.clone();
    let task = tokio::spawn(async move {
        while let Ok(Some(u)) = s.message().await {
            let mut change = Vec::new();
            push_change(&mut change, u);
            let now = Instant::now();
            out.lock().unwrap().extend(change.into_iter().map(|c| (c, now)));
        }
    });
    (arrivals, task)
}

/// Waits until `arrivals` holds `n` changes.
async fn arrived(arrivals: &Arrivals, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = arrivals.lock().unwrap().len();
        if have >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{have} of {n} changes within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The median and the largest of `delays`.
fn median_max(delays: &mut [Duration]) -> (Duration, Duration) {
    delays.sort();
    (delays[delays.len() / 2], delays[delays.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_watchers_get_events_from_the_database_meanwhile() {
    /// The longest an event may take to reach a watcher while Redis is down.
    const BOUND: Duration = Duration::from_secs(3);
    const BEHIND: &str = "event hub: the bus is behind";
    const AGAIN: &str = "event hub: the bus delivers again";
    let Some(mut redis) = OwnRedis::start().await else { return };
    let Some(cluster) =
        Cluster::start_logging(2, Some(redis.url()), "warn,hotline_server::events=info").await
    else {
        return;
    };
    let mut admin = cluster.orders("admin").await;
    let (w0, _) = watch(&mut admin[0], "").await;
    let (w1, _) = watch(&mut admin[1], "").await;
    let watchers = [record(w0), record(w1)];
    // Every command goes through instance 0; `acked` notes when each event's command
    // was acknowledged.
    let mut calls = cluster.calls("agent", 0).await;
    let mut agent = cluster.orders("agent").await.swap_remove(0);
    let mut dispatcher = cluster.orders("dispatcher").await.swap_remove(0);
    let mut acked: HashMap<(String, i64), Instant> = HashMap::new();
    let mut act = async |k: usize, acked: &mut HashMap<(String, i64), Instant>| {
        let o = new_order(&mut calls, &mut agent, &format!("o-{k}")).await.expect("create");
        acked.insert((o.id.clone(), 1), Instant::now());
        dispatcher
            .dispatch_work_order(dispatch_request(&o.id, 1, &format!("d-{k}")))
            .await
            .expect("dispatch");
        acked.insert((o.id, 2), Instant::now());
    };
    let delays = |from: usize, acked: &HashMap<(String, i64), Instant>| -> Vec<Duration> {
        watchers
            .iter()
            .flat_map(|(a, _)| {
                a.lock().unwrap()[from..]
                    .iter()
                    .map(|((o, v, _), at)| *at - acked[&(o.clone(), *v)])
                    .collect::<Vec<_>>()
            })
            .collect()
    };

    act(0, &mut acked).await;
    for (a, _) in &watchers {
        arrived(a, 2, Duration::from_secs(10)).await;
    }
    let pool = cluster.pool().await;
    let head = async || -> (i64, i64) {
        sqlx::query_as("select last, published from event_positions").fetch_one(&pool).await.unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (last, published) = head().await;
        if published >= last {
            break;
        }
        assert!(Instant::now() < deadline, "the relay marks the events it published before the outage");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // How often each instance's log says a thing so far.
    let said = |what: &str| -> Vec<usize> { (0..2).map(|i| cluster.log(i).matches(what).count()).collect() };

    let behind_before = said(BEHIND);
    redis.stop();
    const DOWN: usize = 5;
    for k in 1..=DOWN {
        act(k, &mut acked).await;
        // Commands at varied moments of the hubs' one-second checks.
        tokio::time::sleep(Duration::from_millis(150 + (k as u64 * 370) % 900)).await;
    }
    for (a, _) in &watchers {
        arrived(a, 2 + 2 * DOWN, BOUND + Duration::from_secs(2)).await;
    }
    let (last, published) = head().await;
    let waiting: i64 =
        sqlx::query_scalar("select count(*) from event_outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(
        (published, waiting),
        (2, 2 * DOWN as i64),
        "read from the database, still waiting in the outbox, unpublished (last {last})"
    );
    let mut down = delays(2, &acked);
    assert_eq!(down.len(), 2 * 2 * DOWN);
    let (median, max) = median_max(&mut down);
    eprintln!(
        "event delay during the Redis outage (command acknowledged to watcher, {} deliveries on 2 \
         instances): median {} ms, max {} ms",
        down.len(),
        median.as_millis(),
        max.as_millis()
    );
    assert!(max <= BOUND, "every event within {BOUND:?} of its command during the outage: {down:?}");
    let behind = said(BEHIND);
    for i in 0..2 {
        assert!(behind[i] > behind_before[i], "instance {i} read from the database: {}", cluster.log(i));
    }

    // Redis back: commands until both hubs have had an event from the bus first.
    let again_before = said(AGAIN);
    redis.restart().await;
    let mut k = DOWN;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !said(AGAIN).iter().zip(&again_before).all(|(now, before)| now > before) {
        assert!(Instant::now() < deadline, "the bus takes over again on both instances");
        k += 1;
        act(k, &mut acked).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let before = 2 * (k + 1);
    for (a, _) in &watchers {
        arrived(a, before, Duration::from_secs(10)).await;
    }
    const AFTER: usize = 3;
    for n in 1..=AFTER {
        act(k + n, &mut acked).await;
    }
    let total = before + 2 * AFTER;
    for (a, _) in &watchers {
        arrived(a, total, Duration::from_secs(10)).await;
    }
    let mut up = delays(before, &acked);
    let (median, max) = median_max(&mut up);
    eprintln!(
        "event delay after Redis is back: median {} ms, max {} ms over {} deliveries",
        median.as_millis(),
        max.as_millis(),
        up.len()
    );
    // Nothing more comes: no event twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen: Vec<Vec<Seen>> =
        watchers.iter().map(|(a, _)| a.lock().unwrap().iter().map(|(s, _)| s.clone()).collect()).collect();
    assert_exactly_once_in_order(&seen[0], total);
    assert_eq!(seen[1], seen[0], "both instances' watchers get the same events in the same order");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 =
            sqlx::query_scalar("select count(*) from event_outbox").fetch_one(&pool).await.unwrap();
        if waiting == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox drains over the bus: {waiting} wait");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (_, task) in watchers {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_instance_loses_no_acknowledged_command_and_applies_none_twice() {
    let Some(redis) = shared_redis().await else { return };
    let Some(mut cluster) = Cluster::start(3, Some(redis)).await else { return };
    // Watchers on the instances that survive, from before the load.
    let mut admin = cluster.orders("admin").await;
    let (mut w1, _) = watch(&mut admin[1], "").await;
    let (mut w2, _) = watch(&mut admin[2], "").await;
    let agents = cluster.orders("agent").await;
    let dispatchers = cluster.orders("dispatcher").await;
    const CLIENTS: usize = 6;
    const PER_CLIENT: usize = 6;
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (agents, dispatchers, acked) = (agents.clone(), dispatchers.clone(), acked.clone());
        let mut calls: Vec<_> = Vec::new();
        for i in 0..3 {
            calls.push(cluster.calls("agent", i).await);
        }
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for n in 0..PER_CLIENT {
                let rid = format!("c{c}-{n}");
                // Each command goes to the next instance; a command that is not
                // acknowledged is retried, with the same request id, on another.
                let mut via = c + n;
                let order = loop {
                    let i = via % 3;
                    match new_order(&mut calls[i], &mut agents[i].clone(), &rid).await {
                        Ok(o) => break o,
                        Err(s) if is_transport(&s) => via += 1,
                        Err(s) => panic!("create {rid}: {s}"),
                    }
                };
                acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let version = loop {
                    via += 1;
                    let i = via % 3;
                    match dispatchers[i]
                        .clone()
                        .dispatch_work_order(dispatch_request(&order.id, 1, &format!("d-{rid}")))
                        .await
                    {
                        Ok(r) => break r.into_inner().work_order.unwrap().version,
                        Err(s) if is_transport(&s) => {}
                        Err(s) => panic!("dispatch {rid}: {s}"),
                    }
                };
                acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                done.push((rid, order.id, version));
            }
            done
        }));
    }
    // Mid-load: kill instance 0 (on which the relay may be leading).
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < CLIENTS * PER_CLIENT / 2 {
        assert!(Instant::now() < deadline, "load did not progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.kill(0);
    let mut done = Vec::new();
    for t in tasks {
        done.extend(t.await.unwrap());
    }
    assert_eq!(done.len(), CLIENTS * PER_CLIENT);
    assert!(done.iter().all(|(_, _, v)| *v == 2));

    let pool = cluster.pool().await;
    let orders: i64 = sqlx::query_scalar("select count(*) from work_orders").fetch_one(&pool).await.unwrap();
    assert_eq!(orders, (CLIENTS * PER_CLIENT) as i64, "one order per request id: none created twice");
    let calls: i64 = sqlx::query_scalar("select count(*) from calls").fetch_one(&pool).await.unwrap();
    assert_eq!(calls, (CLIENTS * PER_CLIENT) as i64, "one call per request id");
    for (rid, id, _) in &done {
        let (version, request): (i64, Option<String>) = sqlx::query_as(
            "select o.version, r.request_id from work_orders o \
                 left join request_ids r on r.order_id = o.id and r.event_id is null where o.id = $1::uuid",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!((version, request.as_deref()), (2, Some(rid.as_str())));
        let kinds: Vec<String> =
            sqlx::query_scalar("select kind from work_order_events where order_id = $1::uuid order by seq")
                .bind(id)
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(kinds, ["created", "dispatched"], "{rid}: its events, each once");
    }
    // Every event reaches the surviving watchers once, in the same order, whichever
    // instance relays after the kill.
    let total = 2 * CLIENTS * PER_CLIENT;
    let seen1 = collect(&mut w1, total, Duration::from_secs(30)).await;
    assert_exactly_once_in_order(&seen1, total);
    assert_eq!(collect(&mut w2, total, Duration::from_secs(30)).await, seen1);
    let unpositioned: i64 =
        sqlx::query_scalar("select count(*) from work_order_events where position is null")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unpositioned, 0);
    cluster.drop_stream().await;
}
