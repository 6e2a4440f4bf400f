use crate::access::{call_view, order_view};
use crate::app::App;
use crate::authz::actor;
use crate::authz::{Named, Reach, Scope};
use crate::convert::{self, call_pb, code, instant, optional_yuan, or_default, uuid};
use crate::error::{ApiResult, respond};
use crate::orders::orders_pb;
use crate::privacy::{Seen, record_views};
use crate::requests::request_key;
use hotline_domain::values::{limits, parse_optional_text, parse_text};
use hotline_domain::{Channel, FieldError, Phone, Place, Urgency};
use hotline_proto::v1::{self as pb, call_service_server::CallService};
use hotline_store::{Call, CallSuggestion, StoreError, SuggestionFilter};
use tonic::{Request, Response, Status};

/// Calls may be recorded up to this long after they happened (a seat types up a call
/// after hanging up), and not in the future beyond clock skew.
const MAX_CALL_AGE_DAYS: i64 = 30;
const MAX_CLOCK_SKEW_SECS: i64 = 300;

pub struct CallSvc {
    app: App,
}

impl CallSvc {
    pub fn new(app: App) -> Self {
        CallSvc { app }
    }

    async fn record_call(&self, req: Request<pb::RecordCallRequest>) -> ApiResult<pb::Call> {
        let actor = actor(&req)?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.into_inner();
        let now = self.app.now();
        let call_time = match &r.call_time {
            None => now,
            Some(t) => instant("call_time", t)?,
        };
        if call_time > now + chrono::Duration::seconds(MAX_CLOCK_SKEW_SECS) {
            return Err(FieldError::new("call_time", "is in the future").into());
        }
        if call_time < now - chrono::Duration::days(MAX_CALL_AGE_DAYS) {
            return Err(
                FieldError::new("call_time", format!("is more than {MAX_CALL_AGE_DAYS} days ago")).into()
            );
        }
        let caller = convert::caller(r.caller.as_ref())?;
        let village_id = code("village_id", &r.village_id)?;
        let telephony_call_id = parse_optional_text("telephony_call_id", &r.telephony_call_id, limits::ID)?;
        let channel = or_default(convert::channel, "channel", r.channel, Channel::Phone)?;
        let category = convert::category("category", r.category)?;
        let subcategory = convert::subcategory("subcategory", r.subcategory)?;
        let urgency = or_default(convert::urgency, "urgency", r.urgency, Urgency::Normal)?;
        let summary = parse_text("summary", &r.summary, limits::SUMMARY)?;
        let answer = parse_optional_text("answer", &r.answer, limits::ANSWER)?;
        let amount_in_dispute = optional_yuan("amount_in_dispute", &r.amount_in_dispute)?;
        // The township and county are the directory's, read as the call is stored.
        let place = Place { county_id: String::new(), township_id: String::new(), village_id };
        // What the core proposes for these words, recorded so the centre can see how
        // often agents accept it (the labels only: the cue words are not kept).
        let proposed = self.app.suggester.rank_labels(&summary);
        let suggestion = CallSuggestion {
            category: proposed.category(),
            second_category: proposed.categories.get(1).map(|s| s.value),
            subcategory: proposed.subcategory(),
        };
        let call = Call {
            id: ::uuid::Uuid::now_v7(),
            telephony_call_id,
            channel,
            call_time,
            agent_id: actor.user_id,
            caller,
            place,
            category,
            subcategory,
            urgency,
            summary,
            answer,
            amount_in_dispute,
            created_at: now,
            suggestion: Some(suggestion),
        };
        // Every field is valid; only now is the directory asked about the village.
        let recorded = match self.app.store.record_call_in_village(&call, key.as_ref()).await {
            Ok(r) => r,
            Err(StoreError::NotFound { entity: "village", .. }) => {
                let msg = format!("`{}` is not a village of the directory", call.place.village_id);
                return Err(FieldError::new("village_id", msg).into());
            }
            Err(e) => return Err(e.into()),
        };
        if recorded.created {
            // The agent's final classification is a confirmed example.
            self.app.suggester.learn(&call.summary, call.category, call.subcategory);
        }
        tracing::info!(call_id = %recorded.value.id, created = recorded.created, category = %recorded.value.category, "call recorded");
        Ok(call_pb(&recorded.value, call_view(&actor, &recorded.value)))
    }

    async fn get_call(&self, req: Request<pb::GetCallRequest>) -> ApiResult<pb::Call> {
        let scope = Scope::of(&self.app, &req).await?;
        let id = uuid("id", &req.get_ref().id)?;
        let call = scope.not_found(self.app.store.get_call(id).await)?;
        scope.check_call(&call)?;
        let actor = &scope.actor;
        let view = call_view(actor, &call);
        record_views(&self.app, actor, "GetCall", [Seen::call(&call, view)]).await?;
        Ok(call_pb(&call, view))
    }

