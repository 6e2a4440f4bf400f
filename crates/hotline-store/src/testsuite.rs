//! The generic store test suite: one set of cases that every backend must pass.
//!
//! Each case is a public async fn that takes a fresh, empty store. A backend's tests run
//! every case as its own test, each on its own database, with [`store_tests!`]:
//!
//! ```text
//! /// `None` skips the test (the backend's server is not there, outside CI).
//! async fn setup() -> Option<(MyStore, Guard)> { ... }
//!
//! hotline_store::store_tests!(setup());
//! ```
//!
//! The guard is dropped after the case (after the store), so it can remove the database.
//! The backend's test crate needs `tokio` (macros, multi-thread runtime).
//!
//! [`small_directory`] and [`city_directory`] are also there for other tests and tools
//! that want directory data.

use crate::{
    Call, Directory, Event, ImportSummary, OrderFilter, Page, PageRequest, Person, PersonFilter, PersonKind,
    RequestKey, Station, Store, StoreError, TargetStatus, TeamRole, Unit, User, Wrote,
};
use chrono::{DateTime, TimeDelta, Utc};
use hotline_domain::{
    Callback, CallbackMethod, Caller, CancelReason, Category, Channel, Deadlines, EventDraft, EventKind,
    ExtensionRequest, HandlingResult, Phone, Place, ReturnReason, ReturnRequest, Role, Satisfaction, State,
    Subcategory, Target, UnitLevel, Urgency, WorkOrder,
};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use uuid::Uuid;

/// Expands to one `#[tokio::test]` per case of the suite. `$setup` is an expression
/// evaluated in each test, a future of `Option<(store, guard)>`; `None` skips the test.
#[macro_export]
macro_rules! store_tests {
    ($setup:expr) => {
        $crate::store_tests!(@cases $setup;
            directory_import_and_lookup,
            directory_reimport_updates,
            directory_invalid_import_writes_nothing,
            directory_full_city_import,
            users_create_and_lookup,
            users_are_one_in_any_ascii_case,
            calls_record_and_idempotency,
            orders_numbering,
            orders_created_together,
            orders_create_idempotency,
            orders_create_with_dispatch,
            calls_labelled_and_acceptance,
            orders_round_trip,
            orders_save_transition_version_check,
            orders_concurrent_transitions,
            orders_action_request_ids,
            request_ids_across_writes,
            orders_list_filters,
            orders_list_pagination,
            orders_overdue_follows_transitions,
            caller_history_by_phone,
            not_found_and_bad_cursors,
            routing_institutions_import,
            routing_candidate_status_counts_open_orders_and_leave,
            routing_availability_changes_are_events,
            routing_policy_is_saved,
        );
    };
    (@cases $setup:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, guard)) = ($setup).await else {
                    return;
                };
                $crate::testsuite::$case(&store).await;
                drop(store);
                drop(guard);
            }
        )+
    };
}

// ---- helpers ------------------------------------------------------------------------

/// An instant from RFC 3339 text (tests use microsecond precision at most).
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

fn phone(s: &str) -> Phone {
    Phone::parse("phone", s).expect("test phone")
}

fn mins(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// Runs the futures concurrently on the current task; outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().expect("polled to completion")).collect())
        }
    })
    .await
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, entity: &str, id: &str) {
    match r {
        Err(StoreError::NotFound { entity: e, id: i }) => {
            assert_eq!((e, i.as_str()), (entity, id), "NotFound names the entity and id");
        }
        other => panic!("expected NotFound {entity} `{id}`, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_reused<T: std::fmt::Debug>(r: Result<T, StoreError>, id: &str) {
    match r {
        Err(StoreError::RequestReused { request_id }) => assert_eq!(request_id, id),
        other => panic!("expected RequestReused `{id}`, got {other:?}"),
    }
}

/// The key of the request `body` (standing for a request message) sent with `id`.
pub fn key(user: Uuid, id: &str, body: &str) -> RequestKey {
    RequestKey::new(user, id, "/hotline.test/Write", body.as_bytes())
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
}

#[track_caller]
fn assert_bad_cursor<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::BadCursor) => {}
        other => panic!("expected BadCursor, got {other:?}"),
    }
}

/// A place from a village id of the test directories (county 6 digits, township 9).
fn place(village: &str) -> Place {
    Place {
        county_id: village[..6].to_owned(),
        township_id: village[..9].to_owned(),
        village_id: village.to_owned(),
    }
}

// ---- directories ----------------------------------------------------------------------

pub fn unit(id: &str, parent: Option<&str>, level: UnitLevel, name: &str) -> Unit {
    Unit {
        id: id.into(),
        parent_id: parent.map(Into::into),
        level,
        name: name.into(),
        latitude: None,
        longitude: None,
    }
}

fn station(township: &str, name: &str) -> Station {
    Station {
        id: format!("st-{township}"),
        township_id: township.into(),
        name: name.into(),
        phone: Some("0635-8241234".into()),
        address: Some(format!("{name}社会治理中心")),
    }
}

/// The city, two counties, three townships, five villages, three stations, four people.
pub fn small_directory() -> Directory {
    use UnitLevel::*;
    let mut village = unit("371502001001", Some("371502001"), Village, "东关社区");
    village.latitude = Some(36.456_789);
    village.longitude = Some(115.985_432);
    Directory {
        units: vec![
            // Deliberately not parent-first: an import may name a parent it inserts later.
            village,
            unit("371502001", Some("371502"), Township, "古楼街道"),
            unit("371500", None, City, "聊城市"),
            unit("371502", Some("371500"), County, "东昌府区"),
            unit("371521", Some("371500"), County, "阳谷县"),
            unit("371502001002", Some("371502001"), Village, "西关社区"),
            unit("371502002", Some("371502"), Township, "柳园街道"),
            unit("371502002001", Some("371502002"), Village, "柳园村"),
            unit("371521001", Some("371521"), Township, "博济桥街道"),
            unit("371521001001", Some("371521001"), Village, "东街村"),
            unit("371521001002", Some("371521001"), Village, "西街村"),
        ],
        stations: vec![
            station("371502001", "古楼街道法律服务工作站"),
            station("371502002", "柳园街道法律服务工作站"),
            station("371521001", "博济桥街道法律服务工作站"),
        ],
        people: vec![
            Person {
                id: "p-0001".into(),
                name: "王律师".into(),
                kind: PersonKind::Lawyer,
                organization: Some("山东某某律师事务所".into()),
                phone: Some("13800138001".into()),
                team_township_id: Some("371502001".into()),
                team_role: Some(TeamRole::Lead),
                // Not in id order: the stored order is the given order.
                villages: vec!["371502001002".into(), "371502001001".into()],
                active: true,
                capacity: 12,
            },
            Person {
                id: "p-0002".into(),
                name: "赵法律工作者".into(),
                kind: PersonKind::LegalServiceWorker,
                organization: Some("古楼法律服务所".into()),
                phone: None,
                team_township_id: Some("371502001".into()),
                team_role: Some(TeamRole::Member),
                villages: vec!["371502002001".into()],
                active: true,
                capacity: 8,
            },
            Person {
                id: "p-0003".into(),
                name: "刘司法助理员".into(),
                kind: PersonKind::JudicialOfficer,
                organization: Some("博济桥司法所".into()),
                phone: Some("0635-6212348".into()),
                team_township_id: Some("371521001".into()),
                team_role: Some(TeamRole::Lead),
                villages: vec!["371521001001".into(), "371521001002".into()],
                active: true,
                capacity: 20,
            },
            Person {
                id: "p-0004".into(),
                name: "陈调解员".into(),
                kind: PersonKind::Mediator,
                organization: None,
                phone: None,
                team_township_id: None,
                team_role: None,
                villages: vec![],
                active: false,
                capacity: 0,
            },
        ],
        institutions: Vec::new(),
    }
}

/// A directory the size of Liaocheng: the city, 11 county-level units, 135 townships,
/// 6,405 villages, 135 stations and 1,874 people (every village with one counsel, every
/// township with a team of at least three). Names are made up; the county codes of the
/// eight real counties are real.
pub fn city_directory() -> Directory {
    use UnitLevel::*;
    const COUNTIES: [(&str, &str); 11] = [
        ("371502", "东昌府区"),
        ("371503", "茌平区"),
        ("371521", "阳谷县"),
        ("371522", "莘县"),
        ("371524", "东阿县"),
        ("371525", "冠县"),
        ("371526", "高唐县"),
        ("371581", "临清市"),
        ("371591", "聊城经济技术开发区"),
        ("371592", "聊城高新技术产业开发区"),
        ("371593", "江北水城旅游度假区"),
    ];
    const TOWNSHIPS: usize = 135;
    const VILLAGES: usize = 6_405;
    const PEOPLE: usize = 1_874;
    let mut units = vec![unit("371500", None, City, "聊城市")];
    let mut townships = Vec::with_capacity(TOWNSHIPS);
    for (c, (county, name)) in COUNTIES.iter().enumerate() {
        units.push(unit(county, Some("371500"), County, name));
        // 135 = 11 x 12 + 3: the first three counties get 13.
        let n = TOWNSHIPS / COUNTIES.len() + usize::from(c < TOWNSHIPS % COUNTIES.len());
        for t in 1..=n {
            let id = format!("{county}{t:03}");
            units.push(unit(&id, Some(county), Township, &format!("{name}第{t}街道")));
            townships.push(id);
        }
    }
    let mut villages = Vec::with_capacity(VILLAGES);
    for (i, township) in townships.iter().enumerate() {
        // 6,405 = 135 x 47 + 60: the first sixty townships get 48.
        let n = VILLAGES / TOWNSHIPS + usize::from(i < VILLAGES % TOWNSHIPS);
        for v in 1..=n {
            let id = format!("{township}{v:03}");
            let mut u = unit(&id, Some(township), Village, &format!("第{v}村"));
            u.latitude = Some(36.0 + (i as f64) / 1000.0);
            u.longitude = Some(115.0 + (v as f64) / 1000.0);
            units.push(u);
            villages.push(id);
        }
    }
    let stations = townships.iter().map(|t| station(t, &format!("{t}法律服务工作站"))).collect();
    // One judicial officer leads each township's team; the rest are counsel, dispatched
    // across the city, each sitting on a township team too.
    let counsel = PEOPLE - TOWNSHIPS;
    let mut people: Vec<Person> = (0..PEOPLE)
        .map(|i| {
            let lead = i < TOWNSHIPS;
            Person {
                id: format!("p-{:05}", i + 1),
                name: format!("服务人员{}", i + 1),
                kind: if lead {
                    PersonKind::JudicialOfficer
                } else if i % 3 == 0 {
                    PersonKind::LegalServiceWorker
                } else {
                    PersonKind::Lawyer
                },
                organization: Some(format!("第{}律师事务所", i % 41 + 1)),
                phone: Some(format!("138{:08}", i)),
                team_township_id: Some(townships[i % TOWNSHIPS].clone()),
                team_role: Some(if lead { TeamRole::Lead } else { TeamRole::Member }),
                villages: Vec::new(),
                active: i % 50 != 49,
                capacity: 10,
            }
        })
        .collect();
    for (k, village) in villages.into_iter().enumerate() {
        people[TOWNSHIPS + k % counsel].villages.push(village);
    }
    Directory { units, stations, people, institutions: Vec::new() }
}

