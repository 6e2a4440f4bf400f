//! DisclosureService: the public disclosure boards (公示栏) of villages and townships.
//! No token is needed (the authorization table's public rows); a bucket of its own
//! limits each address (`limits.address_public_reads_per_minute`).
//!
//! A board holds directory data and the programme policy's board text only: who
//! counsels the village or sits on the township's team, their units, photos and business
//! phones, the station, the duties and the supervision phone. Nothing about any caller
//! or order is read.
//!
//! Caching: gRPC has no HTTP cache, so a board carries an `etag` (a digest of
//! everything on it) and `max_age_seconds`. A client shows its copy for that long, then
//! asks again with `if_none_match`; an unchanged board is answered `not_modified` with
//! nothing else. A proxy in front may cache by the request message for `max_age_seconds`.

use crate::app::App;
use crate::convert::code;
use crate::error::{ApiError, ApiResult, respond};
use hotline_domain::routing::Step;
use hotline_domain::{Level, UnitLevel};
use hotline_proto::v1::{self as pb, disclosure_service_server::DisclosureService};
use hotline_store::{PageRequest, Person, PersonFilter, StoreError, TeamRole, Unit};
use prost::Message;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use tonic::{Request, Response, Status};

/// How long a client or proxy may show a board without asking again.
pub const MAX_AGE_SECONDS: u32 = 300;

fn unit_pb(u: &Unit) -> pb::BoardUnit {
    pb::BoardUnit { id: u.id.clone(), name: u.name.clone() }
}

fn person_pb(p: &Person, role: pb::BoardRole) -> pb::BoardPerson {
    pb::BoardPerson {
        id: p.id.clone(),
        name: p.name.clone(),
        organization: p.organization.clone().unwrap_or_default(),
        photo_ref: p.photo_ref.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        role: role as i32,
    }
}

fn team_role(p: &Person) -> pb::BoardRole {
    match p.team_role {
        Some(TeamRole::Lead) => pb::BoardRole::TeamLead,
        _ => pb::BoardRole::TeamMember,
    }
}

