//! The directory on SQLite: batch import with multi-row upserts, and its lookups.

use crate::rows::{R, db, person_from_row, station_from_row, unit_from_row};
use hotline_domain::{Place, UnitLevel};
use hotline_store::{
    Directory, ImportSummary, Page, Person, PersonFilter, Result, Station, StoreError, StoredDirectory, Unit,
    check_directory, directory_lookups, encode_cursor,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement: 500 rows of at most 9 columns stay far below SQLite's
/// limit of 32,766 bound parameters.
const CHUNK: usize = 500;

/// Reads what the batch refers to, checks it, and writes it, all on the caller's
/// transaction (which holds the write lock). Any error leaves the transaction to be
/// rolled back, so nothing is written.
pub(crate) async fn import(conn: &mut SqliteConnection, dir: &Directory) -> Result<ImportSummary> {
    let lookups = directory_lookups(dir);
    let mut stored = StoredDirectory::default();
    for chunk in lookups.unit_ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new("select id, level from units where id in (");
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(id.as_str());
        }
        qb.push(")");
        for row in qb.build().fetch_all(&mut *conn).await.map_err(db)? {
            let r = R(&row);
            stored.unit_levels.insert(r.get("id")?, r.named("level")?);
        }
    }
    let batch_stations: HashSet<&str> = lookups.station_ids.iter().map(String::as_str).collect();
    for chunk in lookups.station_townships.chunks(CHUNK) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("select id, township_id from stations where township_id in (");
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(id.as_str());
        }
        qb.push(")");
        for row in qb.build().fetch_all(&mut *conn).await.map_err(db)? {
            let r = R(&row);
            let id: String = r.get("id")?;
            if !batch_stations.contains(id.as_str()) {
                stored.stations_by_township.insert(r.get("township_id")?, id);
            }
        }
    }
    check_directory(dir, &stored)?;

    for chunk in dir.units.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "insert into units (id, parent_id, level, name, latitude, longitude) ",
        );
        qb.push_values(chunk, |mut b, u| {
            b.push_bind(u.id.as_str())
                .push_bind(u.parent_id.as_deref())
                .push_bind(u.level.as_str())
                .push_bind(u.name.as_str())
                .push_bind(u.latitude)
                .push_bind(u.longitude);
        });
        qb.push(
            " on conflict (id) do update set parent_id = excluded.parent_id, \
             level = excluded.level, name = excluded.name, \
             latitude = excluded.latitude, longitude = excluded.longitude",
        );
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }

    for chunk in dir.stations.chunks(CHUNK) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("insert into stations (id, township_id, name, phone, address) ");
        qb.push_values(chunk, |mut b, s| {
            b.push_bind(s.id.as_str())
                .push_bind(s.township_id.as_str())
                .push_bind(s.name.as_str())
                .push_bind(s.phone.as_deref())
                .push_bind(s.address.as_deref());
        });
        qb.push(
            " on conflict (id) do update set township_id = excluded.township_id, \
             name = excluded.name, phone = excluded.phone, address = excluded.address",
        );
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }

    let mut links = 0u64;
    for chunk in dir.people.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "insert into people (id, name, kind, organization, phone, team_township_id, \
             team_role, active, capacity) ",
        );
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(p.id.as_str())
                .push_bind(p.name.as_str())
                .push_bind(p.kind.as_str())
                .push_bind(p.organization.as_deref())
                .push_bind(p.phone.as_deref())
                .push_bind(p.team_township_id.as_deref())
                .push_bind(p.team_role.map(|r| r.as_str()))
                .push_bind(p.active)
                .push_bind(p.capacity);
        });
        qb.push(
            " on conflict (id) do update set name = excluded.name, kind = excluded.kind, \
             organization = excluded.organization, phone = excluded.phone, \
             team_township_id = excluded.team_township_id, team_role = excluded.team_role, \
             active = excluded.active, capacity = excluded.capacity",
        );
        qb.build().execute(&mut *conn).await.map_err(db)?;

        // Each imported person's village list is replaced.
        let mut qb = QueryBuilder::<Sqlite>::new("delete from counsel_villages where person_id in (");
        let mut list = qb.separated(", ");
        for p in chunk {
            list.push_bind(p.id.as_str());
        }
        qb.push(")");
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    let all_links: Vec<(&str, &str, i64)> = dir
        .people
        .iter()
        .flat_map(|p| p.villages.iter().enumerate().map(|(j, v)| (p.id.as_str(), v.as_str(), j as i64)))
        .collect();
    for chunk in all_links.chunks(CHUNK) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("insert into counsel_villages (person_id, village_id, position) ");
        qb.push_values(chunk, |mut b, (person, village, position)| {
            b.push_bind(*person).push_bind(*village).push_bind(*position);
        });
        qb.build().execute(&mut *conn).await.map_err(db)?;
        links += chunk.len() as u64;
    }

    crate::routing::import_institutions(&mut *conn, dir).await?;
    check_stored_levels(conn).await?;
    Ok(ImportSummary {
        units: dir.units.len() as u64,
        stations: dir.stations.len() as u64,
        people: dir.people.len() as u64,
        counsel_links: links,
    })
}

