//! Directory import and lookup: units, stations, people, teams; the test directories (a
//! small one and one the size of Liaocheng).

use super::calls::call;
use super::{assert_invalid, assert_not_found, at, key, place};
use crate::{
    Call, Directory, ImportSummary, PageRequest, Person, PersonFilter, PersonKind, Station, Store,
    TargetStatus, TeamRole, Unit,
};
use hotline_domain::{Place, UnitLevel};
use uuid::Uuid;

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
                photo_ref: None,
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
                photo_ref: None,
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
                photo_ref: None,
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
                photo_ref: None,
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
                photo_ref: None,
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
    let directory_version = store.directory_version().await.unwrap();
    let status = |unit_exists, person_active| TargetStatus { unit_exists, person_active, directory_version };
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
        photo_ref: None,
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