async fn all_units(
    store: &dyn Store,
    parent: Option<&str>,
    level: Option<UnitLevel>,
    size: u32,
) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store.list_units(parent, level, &page).await.expect("list_units");
        assert!(p.items.len() <= page.size() as usize);
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

async fn all_people(store: &dyn Store, filter: &PersonFilter, size: u32) -> Vec<Person> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store.list_people(filter, &page).await.expect("list_people");
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|x| id(x).to_owned()).collect()
}

// ---- directory cases -----------------------------------------------------------------

pub async fn directory_import_and_lookup(store: &dyn Store) {
    let dir = small_directory();
    let summary = store.import_directory(&dir).await.expect("import");
    assert_eq!(summary, ImportSummary { units: 11, stations: 3, people: 4, counsel_links: 5 });

    // Units round-trip, floats included.
    for u in &dir.units {
        assert_eq!(&store.get_unit(&u.id).await.expect("get_unit"), u);
    }

    // Listing: top level, children by id, one level, pages.
    let top = store.list_units(None, None, &PageRequest::default()).await.unwrap();
    assert_eq!(ids(&top.items, |u| &u.id), ["371500"]);
    assert_eq!(top.next_cursor, None);
    let counties = all_units(store, Some("371500"), None, 0).await;
    assert_eq!(ids(&counties, |u| &u.id), ["371502", "371521"]);
    let counties = all_units(store, Some("371500"), Some(UnitLevel::County), 0).await;
    assert_eq!(counties.len(), 2);
    assert!(all_units(store, Some("371500"), Some(UnitLevel::Village), 0).await.is_empty());

    let first =
        store.list_units(Some("371502001"), Some(UnitLevel::Village), &PageRequest::first(1)).await.unwrap();
    assert_eq!(ids(&first.items, |u| &u.id), ["371502001001"]);
    let cursor = first.next_cursor.expect("a full page has a cursor");
    let second = store
        .list_units(
            Some("371502001"),
            Some(UnitLevel::Village),
            &PageRequest { limit: 1, cursor: Some(cursor) },
        )
        .await
        .unwrap();
    assert_eq!(ids(&second.items, |u| &u.id), ["371502001002"]);
    let third = store
        .list_units(
            Some("371502001"),
            Some(UnitLevel::Village),
            &PageRequest { limit: 1, cursor: second.next_cursor },
        )
        .await
        .unwrap();
    assert!(third.items.is_empty());
    assert_eq!(third.next_cursor, None);
    let all = all_units(store, Some("371502001"), None, 2).await;
    assert_eq!(ids(&all, |u| &u.id), ["371502001001", "371502001002"]);

    // Places of villages.
    assert_eq!(
        store.village_place("371502001002").await.unwrap(),
        Place {
            county_id: "371502".into(),
            township_id: "371502001".into(),
            village_id: "371502001002".into(),
        }
    );
    assert_eq!(store.village_place("371521001001").await.unwrap(), place("371521001001"));
    assert_not_found(store.village_place("371502001").await, "village", "371502001");
    assert_not_found(store.village_place("371599999999").await, "village", "371599999999");

    // Stations by township.
    assert_eq!(store.get_station("371502002").await.unwrap(), dir.stations[1]);
    assert_not_found(store.get_station("371502001001").await, "station", "371502001001");

    // People, with their villages in the given order.
    for p in &dir.people {
        assert_eq!(&store.get_person(&p.id).await.expect("get_person"), p);
    }

    // Dispatch targets, in one read.
    let status = |unit_exists, person_active| TargetStatus { unit_exists, person_active };
    assert_eq!(store.target_status("371502001", None).await.unwrap(), status(true, None));
    assert_eq!(store.target_status("371599", None).await.unwrap(), status(false, None));
    for p in &dir.people {
        let want = status(true, Some(p.active));
        assert_eq!(store.target_status("371502001", Some(&p.id)).await.unwrap(), want);
    }
    assert!(dir.people.iter().any(|p| !p.active), "the directory has an inactive person");
    assert_eq!(store.target_status("371502001", Some("p-none")).await.unwrap(), status(true, None));
    assert_eq!(store.target_status("371599", Some("p-0001")).await.unwrap(), status(false, Some(true)));

    // A call recorded by its village: the township and county come from the directory.
    let agent = Uuid::new_v4();
    let asked = Call {
        place: Place {
            county_id: String::new(),
            township_id: String::new(),
            village_id: "371502001002".into(),
        },
        ..call(agent, at("2026-11-26T01:00:00Z"), Some("13800138000"))
    };
    let v1 = key(agent, "v-1", "asked");
    let r = store.record_call_in_village(&asked, Some(&v1)).await.expect("record_call_in_village");
    let stored = Call { place: store.village_place("371502001002").await.unwrap(), ..asked.clone() };
    assert_eq!(r, crate::Recorded { value: stored.clone(), created: true });
    assert_eq!(store.get_call(asked.id).await.unwrap(), stored);
    let retry = Call { id: Uuid::new_v4(), ..asked.clone() };
    assert_eq!(
        store.record_call_in_village(&retry, Some(&v1)).await.unwrap(),
        crate::Recorded { value: stored.clone(), created: false }
    );
    let v2 = key(agent, "v-2", "not a village");
    for not_a_village in ["371502001", "371599999999"] {
        let bad = Call {
            id: Uuid::new_v4(),
            place: Place { village_id: not_a_village.into(), ..stored.place.clone() },
            ..asked.clone()
        };
        assert_not_found(store.record_call_in_village(&bad, Some(&v2)).await, "village", not_a_village);
        assert_not_found(store.get_call(bad.id).await, "call", &bad.id.to_string());
    }
    // A request that failed registered nothing: its id is free.
    assert_eq!(store.repeat_of(&v2).await.unwrap(), None);

    // The call and the dispatch target, read together.
    assert_eq!(store.call_and_target(asked.id, None).await.unwrap(), (stored.clone(), None));
    for (unit, person) in [("371502001", None), ("371599", None), ("371502001", Some("p-none"))]
        .into_iter()
        .chain(dir.people.iter().map(|p| ("371502001", Some(p.id.as_str()))))
    {
        let want = store.target_status(unit, person).await.unwrap();
        let got = store.call_and_target(asked.id, Some((unit, person))).await.unwrap();
        assert_eq!(got, (stored.clone(), Some(want)), "{unit} {person:?}");
    }
    let unknown = Uuid::new_v4();
    assert_not_found(
        store.call_and_target(unknown, Some(("371502001", None))).await,
        "call",
        &unknown.to_string(),
    );
    let page = store.list_people(&PersonFilter::default(), &PageRequest::first(2)).await.unwrap();
    assert_eq!(page.items, dir.people[..2].to_vec());
    assert!(page.next_cursor.is_some());
    let everyone = all_people(store, &PersonFilter::default(), 3).await;
    assert_eq!(everyone, dir.people);
    let team = PersonFilter { team_township_id: Some("371502001".into()), ..Default::default() };
    assert_eq!(ids(&all_people(store, &team, 0).await, |p| &p.id), ["p-0001", "p-0002"]);
    let counsel = PersonFilter { village_id: Some("371521001002".into()), ..Default::default() };
    assert_eq!(all_people(store, &counsel, 0).await, vec![dir.people[2].clone()]);
    let active = PersonFilter { active_only: true, ..Default::default() };
    assert_eq!(ids(&all_people(store, &active, 1).await, |p| &p.id), ["p-0001", "p-0002", "p-0003"]);
    let none = PersonFilter {
        village_id: Some("371502001001".into()),
        active_only: true,
        team_township_id: Some("371521001".into()),
    };
    assert!(all_people(store, &none, 0).await.is_empty());
}

pub async fn directory_reimport_updates(store: &dyn Store) {
    let dir = small_directory();
    store.import_directory(&dir).await.expect("import");

    // A part of a directory: references resolve in storage; upserts; village lists replaced.
    let mut renamed = dir.units[1].clone();
    renamed.name = "古楼街道（新）".into();
    let new_village = unit("371502002002", Some("371502002"), UnitLevel::Village, "新村");
    let mut st = dir.stations[0].clone();
    st.phone = None;
    st.address = Some("新址".into());
    let mut p2 = dir.people[1].clone();
    p2.villages = vec!["371502002002".into(), "371502002001".into()];
    p2.team_township_id = None;
    p2.team_role = None;
    p2.capacity = 3;
    let newcomer = Person {
        id: "p-0005".into(),
        name: "新顾问".into(),
        kind: PersonKind::Lawyer,
        organization: None,
        phone: None,
        team_township_id: Some("371521001".into()),
        team_role: Some(TeamRole::Member),
        villages: vec!["371521001002".into()],
        active: true,
        capacity: 5,
    };
    let part = Directory {
        units: vec![renamed.clone(), new_village.clone()],
        stations: vec![st.clone()],
        people: vec![p2.clone(), newcomer.clone()],
        ..Default::default()
    };
    let summary = store.import_directory(&part).await.expect("partial import");
    assert_eq!(summary, ImportSummary { units: 2, stations: 1, people: 2, counsel_links: 3 });

    assert_eq!(store.get_unit("371502001").await.unwrap(), renamed);
    assert_eq!(store.get_unit("371502002002").await.unwrap(), new_village);
    assert_eq!(store.get_station("371502001").await.unwrap(), st);
    assert_eq!(store.get_person("p-0002").await.unwrap(), p2);
    assert_eq!(store.get_person("p-0005").await.unwrap(), newcomer);
    // Untouched records stay as they were.
    assert_eq!(store.get_person("p-0001").await.unwrap(), dir.people[0]);
    assert_eq!(store.get_unit("371502001001").await.unwrap(), dir.units[0]);
    let counsel = PersonFilter { village_id: Some("371521001002".into()), ..Default::default() };
    assert_eq!(ids(&all_people(store, &counsel, 0).await, |p| &p.id), ["p-0003", "p-0005"]);
    assert_eq!(
        ids(&all_units(store, Some("371502002"), None, 0).await, |u| &u.id),
        ["371502002001", "371502002002"]
    );

    // Importing the same directory again changes nothing.
    store.import_directory(&dir).await.expect("re-import");
    for p in &dir.people {
        assert_eq!(&store.get_person(&p.id).await.unwrap(), p);
    }
    assert_eq!(store.get_unit("371502001").await.unwrap(), dir.units[1]);
}