/// After the writes, the whole stored directory must still fit together: a batch may
/// change the level of a stored unit that stored children, stations or counsel refer to.
async fn check_stored_levels(conn: &mut SqliteConnection) -> Result<()> {
    let row = sqlx::query(
        "select c.id as id, c.level as level, p.id as parent_id, p.level as parent_level \
         from units c left join units p on p.id = c.parent_id \
         where (c.parent_id is null and c.level <> 'city') \
            or (c.parent_id is not null and p.id is not null and not ( \
                   (c.level = 'county' and p.level = 'city') \
                or (c.level = 'township' and p.level = 'county') \
                or (c.level = 'village' and p.level = 'township'))) \
         limit 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if let Some(row) = row {
        let r = R(&row);
        let (id, level): (String, String) = (r.get("id")?, r.get("level")?);
        let parent: Option<String> = r.get("parent_id")?;
        let parent_level: Option<String> = r.get("parent_level")?;
        return Err(StoreError::Invalid(match parent {
            Some(p) => format!(
                "units: stored {level} `{id}` would sit under `{p}`, a {}",
                parent_level.unwrap_or_default()
            ),
            None => format!("units: stored {level} `{id}` has no parent"),
        }));
    }
    let row = sqlx::query(
        "select s.id as id, s.township_id as unit_id, u.level as level \
         from stations s join units u on u.id = s.township_id \
         where u.level <> 'township' limit 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if let Some(row) = row {
        let r = R(&row);
        let (id, unit, level): (String, String, String) = (r.get("id")?, r.get("unit_id")?, r.get("level")?);
        return Err(StoreError::Invalid(format!(
            "stations: stored station `{id}` would be in `{unit}`, a {level}, not a township"
        )));
    }
    let row = sqlx::query(
        "select p.id as id, p.team_township_id as unit_id, u.level as level \
         from people p join units u on u.id = p.team_township_id \
         where u.level <> 'township' limit 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if let Some(row) = row {
        let r = R(&row);
        let (id, unit, level): (String, String, String) = (r.get("id")?, r.get("unit_id")?, r.get("level")?);
        return Err(StoreError::Invalid(format!(
            "people: stored person `{id}` would be on the team of `{unit}`, a {level}, not a township"
        )));
    }
    let row = sqlx::query(
        "select cv.person_id as id, cv.village_id as unit_id, u.level as level \
         from counsel_villages cv join units u on u.id = cv.village_id \
         where u.level <> 'village' limit 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if let Some(row) = row {
        let r = R(&row);
        let (id, unit, level): (String, String, String) = (r.get("id")?, r.get("unit_id")?, r.get("level")?);
        return Err(StoreError::Invalid(format!(
            "people: stored person `{id}` would counsel `{unit}`, a {level}, not a village"
        )));
    }
    Ok(())
}

