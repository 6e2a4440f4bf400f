//! Routing, availability and the map on SQLite.

use crate::SqliteStore;
use crate::rows::{R, db, micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::routing::{PersonInput, PersonStatus, VillageInput};
use hotline_store::{
    AVAILABILITY_HISTORY, Availability, AvailabilityChange, AvailabilityEvent, Directory, Institution, Leave,
    Result, RoutingSnapshot, RoutingStore, StoreError, StoredPolicy,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

const CHUNK: usize = 500;

/// Upserts the batch's institutions and moves the directory version on, on the
/// import's transaction.
pub(crate) async fn import_institutions(conn: &mut SqliteConnection, dir: &Directory) -> Result<()> {
    for chunk in dir.institutions.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "insert into institutions (id, name, kind, county_id, township_id, village_id, \
             latitude, longitude, phone, address, capacity) ",
        );
        qb.push_values(chunk, |mut b, i| {
            b.push_bind(i.id.as_str())
                .push_bind(i.name.as_str())
                .push_bind(i.kind.as_str())
                .push_bind(i.county_id.as_str())
                .push_bind(i.township_id.as_deref())
                .push_bind(i.village_id.as_deref())
                .push_bind(i.latitude)
                .push_bind(i.longitude)
                .push_bind(i.phone.as_deref())
                .push_bind(i.address.as_deref())
                .push_bind(i.capacity);
        });
        qb.push(
            " on conflict (id) do update set name = excluded.name, kind = excluded.kind, \
             county_id = excluded.county_id, township_id = excluded.township_id, \
             village_id = excluded.village_id, latitude = excluded.latitude, \
             longitude = excluded.longitude, phone = excluded.phone, address = excluded.address, \
             capacity = excluded.capacity",
        );
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    sqlx::query("update directory_version set version = version + 1 where id = 1")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

fn institution_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Institution> {
    let r = R(row);
    Ok(Institution {
        id: r.get("id")?,
        name: r.get("name")?,
        kind: r.named("kind")?,
        county_id: r.get("county_id")?,
        township_id: r.get("township_id")?,
        village_id: r.get("village_id")?,
        latitude: r.get("latitude")?,
        longitude: r.get("longitude")?,
        phone: r.get("phone")?,
        address: r.get("address")?,
        capacity: r.get("capacity")?,
    })
}

fn leave_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Leave> {
    let r = R(row);
    Ok(Leave {
        id: r.uuid("id")?,
        person_id: r.get("person_id")?,
        starts_at: r.time("starts_at")?,
        ends_at: r.time("ends_at")?,
        note: r.get("note")?,
    })
}

fn availability_event_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AvailabilityEvent> {
    let r = R(row);
    Ok(AvailabilityEvent {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        kind: r.get("kind")?,
        actor_id: r.uuid("actor_id")?,
        at: r.time("at")?,
        payload: r.json("payload")?,
    })
}

#[async_trait]
impl RoutingStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn directory_version(&self) -> Result<i64> {
        sqlx::query_scalar("select version from directory_version where id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    #[tracing::instrument(skip_all)]
    async fn routing_snapshot(&self) -> Result<RoutingSnapshot> {
        // One transaction, so the parts agree with each other and the version; on the
        // write connection, so that no reader is ever left inside a transaction.
        self.write(move |tx| {
            Box::pin(async move {
                let version: i64 = sqlx::query_scalar("select version from directory_version where id = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                let rows = sqlx::query(
                    "select v.id as id, v.parent_id as township_id, t.parent_id as county_id, \
             v.latitude as latitude, v.longitude as longitude \
             from units v join units t on t.id = v.parent_id \
             where v.level = 'village' and t.parent_id is not null order by v.id",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                let mut snapshot = RoutingSnapshot { version, ..Default::default() };
                for row in &rows {
                    let r = R(row);
                    let id: String = r.get("id")?;
                    let (lat, lon): (Option<f64>, Option<f64>) = (r.get("latitude")?, r.get("longitude")?);
                    if let (Some(lat), Some(lon)) = (lat, lon) {
                        snapshot.village_coords.insert(id.clone(), (lat, lon));
                    }
                    snapshot.villages.push(VillageInput {
                        id,
                        township_id: r.get("township_id")?,
                        county_id: r.get("county_id")?,
                    });
                }
                let mut villages: HashMap<String, Vec<String>> = HashMap::new();
                for row in sqlx::query(
                    "select person_id, village_id from counsel_villages order by person_id, position",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?
                {
                    let r = R(&row);
                    villages.entry(r.get("person_id")?).or_default().push(r.get("village_id")?);
                }
                for row in sqlx::query("select id, name, team_township_id, team_role from people order by id")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?
                {
                    let r = R(&row);
                    let id: String = r.get("id")?;
                    let role: Option<String> = r.get("team_role")?;
                    snapshot.person_names.insert(id.clone(), r.get("name")?);
                    snapshot.people.push(PersonInput {
                        villages: villages.remove(&id).unwrap_or_default(),
                        id,
                        team_township_id: r.get("team_township_id")?,
                        lead: role.as_deref() == Some("lead"),
                    });
                }
                snapshot.institutions = sqlx::query("select * from institutions order by id")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?
                    .iter()
                    .map(institution_from_row)
                    .collect::<Result<_>>()?;
                Ok(snapshot)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(people = person_ids.len()))]
    async fn candidate_status(
        &self,
        person_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<HashMap<String, PersonStatus>> {
        let mut out = HashMap::with_capacity(person_ids.len());
        for chunk in person_ids.chunks(CHUNK) {
            let t = micros(at);
            let mut qb = QueryBuilder::<Sqlite>::new(
                "select p.id as id, p.active as active, p.capacity as capacity, \
                 exists (select 1 from person_leaves l where l.person_id = p.id \
                   and l.cancelled_at is null and l.starts_at <= ",
            );
            qb.push_bind(t).push(" and l.ends_at > ").push_bind(t);
            qb.push(
                ") as on_leave, \
                 (select count(*) from work_orders w where w.assignee_id = p.id \
                   and w.state not in ('closed', 'cancelled', 'archived')) as open_orders \
                 from people p where p.id in (",
            );
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            qb.push(")");
            for row in qb.build().fetch_all(&self.pool).await.map_err(db)? {
                let r = R(&row);
                out.insert(
                    r.get("id")?,
                    PersonStatus {
                        active: r.get("active")?,
                        on_leave: r.get("on_leave")?,
                        capacity: r.get("capacity")?,
                        open_orders: r.get("open_orders")?,
                    },
                );
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(changes = changes.len()))]
    async fn change_availability(
        &self,
        person_id: &str,
        changes: &[AvailabilityChange],
        actor_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<AvailabilityEvent>> {
        let (person_id, changes) = (person_id.to_owned(), changes.to_vec());
        self.write(move |tx| Box::pin(async move { change(tx, &person_id, &changes, actor_id, at).await }))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn availability(&self, person_id: &str, at: DateTime<Utc>) -> Result<Availability> {
        let status = self.candidate_status(&[person_id.to_owned()], at).await?;
        let Some(status) = status.get(person_id) else {
            return Err(StoreError::not_found("person", person_id));
        };
        let leaves = sqlx::query(
            "select * from person_leaves where person_id = ? and cancelled_at is null and ends_at > ? \
             order by starts_at, id",
        )
        .bind(person_id)
        .bind(micros(at))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(leave_from_row)
        .collect::<Result<_>>()?;
        let events =
            sqlx::query("select * from availability_events where person_id = ? order by id desc limit ?")
                .bind(person_id)
                .bind(AVAILABILITY_HISTORY)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?
                .iter()
                .map(availability_event_from_row)
                .collect::<Result<_>>()?;
        Ok(Availability {
            person_id: person_id.to_owned(),
            active: status.active,
            capacity: status.capacity,
            open_orders: status.open_orders,
            leaves,
            events,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn stored_routing_policy(&self) -> Result<Option<StoredPolicy>> {
        let row = sqlx::query("select * from routing_policy where id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|row| {
            let r = R(&row);
            Ok(StoredPolicy {
                document: r.get("document")?,
                updated_by: r.uuid("updated_by")?,
                updated_at: r.time("updated_at")?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save_routing_policy(&self, policy: &StoredPolicy) -> Result<()> {
        let policy = policy.clone();
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "insert into routing_policy (id, document, updated_by, updated_at) values (1, ?, ?, ?) \
             on conflict (id) do update set document = excluded.document, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(&policy.document)
                .bind(policy.updated_by.to_string())
                .bind(micros(policy.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await
    }
}

/// The statements of `change_availability`, in the writer's transaction.
async fn change(
    tx: &mut SqliteConnection,
    person_id: &str,
    changes: &[AvailabilityChange],
    actor_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<AvailabilityEvent>> {
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let touched = match change {
            AvailabilityChange::SetActive { active } => {
                sqlx::query("update people set active = ? where id = ?")
                    .bind(active)
                    .bind(person_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected()
            }
            AvailabilityChange::SetCapacity { capacity } => {
                sqlx::query("update people set capacity = ? where id = ?")
                    .bind(capacity)
                    .bind(person_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected()
            }
            AvailabilityChange::AddLeave { leave } => {
                let exists: Option<String> = sqlx::query_scalar("select id from people where id = ?")
                    .bind(person_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                if exists.is_none() {
                    return Err(StoreError::not_found("person", person_id));
                }
                sqlx::query(
                    "insert into person_leaves (id, person_id, starts_at, ends_at, note, created_by, created_at) \
                     values (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(leave.id.to_string())
                .bind(person_id)
                .bind(micros(leave.starts_at))
                .bind(micros(leave.ends_at))
                .bind(leave.note.as_deref())
                .bind(actor_id.to_string())
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected()
            }
            AvailabilityChange::CancelLeave { leave_id } => {
                let n = sqlx::query(
                    "update person_leaves set cancelled_at = ? \
                     where id = ? and person_id = ? and cancelled_at is null",
                )
                .bind(micros(at))
                .bind(leave_id.to_string())
                .bind(person_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::not_found("leave", leave_id));
                }
                n
            }
        };
        if touched == 0 {
            return Err(StoreError::not_found("person", person_id));
        }
        let payload = serde_json::to_value(change).map_err(StoreError::other)?;
        let id: i64 = sqlx::query_scalar(
            "insert into availability_events (person_id, kind, actor_id, at, payload) \
             values (?, ?, ?, ?, ?) returning id",
        )
        .bind(person_id)
        .bind(change.kind())
        .bind(actor_id.to_string())
        .bind(micros(at))
        .bind(payload.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        events.push(AvailabilityEvent {
            id,
            person_id: person_id.to_owned(),
            kind: change.kind().to_owned(),
            actor_id,
            at,
            payload,
        });
    }
    Ok(events)
}