pub async fn directory_invalid_import_writes_nothing(store: &dyn Store) {
    // A reference that resolves nowhere: the whole batch is refused.
    let mut dir = small_directory();
    dir.people[1].villages = vec!["371502009999".into()];
    let msg = assert_invalid(store.import_directory(&dir).await);
    assert_eq!(msg, "people[1].villages[0]: village `371502009999` not found");
    assert_not_found(store.get_unit("371500").await, "unit", "371500");
    assert!(store.list_units(None, None, &PageRequest::default()).await.unwrap().items.is_empty());
    assert!(all_people(store, &PersonFilter::default(), 0).await.is_empty());

    // Levels that do not fit.
    let mut dir = small_directory();
    dir.units[0].parent_id = Some("371502".into());
    let msg = assert_invalid(store.import_directory(&dir).await);
    assert_eq!(msg, "units[0].parent_id: `371502` is a county; a village's parent must be a township");
    let mut dir = small_directory();
    dir.stations[2].township_id = "371521001001".into();
    let msg = assert_invalid(store.import_directory(&dir).await);
    assert_eq!(msg, "stations[2].township_id: `371521001001` is a village, not a township");
    assert_not_found(store.get_unit("371500").await, "unit", "371500");

    // Now store a good directory; bad parts must leave it as it is.
    let good = small_directory();
    store.import_directory(&good).await.expect("import");

    let bad = Directory {
        units: vec![unit("371502001003", Some("371502001"), UnitLevel::Village, "新村")],
        people: vec![Person { villages: vec!["371502001".into()], ..good.people[0].clone() }],
        ..Default::default()
    };
    let msg = assert_invalid(store.import_directory(&bad).await);
    assert_eq!(msg, "people[0].villages[0]: `371502001` is a township, not a village");
    assert_not_found(store.get_unit("371502001003").await, "unit", "371502001003");
    assert_eq!(store.get_person("p-0001").await.unwrap(), good.people[0]);

    // A second station for a township that has one.
    let bad = Directory {
        stations: vec![Station { id: "another".into(), ..good.stations[0].clone() }],
        ..Default::default()
    };
    let msg = assert_invalid(store.import_directory(&bad).await);
    assert_eq!(msg, "stations[0].township_id: township `371502001` already has station `st-371502001`");
    assert_eq!(store.get_station("371502001").await.unwrap(), good.stations[0]);

    // A level change that would strand stored children: county 371521 as a township
    // (under a county, so the batch itself fits) would put township 371521001 under a
    // township.
    let bad = Directory {
        units: vec![unit("371521", Some("371502"), UnitLevel::Township, "阳谷县")],
        ..Default::default()
    };
    let msg = assert_invalid(store.import_directory(&bad).await);
    assert!(msg.contains("371521001"), "{msg}");
    assert_eq!(store.get_unit("371521").await.unwrap(), good.units[4]);

    // The same id twice.
    let bad =
        Directory { people: vec![good.people[3].clone(), good.people[3].clone()], ..Default::default() };
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "people[1].id: person `p-0004` appears twice"
    );

    // Storage is exactly the good directory.
    for p in &good.people {
        assert_eq!(&store.get_person(&p.id).await.unwrap(), p);
    }
    for u in &good.units {
        assert_eq!(&store.get_unit(&u.id).await.unwrap(), u);
    }
}

pub async fn directory_full_city_import(store: &dyn Store) {
    let dir = city_directory();
    let expected = ImportSummary { units: 6_552, stations: 135, people: 1_874, counsel_links: 6_405 };
    assert_eq!(store.import_directory(&dir).await.expect("import a city"), expected);
    assert_eq!(all_units(store, Some("371500"), Some(UnitLevel::County), 0).await.len(), 11);
    assert_eq!(all_units(store, Some("371502"), None, 5).await.len(), 13);
    assert_eq!(all_units(store, Some("371593"), None, 500).await.len(), 12);
    assert_eq!(all_units(store, Some("371502013"), None, 0).await.len(), 48);
    assert_eq!(store.village_place("371593012047").await.unwrap(), place("371593012047"));
    let p = store.get_person("p-01874").await.unwrap();
    assert_eq!(p, dir.people[1_873]);
    let counsel = PersonFilter { village_id: Some("371581005030".into()), ..Default::default() };
    assert_eq!(all_people(store, &counsel, 0).await.len(), 1);
    assert_eq!(all_people(store, &PersonFilter::default(), 500).await.len(), 1_874);
    // Importing it again is all updates.
    assert_eq!(store.import_directory(&dir).await.expect("re-import a city"), expected);
    assert_eq!(store.get_person("p-01874").await.unwrap(), p);
}

// ---- users ------------------------------------------------------------------------

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

// ---- calls ------------------------------------------------------------------------

pub(crate) fn call(agent: Uuid, call_time: DateTime<Utc>, caller_phone: Option<&str>) -> Call {
    Call {
        id: Uuid::new_v4(),
        telephony_call_id: Some(format!("cti-{}", call_time.timestamp_micros())),
        channel: Channel::Phone,
        call_time,
        agent_id: agent,
        caller: Caller {
            name: caller_phone.map(|_| "张三".to_owned()),
            phone: caller_phone.map(phone),
            anonymous: caller_phone.is_none(),
            confidential: false,
            id_number: None,
        },
        place: place("371502001001"),
        category: Category::Consultation,
        subcategory: Subcategory::LabourWages,
        urgency: Urgency::Normal,
        summary: "工资被拖欠三个月，咨询如何维权".into(),
        answer: Some("可向劳动监察大队投诉，或申请劳动仲裁".into()),
        amount_in_dispute: Some(dec("12000.50")),
        created_at: call_time + mins(3),
        suggestion: Some(crate::CallSuggestion {
            category: Category::Consultation,
            second_category: Some(Category::LegalAid),
            subcategory: Subcategory::LabourWages,
        }),
    }
}

pub async fn calls_labelled_and_acceptance(store: &dyn Store) {
    use crate::{CallSuggestion, SuggestionFilter};
    let agent = Uuid::new_v4();
    let suggest = |category, second, subcategory| {
        Some(CallSuggestion { category, second_category: second, subcategory })
    };
    let base = call(agent, at("2026-11-26T01:00:00Z"), None);
    let calls = [
        // Suggested first and right, subcategory right.
        Call { id: Uuid::new_v4(), created_at: at("2026-11-26T01:00:00Z"), ..base.clone() },
        // The agent chose the runner-up.
        Call {
            id: Uuid::new_v4(),
            created_at: at("2026-11-26T02:00:00Z"),
            category: Category::LegalAid,
            subcategory: Subcategory::Other,
            ..base.clone()
        },
        // Neither category suggested; another county.
        Call {
            id: Uuid::new_v4(),
            created_at: at("2026-11-27T01:00:00Z"),
            category: Category::Mediation,
            place: Place { county_id: "371521".into(), ..base.place.clone() },
            suggestion: suggest(Category::LegalEducation, None, Subcategory::LabourWages),
            ..base.clone()
        },
        // Recorded without a suggestion: learned from, not counted.
        Call { id: Uuid::new_v4(), created_at: at("2026-11-27T02:00:00Z"), suggestion: None, ..base.clone() },
    ];
    for c in &calls {
        store.record_call(c, None).await.unwrap();
    }
    assert_eq!(store.get_call(calls[3].id).await.unwrap().suggestion, None);

    // Creation order, resumable from any cursor.
    let all = store.labelled_calls(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|l| l.cursor.id).collect::<Vec<_>>(),
        calls.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    assert_eq!(all[1].category, Category::LegalAid);
    assert_eq!(all[1].summary, base.summary);
    let rest = store.labelled_calls(Some(all[1].cursor), 1).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].cursor.id, calls[2].id);
    assert!(store.labelled_calls(Some(all[3].cursor), 10).await.unwrap().is_empty());

    let acc = store.suggestion_acceptance(&SuggestionFilter::default()).await.unwrap();
    let by = |c| acc.iter().find(|a| a.category == c).copied().unwrap();
    assert_eq!(acc.len(), 3);
    let consult = by(Category::Consultation);
    assert_eq!(
        (consult.calls, consult.suggested_first, consult.in_top_two, consult.subcategory_first),
        (1, 1, 1, 1)
    );
    let aid = by(Category::LegalAid);
    assert_eq!((aid.calls, aid.suggested_first, aid.in_top_two, aid.subcategory_first), (1, 0, 1, 0));
    let med = by(Category::Mediation);
    assert_eq!((med.calls, med.suggested_first, med.in_top_two, med.subcategory_first), (1, 0, 0, 1));

    let one_county = SuggestionFilter { county_id: Some("371521".into()), ..Default::default() };
    let acc = store.suggestion_acceptance(&one_county).await.unwrap();
    assert_eq!(acc.iter().map(|a| a.category).collect::<Vec<_>>(), vec![Category::Mediation]);
    let first_day = SuggestionFilter {
        created_from: Some(at("2026-11-26T00:00:00Z")),
        created_to: Some(at("2026-11-26T02:00:00Z")),
        ..Default::default()
    };
    let acc = store.suggestion_acceptance(&first_day).await.unwrap();
    assert_eq!(
        acc.iter().map(|a| (a.category, a.calls)).collect::<Vec<_>>(),
        vec![(Category::Consultation, 1)]
    );
}

