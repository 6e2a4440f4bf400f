use crate::app::App;
use crate::authz::actor;
use crate::convert::{self, code, optional_code, person_pb, station_pb, unit_pb};
use crate::error::{ApiResult, respond};
use hotline_proto::v1::{self as pb, directory_service_server::DirectoryService};
use hotline_store::PersonFilter;
use tonic::{Request, Response, Status};

/// The directory is readable by every staff role (see `authz::TABLE`): counsel look up
/// colleagues, agents look up villages. Writing it is `hotline directory import`.
pub struct DirectorySvc {
    app: App,
}

impl DirectorySvc {
    pub fn new(app: App) -> Self {
        DirectorySvc { app }
    }

    async fn list_units(&self, req: Request<pb::ListUnitsRequest>) -> ApiResult<pb::ListUnitsResponse> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let parent = optional_code("parent_id", &r.parent_id)?;
        let level = match r.level {
            0 => None,
            v => Some(convert::unit_level("level", v)?),
        };
        let page = self.app.tokens.pages.request(&actor, r)?;
        let result = self.app.store.list_units(parent.as_deref(), level, &page).await?;
        Ok(pb::ListUnitsResponse {
            units: result.items.iter().map(unit_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&actor, r, result.next_cursor),
        })
    }

    async fn list_people(&self, req: Request<pb::ListPeopleRequest>) -> ApiResult<pb::ListPeopleResponse> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let filter = PersonFilter {
            team_township_id: optional_code("team_township_id", &r.team_township_id)?,
            village_id: optional_code("village_id", &r.village_id)?,
            active_only: r.active_only,
        };
        let page = self.app.tokens.pages.request(&actor, r)?;
        let result = self.app.store.list_people(&filter, &page).await?;
        Ok(pb::ListPeopleResponse {
            people: result.items.iter().map(person_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&actor, r, result.next_cursor),
        })
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectorySvc {
    async fn get_unit(&self, req: Request<pb::GetUnitRequest>) -> Result<Response<pb::Unit>, Status> {
        respond(
            async {
                let id = code("id", &req.get_ref().id)?;
                Ok(unit_pb(&self.app.store.get_unit(&id).await?))
            }
            .await,
        )
    }

    async fn list_units(
        &self,
        req: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        respond(DirectorySvc::list_units(self, req).await)
    }

    async fn get_station(
        &self,
        req: Request<pb::GetStationRequest>,
    ) -> Result<Response<pb::Station>, Status> {
        respond(
            async {
                let id = code("township_id", &req.get_ref().township_id)?;
                Ok(station_pb(&self.app.store.get_station(&id).await?))
            }
            .await,
        )
    }

    async fn get_person(&self, req: Request<pb::GetPersonRequest>) -> Result<Response<pb::Person>, Status> {
        respond(
            async {
                let id = code("id", &req.get_ref().id)?;
                Ok(person_pb(&self.app.store.get_person(&id).await?))
            }
            .await,
        )
    }

    async fn list_people(
        &self,
        req: Request<pb::ListPeopleRequest>,
    ) -> Result<Response<pb::ListPeopleResponse>, Status> {
        respond(DirectorySvc::list_people(self, req).await)
    }
}
