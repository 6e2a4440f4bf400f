//! The directory: batch import with multi-row upserts, and its lookups.

use crate::records::{person_from_row, station_from_row, unit_from_row};
use crate::{Arg, Dialect, R, Sql};
use hotline_domain::{Place, UnitLevel};
use hotline_store::{
    Directory, ImportSummary, Page, Person, PersonFilter, Result, Station, StoreError, StoredDirectory, Unit,
    check_directory, directory_lookups, encode_cursor,
};
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement: 500 rows of at most 11 columns stay far below
/// SQLite's limit of 32,766 bound parameters (and PostgreSQL's of 65,535).
pub(crate) const CHUNK: usize = 500;

/// Reads what the batch refers to, checks it, and writes it, all on the caller's
/// transaction. Any error leaves the transaction to be rolled back, so nothing is
/// written.
pub(crate) async fn import<C: Dialect>(conn: &mut C, dir: &Directory) -> Result<ImportSummary> {
    let lookups = directory_lookups(dir);
    let mut stored = StoredDirectory::default();
    for chunk in lookups.unit_ids.chunks(CHUNK) {
        let mut q = Sql::new("select id, level from units where id");
        q.push_any(chunk.to_vec());
        for row in q.fetch_all(conn).await? {
            let r = R(&row);
            stored.unit_levels.insert(r.get("id")?, r.named("level")?);
        }
    }
    let batch_stations: HashSet<&str> = lookups.station_ids.iter().map(String::as_str).collect();
    for chunk in lookups.station_townships.chunks(CHUNK) {
        let mut q = Sql::new("select id, township_id from stations where township_id");
        q.push_any(chunk.to_vec());
        for row in q.fetch_all(conn).await? {
            let r = R(&row);
            let id: String = r.get("id")?;
            if !batch_stations.contains(id.as_str()) {
                stored.stations_by_township.insert(r.get("township_id")?, id);
            }
        }
    }
    check_directory(dir, &stored)?;

    for chunk in dir.units.chunks(CHUNK) {
        let mut q = Sql::new("insert into units (id, parent_id, level, name, latitude, longitude) ");
        q.push_rows(chunk.iter().map(|u| {
            [
                Arg::from(u.id.as_str()),
                u.parent_id.as_deref().into(),
                u.level.as_str().into(),
                u.name.as_str().into(),
                u.latitude.into(),
                u.longitude.into(),
            ]
        }));
        q.push(
            " on conflict (id) do update set parent_id = excluded.parent_id, \
             level = excluded.level, name = excluded.name, \
             latitude = excluded.latitude, longitude = excluded.longitude",
        );
        q.execute(conn).await?;
    }

    for chunk in dir.stations.chunks(CHUNK) {
        let mut q = Sql::new("insert into stations (id, township_id, name, phone, address) ");
        q.push_rows(chunk.iter().map(|s| {
            [
                Arg::from(s.id.as_str()),
                s.township_id.as_str().into(),
                s.name.as_str().into(),
                s.phone.as_deref().into(),
                s.address.as_deref().into(),
            ]
        }));
        q.push(
            " on conflict (id) do update set township_id = excluded.township_id, \
             name = excluded.name, phone = excluded.phone, address = excluded.address",
        );
        q.execute(conn).await?;
    }

    for chunk in dir.people.chunks(CHUNK) {
        let mut q = Sql::new(
            "insert into people (id, name, kind, organization, phone, team_township_id, \
             team_role, active, capacity, photo_ref) ",
        );
        q.push_rows(chunk.iter().map(|p| {
            [
                Arg::from(p.id.as_str()),
                p.name.as_str().into(),
                p.kind.as_str().into(),
                p.organization.as_deref().into(),
                p.phone.as_deref().into(),
                p.team_township_id.as_deref().into(),
                p.team_role.map(|r| r.as_str()).into(),
                p.active.into(),
                p.capacity.into(),
                p.photo_ref.as_deref().into(),
            ]
        }));
        q.push(
            " on conflict (id) do update set name = excluded.name, kind = excluded.kind, \
             organization = excluded.organization, phone = excluded.phone, \
             team_township_id = excluded.team_township_id, team_role = excluded.team_role, \
             active = excluded.active, capacity = excluded.capacity, photo_ref = excluded.photo_ref",
        );
        q.execute(conn).await?;

        // Each imported person's village list is replaced.
        let mut q = Sql::new("delete from counsel_villages where person_id");
        q.push_any(chunk.iter().map(|p| p.id.clone()).collect());
        q.execute(conn).await?;
    }
    let links: Vec<[Arg; 3]> = dir
        .people
        .iter()
        .flat_map(|p| {
            p.villages
                .iter()
                .enumerate()
                .map(|(j, v)| [Arg::from(p.id.as_str()), v.as_str().into(), (j as i32).into()])
        })
        .collect();
    let counsel_links = links.len() as u64;
    let mut links = links.into_iter().peekable();
    while links.peek().is_some() {
        let mut q = Sql::new("insert into counsel_villages (person_id, village_id, position) ");
        q.push_rows(links.by_ref().take(CHUNK));
        q.execute(conn).await?;
    }

    crate::routing::import_institutions(conn, dir).await?;
    check_stored_levels(conn).await?;
    Ok(ImportSummary {
        units: dir.units.len() as u64,
        stations: dir.stations.len() as u64,
        people: dir.people.len() as u64,
        counsel_links,
    })
}

