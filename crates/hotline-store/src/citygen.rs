//! A realistic directory of a whole city, for demos, tests and benchmarks
//! (`hotline demo generate`): Liaocheng's eleven real county-level units with made-up
//! townships and villages, at the real scale (135 townships, 6,405 villages, 135
//! stations, 1,874 legal service people from 41 law firms, 69 legal service offices and
//! 135 judicial offices) and with institutions spread over the city's real extent.
//!
//! The same seed always gives the same city.

use crate::{Directory, Institution, Person, PersonKind, Station, TeamRole, Unit};
use hotline_domain::{InstitutionKind, UnitLevel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const TOWNSHIPS: usize = 135;
pub const VILLAGES: usize = 6_405;
pub const PEOPLE: usize = 1_874;
pub const LAW_FIRMS: usize = 41;
pub const LEGAL_SERVICE_OFFICES: usize = 69;

/// The city's extent: latitude and longitude bounds in degrees.
pub const LAT_RANGE: (f64, f64) = (35.8, 36.9);
pub const LON_RANGE: (f64, f64) = (115.2, 116.6);

/// (id, name, seat latitude, seat longitude, townships, spread in degrees)
const COUNTIES: [(&str, &str, f64, f64, usize, f64); 11] = [
    ("371502", "东昌府区", 36.44, 115.97, 14, 0.16),
    ("371503", "茌平区", 36.58, 116.26, 14, 0.16),
    ("371521", "阳谷县", 36.11, 115.79, 18, 0.18),
    ("371522", "莘县", 36.23, 115.67, 24, 0.22),
    ("371524", "东阿县", 36.33, 116.25, 10, 0.14),
    ("371525", "冠县", 36.48, 115.44, 18, 0.18),
    ("371526", "高唐县", 36.85, 116.23, 12, 0.14),
    ("371581", "临清市", 36.84, 115.71, 16, 0.16),
    ("371571", "聊城经济技术开发区", 36.43, 116.06, 3, 0.04),
    ("371572", "聊城高新技术产业开发区", 36.50, 116.03, 3, 0.04),
    ("371573", "江北水城旅游度假区", 36.45, 116.00, 3, 0.03),
];

const TOWN_FIRST: [&str; 24] = [
    "沙", "堂", "梁", "侯", "郑", "张", "闫", "斗", "朱", "许", "道", "于", "广", "李", "韩", "顾", "柳",
    "新", "古", "博", "安", "乐", "清", "永",
];
const TOWN_SECOND: [&str; 16] =
    ["镇", "邑", "水", "营", "平", "集", "河", "官", "寺", "庄", "口", "桥", "丰", "和", "兴", "阳"];
const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何",
    "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓",
    "许", "傅", "沈", "曾", "彭", "吕",
];
const VILLAGE_PREFIX: [&str; 8] = ["", "", "", "前", "后", "东", "西", "南"];
const VILLAGE_SUFFIX: [&str; 9] = ["庄", "村", "屯", "集", "营", "楼", "寨", "店", "堂"];
const GIVEN: [&str; 30] = [
    "明", "娜", "强", "敏", "丽", "伟", "芳", "军", "静", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "超",
    "霞", "刚", "平", "辉", "鹏", "华", "红", "建", "峰", "琳", "波", "斌", "宁",
];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

fn clamp(lat: f64, lon: f64) -> (f64, f64) {
    (lat.clamp(LAT_RANGE.0, LAT_RANGE.1), lon.clamp(LON_RANGE.0, LON_RANGE.1))
}

/// A point uniformly in a disc of `r` degrees around (lat, lon), inside the city.
fn around(rng: &mut StdRng, lat: f64, lon: f64, r: f64) -> (f64, f64) {
    let d = r * rng.r#gen::<f64>().sqrt();
    let a = rng.r#gen::<f64>() * std::f64::consts::TAU;
    let (lat, lon) = clamp(lat + d * a.sin(), lon + d * a.cos() / lat.to_radians().cos());
    ((lat * 1e6).round() / 1e6, (lon * 1e6).round() / 1e6)
}

fn landline(rng: &mut StdRng) -> String {
    format!("0635-{}", rng.gen_range(8_100_000..8_999_999))
}

fn mobile(rng: &mut StdRng) -> String {
    let second = ["3", "5", "7", "8"][rng.gen_range(0..4)];
    format!("1{second}{:09}", rng.gen_range(0..1_000_000_000u32))
}

