//! MapService: the legal-service map, "where is the nearest help".

use crate::app::App;
use crate::convert::code;
use crate::error::{ApiResult, respond};
use crate::services::routing::{institution_kind, institution_kind_pb};
use hotline_domain::{DomainError, FieldError, InstitutionKind};
use hotline_proto::v1::{self as pb, map_service_server::MapService};
use hotline_store::Institution;
use tonic::{Request, Response, Status};

/// Largest search radius.
pub const MAX_RADIUS_KM: f64 = 200.0;
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Readable by every staff role (see `authz::TABLE`): agents tell callers where the nearest help is.
pub struct MapSvc {
    app: App,
}

fn institution_pb(i: &Institution) -> pb::Institution {
    pb::Institution {
        id: i.id.clone(),
        name: i.name.clone(),
        kind: institution_kind_pb(i.kind),
        county_id: i.county_id.clone(),
        township_id: i.township_id.clone().unwrap_or_default(),
        village_id: i.village_id.clone().unwrap_or_default(),
        latitude: i.latitude,
        longitude: i.longitude,
        phone: i.phone.clone().unwrap_or_default(),
        address: i.address.clone().unwrap_or_default(),
        capacity: i.capacity,
    }
}

/// Radius, kinds and limit, checked.
fn search(
    radius_km: f64,
    kinds: &[i32],
    limit: u32,
) -> Result<(f64, Vec<InstitutionKind>, usize), FieldError> {
    if !radius_km.is_finite() || radius_km <= 0.0 || radius_km > MAX_RADIUS_KM {
        return Err(FieldError::new("radius_km", format!("must be above 0 and at most {MAX_RADIUS_KM}")));
    }
    let kinds = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| institution_kind(&format!("kinds[{i}]"), *k))
        .collect::<Result<Vec<_>, _>>()?;
    if limit > MAX_LIMIT {
        return Err(FieldError::new("limit", format!("at most {MAX_LIMIT}")));
    }
    Ok((radius_km, kinds, if limit == 0 { DEFAULT_LIMIT } else { limit } as usize))
}

impl MapSvc {
    pub fn new(app: App) -> Self {
        MapSvc { app }
    }

    async fn find(
        &self,
        lat: f64,
        lon: f64,
        radius_km: f64,
        kinds: &[InstitutionKind],
        limit: usize,
    ) -> ApiResult<pb::FindNearbyInstitutionsResponse> {
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let found = built.map.nearby(lat, lon, radius_km, kinds, limit);
        Ok(pb::FindNearbyInstitutionsResponse {
            institutions: found
                .into_iter()
                .map(|(i, d)| pb::NearbyInstitution { institution: Some(institution_pb(i)), distance_km: d })
                .collect(),
        })
    }

    async fn nearby(
        &self,
        req: Request<pb::FindNearbyInstitutionsRequest>,
    ) -> ApiResult<pb::FindNearbyInstitutionsResponse> {
        let r = req.get_ref();
        crate::convert::coordinates(r.latitude, r.longitude)?;
        let (radius, kinds, limit) = search(r.radius_km, &r.kinds, r.limit)?;
        self.find(r.latitude, r.longitude, radius, &kinds, limit).await
    }

    async fn for_village(
        &self,
        req: Request<pb::FindInstitutionsForVillageRequest>,
    ) -> ApiResult<pb::FindNearbyInstitutionsResponse> {
        let r = req.get_ref();
        let village = code("village_id", &r.village_id)?;
        let (radius, kinds, limit) = search(r.radius_km, &r.kinds, r.limit)?;
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let Some(&(lat, lon)) = built.map.village_coords.get(&village) else {
            // NOT_FOUND for an unknown village; a known one without coordinates cannot be placed.
            self.app.store.village_place(&village).await?;
            return Err(DomainError::Precondition(format!("village `{village}` has no coordinates")).into());
        };
        self.find(lat, lon, radius, &kinds, limit).await
    }
}

#[tonic::async_trait]
impl MapService for MapSvc {
    async fn find_nearby_institutions(
        &self,
        req: Request<pb::FindNearbyInstitutionsRequest>,
    ) -> Result<Response<pb::FindNearbyInstitutionsResponse>, Status> {
        respond(self.nearby(req).await)
    }

    async fn find_institutions_for_village(
        &self,
        req: Request<pb::FindInstitutionsForVillageRequest>,
    ) -> Result<Response<pb::FindNearbyInstitutionsResponse>, Status> {
        respond(self.for_village(req).await)
    }
}
