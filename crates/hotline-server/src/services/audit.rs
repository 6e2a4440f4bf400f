use crate::app::App;
use crate::authz::actor;
use crate::convert::{instant, role_pb, timestamp};
use crate::error::{ApiResult, respond};
use hotline_proto::v1::{self as pb, audit_service_server::AuditService};
use hotline_store::{CallerField, ViewFilter};
use tonic::{Request, Response, Status};

pub struct AuditSvc {
    app: App,
}

impl AuditSvc {
    pub fn new(app: App) -> Self {
        AuditSvc { app }
    }
}

fn field_pb(f: CallerField) -> i32 {
    (match f {
        CallerField::Name => pb::CallerField::Name,
        CallerField::Phone => pb::CallerField::Phone,
        CallerField::IdNumber => pb::CallerField::IdNumber,
    }) as i32
}

fn optional_uuid(field: &str, raw: &str) -> ApiResult<Option<uuid::Uuid>> {
    if raw.trim().is_empty() { Ok(None) } else { Ok(Some(crate::convert::uuid(field, raw)?)) }
}

impl AuditSvc {
    async fn list_caller_data_views(
        &self,
        req: Request<pb::ListCallerDataViewsRequest>,
    ) -> ApiResult<pb::ListCallerDataViewsResponse> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let filter = ViewFilter {
            user_id: optional_uuid("user_id", &r.user_id)?,
            order_id: optional_uuid("order_id", &r.order_id)?,
            from: r.from.as_ref().map(|t| instant("from", t)).transpose()?,
            to: r.to.as_ref().map(|t| instant("to", t)).transpose()?,
        };
        let page = self.app.tokens.pages.request(&actor, r)?;
        let result = self.app.store.list_caller_views(&filter, &page).await?;
        Ok(pb::ListCallerDataViewsResponse {
            views: result
                .items
                .iter()
                .map(|v| pb::CallerDataView {
                    id: v.id,
                    at: Some(timestamp(v.at)),
                    user_id: v.user_id.to_string(),
                    role: role_pb(v.role),
                    order_id: v.order_id.map(|u| u.to_string()).unwrap_or_default(),
                    call_id: v.call_id.map(|u| u.to_string()).unwrap_or_default(),
                    fields: v.fields.iter().copied().map(field_pb).collect(),
                    rpc: v.rpc.clone(),
                    telephony_call_id: v.telephony_call_id.clone().unwrap_or_default(),
                })
                .collect(),
            next_page_token: self.app.tokens.pages.next(&actor, r, result.next_cursor),
        })
    }
}

#[tonic::async_trait]
impl AuditService for AuditSvc {
    async fn list_caller_data_views(
        &self,
        req: Request<pb::ListCallerDataViewsRequest>,
    ) -> Result<Response<pb::ListCallerDataViewsResponse>, Status> {
        respond(AuditSvc::list_caller_data_views(self, req).await)
    }
}