pub async fn calls_record_and_idempotency(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let first = call(agent, at("2026-11-26T01:00:00.000001Z"), Some("13800138000"));
    let req1 = key(agent, "req-1", "first");
    let r = store.record_call(&first, Some(&req1)).await.unwrap();
    assert_eq!(r, crate::Recorded { value: first.clone(), created: true });
    assert_eq!(store.get_call(first.id).await.unwrap(), first);
    assert_eq!(store.repeat_of(&req1).await.unwrap(), Some(Wrote::Call(first.id)));

    // A repeat of the request returns the first call and writes nothing (the server
    // gives each attempt a new call id).
    let retry = Call { id: Uuid::new_v4(), ..first.clone() };
    let r = store.record_call(&retry, Some(&req1)).await.unwrap();
    assert!(!r.created);
    assert_eq!(r.value, first);
    assert_not_found(store.get_call(retry.id).await, "call", &retry.id.to_string());

    // The id with another request is refused and writes nothing.
    let other_request = Call { id: Uuid::new_v4(), summary: "不同的内容".into(), ..first.clone() };
    assert_reused(store.record_call(&other_request, Some(&key(agent, "req-1", "other"))).await, "req-1");
    assert_not_found(store.get_call(other_request.id).await, "call", &other_request.id.to_string());

    // The request id is per user.
    let someone = Uuid::new_v4();
    let other = call(someone, at("2026-11-26T01:05:00Z"), None);
    let r = store.record_call(&other, Some(&key(someone, "req-1", "other"))).await.unwrap();
    assert!(r.created);
    assert_eq!(store.get_call(other.id).await.unwrap(), other);

    // Without a request id every call is new; the same call id twice is a conflict.
    let a = call(agent, at("2026-11-26T02:00:00Z"), Some("0635-8241234"));
    let b = Call { id: Uuid::new_v4(), ..a.clone() };
    assert!(store.record_call(&a, None).await.unwrap().created);
    assert!(store.record_call(&b, None).await.unwrap().created);
    assert_conflict(store.record_call(&a, None).await);
    let minimal = Call {
        telephony_call_id: None,
        answer: None,
        amount_in_dispute: None,
        caller: Caller::default(),
        ..call(agent, at("2026-11-26T03:00:00Z"), None)
    };
    store.record_call(&minimal, None).await.unwrap();
    assert_eq!(store.get_call(minimal.id).await.unwrap(), minimal);

    // Two repeats racing: one stores, both get the same call.
    let c1 = call(agent, at("2026-11-26T04:00:00Z"), Some("13900139000"));
    let c2 = Call { id: Uuid::new_v4(), ..c1.clone() };
    let race = key(agent, "req-race", "race");
    let results =
        join_all(vec![store.record_call(&c1, Some(&race)), store.record_call(&c2, Some(&race))]).await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("racing record_call")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1, "exactly one stored");
    assert_eq!(results[0].value, results[1].value);
    let (calls, _) = store.caller_history(&phone("13900139000"), 10).await.unwrap();
    assert_eq!(calls.len(), 1);

    // Two different requests racing with one id: one stores, the other is refused.
    let d1 = call(agent, at("2026-11-26T05:00:00Z"), Some("13700137000"));
    let d2 = Call { id: Uuid::new_v4(), summary: "另一个来电".into(), ..d1.clone() };
    let results = join_all(vec![
        store.record_call(&d1, Some(&key(agent, "req-two", "d1"))),
        store.record_call(&d2, Some(&key(agent, "req-two", "d2"))),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(r) if r.created)).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_eq!(refused.len(), 1);
    assert_reused(refused.into_iter().next().unwrap(), "req-two");
    let (calls, _) = store.caller_history(&phone("13700137000"), 10).await.unwrap();
    assert_eq!(calls.len(), 1);
}

// ---- work orders --------------------------------------------------------------------

/// A registered order with the usual fields set.
pub fn basic_order(created_by: Uuid, created_at: DateTime<Utc>, village: &str) -> WorkOrder {
    WorkOrder {
        id: Uuid::new_v4(),
        number: String::new(),
        version: 1,
        state: State::Registered,
        call_id: None,
        channel: Channel::Phone,
        caller: Caller {
            name: Some("张三".into()),
            phone: Some(phone("13800138000")),
            anonymous: false,
            confidential: false,
            id_number: None,
        },
        place: place(village),
        category: Category::Consultation,
        subcategory: Subcategory::LabourWages,
        urgency: Urgency::Normal,
        complex: false,
        description: "工资被拖欠，需要律师上门".into(),
        agent_answer: None,
        amount_in_dispute: None,
        target: None,
        deadlines: Deadlines { dispatch_due: Some(created_at + TimeDelta::days(1)), ..Default::default() },
        dispatched_at: None,
        signed_off_at: None,
        replied_at: None,
        closed_at: None,
        archived_at: None,
        pending_return: None,
        pending_extension: None,
        result: None,
        callback: None,
        cancel_reason: None,
        return_count: 0,
        extension_count: 0,
        redo_count: 0,
        dissatisfied_count: 0,
        created_by,
        created_at,
        updated_at: created_at,
    }
}

/// An order with every optional part present.
pub fn full_order(created_by: Uuid, created_at: DateTime<Utc>) -> WorkOrder {
    let t = |m: i64| created_at + mins(m);
    WorkOrder {
        id: Uuid::new_v4(),
        number: "ignored".into(),
        version: 1,
        state: State::ExtensionUnderReview,
        call_id: Some(Uuid::new_v4()),
        channel: Channel::Wechat,
        caller: Caller {
            name: Some("李四".into()),
            phone: Some(phone("0635-8241234")),
            anonymous: false,
            confidential: true,
            id_number: Some(hotline_domain::IdNumber::parse("id", "11010519491231002X").unwrap()),
        },
        place: place("371502001001"),
        category: Category::Mediation,
        subcategory: Subcategory::LandContract,
        urgency: Urgency::Urgent,
        complex: true,
        description: "土地承包合同纠纷，涉及金额较大。\n第二行 \"quoted\" 'text' \\ backslash".into(),
        agent_answer: Some("已告知调解程序".into()),
        amount_in_dispute: Some(dec("8200000.00")),
        target: Some(Target { unit_id: "371502001".into(), assignee_id: Some("p-0001".into()) }),
        deadlines: Deadlines {
            dispatch_due: Some(t(60)),
            sign_off_due: Some(t(1_440)),
            reply_due: Some(t(10_080)),
            callback_due: Some(t(20_000)),
            redo_due: Some(t(30_000)),
        },
        dispatched_at: Some(t(5)),
        signed_off_at: Some(t(30)),
        replied_at: Some(t(40)),
        closed_at: Some(t(50)),
        archived_at: Some(t(55)),
        pending_return: Some(ReturnRequest {
            reason: ReturnReason::NotOurRemit,
            note: Some("不属于本所职责".into()),
            at: t(20),
        }),
        pending_extension: Some(ExtensionRequest {
            days: 10, reason: "需要调查取证".into(), at: t(35)
        }),
        result: Some(HandlingResult {
            contacted_at: Some(t(31)),
            resolved: false,
            unresolved_reason: Some("对方拒绝调解".into()),
            notes: "已两次上门".into(),
            amount_recovered: Some(dec("1234.56")),
        }),
        callback: Some(Callback {
            at: t(45),
            method: CallbackMethod::Visit,
            satisfaction: Satisfaction::BasicallySatisfied,
            note: Some("基本满意".into()),
        }),
        cancel_reason: Some(CancelReason::Duplicate),
        return_count: 2,
        extension_count: 1,
        redo_count: 3,
        dissatisfied_count: 1,
        created_by,
        created_at,
        updated_at: t(56),
    }
}

pub fn created_event(order: &WorkOrder) -> EventDraft {
    EventDraft {
        kind: EventKind::Created,
        actor_id: order.created_by,
        actor_role: Role::SeatAgent,
        at: order.created_at,
        from_state: None,
        to_state: order.state,
        // As the domain drafts it: storage fills the number in when it assigns it.
        payload: serde_json::json!({ "number": order.number, "channel": order.channel, "category": order.category }),
    }
}

pub fn event_for(
    before: &WorkOrder,
    after: &WorkOrder,
    kind: EventKind,
    actor: Uuid,
    role: Role,
) -> EventDraft {
    EventDraft {
        kind,
        actor_id: actor,
        actor_role: role,
        at: after.updated_at,
        from_state: Some(before.state),
        to_state: after.state,
        payload: serde_json::json!({ "version": after.version, "note": "备注", "n": 1.5, "list": [1, 2] }),
    }
}

/// `order` moved on: the next version, a state, a later update time.
pub fn moved(order: &WorkOrder, state: State, m: i64) -> WorkOrder {
    WorkOrder { version: order.version + 1, state, updated_at: order.updated_at + mins(m), ..order.clone() }
}

#[track_caller]
fn assert_event(e: &Event, order_id: Uuid, seq: i64, draft: &EventDraft) {
    assert_eq!(e.order_id, order_id);
    assert_eq!(e.seq, seq);
    assert_eq!(
        (e.kind, e.actor_id, e.actor_role, e.at, e.from_state, e.to_state, &e.payload),
        (
            draft.kind,
            draft.actor_id,
            draft.actor_role,
            draft.at,
            draft.from_state,
            draft.to_state,
            &draft.payload
        )
    );
}

pub(crate) async fn create(store: &dyn Store, order: &WorkOrder) -> (WorkOrder, Event) {
    let r = store.create_order(order, &[created_event(order)], None).await.expect("create_order");
    assert!(r.created);
    let (order, mut events) = r.value;
    assert_eq!(events.len(), 1);
    (order, events.remove(0))
}

pub async fn orders_numbering(store: &dyn Store) {
    let agent = Uuid::new_v4();
    // 09:00 and 23:59:59 in Shanghai on 26 November, then 00:30 on the 27th (still the
    // 26th in UTC).
    let a = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let b = basic_order(agent, at("2026-11-26T15:59:59.999999Z"), "371502001001");
    let c = WorkOrder {
        number: "GD-ignored".into(),
        ..basic_order(agent, at("2026-11-26T16:30:00Z"), "371502001001")
    };
    let (a1, _) = create(store, &a).await;
    let (b1, _) = create(store, &b).await;
    let (c1, ce) = create(store, &c).await;
    assert_eq!(a1.number, "GD20261126000001");
    assert_eq!(b1.number, "GD20261126000002");
    assert_eq!(c1.number, "GD20261127000001");
    assert_eq!(c1.version, 1, "a new order is at version 1");
    assert_eq!(ce.seq, 1);
    // The creation event names the number storage assigned, as returned and as stored.
    assert_eq!(ce.payload["number"], "GD20261127000001");
    assert_eq!(store.order_events(c1.id).await.unwrap(), vec![ce.clone()]);
    assert_eq!(c1, WorkOrder { number: c1.number.clone(), version: 1, ..c });
    assert_eq!(store.get_order_by_number("GD20261126000002").await.unwrap(), b1);

    // Creations racing on one day get distinct numbers, 1..=n.
    let orders: Vec<WorkOrder> =
        (0..8).map(|i| basic_order(agent, at("2026-11-28T02:00:00Z") + mins(i), "371502001002")).collect();
    let events: Vec<EventDraft> = orders.iter().map(created_event).collect();
    let results = join_all(
        orders
            .iter()
            .zip(&events)
            .map(|(o, e)| store.create_order(o, std::slice::from_ref(e), None))
            .collect(),
    )
    .await;
    let mut numbers: Vec<String> =
        results.into_iter().map(|r| r.expect("racing create_order").value.0.number).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|i| format!("GD20261128{i:06}")).collect();
    assert_eq!(numbers, expected);
}

