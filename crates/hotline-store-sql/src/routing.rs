//! Routing, availability and the map.

use crate::directory::CHUNK;
use crate::{Arg, Backend, Dialect, R, ReadRow, Sql, SqlStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::ledger::TeamPost;
use hotline_domain::routing::{PersonInput, PersonStatus, VillageInput};
use hotline_store::{
    AVAILABILITY_HISTORY, Availability, AvailabilityChange, AvailabilityEvent, Directory, Institution, Leave,
    Result, RoutingSnapshot, RoutingStore, StoreError, StoredPolicy,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Upserts the batch's institutions and moves the directory version on, on the
/// import's transaction.
pub(crate) async fn import_institutions<C: Dialect>(conn: &mut C, dir: &Directory) -> Result<()> {
    for chunk in dir.institutions.chunks(CHUNK) {
        let mut q = Sql::new(
            "insert into institutions (id, name, kind, county_id, township_id, village_id, \
             latitude, longitude, phone, address, capacity) ",
        );
        q.push_rows(chunk.iter().map(|i| {
            [
                Arg::from(i.id.as_str()),
                i.name.as_str().into(),
                i.kind.as_str().into(),
                i.county_id.as_str().into(),
                i.township_id.as_deref().into(),
                i.village_id.as_deref().into(),
                i.latitude.into(),
                i.longitude.into(),
                i.phone.as_deref().into(),
                i.address.as_deref().into(),
                i.capacity.into(),
            ]
        }));
        q.push(
            " on conflict (id) do update set name = excluded.name, kind = excluded.kind, \
             county_id = excluded.county_id, township_id = excluded.township_id, \
             village_id = excluded.village_id, latitude = excluded.latitude, \
             longitude = excluded.longitude, phone = excluded.phone, address = excluded.address, \
             capacity = excluded.capacity",
        );
        q.execute(conn).await?;
    }
    Sql::new("update directory_version set version = version + 1 where id = 1").execute(conn).await?;
    Ok(())
}

fn institution_from_row(row: &impl ReadRow) -> Result<Institution> {
    let r = R(row);
    Ok(Institution {
        id: r.get("id")?,
        name: r.get("name")?,
        kind: r.named("kind")?,
        county_id: r.get("county_id")?,
        township_id: r.opt("township_id")?,
        village_id: r.opt("village_id")?,
        latitude: r.get("latitude")?,
        longitude: r.get("longitude")?,
        phone: r.opt("phone")?,
        address: r.opt("address")?,
        capacity: r.opt("capacity")?,
    })
}

fn leave_from_row(row: &impl ReadRow) -> Result<Leave> {
    let r = R(row);
    Ok(Leave {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        starts_at: r.get("starts_at")?,
        ends_at: r.get("ends_at")?,
        note: r.opt("note")?,
    })
}

fn availability_event_from_row(row: &impl ReadRow) -> Result<AvailabilityEvent> {
    let r = R(row);
    Ok(AvailabilityEvent {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        kind: r.get("kind")?,
        actor_id: r.get("actor_id")?,
        at: r.get("at")?,
        payload: r.json("payload")?,
    })
}

/// The parts of the routing snapshot, in the caller's transaction.
async fn snapshot<C: Dialect>(conn: &mut C) -> Result<RoutingSnapshot> {
    let row = Sql::new("select version from directory_version where id = 1").fetch_one(conn).await?;
    let mut snapshot = RoutingSnapshot { version: R(&row).get("version")?, ..Default::default() };
    let rows = Sql::new(
        "select v.id as id, v.parent_id as township_id, t.parent_id as county_id, \
         v.latitude as latitude, v.longitude as longitude \
         from units v join units t on t.id = v.parent_id \
         where v.level = 'village' and t.parent_id is not null order by v.id",
    )
    .fetch_all(conn)
    .await?;
    for row in &rows {
        let r = R(row);
        let id: String = r.get("id")?;
        if let (Some(lat), Some(lon)) = (r.opt("latitude")?, r.opt("longitude")?) {
            snapshot.village_coords.insert(id.clone(), (lat, lon));
        }
        snapshot.villages.push(VillageInput {
            id,
            township_id: r.get("township_id")?,
            county_id: r.get("county_id")?,
        });
    }
    let mut villages: HashMap<String, Vec<String>> = HashMap::new();
    let rows = Sql::new("select person_id, village_id from counsel_villages order by person_id, position")
        .fetch_all(conn)
        .await?;
    for row in &rows {
        let r = R(row);
        villages.entry(r.get("person_id")?).or_default().push(r.get("village_id")?);
    }
    let rows = Sql::new("select id, name, team_township_id, team_role from people order by id")
        .fetch_all(conn)
        .await?;
    for row in &rows {
        let r = R(row);
        let id: String = r.get("id")?;
        let role: Option<String> = r.opt("team_role")?;
        snapshot.person_names.insert(id.clone(), r.get("name")?);
        snapshot.people.push(PersonInput {
            villages: villages.remove(&id).unwrap_or_default(),
            id,
            team_township_id: r.opt("team_township_id")?,
            lead: role.as_deref() == Some("lead"),
        });
    }
    snapshot.institutions = Sql::new("select * from institutions order by id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(institution_from_row)
        .collect::<Result<_>>()?;
    let rows = Sql::new(
        "select id, parent_id from units where level = 'township' and parent_id is not null order by id",
    )
    .fetch_all(conn)
    .await?;
    for row in &rows {
        let r = R(row);
        snapshot.townships.push(TeamPost { township_id: r.get("id")?, county_id: r.get("parent_id")? });
    }
    Ok(snapshot)
}

/// The statements of `change_availability`, in the caller's transaction.
async fn change<C: Dialect>(
    conn: &mut C,
    person_id: &str,
    changes: &[AvailabilityChange],
    actor_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<AvailabilityEvent>> {
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let touched = match change {
            AvailabilityChange::SetActive { active } => {
                Sql::new("update people set active = $1 where id = $2")
                    .bind(*active)
                    .bind(person_id)
                    .execute(conn)
                    .await?
            }
            AvailabilityChange::SetCapacity { capacity } => {
                Sql::new("update people set capacity = $1 where id = $2")
                    .bind(*capacity)
                    .bind(person_id)
                    .execute(conn)
                    .await?
            }
            AvailabilityChange::AddLeave { leave } => {
                let exists = Sql::new("select id from people where id = $1")
                    .bind(person_id)
                    .fetch_optional(conn)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::not_found("person", person_id));
                }
                Sql::new(
                    "insert into person_leaves (id, person_id, starts_at, ends_at, note, created_by, created_at) \
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(leave.id)
                .bind(person_id)
                .bind(leave.starts_at)
                .bind(leave.ends_at)
                .bind(leave.note.as_deref())
                .bind(actor_id)
                .bind(at)
                .execute(conn)
                .await?
            }
            AvailabilityChange::CancelLeave { leave_id } => {
                let n = Sql::new(
                    "update person_leaves set cancelled_at = $1 \
                     where id = $2 and person_id = $3 and cancelled_at is null",
                )
                .bind(at)
                .bind(*leave_id)
                .bind(person_id)
                .execute(conn)
                .await?;
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
        let row = Sql::new(
            "insert into availability_events (person_id, kind, actor_id, at, payload) \
             values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(person_id)
        .bind(change.kind())
        .bind(actor_id)
        .bind(at)
        .bind(C::json(Some(&payload))?)
        .fetch_one(conn)
        .await?;
        events.push(AvailabilityEvent {
            id: R(&row).get("id")?,
            person_id: person_id.to_owned(),
            kind: change.kind().to_owned(),
            actor_id,
            at,
            payload,
        });
    }
    Ok(events)
}

#[async_trait]
impl<B: Backend> RoutingStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn directory_version(&self) -> Result<i64> {
        let row = Sql::new("select version from directory_version where id = 1")
            .fetch_one(&mut *self.read().await?)
            .await?;
        R(&row).get("version")
    }

    #[tracing::instrument(skip_all)]
    async fn routing_snapshot(&self) -> Result<RoutingSnapshot> {
        // One transaction, so the parts agree with each other and the version.
        B::read_consistent(self, |c| Box::pin(snapshot(c))).await
    }

    #[tracing::instrument(skip_all, fields(people = person_ids.len()))]
    async fn candidate_status(
        &self,
        person_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<HashMap<String, PersonStatus>> {
        let mut out = HashMap::with_capacity(person_ids.len());
        let mut conn = self.read().await?;
        for chunk in person_ids.chunks(CHUNK) {
            let mut q = Sql::new(
                "select p.id as id, (p.active and p.disqualified_at is null) as active, p.capacity as capacity, \
                 exists (select 1 from person_leaves l where l.person_id = p.id \
                   and l.cancelled_at is null and l.starts_at <= ",
            );
            q.push_bind(at).push(" and l.ends_at > ").push_bind(at);
            q.push(
                ") as on_leave, \
                 (select count(*) from work_orders w where w.assignee_id = p.id \
                   and w.state not in ('closed', 'cancelled', 'archived')) as open_orders \
                 from people p where p.id in ",
            );
            q.push_list(chunk.iter().map(String::as_str));
            for row in q.fetch_all(&mut *conn).await? {
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
        self.write(move |c| Box::pin(async move { change(c, &person_id, &changes, actor_id, at).await }))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn availability(&self, person_id: &str, at: DateTime<Utc>) -> Result<Availability> {
        let status = self.candidate_status(&[person_id.to_owned()], at).await?;
        let Some(status) = status.get(person_id) else {
            return Err(StoreError::not_found("person", person_id));
        };
        let mut conn = self.read().await?;
        let leaves = Sql::new(
            "select * from person_leaves where person_id = $1 and cancelled_at is null and ends_at > $2 \
             order by starts_at, id",
        )
        .bind(person_id)
        .bind(at)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(leave_from_row)
        .collect::<Result<_>>()?;
        let events =
            Sql::new("select * from availability_events where person_id = $1 order by id desc limit $2")
                .bind(person_id)
                .bind(AVAILABILITY_HISTORY)
                .fetch_all(&mut *conn)
                .await?
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
        let row = stored_policy("routing_policy").fetch_optional(&mut *self.read().await?).await?;
        row.as_ref().map(policy_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save_routing_policy(&self, policy: &StoredPolicy) -> Result<()> {
        B::execute(self, save_policy("routing_policy", policy)).await?;
        Ok(())
    }
}

/// The one row of a table of a stored policy document (`routing_policy`,
/// `time_limit_policy`, `programme_policy`).
pub(crate) fn stored_policy<C: Dialect>(table: &str) -> Sql<C> {
    Sql::new(format!("select * from {table} where id = 1"))
}

pub(crate) fn policy_from_row(row: &impl ReadRow) -> Result<StoredPolicy> {
    let r = R(row);
    Ok(StoredPolicy {
        document: r.get("document")?,
        updated_by: r.get("updated_by")?,
        updated_at: r.get("updated_at")?,
    })
}

/// Stores `policy` as the one row of `table`, replacing what it held.
pub(crate) fn save_policy<C: Dialect>(table: &str, policy: &StoredPolicy) -> Sql<C> {
    Sql::new(format!(
        "insert into {table} (id, document, updated_by, updated_at) values (1, $1, $2, $3) \
         on conflict (id) do update set document = excluded.document, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at"
    ))
    .bind(policy.document.clone())
    .bind(policy.updated_by)
    .bind(policy.updated_at)
}
