//! A small demo directory and one user per role, so a newcomer can try the API at once
//! (`hotline serve --demo` or `hotline demo seed`). Township and village names are made
//! up; the city and its eleven county-level units are real. With `--demo`, [`calls`]
//! can play a telephony layer that offers calls.

pub mod calls;

use crate::auth::hash_password;
use hotline_domain::{InstitutionKind, Role, UnitLevel};
use hotline_store::{
    Directory, Institution, Person, PersonKind, Station, Store, StoreError, TeamRole, Unit, User,
};

/// The password of every demo user. Demo data is for trying the API, never production.
pub const DEMO_PASSWORD: &str = "hotline-demo-1";

const COUNTIES: &[(&str, &str)] = &[
    ("371502", "东昌府区"),
    ("371503", "茌平区"),
    ("371521", "阳谷县"),
    ("371522", "莘县"),
    ("371524", "东阿县"),
    ("371525", "冠县"),
    ("371526", "高唐县"),
    ("371581", "临清市"),
    ("371571", "聊城经济技术开发区"),
    ("371572", "聊城高新技术产业开发区"),
    ("371573", "江北水城旅游度假区"),
];

/// A demo village: id suffix, name, latitude, longitude.
type DemoVillage = (&'static str, &'static str, f64, f64);

/// (township id, name, county id, villages)
const TOWNSHIPS: &[(&str, &str, &str, &[DemoVillage])] = &[
    (
        "371502101",
        "沙镇镇",
        "371502",
        &[
            ("001", "前进村", 36.35, 115.88),
            ("002", "王庄村", 36.36, 115.90),
            ("003", "李海子村", 36.33, 115.86),
        ],
    ),
    ("371502102", "堂邑镇", "371502", &[("001", "堂邑村", 36.48, 115.80), ("002", "路庄村", 36.49, 115.82)]),
    (
        "371521101",
        "阿城镇",
        "371521",
        &[("001", "阿城村", 36.15, 115.93), ("002", "陶城铺村", 36.12, 115.95)],
    ),
];

pub fn directory() -> Directory {
    let mut units = vec![Unit {
        id: "371500".into(),
        parent_id: None,
        level: UnitLevel::City,
        name: "聊城市".into(),
        latitude: Some(36.457),
        longitude: Some(115.985),
    }];
    for (id, name) in COUNTIES {
        units.push(Unit {
            id: (*id).into(),
            parent_id: Some("371500".into()),
            level: UnitLevel::County,
            name: (*name).into(),
            latitude: None,
            longitude: None,
        });
    }
    let mut stations = Vec::new();
    for (tid, tname, county, villages) in TOWNSHIPS {
        units.push(Unit {
            id: (*tid).into(),
            parent_id: Some((*county).into()),
            level: UnitLevel::Township,
            name: (*tname).into(),
            latitude: None,
            longitude: None,
        });
        stations.push(Station {
            id: format!("S{tid}"),
            township_id: (*tid).into(),
            name: format!("{tname}法律服务工作站"),
            phone: Some("0635-12348".into()),
            address: Some(format!("{tname}社会治理中心")),
        });
        for (suffix, vname, lat, lon) in *villages {
            units.push(Unit {
                id: format!("{tid}{suffix}"),
                parent_id: Some((*tid).into()),
                level: UnitLevel::Village,
                name: (*vname).into(),
                latitude: Some(*lat),
                longitude: Some(*lon),
            });
        }
    }
    let person =
        |id: &str, name: &str, kind, org: &str, team: Option<(&str, TeamRole)>, villages: &[&str]| Person {
            id: id.into(),
            name: name.into(),
            kind,
            organization: Some(org.into()),
            phone: Some(format!("0635-82410{}", &id[3..])),
            team_township_id: team.map(|(t, _)| t.into()),
            team_role: team.map(|(_, r)| r),
            villages: villages.iter().map(|v| (*v).into()).collect(),
            active: true,
            capacity: 30,
            photo_ref: Some(format!("photos/{id}.jpg")),
        };
    let people = vec![
        person(
            "P0001",
            "张明",
            PersonKind::Lawyer,
            "山东鲁西律师事务所",
            Some(("371502101", TeamRole::Member)),
            &["371502101001", "371502101002"],
        ),
        person(
            "P0002",
            "李娜",
            PersonKind::LegalServiceWorker,
            "东昌府区法律服务所",
            Some(("371502101", TeamRole::Member)),
            &["371502101003"],
        ),
        person(
            "P0003",
            "王强",
            PersonKind::JudicialOfficer,
            "沙镇司法所",
            Some(("371502101", TeamRole::Lead)),
            &[],
        ),
        person(
            "P0004",
            "赵敏",
            PersonKind::Lawyer,
            "山东水城律师事务所",
            Some(("371502102", TeamRole::Lead)),
            &["371502102001", "371502102002"],
        ),
        person(
            "P0005",
            "孙丽",
            PersonKind::Lawyer,
            "阳谷县法律服务所",
            Some(("371521101", TeamRole::Lead)),
            &["371521101001", "371521101002"],
        ),
    ];
    let place =
        |id: &str, name: &str, kind, county: &str, township: Option<&str>, at: (f64, f64)| Institution {
            id: id.into(),
            name: name.into(),
            kind,
            county_id: county.into(),
            township_id: township.map(Into::into),
            village_id: None,
            latitude: at.0,
            longitude: at.1,
            phone: Some("0635-12348".into()),
            address: None,
            capacity: None,
        };
    let institutions = vec![
        place(
            "CC371502",
            "东昌府区公共法律服务指挥中心",
            InstitutionKind::CommandCentre,
            "371502",
            None,
            (36.44, 115.97),
        ),
        place(
            "LA371502",
            "东昌府区法律援助中心",
            InstitutionKind::LegalAidCentre,
            "371502",
            None,
            (36.445, 115.975),
        ),
        place(
            "CC371521",
            "阳谷县公共法律服务指挥中心",
            InstitutionKind::CommandCentre,
            "371521",
            None,
            (36.11, 115.79),
        ),
        place(
            "JO371502101",
            "沙镇司法所",
            InstitutionKind::JudicialOffice,
            "371502",
            Some("371502101"),
            (36.35, 115.87),
        ),
        place("LF001", "山东鲁西律师事务所", InstitutionKind::LawFirm, "371502", None, (36.455, 115.985)),
    ];
    Directory { units, stations, people, institutions }
}