/// Many creations at once (which PostgreSQL writes in groups): across two days, with
/// two events each, and two attempts sharing one request id. Each answer is what storage
/// then holds, each day's numbers are 1..=n, and the shared request id stores one order.
pub async fn orders_created_together(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let mut jobs = Vec::new();
    for i in 0..40i64 {
        // Twenty on 29 November (Shanghai), then twenty on the 30th.
        let t = at("2026-11-29T02:00:00Z") + TimeDelta::days(i / 20) + mins(i);
        let registered = basic_order(agent, t, "371502001001");
        let dispatched = moved(&registered, State::AwaitingSignOff, 0);
        let drafts = vec![
            created_event(&registered),
            event_for(&registered, &dispatched, EventKind::Dispatched, agent, Role::SeatAgent),
        ];
        let request = match i {
            7 | 8 => key(agent, "shared", "shared"),
            _ => key(agent, &format!("together-{i}"), &format!("order {i}")),
        };
        jobs.push((dispatched, drafts, request));
    }
    let results = join_all(
        jobs.iter()
            .map(|(order, drafts, request)| store.create_order(order, drafts, Some(request)))
            .collect(),
    )
    .await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("create_order")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 39, "the shared request id stored once");
    assert_eq!(results[7].value, results[8].value, "both attempts answer with the stored order");
    let mut numbers = Vec::new();
    for (r, (_, drafts, _)) in results.iter().zip(&jobs) {
        let (order, events) = &r.value;
        assert_eq!(&store.get_order(order.id).await.unwrap(), order);
        assert_eq!(&store.order_events(order.id).await.unwrap(), events);
        assert_eq!(order.version, 2);
        if r.created {
            assert_event(&events[0], order.id, 1, &drafts[0].numbered(&order.number));
            assert_event(&events[1], order.id, 2, &drafts[1]);
            assert_eq!(
                events[0].payload["number"],
                order.number.as_str(),
                "the creation event names the number"
            );
            numbers.push(order.number.clone());
        }
    }
    numbers.sort();
    // 20 orders a day, less the one of the shared pair that was not stored.
    for day in ["20261129", "20261130"] {
        let of_day: Vec<&String> = numbers.iter().filter(|n| n[2..10] == *day).collect();
        assert!(of_day.len() == 19 || of_day.len() == 20, "{day}: {of_day:?}");
        let want: Vec<String> = (1..=of_day.len()).map(|i| format!("GD{day}{i:06}")).collect();
        assert_eq!(of_day, want.iter().collect::<Vec<_>>(), "{day} numbered 1..=n without gaps");
    }
    assert_eq!(numbers.len(), 39);
}

pub async fn orders_create_idempotency(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let req1 = key(agent, "req-1", "create");
    let first = store.create_order(&order, &[created_event(&order)], Some(&req1)).await.unwrap();
    assert!(first.created);
    let (stored, events) = first.value.clone();
    let event = events[0].clone();
    assert_eq!(event.seq, 1);
    assert_eq!(store.repeat_of(&req1).await.unwrap(), Some(Wrote::Order(stored.id)));

    // A repeat of the request (the server gives each attempt a new order id): the first
    // order, no writes.
    let retry = WorkOrder { id: Uuid::new_v4(), ..order.clone() };
    let again = store.create_order(&retry, &[created_event(&retry)], Some(&req1)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.value, (stored.clone(), vec![event.clone()]));
    assert_not_found(store.get_order(retry.id).await, "work order", &retry.id.to_string());
    assert_eq!(store.order_events(stored.id).await.unwrap(), vec![event.clone()]);

    // The id with another request is refused and writes nothing.
    let another = WorkOrder { id: Uuid::new_v4(), description: "另一单".into(), ..order.clone() };
    let (drafts, request) = ([created_event(&another)], key(agent, "req-1", "another"));
    assert_reused(store.create_order(&another, &drafts, Some(&request)).await, "req-1");
    assert_not_found(store.get_order(another.id).await, "work order", &another.id.to_string());
    assert_eq!(store.order_events(stored.id).await.unwrap(), vec![event]);

    // Another creator's same request id is another request.
    let creator = Uuid::new_v4();
    let other = basic_order(creator, at("2026-11-26T01:00:00Z"), "371502001001");
    let (drafts, request) = ([created_event(&other)], key(creator, "req-1", "create"));
    let r = store.create_order(&other, &drafts, Some(&request)).await.unwrap();
    assert!(r.created);
    assert_eq!(r.value.0.number, "GD20261126000002", "a repeat or a refusal takes no number");

    // Two repeats racing: exactly one order.
    let x = basic_order(agent, at("2026-11-26T02:00:00Z"), "371502001002");
    let y = WorkOrder { id: Uuid::new_v4(), ..x.clone() };
    let (ex, ey) = (created_event(&x), created_event(&y));
    let race = key(agent, "req-race", "race");
    let results = join_all(vec![
        store.create_order(&x, std::slice::from_ref(&ex), Some(&race)),
        store.create_order(&y, std::slice::from_ref(&ey), Some(&race)),
    ])
    .await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("racing create_order")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1, "exactly one created");
    assert_eq!(results[0].value, results[1].value);
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(results[0].value.0.number, "GD20261126000003");

    // Two different requests racing with one id: one order, the other refused.
    let p = basic_order(agent, at("2026-11-26T03:00:00Z"), "371502001002");
    let q = basic_order(agent, at("2026-11-26T03:00:00Z"), "371502001001");
    let (ep, eq) = (created_event(&p), created_event(&q));
    let results = join_all(vec![
        store.create_order(&p, std::slice::from_ref(&ep), Some(&key(agent, "req-two", "p"))),
        store.create_order(&q, std::slice::from_ref(&eq), Some(&key(agent, "req-two", "q"))),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(r) if r.created)).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_eq!(refused.len(), 1);
    assert_reused(refused.into_iter().next().unwrap(), "req-two");
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items.len(), 4);
    assert_eq!(all.items[0].number, "GD20261126000004", "the refused one took no number");
}

pub async fn orders_create_with_dispatch(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let registered = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let dispatched = moved(&registered, State::AwaitingSignOff, 0);
    let drafts = [
        created_event(&registered),
        event_for(&registered, &dispatched, EventKind::Dispatched, agent, Role::SeatAgent),
    ];
    // The version must match the events given.
    assert!(matches!(store.create_order(&registered, &drafts, None).await, Err(StoreError::Other(_))));
    let request = key(agent, "with-dispatch", "dispatched");
    let r = store.create_order(&dispatched, &drafts, Some(&request)).await.unwrap();
    assert!(r.created);
    let (stored, events) = r.value;
    assert_eq!(stored.version, 2);
    assert_eq!(stored.state, State::AwaitingSignOff);
    assert_eq!(events.len(), 2);
    assert_event(&events[0], stored.id, 1, &drafts[0].numbered(&stored.number));
    assert_event(&events[1], stored.id, 2, &drafts[1]);
    assert_eq!(store.order_events(stored.id).await.unwrap(), events);
    let again = store.create_order(&dispatched, &drafts, Some(&request)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.value, (stored, events));
}