    async fn caller_history(
        &self,
        req: Request<pb::GetCallerHistoryRequest>,
    ) -> ApiResult<pb::GetCallerHistoryResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let phone = Phone::parse("phone", &r.phone)?;
        let limit = match r.limit {
            0 => 20,
            n if n > 100 => return Err(FieldError::new("limit", "at most 100").into()),
            n => n,
        };
        let (calls, orders) = self.app.store.caller_history(&phone, limit).await?;
        // A seat agent reads the history of a caller they are on the line with, or
        // whose call they took.
        if scope.reach == Reach::Own
            && !calls.iter().any(|c| c.agent_id == actor.user_id)
            && !self.on_the_line_with(actor, &phone).await?
        {
            return Err(scope.hidden());
        }
        let now = self.app.now();
        let call_views: Vec<_> = calls.iter().map(|c| call_view(actor, c)).collect();
        let order_views: Vec<_> = orders.iter().map(|o| order_view(actor, o)).collect();
        let seen = calls.iter().zip(&call_views).map(|(c, v)| Seen::call(c, *v));
        let seen = seen.chain(orders.iter().zip(&order_views).map(|(o, v)| Seen::order(o, *v)));
        record_views(&self.app, actor, "GetCallerHistory", seen).await?;
        let shown: Vec<_> = orders.iter().zip(order_views).collect();
        Ok(pb::GetCallerHistoryResponse {
            calls: calls.iter().zip(call_views).map(|(c, v)| call_pb(c, v)).collect(),
            work_orders: orders_pb(&self.app, &shown, now, &self.app.time_limits.current().calendar).await?,
        })
    }
}

impl CallSvc {
    /// Whether the agent's current (or ringing, or wrap-up) queue call is from `phone`.
    async fn on_the_line_with(&self, actor: &hotline_domain::Actor, phone: &Phone) -> ApiResult<bool> {
        let now = self.app.now();
        let Some(agent) = self.app.queue.agent(self.app.store.as_ref(), actor.user_id, now).await? else {
            return Ok(false);
        };
        let Some(call_id) = agent.call_id else { return Ok(false) };
        match self.app.store.get_queue_call(&call_id).await {
            Ok(call) => Ok(Phone::parse("phone", &call.caller_phone).is_ok_and(|p| p == *phone)),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn suggest_category(
        &self,
        req: Request<pb::SuggestCategoryRequest>,
    ) -> ApiResult<pb::SuggestCategoryResponse> {
        // Empty text is fine: the suggestion is then how often each category occurs.
        let summary =
            parse_optional_text("summary", &req.get_ref().summary, limits::SUMMARY)?.unwrap_or_default();
        let s = self.app.suggester.suggest(&summary);
        Ok(pb::SuggestCategoryResponse {
            categories: s
                .categories
                .iter()
                .map(|c| pb::ScoredCategory {
                    category: convert::category_pb(c.value),
                    score: c.score,
                    cue_words: c.cue_words.clone(),
                })
                .collect(),
            subcategories: s
                .subcategories
                .iter()
                .map(|c| pb::ScoredSubcategory {
                    subcategory: convert::subcategory_pb(c.value),
                    score: c.score,
                    cue_words: c.cue_words.clone(),
                })
                .collect(),
            cue_words: s.cue_words,
            examples_learned: self.app.suggester.examples_learned(),
        })
    }

    async fn suggestion_stats(
        &self,
        req: Request<pb::GetSuggestionStatsRequest>,
    ) -> ApiResult<pb::SuggestionStats> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let mut county_id = convert::optional_code("county_id", &r.county_id)?;
        if let Some(c) = &county_id {
            scope.check_filter(&self.app, &[("county_id", Named::county(c))]).await?;
        }
        if scope.reach == Reach::County {
            county_id = Some(actor.unit_id.clone());
        }
        let filter = SuggestionFilter {
            county_id,
            created_from: r.created_from.as_ref().map(|t| instant("created_from", t)).transpose()?,
            created_to: r.created_to.as_ref().map(|t| instant("created_to", t)).transpose()?,
        };
        let rows = self.app.store.suggestion_acceptance(&filter).await?;
        let sum = |f: fn(&hotline_store::CategoryAcceptance) -> u64| rows.iter().map(f).sum::<u64>();
        let calls = sum(|a| a.calls);
        let rate = |n: u64| if calls == 0 { 0.0 } else { n as f64 / calls as f64 };
        let (first, top2, sub) =
            (sum(|a| a.suggested_first), sum(|a| a.in_top_two), sum(|a| a.subcategory_first));
        Ok(pb::SuggestionStats {
            calls,
            category_accepted: first,
            category_in_top_two: top2,
            subcategory_accepted: sub,
            category_acceptance_rate: rate(first),
            subcategory_acceptance_rate: rate(sub),
            by_category: rows
                .iter()
                .map(|a| pb::CategoryAcceptance {
                    category: convert::category_pb(a.category),
                    calls: a.calls,
                    suggested_first: a.suggested_first,
                })
                .collect(),
        })
    }
}

#[tonic::async_trait]
impl CallService for CallSvc {
    async fn suggest_category(
        &self,
        req: Request<pb::SuggestCategoryRequest>,
    ) -> Result<Response<pb::SuggestCategoryResponse>, Status> {
        respond(CallSvc::suggest_category(self, req).await)
    }

    async fn get_suggestion_stats(
        &self,
        req: Request<pb::GetSuggestionStatsRequest>,
    ) -> Result<Response<pb::SuggestionStats>, Status> {
        respond(CallSvc::suggestion_stats(self, req).await)
    }

    async fn record_call(&self, req: Request<pb::RecordCallRequest>) -> Result<Response<pb::Call>, Status> {
        respond(CallSvc::record_call(self, req).await)
    }

    async fn get_call(&self, req: Request<pb::GetCallRequest>) -> Result<Response<pb::Call>, Status> {
        respond(CallSvc::get_call(self, req).await)
    }

    async fn get_caller_history(
        &self,
        req: Request<pb::GetCallerHistoryRequest>,
    ) -> Result<Response<pb::GetCallerHistoryResponse>, Status> {
        respond(CallSvc::caller_history(self, req).await)
    }
}
