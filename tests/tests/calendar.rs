//! The holiday calendar's warning follows the server's clock: with the shipped calendar
//! (to 2026), on 4 December 2026 deadlines already run into 2027; from 1 November the
//! coming year is watched; loading the year's notice ends it. `/metrics` shows it.

use chrono::TimeZone;
use hotline_domain::Gap;
use hotline_server::config::Config;
use hotline_server::holidays;
use hotline_tests::{Backend, ManualClock, TestDb, on_both_backends};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(the_calendar_warning_follows_the_clock);

fn shanghai(s: &str) -> chrono::DateTime<chrono::Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().from_local_datetime(&local).unwrap().to_utc()
}

async fn metrics(addr: std::net::SocketAddr) -> String {
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let mut out = String::new();
    sock.read_to_string(&mut out).await.expect("read");
    out
}

fn gauge(text: &str, name: &str) -> i64 {
    let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}"));
    line.rsplit(' ').next().unwrap().parse().expect("a number")
}

async fn app_with(
    backend: Backend,
    db: &TestDb,
    calendar_files: Vec<std::path::PathBuf>,
) -> hotline_server::App {
    let keys = hotline_store::CallerKeys::for_tests();
    let store = hotline_server::open_store(db.url(), 2, keys).await.expect("store");
    let dir = std::env::temp_dir().join(format!("hotline-cal-{backend:?}-{}", uuid::Uuid::new_v4()));
    let mut config = Config::default();
    config.keys.signing_key_file = dir.join("signing.key");
    config.policy.calendar_files = calendar_files;
    let app = hotline_server::cli::build_app(&config, store).await.expect("app");
    let _ = std::fs::remove_dir_all(&dir);
    app
}

async fn the_calendar_warning_follows_the_clock(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let mut app = app_with(backend, &db, Vec::new()).await;
    let clock = ManualClock::new(shanghai("2026-12-04 10:00"));
    app.clock = clock.clone() as Arc<dyn hotline_server::Clock>;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = tokio::spawn(hotline_server::metrics::serve_metrics(listener, app.clone()));

    // 4 December 2026: a complex reply and an extension reach January 2027.
    assert_eq!(holidays::gaps(&app), [Gap { year: 2027, reached: true }]);
    let words = holidays::warning(&holidays::gaps(&app)[0]);
    for part in [
        "the holiday calendar does not cover 2027",
        "deadlines set now already run into 2027",
        "count every Monday to Friday as a working day, its public holidays included",
        "until the official notice for 2027 is loaded",
        "TimeLimitService.SetHolidayYear",
        "calendar_files",
        "\"The holiday calendar\"",
    ] {
        assert!(words.contains(part), "{part:?} in {words}");
    }
    assert!(!words.contains("this year"), "{words}");
    let text = metrics(addr).await;
    assert_eq!(gauge(&text, "hotline_holiday_calendar_uncovered_years"), 1, "{text}");
    assert_eq!(gauge(&text, "hotline_holiday_calendar_uncovered_year"), 2027);
    assert_eq!(gauge(&text, "hotline_holiday_calendar_deadlines_uncovered"), 1);
    assert_eq!(holidays::warn(&app), 1);

    // 2 November: the coming year is watched before any deadline reaches it.
    clock.set(shanghai("2026-11-02 09:00"));
    assert_eq!(holidays::gaps(&app), [Gap { year: 2027, reached: false }]);
    assert!(holidays::warning(&holidays::gaps(&app)[0]).contains("2027 is the coming year"));
    let text = metrics(addr).await;
    assert_eq!(gauge(&text, "hotline_holiday_calendar_uncovered_years"), 1);
    assert_eq!(gauge(&text, "hotline_holiday_calendar_deadlines_uncovered"), 0);

    // October: nothing to say.
    clock.set(shanghai("2026-10-15 09:00"));
    assert_eq!(holidays::gaps(&app), []);
    assert_eq!(holidays::warn(&app), 0);
    let text = metrics(addr).await;
    assert_eq!(gauge(&text, "hotline_holiday_calendar_uncovered_years"), 0);
    assert_eq!(gauge(&text, "hotline_holiday_calendar_uncovered_year"), 0);
    served.abort();

    // With the 2027 notice loaded (calendar_files), 4 December is quiet.
    let file = std::env::temp_dir().join(format!("hotline-2027-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, "date,kind,name\n2027-01-01,holiday,New Year's Day\n").expect("write");
    let mut covered = app_with(backend, &db, vec![file.clone()]).await;
    covered.clock = ManualClock::new(shanghai("2026-12-04 10:00")) as Arc<dyn hotline_server::Clock>;
    assert_eq!(holidays::gaps(&covered), []);
    let _ = std::fs::remove_file(&file);
}