fn person_name(rng: &mut StdRng) -> String {
    let given: String = (0..rng.gen_range(1..=2)).map(|_| pick(rng, &GIVEN)).collect();
    format!("{}{given}", pick(rng, &SURNAMES))
}

struct Township {
    id: String,
    name: String,
    county: usize,
    lat: f64,
    lon: f64,
    villages: Vec<String>,
}

/// The city of `seed`.
pub fn generate(seed: u64) -> Directory {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut units = vec![Unit {
        id: "371500".into(),
        parent_id: None,
        level: UnitLevel::City,
        name: "聊城市".into(),
        latitude: Some(36.457),
        longitude: Some(115.985),
    }];
    let mut institutions = Vec::new();
    let inst = |id: String, name: String, kind, county: &str, at: (f64, f64), phone: String| Institution {
        id,
        name,
        kind,
        county_id: county.to_owned(),
        township_id: None,
        village_id: None,
        latitude: at.0,
        longitude: at.1,
        phone: Some(phone),
        address: None,
        capacity: None,
    };

    // Counties, with their command centre and legal aid centre at the seat.
    let mut townships: Vec<Township> = Vec::with_capacity(TOWNSHIPS);
    let mut used_names = std::collections::HashSet::new();
    for (c, (id, name, lat, lon, count, spread)) in COUNTIES.iter().enumerate() {
        units.push(Unit {
            id: (*id).into(),
            parent_id: Some("371500".into()),
            level: UnitLevel::County,
            name: (*name).into(),
            latitude: Some(*lat),
            longitude: Some(*lon),
        });
        let mut cc = inst(
            format!("CC{id}"),
            format!("{name}公共法律服务指挥中心"),
            InstitutionKind::CommandCentre,
            id,
            (*lat, *lon),
            "0635-12348".into(),
        );
        cc.address = Some(format!("{name}公共法律服务中心"));
        cc.capacity = Some(200);
        institutions.push(cc);
        let mut la = inst(
            format!("LA{id}"),
            format!("{name}法律援助中心"),
            InstitutionKind::LegalAidCentre,
            id,
            around(&mut rng, *lat, *lon, 0.01),
            landline(&mut rng),
        );
        la.capacity = Some(100);
        institutions.push(la);
        for t in 1..=*count {
            let tid = format!("{id}{t:03}");
            let kind = if t <= 2 && *spread > 0.05 {
                "街道"
            } else if rng.gen_bool(0.2) {
                "乡"
            } else {
                "镇"
            };
            // Township names are unique in the city.
            let tname = loop {
                let n = format!("{}{}{kind}", pick(&mut rng, &TOWN_FIRST), pick(&mut rng, &TOWN_SECOND));
                if used_names.insert(n.clone()) {
                    break n;
                }
            };
            let (tlat, tlon) = around(&mut rng, *lat, *lon, *spread);
            townships.push(Township {
                id: tid,
                name: tname,
                county: c,
                lat: tlat,
                lon: tlon,
                villages: Vec::new(),
            });
        }
    }
    debug_assert_eq!(townships.len(), TOWNSHIPS);

    // Villages: 47 or 48 a township, then moved between neighbours for variety.
    let mut counts: Vec<usize> =
        (0..TOWNSHIPS).map(|i| VILLAGES / TOWNSHIPS + usize::from(i < VILLAGES % TOWNSHIPS)).collect();
    for pair in counts.chunks_mut(2) {
        if let [a, b] = pair {
            let d = rng.gen_range(0..=20);
            *a += d;
            *b -= d;
        }
    }
    let mut stations = Vec::with_capacity(TOWNSHIPS);
    for (t, n) in townships.iter_mut().zip(&counts) {
        let county = COUNTIES[t.county].0;
        units.push(Unit {
            id: t.id.clone(),
            parent_id: Some(county.into()),
            level: UnitLevel::Township,
            name: t.name.clone(),
            latitude: Some(t.lat),
            longitude: Some(t.lon),
        });
        let phone = landline(&mut rng);
        stations.push(Station {
            id: format!("S{}", t.id),
            township_id: t.id.clone(),
            name: format!("{}法律服务工作站", t.name),
            phone: Some(phone.clone()),
            address: Some(format!("{}社会治理中心", t.name)),
        });
        let mut station = inst(
            format!("ST{}", t.id),
            format!("{}法律服务工作站", t.name),
            InstitutionKind::LegalServiceStation,
            county,
            around(&mut rng, t.lat, t.lon, 0.003),
            phone,
        );
        station.township_id = Some(t.id.clone());
        station.address = Some(format!("{}社会治理中心", t.name));
        institutions.push(station);
        let mut office = inst(
            format!("JO{}", t.id),
            format!("{}司法所", t.name),
            InstitutionKind::JudicialOffice,
            county,
            (t.lat, t.lon),
            landline(&mut rng),
        );
        office.township_id = Some(t.id.clone());
        institutions.push(office);
        // Village spread: a township is some 8 km across.
        for v in 1..=*n {
            let vid = format!("{}{v:03}", t.id);
            let vname = format!(
                "{}{}{}",
                pick(&mut rng, &VILLAGE_PREFIX),
                pick(&mut rng, &SURNAMES),
                pick(&mut rng, &VILLAGE_SUFFIX)
            );
            let (vlat, vlon) = around(&mut rng, t.lat, t.lon, 0.05);
            units.push(Unit {
                id: vid.clone(),
                parent_id: Some(t.id.clone()),
                level: UnitLevel::Village,
                name: vname.clone(),
                latitude: Some(vlat),
                longitude: Some(vlon),
            });
            for (prefix, kind, label, at) in [
                ("MC", InstitutionKind::MediationCommittee, "人民调解委员会", (vlat, vlon)),
                (
                    "WR",
                    InstitutionKind::VillageWorkroom,
                    "法律顾问工作室",
                    around(&mut rng, vlat, vlon, 0.002),
                ),
            ] {
                let mut i = inst(
                    format!("{prefix}{vid}"),
                    format!("{vname}{label}"),
                    kind,
                    county,
                    at,
                    mobile(&mut rng),
                );
                i.township_id = Some(t.id.clone());
                i.village_id = Some(vid.clone());
                institutions.push(i);
            }
            t.villages.push(vid);
        }
    }

    // Law firms in the county seats (more in the city district), legal service offices
    // in townships.
    let firms: Vec<(String, String, usize)> = (0..LAW_FIRMS)
        .map(|f| {
            let c = if f < 33 { f % COUNTIES.len() } else { 0 };
            let (cid, cname, lat, lon, ..) = COUNTIES[c];
            let name = format!(
                "山东{}{}律师事务所",
                TOWN_FIRST[f % TOWN_FIRST.len()],
                ["信", "正"][f / TOWN_FIRST.len()]
            );
            let mut i = inst(
                format!("LF{:03}", f + 1),
                name.clone(),
                InstitutionKind::LawFirm,
                cid,
                around(&mut rng, lat, lon, 0.03),
                landline(&mut rng),
            );
            i.address = Some(format!("{cname}城区"));
            institutions.push(i);
            (format!("LF{:03}", f + 1), name, c)
        })
        .collect();
    let offices: Vec<String> = (0..LEGAL_SERVICE_OFFICES)
        .map(|o| {
            let t = &townships[(o * TOWNSHIPS) / LEGAL_SERVICE_OFFICES];
            let name = format!("{}法律服务所", t.name);
            let mut i = inst(
                format!("LO{:03}", o + 1),
                name.clone(),
                InstitutionKind::LegalServiceOffice,
                COUNTIES[t.county].0,
                around(&mut rng, t.lat, t.lon, 0.01),
                landline(&mut rng),
            );
            i.township_id = Some(t.id.clone());
            institutions.push(i);
            name
        })
        .collect();

    // People: a judicial officer leads each township's team; the other 1,739 are lawyers
    // and legal service workers on teams in proportion to villages, each counselling a
    // few villages of their township.
    let mut people: Vec<Person> = Vec::with_capacity(PEOPLE);
    let mut next_id = 0usize;
    let mut new_id = || {
        next_id += 1;
        format!("P{next_id:05}")
    };
    for t in &townships {
        people.push(Person {
            id: new_id(),
            name: person_name(&mut rng),
            kind: PersonKind::JudicialOfficer,
            organization: Some(format!("{}司法所", t.name)),
            phone: Some(landline(&mut rng)),
            team_township_id: Some(t.id.clone()),
            team_role: Some(TeamRole::Lead),
            villages: Vec::new(),
            active: true,
            capacity: rng.gen_range(30..=60),
            photo_ref: None,
        });
    }
    let members = PEOPLE - TOWNSHIPS;
    let mut per_township: Vec<usize> =
        townships.iter().map(|t| (members * t.villages.len() / VILLAGES).max(2)).collect();
    let mut short = members as isize - per_township.iter().sum::<usize>() as isize;
    let mut i = 0;
    while short != 0 {
        let k = i % TOWNSHIPS;
        if short > 0 {
            per_township[k] += 1;
            short -= 1;
        } else if per_township[k] > 2 {
            per_township[k] -= 1;
            short += 1;
        }
        i += 1;
    }
    let mut member_no = 0usize;
    for (t, &n) in townships.iter().zip(&per_township) {
        let first = people.len();
        for _ in 0..n {
            let lawyer = member_no % 3 != 2;
            let organization = if lawyer {
                firms[(member_no - member_no / 3) % LAW_FIRMS].1.clone()
            } else {
                offices[(member_no / 3) % LEGAL_SERVICE_OFFICES].clone()
            };
            member_no += 1;
            people.push(Person {
                id: new_id(),
                name: person_name(&mut rng),
                kind: if lawyer { PersonKind::Lawyer } else { PersonKind::LegalServiceWorker },
                organization: Some(organization),
                phone: Some(mobile(&mut rng)),
                team_township_id: Some(t.id.clone()),
                team_role: Some(TeamRole::Member),
                villages: Vec::new(),
                // About one in seventy is away from service.
                active: !rng.gen_bool(1.0 / 70.0),
                capacity: rng.gen_range(15..=40),
                photo_ref: None,
            });
        }
        for (k, v) in t.villages.iter().enumerate() {
            people[first + k % n].villages.push(v.clone());
        }
    }
    debug_assert_eq!(people.len(), PEOPLE);
    Directory { units, stations, people, institutions }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn the_city_has_the_real_sizes() {
        let d = generate(12348);
        let level = |l| d.units.iter().filter(|u| u.level == l).count();
        assert_eq!(level(UnitLevel::City), 1);
        assert_eq!(level(UnitLevel::County), 11);
        assert_eq!(level(UnitLevel::Township), TOWNSHIPS);
        assert_eq!(level(UnitLevel::Village), VILLAGES);
        assert_eq!(d.stations.len(), TOWNSHIPS);
        assert_eq!(d.people.len(), PEOPLE);
        let kind = |k| d.institutions.iter().filter(|i| i.kind == k).count();
        assert_eq!(kind(InstitutionKind::LawFirm), LAW_FIRMS);
        assert_eq!(kind(InstitutionKind::LegalServiceOffice), LEGAL_SERVICE_OFFICES);
        assert_eq!(kind(InstitutionKind::JudicialOffice), TOWNSHIPS);
        assert_eq!(kind(InstitutionKind::CommandCentre), 11);
        assert_eq!(kind(InstitutionKind::MediationCommittee), VILLAGES);
        let orgs: HashSet<&str> = d.people.iter().filter_map(|p| p.organization.as_deref()).collect();
        assert_eq!(
            orgs.len(),
            LAW_FIRMS + LEGAL_SERVICE_OFFICES + TOWNSHIPS,
            "people come from every organisation"
        );

        // Every village has exactly one counsel; some counsel serve several.
        let mut counsel: HashMap<&str, usize> = HashMap::new();
        for p in &d.people {
            for v in &p.villages {
                *counsel.entry(v.as_str()).or_default() += 1;
            }
        }
        assert_eq!(counsel.len(), VILLAGES);
        assert!(counsel.values().all(|&n| n == 1));
        assert!(d.people.iter().any(|p| p.villages.len() > 1));
        // Teams of at least three, one lead each.
        let mut teams: HashMap<&str, (usize, usize)> = HashMap::new();
        for p in &d.people {
            let e = teams.entry(p.team_township_id.as_deref().unwrap()).or_default();
            if p.team_role == Some(TeamRole::Lead) { e.0 += 1 } else { e.1 += 1 }
        }
        assert_eq!(teams.len(), TOWNSHIPS);
        assert!(teams.values().all(|&(lead, members)| lead == 1 && members >= 2));
        // Inside the city's extent.
        for i in &d.institutions {
            assert!((LAT_RANGE.0..=LAT_RANGE.1).contains(&i.latitude), "{}", i.id);
            assert!((LON_RANGE.0..=LON_RANGE.1).contains(&i.longitude), "{}", i.id);
        }
        // Deterministic.
        assert_eq!(generate(12348), d);
        crate::check_directory(&d, &Default::default()).unwrap();
    }
}