/// What a check of stored levels says of a row that fails it: its id, unit and level.
type Says = fn(&str, &str, &str) -> String;

/// After the writes, the whole stored directory must still fit together: a batch may
/// change the level of a stored unit that stored children, stations or counsel refer to.
async fn check_stored_levels<C: Dialect>(conn: &mut C) -> Result<()> {
    let row = Sql::new(
        "select c.id as id, c.level as level, p.id as parent_id, p.level as parent_level \
         from units c left join units p on p.id = c.parent_id \
         where (c.parent_id is null and c.level <> 'city') \
            or (c.parent_id is not null and p.id is not null and not ( \
                   (c.level = 'county' and p.level = 'city') \
                or (c.level = 'township' and p.level = 'county') \
                or (c.level = 'village' and p.level = 'township'))) \
         limit 1",
    )
    .fetch_optional(conn)
    .await?;
    if let Some(row) = row {
        let r = R(&row);
        let (id, level): (String, String) = (r.get("id")?, r.get("level")?);
        let parent: Option<String> = r.opt("parent_id")?;
        let parent_level: Option<String> = r.opt("parent_level")?;
        return Err(StoreError::Invalid(match parent {
            Some(p) => format!(
                "units: stored {level} `{id}` would sit under `{p}`, a {}",
                parent_level.unwrap_or_default()
            ),
            None => format!("units: stored {level} `{id}` has no parent"),
        }));
    }
    // Rows of another table that must sit in a unit of one level: what each check
    // reads, and what it says of a row that does not.
    let checks: [(&str, Says); 3] = [
        (
            "select s.id as id, s.township_id as unit_id, u.level as level \
             from stations s join units u on u.id = s.township_id \
             where u.level <> 'township' limit 1",
            |id, unit, level| {
                format!("stations: stored station `{id}` would be in `{unit}`, a {level}, not a township")
            },
        ),
        (
            "select p.id as id, p.team_township_id as unit_id, u.level as level \
             from people p join units u on u.id = p.team_township_id \
             where u.level <> 'township' limit 1",
            |id, unit, level| {
                format!(
                    "people: stored person `{id}` would be on the team of `{unit}`, a {level}, not a township"
                )
            },
        ),
        (
            "select cv.person_id as id, cv.village_id as unit_id, u.level as level \
             from counsel_villages cv join units u on u.id = cv.village_id \
             where u.level <> 'village' limit 1",
            |id, unit, level| {
                format!("people: stored person `{id}` would counsel `{unit}`, a {level}, not a village")
            },
        ),
    ];
    for (sql, message) in checks {
        if let Some(row) = Sql::new(sql).fetch_optional(conn).await? {
            let r = R(&row);
            let (id, unit, level): (String, String, String) =
                (r.get("id")?, r.get("unit_id")?, r.get("level")?);
            return Err(StoreError::Invalid(message(&id, &unit, &level)));
        }
    }
    Ok(())
}