pub async fn orders_round_trip(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let order = full_order(agent, at("2026-11-26T01:02:03.123456Z"));
    let draft = created_event(&order);
    let r = store.create_order(&order, std::slice::from_ref(&draft), Some(&key(agent, "full", "full"))).await;
    let r = r.unwrap();
    let (stored, mut events) = r.value;
    let event = events.remove(0);
    assert_eq!(stored, WorkOrder { number: "GD20261126000001".into(), version: 1, ..order.clone() });
    assert_event(&event, order.id, 1, &draft.numbered(&stored.number));

    let read = store.get_order(order.id).await.unwrap();
    assert_eq!(read, stored, "every field round-trips");
    assert_eq!(read.amount_in_dispute.unwrap().to_string(), "8200000.00");
    assert_eq!(read.result.as_ref().unwrap().amount_recovered.unwrap().to_string(), "1234.56");
    assert!(read.caller.confidential);
    assert_eq!(read.caller.phone.as_ref().unwrap().expose(), "06358241234");
    assert_eq!(store.get_order_by_number(&stored.number).await.unwrap(), stored);
    assert_eq!(store.order_events(order.id).await.unwrap(), vec![event.clone()]);
    let listed = store.list_orders(&OrderFilter::default(), &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items, vec![stored.clone()]);

    // An order with every optional part absent, from an anonymous caller.
    let mut bare = basic_order(agent, at("2026-11-26T01:02:03.999999Z"), "371521001002");
    bare.caller = Caller { name: None, phone: None, anonymous: true, confidential: false, id_number: None };
    bare.deadlines = Deadlines::default();
    bare.channel = Channel::WalkIn;
    let (bare_stored, _) = create(store, &bare).await;
    assert_eq!(store.get_order(bare.id).await.unwrap(), bare_stored);

    // A transition can change every field; they all round-trip.
    let mut next = full_order(Uuid::new_v4(), at("2026-01-01T00:00:00Z"));
    next.id = bare.id;
    next.number = bare_stored.number.clone();
    next.created_by = bare.created_by;
    next.created_at = bare.created_at;
    next.version = 2;
    next.amount_in_dispute = Some(dec("0.00"));
    next.result.as_mut().unwrap().amount_recovered = Some(dec("99999999999.99"));
    next.result.as_mut().unwrap().resolved = true;
    let e = event_for(&bare_stored, &next, EventKind::Replied, Uuid::new_v4(), Role::Counsel);
    store.save_transition(1, &next, &e, None, None).await.unwrap();
    let read = store.get_order(bare.id).await.unwrap();
    assert_eq!(read, next);
    assert_eq!(read.amount_in_dispute.unwrap().to_string(), "0.00");

    // And back to absent.
    let mut back = bare_stored.clone();
    back.version = 3;
    let e = event_for(&next, &back, EventKind::Dispatched, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(2, &back, &e, None, None).await.unwrap();
    assert_eq!(store.get_order(bare.id).await.unwrap(), back);
}

pub async fn orders_save_transition_version_check(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let dispatcher = Uuid::new_v4();
    let counsel = Uuid::new_v4();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let (v1, created) = create(store, &order).await;

    let mut v2 = moved(&v1, State::AwaitingSignOff, 10);
    v2.target = Some(Target { unit_id: "371502001001".into(), assignee_id: Some("p-0001".into()) });
    v2.dispatched_at = Some(v2.updated_at);
    v2.deadlines.sign_off_due = Some(v2.updated_at + TimeDelta::days(1));
    let e2 = event_for(&v1, &v2, EventKind::Dispatched, dispatcher, Role::Dispatcher);
    let ev2 = store.save_transition(1, &v2, &e2, Some("cmd-1"), None).await.unwrap();
    assert_event(&ev2, order.id, 2, &e2);
    assert_eq!(store.get_order(order.id).await.unwrap(), v2);

    // A writer that decided against version 1 is refused and writes nothing.
    let other = WorkOrder { description: "stale writer".into(), ..moved(&v1, State::Closed, 11) };
    let e = event_for(&v1, &other, EventKind::AnsweredAndClosed, agent, Role::SeatAgent);
    match store.save_transition(1, &other, &e, None, None).await {
        Err(StoreError::Stale { id, expected }) => assert_eq!((id, expected), (order.id, 1)),
        r => panic!("expected Stale, got {r:?}"),
    }
    assert_eq!(store.get_order(order.id).await.unwrap(), v2);

    let mut v3 = moved(&v2, State::InProgress, 20);
    v3.signed_off_at = Some(v3.updated_at);
    v3.deadlines.reply_due = Some(v3.updated_at + TimeDelta::days(7));
    let e3 = event_for(&v2, &v3, EventKind::SignedOff, counsel, Role::Counsel);
    let ev3 = store.save_transition(2, &v3, &e3, Some("cmd-1"), None).await.unwrap();
    assert_event(&ev3, order.id, 3, &e3);

    // The same actor's request id on the same order is one command only.
    let v4 = moved(&v3, State::ReplyUnderReview, 30);
    let e4 = event_for(&v3, &v4, EventKind::Replied, counsel, Role::Counsel);
    assert_conflict(store.save_transition(3, &v4, &e4, Some("cmd-1"), None).await);
    assert_eq!(store.get_order(order.id).await.unwrap(), v3, "a refused transition writes nothing");

    // The history, oldest first, ids increasing.
    let history = store.order_events(order.id).await.unwrap();
    assert_eq!(history, vec![created.clone(), ev2.clone(), ev3.clone()]);
    assert!(created.id < ev2.id && ev2.id < ev3.id);

    // Unknown order.
    let ghost = WorkOrder { id: Uuid::new_v4(), ..v2.clone() };
    assert_not_found(
        store.save_transition(1, &ghost, &e2, None, None).await,
        "work order",
        &ghost.id.to_string(),
    );
    assert_not_found(store.order_events(ghost.id).await, "work order", &ghost.id.to_string());
}

pub async fn orders_concurrent_transitions(store: &dyn Store) {
    let order = basic_order(Uuid::new_v4(), at("2026-11-26T01:00:00Z"), "371502001001");
    let (mut current, _) = create(store, &order).await;
    for round in 0..5 {
        let a = WorkOrder {
            description: format!("writer a, round {round}"),
            ..moved(&current, State::Registered, 1)
        };
        let b = WorkOrder {
            description: format!("writer b, round {round}"),
            ..moved(&current, State::Registered, 2)
        };
        let ea = event_for(&current, &a, EventKind::Escalated, Uuid::new_v4(), Role::System);
        let eb = event_for(&current, &b, EventKind::Supervised, Uuid::new_v4(), Role::CountyManager);
        let expected = current.version;
        let results = join_all(vec![
            store.save_transition(expected, &a, &ea, None, None),
            store.save_transition(expected, &b, &eb, None, None),
        ])
        .await;
        let ok: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(ok.len(), 1, "round {round}: exactly one writer wins: {results:?}");
        let loser = 1 - ok[0];
        match &results[loser] {
            Err(StoreError::Stale { id, expected: e }) => assert_eq!((*id, *e), (order.id, expected)),
            r => panic!("round {round}: expected Stale, got {r:?}"),
        }
        let winner = if ok[0] == 0 { a } else { b };
        let stored = store.get_order(order.id).await.unwrap();
        assert_eq!(stored, winner);
        let history = store.order_events(order.id).await.unwrap();
        assert_eq!(history.len() as i64, winner.version, "one event per version");
        assert_eq!(history.last().unwrap().seq, winner.version);
        current = winner;
    }
}

pub async fn orders_action_request_ids(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let counsel = Uuid::new_v4();
    let (a1, _) = create(store, &basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001")).await;
    let (b1, _) = create(store, &basic_order(agent, at("2026-11-26T01:01:00Z"), "371502001001")).await;

    // An action registers its request with its event.
    let a2 = moved(&a1, State::AwaitingSignOff, 5);
    let sign_off_a = key(counsel, "t-1", "sign off a");
    let ev = store
        .save_transition(
            1,
            &a2,
            &event_for(&a1, &a2, EventKind::SignedOff, counsel, Role::Counsel),
            None,
            Some(&sign_off_a),
        )
        .await
        .unwrap();
    assert_eq!(
        store.repeat_of(&sign_off_a).await.unwrap(),
        Some(Wrote::Action { order_id: a1.id, event_id: ev.id })
    );
    assert_eq!(store.repeat_of(&key(agent, "t-1", "sign off a")).await.unwrap(), None, "per user");
    assert_eq!(store.repeat_of(&key(counsel, "t-2", "sign off a")).await.unwrap(), None);

    // The id with another action, on another order, is refused and writes nothing.
    let b2 = moved(&b1, State::AwaitingSignOff, 5);
    let eb = event_for(&b1, &b2, EventKind::SignedOff, counsel, Role::Counsel);
    assert_reused(
        store.save_transition(1, &b2, &eb, None, Some(&key(counsel, "t-1", "sign off b"))).await,
        "t-1",
    );
    assert_eq!(store.get_order(b1.id).await.unwrap(), b1);
    assert_eq!(store.order_events(b1.id).await.unwrap().len(), 1);
    assert_reused(store.repeat_of(&key(counsel, "t-1", "sign off b")).await, "t-1");

    // A transition refused as stale registers nothing: its id is free.
    let stale = key(counsel, "t-3", "stale");
    assert!(matches!(
        store
            .save_transition(
                1,
                &a2,
                &event_for(&a1, &a2, EventKind::SignedOff, counsel, Role::Counsel),
                None,
                Some(&stale)
            )
            .await,
        Err(StoreError::Stale { .. })
    ));
    assert_eq!(store.repeat_of(&stale).await.unwrap(), None);
    store.save_transition(1, &b2, &eb, None, Some(&stale)).await.unwrap();
    assert_eq!(store.get_order(b1.id).await.unwrap(), b2);

    // Two different actions racing with one id, on two orders: exactly one is written.
    let (a3, b3) = (moved(&a2, State::InProgress, 5), moved(&b2, State::InProgress, 5));
    let (ea3, eb3) = (
        event_for(&a2, &a3, EventKind::SignedOff, counsel, Role::Counsel),
        event_for(&b2, &b3, EventKind::SignedOff, counsel, Role::Counsel),
    );
    let (ka, kb) = (key(counsel, "t-race", "a"), key(counsel, "t-race", "b"));
    let results = join_all(vec![
        store.save_transition(2, &a3, &ea3, None, Some(&ka)),
        store.save_transition(2, &b3, &eb3, None, Some(&kb)),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_reused(refused.into_iter().next().unwrap(), "t-race");
    let versions =
        [store.get_order(a1.id).await.unwrap().version, store.get_order(b1.id).await.unwrap().version];
    assert!(versions == [3, 2] || versions == [2, 3], "{versions:?}");
}

/// One id is one request across every kind of write: a call's id is refused for an
/// order, an order's for an action.
pub async fn request_ids_across_writes(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let c = call(agent, at("2026-11-26T01:00:00Z"), Some("13800138000"));
    store.record_call(&c, Some(&key(agent, "one", "record"))).await.unwrap();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    assert_reused(
        store.create_order(&order, &[created_event(&order)], Some(&key(agent, "one", "create"))).await,
        "one",
    );
    assert_not_found(store.get_order(order.id).await, "work order", &order.id.to_string());

    let (v1, _) = create(store, &order).await;
    let v2 = moved(&v1, State::Closed, 5);
    let e = event_for(&v1, &v2, EventKind::AnsweredAndClosed, agent, Role::SeatAgent);
    assert_reused(store.save_transition(1, &v2, &e, None, Some(&key(agent, "one", "answer"))).await, "one");
    assert_eq!(store.get_order(order.id).await.unwrap(), v1);
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(10)).await.unwrap();
    assert_eq!(all.items.len(), 1);
}

/// A varied set of orders for the list cases, created in a shuffled order.
async fn seed_orders(store: &dyn Store) -> Vec<WorkOrder> {
    let agent = Uuid::new_v4();
    let villages = ["371502001001", "371502001002", "371502002001", "371521001001", "371521001002"];
    let base = at("2026-11-20T00:00:00.000001Z");
    let mut orders = Vec::new();
    for i in 0..40i64 {
        // Every fifth order shares its creation time with the one before, so the id
        // breaks ties, also across page boundaries.
        let step = if i % 5 == 4 { i - 1 } else { i };
        let created_at = base + mins(step * 97);
        let mut o = basic_order(agent, created_at, villages[(i as usize * 7) % villages.len()]);
        o.state = State::ALL[i as usize % State::ALL.len()];
        o.category = Category::ALL[(i as usize / 2) % Category::ALL.len()];
        o.caller.phone = Some(phone(&format!("1390000{:04}", i % 3)));
        if i % 3 != 0 {
            let unit = if i % 2 == 0 { o.place.village_id.clone() } else { o.place.township_id.clone() };
            let assignee = (i % 4 != 0).then(|| format!("p-{:04}", i % 4));
            o.target = Some(Target { unit_id: unit, assignee_id: assignee });
        }
        // Deadlines both sides of the overdue instant used below.
        let due = base + mins(i * 200 - 2_000);
        o.deadlines = Deadlines {
            dispatch_due: Some(due),
            sign_off_due: Some(due + mins(30)),
            reply_due: (i % 2 == 0).then_some(due + mins(60)),
            callback_due: Some(due + mins(90)),
            redo_due: Some(due + mins(120)),
        };
        orders.push(o);
    }
    // Store them out of creation order.
    let mut order_of_creation: Vec<usize> = (0..orders.len()).collect();
    order_of_creation.sort_by_key(|i| (i * 17) % orders.len());
    let mut stored = vec![None; orders.len()];
    for i in order_of_creation {
        stored[i] = Some(create(store, &orders[i]).await.0);
    }
    stored.into_iter().map(|o| o.expect("created")).collect()
}

fn matches(o: &WorkOrder, f: &OrderFilter) -> bool {
    let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have == Some(w));
    (f.states.is_empty() || f.states.contains(&o.state))
        && f.category.is_none_or(|c| c == o.category)
        && eq(&f.county_id, Some(&o.place.county_id))
        && eq(&f.township_id, Some(&o.place.township_id))
        && eq(&f.village_id, Some(&o.place.village_id))
        && eq(&f.handling_unit_id, o.target.as_ref().map(|t| t.unit_id.as_str()))
        && eq(&f.assignee_id, o.target.as_ref().and_then(|t| t.assignee_id.as_deref()))
        && f.overdue_at.is_none_or(|now| o.state.is_open() && o.is_overdue(now))
        && f.created_from.is_none_or(|from| o.created_at >= from)
        && f.created_to.is_none_or(|to| o.created_at < to)
}

/// Every page of a listing, checking the cursor rules on the way.
async fn list_all(store: &dyn Store, filter: &OrderFilter, size: u32) -> Vec<WorkOrder> {
    let mut out: Vec<WorkOrder> = Vec::new();
    let mut page = PageRequest::first(size);
    for _ in 0..1_000 {
        let Page { items, next_cursor } = store.list_orders(filter, &page).await.expect("list_orders");
        let full = items.len() == page.size() as usize;
        assert!(items.len() <= page.size() as usize);
        assert_eq!(next_cursor.is_some(), full, "a cursor exactly when the page is full");
        out.extend(items);
        match next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
    panic!("list_orders does not end");
}

fn newest_first(orders: &[WorkOrder], filter: &OrderFilter) -> Vec<Uuid> {
    let mut want: Vec<&WorkOrder> = orders.iter().filter(|o| matches(o, filter)).collect();
    want.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id)));
    want.iter().map(|o| o.id).collect()
}