/// The board's etag: a digest of everything on it.
fn etag(board: &pb::Board) -> String {
    let digest = Sha256::digest(board.encode_to_vec());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The board as answered to a request that holds `if_none_match`.
fn answer(mut board: pb::Board, if_none_match: &str) -> pb::Board {
    board.max_age_seconds = MAX_AGE_SECONDS;
    let tag = etag(&board);
    if if_none_match.trim() == tag {
        return pb::Board {
            not_modified: true,
            etag: tag,
            max_age_seconds: MAX_AGE_SECONDS,
            ..Default::default()
        };
    }
    board.etag = tag;
    board
}

pub struct DisclosureSvc {
    app: App,
}

impl DisclosureSvc {
    pub fn new(app: App) -> Self {
        DisclosureSvc { app }
    }

    /// A unit of `level`, named by `field`; NOT_FOUND for any other id.
    async fn unit(&self, field: &str, id: &str, level: UnitLevel) -> ApiResult<Unit> {
        match self.app.store.get_unit(id).await {
            Ok(u) if u.level == level => Ok(u),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                Err(ApiError::NotFound(format!("{field}: {level} `{id}` not found")))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn parent(&self, u: &Unit) -> ApiResult<Unit> {
        let id = u
            .parent_id
            .as_deref()
            .ok_or_else(|| StoreError::other(format!("unit {} has no parent", u.id)))?;
        Ok(self.app.store.get_unit(id).await?)
    }

    /// Everyone shown on boards of this township: its team and the counsel of its
    /// villages, active and not disqualified, by id.
    async fn people(&self, township: &str, counsel_ids: &[String]) -> ApiResult<BTreeMap<String, Person>> {
        let store = self.app.store.as_ref();
        let disqualified = store.disqualified().await?;
        let mut people = BTreeMap::new();
        let filter =
            PersonFilter { team_township_id: Some(township.to_owned()), village_id: None, active_only: true };
        let mut page = PageRequest::first(hotline_store::MAX_PAGE_SIZE);
        loop {
            let result = store.list_people(&filter, &page).await?;
            people.extend(result.items.into_iter().map(|p| (p.id.clone(), p)));
            match result.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        for id in counsel_ids {
            if !people.contains_key(id) {
                match store.get_person(id).await {
                    Ok(p) if p.active => {
                        people.insert(p.id.clone(), p);
                    }
                    Ok(_) | Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        people.retain(|id, _| !disqualified.contains_key(id));
        Ok(people)
    }

    /// The counsel of each of `villages`, as routing has them.
    async fn counsel_of(&self, villages: &[&str]) -> ApiResult<HashMap<String, Vec<String>>> {
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let none = HashMap::new();
        Ok(villages
            .iter()
            .map(|v| {
                let counsel = built
                    .index
                    .candidates(v, Level::VillageCounsel, &none)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.step == Step::VillageCounsel)
                    .filter_map(|c| c.target.assignee_id)
                    .collect();
                ((*v).to_owned(), counsel)
            })
            .collect())
    }

    /// What every board of a township prints: the county, the township, its station,
    /// the duties and the supervision phone.
    async fn frame(&self, township: &Unit) -> ApiResult<pb::Board> {
        let county = self.parent(township).await?;
        let station = match self.app.store.get_station(&township.id).await {
            Ok(s) => Some(pb::BoardStation {
                name: s.name,
                phone: s.phone.unwrap_or_default(),
                address: s.address.unwrap_or_default(),
            }),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let policy = self.app.programme.current(self.app.store.as_ref()).await?;
        let board = &policy.policy.board;
        Ok(pb::Board {
            county: Some(unit_pb(&county)),
            township: Some(unit_pb(township)),
            station,
            counsel_duties: board.counsel_duties.clone(),
            team_duties: board.team_duties.clone(),
            supervision_phone: board.supervision_phone(&county.id).to_owned(),
            ..Default::default()
        })
    }

    async fn village_board(&self, req: &pb::GetVillageBoardRequest) -> ApiResult<pb::Board> {
        let id = code("village_id", &req.village_id)?;
        let village = self.unit("village_id", &id, UnitLevel::Village).await?;
        let township = self.parent(&village).await?;
        let counsel = self.counsel_of(&[village.id.as_str()]).await?.remove(&village.id).unwrap_or_default();
        let people = self.people(&township.id, &counsel).await?;
        let mut board = self.frame(&township).await?;
        board.village = Some(unit_pb(&village));
        board.people = counsel
            .iter()
            .filter_map(|c| people.get(c))
            .map(|p| person_pb(p, pb::BoardRole::Counsel))
            .collect();
        Ok(answer(board, &req.if_none_match))
    }

    async fn township_board(&self, req: &pb::GetTownshipBoardRequest) -> ApiResult<pb::Board> {
        let id = code("township_id", &req.township_id)?;
        let township = self.unit("township_id", &id, UnitLevel::Township).await?;
        let villages = self
            .app
            .store
            .list_units(
                Some(&township.id),
                Some(UnitLevel::Village),
                &PageRequest::first(hotline_store::MAX_PAGE_SIZE),
            )
            .await?
            .items;
        let ids: Vec<&str> = villages.iter().map(|v| v.id.as_str()).collect();
        let counsel = self.counsel_of(&ids).await?;
        let all: Vec<String> = counsel.values().flatten().cloned().collect();
        let people = self.people(&township.id, &all).await?;
        let mut board = self.frame(&township).await?;
        let mut team: Vec<&Person> =
            people.values().filter(|p| p.team_township_id.as_deref() == Some(township.id.as_str())).collect();
        // The lead first, then by id.
        team.sort_by_key(|p| (p.team_role != Some(TeamRole::Lead), p.id.clone()));
        board.people = team.into_iter().map(|p| person_pb(p, team_role(p))).collect();
        board.villages = villages
            .iter()
            .map(|v| pb::BoardVillage {
                village: Some(unit_pb(v)),
                counsel: counsel
                    .get(&v.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| people.get(c))
                    .map(|p| person_pb(p, pb::BoardRole::Counsel))
                    .collect(),
            })
            .collect();
        Ok(answer(board, &req.if_none_match))
    }
}

#[tonic::async_trait]
impl DisclosureService for DisclosureSvc {
    async fn get_village_board(
        &self,
        req: Request<pb::GetVillageBoardRequest>,
    ) -> Result<Response<pb::Board>, Status> {
        respond(self.village_board(req.get_ref()).await)
    }
    async fn get_township_board(
        &self,
        req: Request<pb::GetTownshipBoardRequest>,
    ) -> Result<Response<pb::Board>, Status> {
        respond(self.township_board(req.get_ref()).await)
    }
}