pub(crate) async fn get_unit<C: Dialect>(conn: &mut C, id: &str) -> Result<Unit> {
    let row = Sql::new("select * from units where id = $1").bind(id).fetch_optional(conn).await?;
    row.as_ref().map(unit_from_row).transpose()?.ok_or_else(|| StoreError::not_found("unit", id))
}

pub(crate) async fn list_units<C: Dialect>(
    conn: &mut C,
    parent_id: Option<&str>,
    level: Option<UnitLevel>,
    after: Option<&str>,
    size: u32,
) -> Result<Page<Unit>> {
    let mut q = Sql::new("select * from units where ");
    match parent_id {
        Some(p) => q.push("parent_id = ").push_bind(p),
        None => q.push("parent_id is null"),
    };
    if let Some(l) = level {
        q.push(" and level = ").push_bind(l.as_str());
    }
    if let Some(a) = after {
        q.push(" and id > ").push_bind(a);
    }
    q.push(" order by id limit ").push_bind(i64::from(size));
    let items: Vec<Unit> = q.fetch_all(conn).await?.iter().map(unit_from_row).collect::<Result<_>>()?;
    let next_cursor = match items.last() {
        Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

pub(crate) async fn village_place<C: Dialect>(conn: &mut C, village_id: &str) -> Result<Place> {
    let row = Sql::new(
        "select t.id as township_id, t.parent_id as county_id \
         from units v join units t on t.id = v.parent_id \
         where v.id = $1 and v.level = 'village'",
    )
    .bind(village_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::not_found("village", village_id));
    };
    let r = R(&row);
    let county_id: Option<String> = r.opt("county_id")?;
    Ok(Place {
        county_id: county_id.ok_or_else(|| StoreError::not_found("village", village_id))?,
        township_id: r.get("township_id")?,
        village_id: village_id.to_owned(),
    })
}

pub(crate) async fn get_station<C: Dialect>(conn: &mut C, township_id: &str) -> Result<Station> {
    let row = Sql::new("select * from stations where township_id = $1")
        .bind(township_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref()
        .map(station_from_row)
        .transpose()?
        .ok_or_else(|| StoreError::not_found("station", township_id))
}

pub(crate) async fn get_person<C: Dialect>(conn: &mut C, id: &str) -> Result<Person> {
    let row = Sql::new("select * from people where id = $1").bind(id).fetch_optional(conn).await?;
    let Some(row) = row else {
        return Err(StoreError::not_found("person", id));
    };
    let mut person = person_from_row(&row)?;
    let villages = Sql::new("select village_id from counsel_villages where person_id = $1 order by position")
        .bind(id)
        .fetch_all(conn)
        .await?;
    person.villages = villages.iter().map(|row| R(row).get("village_id")).collect::<Result<_>>()?;
    Ok(person)
}

pub(crate) async fn list_people<C: Dialect>(
    conn: &mut C,
    filter: &PersonFilter,
    after: Option<&str>,
    size: u32,
) -> Result<Page<Person>> {
    let mut q = Sql::new("select * from people p where true");
    if let Some(t) = &filter.team_township_id {
        q.push(" and p.team_township_id = ").push_bind(t);
    }
    if let Some(v) = &filter.village_id {
        q.push(" and p.id in (select cv.person_id from counsel_villages cv where cv.village_id = ")
            .push_bind(v)
            .push(")");
    }
    if filter.active_only {
        q.push(" and p.active");
    }
    if let Some(a) = after {
        q.push(" and p.id > ").push_bind(a);
    }
    q.push(" order by p.id limit ").push_bind(i64::from(size));
    let mut items: Vec<Person> =
        q.fetch_all(conn).await?.iter().map(person_from_row).collect::<Result<_>>()?;
    if !items.is_empty() {
        let mut q = Sql::new("select person_id, village_id from counsel_villages where person_id");
        q.push_any(items.iter().map(|p| p.id.clone()).collect()).push(" order by person_id, position");
        let mut villages: HashMap<String, Vec<String>> = HashMap::new();
        for row in q.fetch_all(conn).await? {
            let r = R(&row);
            villages.entry(r.get("person_id")?).or_default().push(r.get("village_id")?);
        }
        for p in &mut items {
            p.villages = villages.remove(&p.id).unwrap_or_default();
        }
    }
    let next_cursor = match items.last() {
        Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}