pub async fn orders_list_filters(store: &dyn Store) {
    let orders = seed_orders(store).await;
    let base = at("2026-11-20T00:00:00.000001Z");
    let overdue_at = base + mins(3_000);
    let filters = vec![
        OrderFilter::default(),
        OrderFilter { states: vec![State::InProgress], ..Default::default() },
        OrderFilter {
            states: vec![State::Registered, State::AwaitingSignOff, State::Closed],
            ..Default::default()
        },
        OrderFilter { category: Some(Category::Mediation), ..Default::default() },
        OrderFilter { county_id: Some("371521".into()), ..Default::default() },
        OrderFilter { township_id: Some("371502001".into()), ..Default::default() },
        OrderFilter { village_id: Some("371502002001".into()), ..Default::default() },
        OrderFilter { handling_unit_id: Some("371502001".into()), ..Default::default() },
        OrderFilter { assignee_id: Some("p-0001".into()), ..Default::default() },
        OrderFilter { overdue_at: Some(overdue_at), ..Default::default() },
        OrderFilter { overdue_at: Some(base - mins(1)), ..Default::default() },
        OrderFilter { created_from: Some(orders[10].created_at), ..Default::default() },
        OrderFilter { created_to: Some(orders[10].created_at), ..Default::default() },
        OrderFilter {
            created_from: Some(orders[4].created_at),
            created_to: Some(orders[30].created_at),
            ..Default::default()
        },
        OrderFilter {
            county_id: Some("371502".into()),
            states: State::ALL.iter().copied().filter(|s| s.is_open()).collect(),
            overdue_at: Some(overdue_at),
            ..Default::default()
        },
        OrderFilter {
            category: Some(Category::Consultation),
            township_id: Some("371521001".into()),
            created_from: Some(base),
            created_to: Some(base + TimeDelta::days(30)),
            ..Default::default()
        },
        OrderFilter { village_id: Some("371599999999".into()), ..Default::default() },
    ];
    for (n, filter) in filters.iter().enumerate() {
        let want = newest_first(&orders, filter);
        let got = list_all(store, filter, 0).await;
        let got_ids: Vec<Uuid> = got.iter().map(|o| o.id).collect();
        assert_eq!(got_ids, want, "filter #{n}: {filter:?}");
        for o in &got {
            assert_eq!(Some(o), orders.iter().find(|x| x.id == o.id), "listed orders are whole");
        }
    }
    // The interesting filters select something, and not everything.
    for n in [9, 10, 14] {
        let selected = newest_first(&orders, &filters[n]).len();
        assert!(selected > 0 && selected < orders.len(), "filter #{n} selects {selected}");
    }
    assert!(newest_first(&orders, &filters[10]).len() < newest_first(&orders, &filters[9]).len());
}

pub async fn orders_list_pagination(store: &dyn Store) {
    let orders = seed_orders(store).await;
    let filters = [
        OrderFilter::default(),
        OrderFilter { county_id: Some("371502".into()), ..Default::default() },
        OrderFilter { states: vec![State::Registered, State::Redo, State::Archived], ..Default::default() },
    ];
    for filter in &filters {
        let want = newest_first(&orders, filter);
        for size in [1, 2, 3, 4, 7, want.len() as u32, 500] {
            let got: Vec<Uuid> = list_all(store, filter, size).await.iter().map(|o| o.id).collect();
            let unique: HashSet<&Uuid> = got.iter().collect();
            assert_eq!(unique.len(), got.len(), "no duplicates (size {size})");
            assert_eq!(got, want, "no gaps, newest first (size {size}, {filter:?})");
        }
    }
    // A cursor keeps its place when newer orders arrive meanwhile.
    let first = store.list_orders(&OrderFilter::default(), &PageRequest::first(10)).await.unwrap();
    let newer = basic_order(Uuid::new_v4(), at("2027-01-01T00:00:00Z"), "371502001001");
    create(store, &newer).await;
    let second = store
        .list_orders(&OrderFilter::default(), &PageRequest { limit: 10, cursor: first.next_cursor })
        .await
        .unwrap();
    let want = newest_first(&orders, &OrderFilter::default());
    let got: Vec<Uuid> = first.items.iter().chain(&second.items).map(|o| o.id).collect();
    assert_eq!(got, want[..20].to_vec());
}

pub async fn orders_overdue_follows_transitions(store: &dyn Store) {
    let now = at("2026-11-26T12:00:00Z");
    let overdue = OrderFilter { overdue_at: Some(now), ..Default::default() };
    let listed = async |store: &dyn Store| -> Vec<Uuid> {
        list_all(store, &overdue, 0).await.iter().map(|o| o.id).collect()
    };
    let mut o = basic_order(Uuid::new_v4(), at("2026-11-20T01:00:00Z"), "371502001001");
    o.deadlines.dispatch_due = Some(at("2026-11-27T01:00:00Z"));
    let (v1, _) = create(store, &o).await;
    assert!(listed(store).await.is_empty(), "dispatch due tomorrow");

    // Dispatched; sign-off was due yesterday: overdue.
    let mut v2 = moved(&v1, State::AwaitingSignOff, 1);
    v2.deadlines.sign_off_due = Some(at("2026-11-25T01:00:00Z"));
    let e = event_for(&v1, &v2, EventKind::Dispatched, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(1, &v2, &e, None, None).await.unwrap();
    assert_eq!(listed(store).await, vec![o.id]);
    assert!(v2.is_overdue(now));

    // Signed off; reply due next week: not overdue.
    let mut v3 = moved(&v2, State::InProgress, 1);
    v3.deadlines.reply_due = Some(at("2026-12-03T01:00:00Z"));
    let e = event_for(&v2, &v3, EventKind::SignedOff, Uuid::new_v4(), Role::Counsel);
    store.save_transition(2, &v3, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());

    // Reply due passed, but replied: the dispatcher's turn, no clock runs.
    let mut v4 = moved(&v3, State::ReplyUnderReview, 1);
    v4.deadlines.reply_due = Some(at("2026-11-21T01:00:00Z"));
    let e = event_for(&v3, &v4, EventKind::Replied, Uuid::new_v4(), Role::Counsel);
    store.save_transition(3, &v4, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());

    // Rejected back to in progress with the reply due passed: overdue again.
    let v5 = moved(&v4, State::InProgress, 1);
    let e = event_for(&v4, &v5, EventKind::ReplyRejected, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(4, &v5, &e, None, None).await.unwrap();
    assert_eq!(listed(store).await, vec![o.id]);
    let at_due = OrderFilter { overdue_at: Some(at("2026-11-21T01:00:00Z")), ..Default::default() };
    assert!(list_all(store, &at_due, 0).await.is_empty(), "due, not yet past due");

    // Closed orders are never overdue.
    let v6 = moved(&v5, State::Closed, 1);
    let e = event_for(&v5, &v6, EventKind::CallbackSatisfied, Uuid::new_v4(), Role::CallbackAgent);
    store.save_transition(5, &v6, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());
}

pub async fn caller_history_by_phone(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let a = "13800138000";
    let calls = [
        call(agent, at("2026-11-20T01:00:00Z"), Some(a)),
        call(agent, at("2026-11-22T01:00:00Z"), Some(a)),
        call(agent, at("2026-11-21T01:00:00Z"), Some("138 0013 8000")),
        call(agent, at("2026-11-23T01:00:00Z"), Some("13900139000")),
        call(agent, at("2026-11-24T01:00:00Z"), None),
    ];
    for c in &calls {
        store.record_call(c, None).await.unwrap();
    }
    let mut orders = Vec::new();
    for (i, p) in [Some(a), Some("13900139000"), Some(a), None].into_iter().enumerate() {
        let mut o =
            basic_order(agent, at("2026-11-20T02:00:00Z") + TimeDelta::days(i as i64), "371502001001");
        o.caller.phone = p.map(phone);
        o.caller.anonymous = p.is_none();
        orders.push(create(store, &o).await.0);
    }

    let (c, o) = store.caller_history(&phone(a), 10).await.unwrap();
    assert_eq!(c, vec![calls[1].clone(), calls[2].clone(), calls[0].clone()], "calls newest first");
    assert_eq!(o, vec![orders[2].clone(), orders[0].clone()], "orders newest first");
    let (c, o) = store.caller_history(&phone(a), 2).await.unwrap();
    assert_eq!((c.len(), o.len()), (2, 2));
    assert_eq!(c[0], calls[1]);
    let (c, o) = store.caller_history(&phone("+86 139-0013-9000"), 10).await.unwrap();
    assert_eq!((c, o), (vec![calls[3].clone()], vec![orders[1].clone()]));
    let (c, o) = store.caller_history(&phone("0635-8241234"), 10).await.unwrap();
    assert!(c.is_empty() && o.is_empty());
}

pub async fn not_found_and_bad_cursors(store: &dyn Store) {
    store.import_directory(&small_directory()).await.unwrap();
    assert_not_found(store.get_unit("x").await, "unit", "x");
    assert_not_found(store.get_station("x").await, "station", "x");
    assert_not_found(store.get_person("x").await, "person", "x");
    assert_not_found(store.village_place("x").await, "village", "x");
    let id = Uuid::new_v4();
    assert_not_found(store.get_user(id).await, "user", &id.to_string());
    assert_not_found(store.get_call(id).await, "call", &id.to_string());
    assert_not_found(store.get_order(id).await, "work order", &id.to_string());
    assert_not_found(store.get_order_by_number("GD20261126000001").await, "work order", "GD20261126000001");
    assert_not_found(store.order_events(id).await, "work order", &id.to_string());

    for cursor in ["not a cursor", "eyJ4IjoxfQ", "!!"] {
        let page = PageRequest { limit: 10, cursor: Some(cursor.into()) };
        assert_bad_cursor(store.list_orders(&OrderFilter::default(), &page).await);
        assert_bad_cursor(store.list_people(&PersonFilter::default(), &page).await);
        assert_bad_cursor(store.list_units(None, None, &page).await);
    }
    // A unit cursor is not an order cursor.
    let units = store.list_units(Some("371500"), None, &PageRequest::first(1)).await.unwrap();
    let page = PageRequest { limit: 10, cursor: units.next_cursor };
    assert_bad_cursor(store.list_orders(&OrderFilter::default(), &page).await);
}

// ---- routing, availability and the map ---------------------------------------------

fn institution(
    id: &str,
    kind: hotline_domain::InstitutionKind,
    county: &str,
    lat: f64,
    lon: f64,
) -> crate::Institution {
    crate::Institution {
        id: id.into(),
        name: format!("{id}名称"),
        kind,
        county_id: county.into(),
        township_id: None,
        village_id: None,
        latitude: lat,
        longitude: lon,
        phone: Some("0635-8241234".into()),
        address: None,
        capacity: Some(20),
    }
}

/// The small directory with a command centre, a law firm and a village mediation committee.
pub fn small_directory_with_institutions() -> Directory {
    use hotline_domain::InstitutionKind::*;
    let mut dir = small_directory();
    let mut committee = institution("i-mc-1", MediationCommittee, "371502", 36.4568, 115.9854);
    committee.township_id = Some("371502001".into());
    committee.village_id = Some("371502001001".into());
    dir.institutions = vec![
        institution("i-cc-371502", CommandCentre, "371502", 36.457, 115.985),
        institution("i-firm-1", LawFirm, "371521", 36.11, 115.79),
        committee,
    ];
    dir
}

pub async fn routing_institutions_import(store: &dyn Store) {
    let v0 = store.directory_version().await.unwrap();
    let dir = small_directory_with_institutions();
    store.import_directory(&dir).await.expect("import");
    let v1 = store.directory_version().await.unwrap();
    assert!(v1 > v0, "an import moves the directory version on");

    let snap = store.routing_snapshot().await.unwrap();
    assert_eq!(snap.version, v1);
    assert_eq!(snap.institutions, dir.institutions, "by id, round-tripped");
    assert_eq!(snap.villages.len(), 5);
    let v = snap.villages.iter().find(|v| v.id == "371502001002").unwrap();
    assert_eq!((v.township_id.as_str(), v.county_id.as_str()), ("371502001", "371502"));
    assert_eq!(snap.village_coords.get("371502001001"), Some(&(36.456_789, 115.985_432)));
    assert_eq!(snap.village_coords.len(), 1);
    assert_eq!(snap.people.len(), 4);
    let p1 = snap.people.iter().find(|p| p.id == "p-0001").unwrap();
    assert!(p1.lead);
    assert_eq!(p1.villages, ["371502001002", "371502001001"]);
    assert_eq!(p1.team_township_id.as_deref(), Some("371502001"));

    // Re-import updates in place.
    let mut again = dir.clone();
    again.institutions[1].name = "新名称".into();
    again.institutions.truncate(2);
    store.import_directory(&again).await.unwrap();
    let snap = store.routing_snapshot().await.unwrap();
    assert_eq!(snap.institutions.len(), 3);
    assert_eq!(snap.institutions[1].name, "新名称");

    // Bad references: refused whole, named.
    let mut bad = small_directory_with_institutions();
    bad.institutions[0].county_id = "371502001".into();
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0].county_id: `371502001` is a township, not a county"
    );
    let mut bad = Directory { institutions: vec![dir.institutions[2].clone()], ..Default::default() };
    bad.institutions[0].village_id = Some("371599999999".into());
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0].village_id: village `371599999999` not found"
    );
    bad.institutions[0].village_id = None;
    bad.institutions[0].latitude = 91.0;
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0]: coordinates out of range"
    );
    let bad = Directory {
        institutions: vec![dir.institutions[0].clone(), dir.institutions[0].clone()],
        ..Default::default()
    };
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[1].id: institution `i-cc-371502` appears twice"
    );
    assert_eq!(store.routing_snapshot().await.unwrap().institutions[1].name, "新名称");
}