pub(crate) async fn get_unit(pool: &SqlitePool, id: &str) -> Result<Unit> {
    let row =
        sqlx::query("select * from units where id = ?").bind(id).fetch_optional(pool).await.map_err(db)?;
    row.as_ref().map(unit_from_row).transpose()?.ok_or_else(|| StoreError::not_found("unit", id))
}

pub(crate) async fn list_units(
    pool: &SqlitePool,
    parent_id: Option<&str>,
    level: Option<UnitLevel>,
    after: Option<&str>,
    size: u32,
) -> Result<Page<Unit>> {
    let mut qb = QueryBuilder::<Sqlite>::new("select * from units where ");
    match parent_id {
        Some(p) => qb.push("parent_id = ").push_bind(p.to_owned()),
        None => qb.push("parent_id is null"),
    };
    if let Some(l) = level {
        qb.push(" and level = ").push_bind(l.as_str());
    }
    if let Some(a) = after {
        qb.push(" and id > ").push_bind(a.to_owned());
    }
    qb.push(" order by id limit ").push_bind(i64::from(size));
    let rows = qb.build().fetch_all(pool).await.map_err(db)?;
    let items: Vec<Unit> = rows.iter().map(unit_from_row).collect::<Result<_>>()?;
    let next_cursor = match items.last() {
        Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

pub(crate) async fn village_place(pool: &SqlitePool, village_id: &str) -> Result<Place> {
    let row = sqlx::query(
        "select t.id as township_id, t.parent_id as county_id \
         from units v join units t on t.id = v.parent_id \
         where v.id = ? and v.level = 'village'",
    )
    .bind(village_id)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        return Err(StoreError::not_found("village", village_id));
    };
    let r = R(&row);
    let county_id: Option<String> = r.get("county_id")?;
    Ok(Place {
        county_id: county_id.ok_or_else(|| StoreError::not_found("village", village_id))?,
        township_id: r.get("township_id")?,
        village_id: village_id.to_owned(),
    })
}

pub(crate) async fn get_station(pool: &SqlitePool, township_id: &str) -> Result<Station> {
    let row = sqlx::query("select * from stations where township_id = ?")
        .bind(township_id)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    row.as_ref()
        .map(station_from_row)
        .transpose()?
        .ok_or_else(|| StoreError::not_found("station", township_id))
}

pub(crate) async fn get_person(pool: &SqlitePool, id: &str) -> Result<Person> {
    let row =
        sqlx::query("select * from people where id = ?").bind(id).fetch_optional(pool).await.map_err(db)?;
    let Some(row) = row else {
        return Err(StoreError::not_found("person", id));
    };
    let mut person = person_from_row(&row)?;
    person.villages =
        sqlx::query_scalar("select village_id from counsel_villages where person_id = ? order by position")
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db)?;
    Ok(person)
}

pub(crate) async fn list_people(
    pool: &SqlitePool,
    filter: &PersonFilter,
    after: Option<&str>,
    size: u32,
) -> Result<Page<Person>> {
    let mut qb = QueryBuilder::<Sqlite>::new("select * from people p where 1 = 1");
    if let Some(t) = &filter.team_township_id {
        qb.push(" and p.team_township_id = ").push_bind(t.clone());
    }
    if let Some(v) = &filter.village_id {
        qb.push(" and p.id in (select cv.person_id from counsel_villages cv where cv.village_id = ")
            .push_bind(v.clone())
            .push(")");
    }
    if filter.active_only {
        qb.push(" and p.active = 1");
    }
    if let Some(a) = after {
        qb.push(" and p.id > ").push_bind(a.to_owned());
    }
    qb.push(" order by p.id limit ").push_bind(i64::from(size));
    let rows = qb.build().fetch_all(pool).await.map_err(db)?;
    let mut items: Vec<Person> = rows.iter().map(person_from_row).collect::<Result<_>>()?;
    if !items.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "select person_id, village_id from counsel_villages where person_id in (",
        );
        let mut list = qb.separated(", ");
        for p in &items {
            list.push_bind(p.id.clone());
        }
        qb.push(") order by person_id, position");
        let mut villages: HashMap<String, Vec<String>> = HashMap::new();
        for row in qb.build().fetch_all(pool).await.map_err(db)? {
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