/// (username, display name, role, home unit, person). Every counsel and station lead
/// names the directory person they are, who serves their home unit (赵敏, P0004, both
/// counsels 堂邑村 and leads 堂邑镇's team: two accounts, one per role).
pub const USERS: &[(&str, &str, Role, &str, Option<&str>)] = &[
    ("agent", "话务员 小刘", Role::SeatAgent, "371500", None),
    ("dispatcher", "派单员 老陈", Role::Dispatcher, "371500", None),
    ("callback", "回访员 小周", Role::CallbackAgent, "371500", None),
    ("counsel", "张明（村居法律顾问）", Role::Counsel, "371502101001", Some("P0001")),
    ("counsel2", "李娜（村居法律顾问）", Role::Counsel, "371502101003", Some("P0002")),
    ("lead", "王强（沙镇工作站）", Role::StationLead, "371502101", Some("P0003")),
    ("county", "东昌府区指挥中心", Role::CountyManager, "371502", None),
    ("admin", "市局管理员", Role::CityAdmin, "371500", None),
    ("agent2", "话务员 小孙", Role::SeatAgent, "371500", None),
    ("cti", "话务平台（CTI 服务账号）", Role::Telephony, "371500", None),
    ("counsel3", "赵敏（村居法律顾问）", Role::Counsel, "371502102001", Some("P0004")),
    ("lead2", "赵敏（堂邑镇工作站）", Role::StationLead, "371502102", Some("P0004")),
    ("county2", "阳谷县指挥中心", Role::CountyManager, "371521", None),
];

/// Imports the demo directory and creates the demo users that do not exist yet.
/// Returns how many users were created.
pub async fn seed(store: &dyn Store) -> Result<usize, StoreError> {
    store.import_directory(&directory()).await?;
    let hash = hash_password(DEMO_PASSWORD);
    let mut created = 0;
    for (username, display, role, unit, person) in USERS {
        if store.user_by_username(username).await?.is_some() {
            continue;
        }
        let user = User {
            id: uuid::Uuid::now_v7(),
            username: (*username).into(),
            display_name: (*display).into(),
            role: *role,
            unit_id: (*unit).into(),
            person_id: person.map(str::to_owned),
            password_hash: hash.clone(),
            active: true,
            created_at: crate::app::truncate_micros(chrono::Utc::now()),
        };
        store.create_user(&user, None).await?;
        created += 1;
    }
    Ok(created)
}