pub async fn routing_candidate_status_counts_open_orders_and_leave(store: &dyn Store) {
    use crate::AvailabilityChange;
    store.import_directory(&small_directory()).await.unwrap();
    let now = at("2026-11-26T02:00:00Z");
    let ids: Vec<String> = ["p-0001", "p-0002", "p-0004", "p-nobody"].iter().map(|s| s.to_string()).collect();
    let s = store.candidate_status(&ids, now).await.unwrap();
    assert_eq!(s.len(), 3, "unknown people are left out");
    assert_eq!(
        s["p-0001"],
        hotline_domain::routing::PersonStatus { active: true, on_leave: false, capacity: 12, open_orders: 0 }
    );
    assert!(!s["p-0004"].active);

    // Open orders assigned to p-0001 count; a registered, a closed and another's do not.
    let agent = Uuid::new_v4();
    let assign = |o: &mut WorkOrder, person: &str, state: State| {
        o.target = Some(Target { unit_id: "371502001".into(), assignee_id: Some(person.into()) });
        o.state = state;
    };
    for (i, (person, state)) in [
        ("p-0001", State::AwaitingSignOff),
        ("p-0001", State::InProgress),
        ("p-0001", State::Redo),
        ("p-0001", State::Closed),
        ("p-0001", State::Archived),
        ("p-0002", State::InProgress),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = basic_order(agent, now + mins(i as i64), "371502001001");
        assign(&mut o, person, state);
        create(store, &o).await;
    }
    create(store, &basic_order(agent, now, "371502001001")).await;
    let s = store.candidate_status(&ids, now).await.unwrap();
    assert_eq!(s["p-0001"].open_orders, 3);
    assert_eq!(s["p-0002"].open_orders, 1);

    // A leave counts from its start (inclusive) to its end (exclusive), until cancelled.
    let admin = Uuid::new_v4();
    let leave = crate::Leave {
        id: Uuid::new_v4(),
        person_id: "p-0002".into(),
        starts_at: at("2026-11-27T00:00:00Z"),
        ends_at: at("2026-11-29T00:00:00Z"),
        note: Some("年假".into()),
    };
    let e = store
        .change_availability("p-0002", &[AvailabilityChange::AddLeave { leave: leave.clone() }], admin, now)
        .await
        .unwrap();
    assert_eq!(e[0].kind, "leave_added");
    let on = |t: &str| {
        let (ids, t) = (ids.clone(), at(t));
        async move { store.candidate_status(&ids, t).await.unwrap()["p-0002"].on_leave }
    };
    assert!(!on("2026-11-26T23:59:59.999999Z").await);
    assert!(on("2026-11-27T00:00:00Z").await);
    assert!(on("2026-11-28T23:59:59Z").await);
    assert!(!on("2026-11-29T00:00:00Z").await);
    let a = store.availability("p-0002", now).await.unwrap();
    assert_eq!(a.leaves, vec![leave.clone()]);
    assert_eq!(a.open_orders, 1);
    store
        .change_availability("p-0002", &[AvailabilityChange::CancelLeave { leave_id: leave.id }], admin, now)
        .await
        .unwrap();
    assert!(!on("2026-11-28T00:00:00Z").await);
    // Cancelling twice, or another person's leave, is NotFound.
    let again = store
        .change_availability("p-0002", &[AvailabilityChange::CancelLeave { leave_id: leave.id }], admin, now)
        .await;
    assert!(matches!(again, Err(StoreError::NotFound { .. })), "{again:?}");
}

pub async fn routing_availability_changes_are_events(store: &dyn Store) {
    use crate::AvailabilityChange;
    store.import_directory(&small_directory()).await.unwrap();
    let admin = Uuid::new_v4();
    let t = |m| at("2026-11-26T02:00:00Z") + mins(m);
    store
        .change_availability("p-0001", &[AvailabilityChange::SetActive { active: false }], admin, t(0))
        .await
        .unwrap();
    store
        .change_availability("p-0001", &[AvailabilityChange::SetCapacity { capacity: 3 }], admin, t(1))
        .await
        .unwrap();
    let a = store.availability("p-0001", t(2)).await.unwrap();
    assert!(!a.active);
    assert_eq!(a.capacity, 3);
    assert_eq!(
        a.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["capacity_changed", "deactivated"]
    );
    assert_eq!(a.events[0].payload, serde_json::json!({"kind": "set_capacity", "capacity": 3}));
    assert_eq!((a.events[1].actor_id, a.events[1].at), (admin, t(0)));
    let p = store.get_person("p-0001").await.unwrap();
    assert_eq!((p.active, p.capacity), (false, 3), "the directory shows the change");
    store
        .change_availability("p-0001", &[AvailabilityChange::SetActive { active: true }], admin, t(3))
        .await
        .unwrap();
    assert!(store.get_person("p-0001").await.unwrap().active);

    for change in [
        AvailabilityChange::SetActive { active: true },
        AvailabilityChange::SetCapacity { capacity: 1 },
        AvailabilityChange::AddLeave {
            leave: crate::Leave {
                id: Uuid::new_v4(),
                person_id: "nobody".into(),
                starts_at: t(0),
                ends_at: t(9),
                note: None,
            },
        },
    ] {
        let r = store.change_availability("nobody", std::slice::from_ref(&change), admin, t(4)).await;
        assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    }
    assert_not_found(store.availability("nobody", t(4)).await, "person", "nobody");

    // Several changes are one transaction: a failing one undoes the others.
    let r = store
        .change_availability(
            "p-0001",
            &[
                AvailabilityChange::SetCapacity { capacity: 7 },
                AvailabilityChange::CancelLeave { leave_id: Uuid::new_v4() },
            ],
            admin,
            t(5),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert_eq!(store.get_person("p-0001").await.unwrap().capacity, 3);
    let both = store
        .change_availability(
            "p-0001",
            &[
                AvailabilityChange::SetActive { active: false },
                AvailabilityChange::SetCapacity { capacity: 7 },
            ],
            admin,
            t(6),
        )
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    assert!(both[0].id < both[1].id);
}

pub async fn routing_policy_is_saved(store: &dyn Store) {
    assert_eq!(store.stored_routing_policy().await.unwrap(), None);
    let p = crate::StoredPolicy {
        document: "[category.mediation]\nlevel = \"township_team\"\n".into(),
        updated_by: Uuid::new_v4(),
        updated_at: at("2026-11-26T02:00:00.123456Z"),
    };
    store.save_routing_policy(&p).await.unwrap();
    assert_eq!(store.stored_routing_policy().await.unwrap(), Some(p.clone()));
    let q = crate::StoredPolicy { document: String::new(), ..p };
    store.save_routing_policy(&q).await.unwrap();
    assert_eq!(store.stored_routing_policy().await.unwrap(), Some(q));
}
