//! FundService: the special fund's years, its dedicated accounts and their statements,
//! payments to counsel at the programme policy's rates, and the programme policy.
//!
//! Reach: a city admin every account; a county manager their county's and its
//! townships'; a station lead their township's; a counsel their own payments.

use crate::app::App;
use crate::authz::{Reach, Scope, actor};
use crate::convert::{code, instant, opt_timestamp, optional_code, timestamp};
use crate::error::{ApiError, ApiResult, respond};
use crate::requests::{repeat_or, request_key};
use hotline_domain::fund::{self, FundLevel};
use hotline_domain::programme::ProgrammePolicy;
use hotline_domain::values::{limits, parse_optional_text, parse_text, parse_yuan};
use hotline_domain::{DomainError, FieldError};
use hotline_proto::v1::{self as pb, fund_service_server::FundService};
use hotline_store::{
    Account, Entry, EntryKind, FundUnits, FundYear, Payment, PaymentFilter, StoreError, StoredPolicy, Wrote,
};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// The years a fund may be allocated for.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// The most units of service one payment may be for.
const MAX_QUANTITY: u32 = 1_000;
/// Longest programme policy document accepted.
const MAX_POLICY_BYTES: usize = 64 * 1024;
/// Longest kind of service named.
const MAX_KIND: usize = 32;

pub fn fund_level_pb(l: FundLevel) -> i32 {
    (match l {
        FundLevel::City => pb::FundLevel::City,
        FundLevel::County => pb::FundLevel::County,
        FundLevel::Township => pb::FundLevel::Township,
    }) as i32
}

fn yuan(d: Decimal) -> String {
    format!("{d:.2}")
}

fn entry_pb(e: &Entry) -> pb::StatementEntry {
    pb::StatementEntry {
        id: e.id,
        at: Some(timestamp(e.at)),
        kind: (match e.kind {
            EntryKind::Allocation => pb::EntryKind::Allocation,
            EntryKind::Payment => pb::EntryKind::Payment,
        }) as i32,
        amount: yuan(e.amount),
        balance: yuan(e.balance),
        year: e.year.unwrap_or_default(),
        payment_id: e.payment_id.map(|p| p.to_string()).unwrap_or_default(),
    }
}

fn payment_pb(p: &Payment) -> pb::Payment {
    pb::Payment {
        id: p.id.to_string(),
        account_unit_id: p.account_unit_id.clone(),
        person_id: p.person_id.clone(),
        service_kind: p.service_kind.clone(),
        service_ref: p.service_ref.clone(),
        quantity: p.quantity,
        rate: yuan(p.rate),
        amount: yuan(p.amount),
        note: p.note.clone().unwrap_or_default(),
        paid_by: p.paid_by.to_string(),
        paid_at: Some(timestamp(p.paid_at)),
    }
}

fn account_pb(a: &Account, units: &FundUnits) -> pb::Account {
    pb::Account {
        unit_id: a.unit_id.clone(),
        unit_name: units.names.get(&a.unit_id).cloned().unwrap_or_default(),
        level: fund_level_pb(a.level),
        balance: yuan(a.balance),
        credited: yuan(a.credited),
        paid: yuan(a.paid),
        opened_at: Some(timestamp(a.opened_at)),
    }
}

/// A year of the fund as named by `field`.
pub fn year(field: &str, year: i32) -> Result<i32, FieldError> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(FieldError::new(field, format!("must be from {} to {}", YEARS.start(), YEARS.end())))
    }
}

/// The accounts a reader may touch: `None` every account (city-wide), else these units'.
pub fn account_reach(scope: &Scope, units: &FundUnits) -> Option<Vec<String>> {
    let unit = scope.actor.unit_id.as_str();
    match scope.reach {
        Reach::City => None,
        Reach::County => Some(units.county_and_townships(unit)),
        Reach::Township => Some(vec![unit.to_owned()]),
        Reach::Own | Reach::Villages => Some(Vec::new()),
    }
}

fn within(reach: &Option<Vec<String>>, unit: &str) -> bool {
    reach.as_ref().is_none_or(|units| units.iter().any(|u| u == unit))
}

/// A unit named as an account's: within the reader's reach and able to hold one. A
/// reader without city-wide reach gets the same refusal for a unit outside it and for
/// one that does not exist.
fn named_account(
    field: &str,
    unit: &str,
    scope: &Scope,
    units: &FundUnits,
    reach: &Option<Vec<String>>,
) -> ApiResult<FundLevel> {
    if !within(reach, unit) {
        return Err(ApiError::denied(format!("{field} is not within your jurisdiction")));
    }
    units.level(unit).ok_or_else(|| {
        if scope.is_city() {
            ApiError::NotFound(format!("{field}: `{unit}` is not the city, a county or a township"))
        } else {
            ApiError::denied(format!("{field} is not within your jurisdiction"))
        }
    })
}

pub struct FundSvc {
    app: App,
}

impl FundSvc {
    pub fn new(app: App) -> Self {
        FundSvc { app }
    }

    async fn allocate(&self, req: Request<pb::AllocateFundRequest>) -> ApiResult<pb::FundYear> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let y = year("year", r.year)?;
        let (amount_raw, rate_raw) = (r.amount.trim(), r.growth_rate.trim());
        let (amount, growth_rate) = match (amount_raw.is_empty(), rate_raw.is_empty()) {
            (true, true) => {
                return Err(
                    FieldError::new("amount", "give the amount, or a growth_rate over last year's").into()
                );
            }
            (false, false) => {
                return Err(
                    FieldError::new("growth_rate", "give the amount or a growth_rate, not both").into()
                );
            }
            (false, true) => (parse_yuan("amount", amount_raw)?, None),
            (true, false) => {
                let rate = fund::parse_growth_rate("growth_rate", rate_raw)?;
                let before = match self.app.store.fund_year(y - 1).await {
                    Ok(before) => before,
                    Err(StoreError::NotFound { .. }) => {
                        return Err(DomainError::Precondition(format!(
                            "growth_rate: the fund of {} was not allocated; give the amount",
                            y - 1
                        ))
                        .into());
                    }
                    Err(e) => return Err(e.into()),
                };
                (fund::grow("growth_rate", before.amount, rate)?, Some(rate))
            }
        };
        let units = self.app.store.fund_units().await?;
        let city = units.city_id.clone().ok_or_else(|| {
            DomainError::Precondition("the directory has no city to hold the city's account".into())
        })?;
        let allocation = fund::allocate("amount", amount, &city, &units.counties, &units.townships)?;
        let fund_year = FundYear {
            year: y,
            amount: allocation.amount,
            growth_rate,
            levels: allocation.levels,
            allocated_by: actor.user_id,
            allocated_at: self.app.now(),
        };
        self.app.store.allocate_fund(&fund_year, &allocation.credits).await?;
        tracing::info!(year = y, amount = %allocation.amount, accounts = allocation.credits.len(), user_id = %actor.user_id, "fund allocated");
        let credits = self.app.store.allocation_entries(y).await?;
        Ok(self.year_pb(&fund_year, &credits, &units, &None))
    }

    fn year_pb(
        &self,
        y: &FundYear,
        credits: &[Entry],
        units: &FundUnits,
        reach: &Option<Vec<String>>,
    ) -> pb::FundYear {
        pb::FundYear {
            year: y.year,
            amount: yuan(y.amount),
            growth_rate: y.growth_rate.map(|r| r.normalize().to_string()).unwrap_or_default(),
            city_share: yuan(y.levels[0]),
            county_share: yuan(y.levels[1]),
            township_share: yuan(y.levels[2]),
            allocated_by: y.allocated_by.to_string(),
            allocated_at: Some(timestamp(y.allocated_at)),
            credits: credits
                .iter()
                .filter(|e| within(reach, &e.account_unit_id))
                .map(|e| pb::AccountCredit {
                    unit_id: e.account_unit_id.clone(),
                    unit_name: units.names.get(&e.account_unit_id).cloned().unwrap_or_default(),
                    level: units.level(&e.account_unit_id).map(fund_level_pb).unwrap_or_default(),
                    amount: yuan(e.amount),
                })
                .collect(),
        }
    }

    async fn get_year(&self, req: Request<pb::GetFundYearRequest>) -> ApiResult<pb::FundYear> {
        let scope = Scope::of(&self.app, &req).await?;
        let y = year("year", req.get_ref().year)?;
        let fund_year = self.app.store.fund_year(y).await?;
        let units = self.app.store.fund_units().await?;
        let credits = self.app.store.allocation_entries(y).await?;
        Ok(self.year_pb(&fund_year, &credits, &units, &account_reach(&scope, &units)))
    }

    async fn list_accounts(
        &self,
        req: Request<pb::ListAccountsRequest>,
    ) -> ApiResult<pb::ListAccountsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let units = self.app.store.fund_units().await?;
        let reach = account_reach(&scope, &units);
        let named = optional_code("unit_id", &req.get_ref().unit_id)?;
        let wanted: Option<Vec<String>> = match &named {
            None => reach.clone(),
            Some(unit) => {
                // A unit within reach, or one that contains the reader's own (a station
                // lead may name their county): narrowed to the reach.
                let contains_mine = units.county_of.get(&scope.actor.unit_id) == Some(unit);
                if !contains_mine {
                    named_account("unit_id", unit, &scope, &units, &reach)?;
                }
                let subtree = match units.level(unit) {
                    Some(FundLevel::City) => None,
                    Some(FundLevel::County) => Some(units.county_and_townships(unit)),
                    _ => Some(vec![unit.clone()]),
                };
                match (subtree, &reach) {
                    (None, r) => r.clone(),
                    (Some(s), None) => Some(s),
                    (Some(s), Some(r)) => Some(s.into_iter().filter(|u| r.contains(u)).collect()),
                }
            }
        };
        let accounts = self.app.store.accounts(wanted.as_deref()).await?;
        let total: Decimal = accounts.iter().map(|a| a.balance).sum();
        Ok(pb::ListAccountsResponse {
            accounts: accounts.iter().map(|a| account_pb(a, &units)).collect(),
            total_balance: yuan(total),
        })
    }

    async fn statement(
        &self,
        req: Request<pb::GetAccountStatementRequest>,
    ) -> ApiResult<pb::AccountStatement> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let unit = code("unit_id", &r.unit_id)?;
        let units = self.app.store.fund_units().await?;
        named_account("unit_id", &unit, &scope, &units, &account_reach(&scope, &units))?;
        let account =
            self.app.store.accounts(Some(std::slice::from_ref(&unit))).await?.pop().ok_or_else(|| {
                ApiError::NotFound(format!("unit_id: `{unit}` has no account yet (an allocation opens it)"))
            })?;
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let entries = self.app.store.statement(&unit, &page).await?;
        Ok(pb::AccountStatement {
            account: Some(account_pb(&account, &units)),
            entries: entries.items.iter().map(entry_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, entries.next_cursor),
        })
    }

    async fn pay(&self, req: Request<pb::PayCounselRequest>) -> ApiResult<pb::PayCounselResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let unit = code("account_unit_id", &r.account_unit_id)?;
        let person_id = code("person_id", &r.person_id)?;
        let kind = parse_text("service_kind", &r.service_kind, MAX_KIND)?;
        let service_ref = parse_text("service_ref", &r.service_ref, limits::ID)?;
        let quantity = match r.quantity {
            0 => 1,
            q if q > MAX_QUANTITY => {
                return Err(FieldError::new("quantity", format!("at most {MAX_QUANTITY}")).into());
            }
            q => q,
        };
        let note = parse_optional_text("note", &r.note, limits::NOTE)?;
        // A repeat of a payment that was made is answered with it, whatever changed since.
        if let Some(key) = &key
            && let Some(Wrote::Payment(id)) = self.app.store.repeat_of(key).await?
        {
            let (payment, entry) = self.app.store.payment(id).await?;
            return Ok(pb::PayCounselResponse {
                payment: Some(payment_pb(&payment)),
                entry: Some(entry_pb(&entry)),
            });
        }
        let units = self.app.store.fund_units().await?;
        let level = named_account("account_unit_id", &unit, &scope, &units, &account_reach(&scope, &units))?;
        let person = match self.app.store.get_person(&person_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound { .. }) => {
                return Err(FieldError::new("person_id", format!("person `{person_id}` not found")).into());
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(at) = self.app.store.disqualified().await?.get(&person.id) {
            return Err(DomainError::Precondition(format!(
                "person_id: `{}` was disqualified on {}; the fund pays no disqualified counsel",
                person.id,
                at.with_timezone(&hotline_domain::shanghai()).date_naive()
            ))
            .into());
        }
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let serves = built.index.person_paths(&person.id);
        let within_unit = match level {
            FundLevel::City => !serves.is_empty(),
            _ => built.index.unit_path(&unit).is_some_and(|u| serves.iter().any(|p| p.overlaps(&u))),
        };
        if !within_unit {
            return Err(FieldError::new(
                "person_id",
                format!("person `{}` serves no village or team within `{unit}`", person.id),
            )
            .into());
        }
        let policy = self.app.programme.current(self.app.store.as_ref()).await?;
        let rate = policy.policy.rate("service_kind", &kind)?;
        let payment = Payment {
            id: Uuid::now_v7(),
            account_unit_id: unit,
            person_id: person.id,
            service_kind: kind,
            service_ref,
            quantity,
            rate,
            amount: fund::cost(rate, quantity),
            note,
            paid_by: scope.actor.user_id,
            paid_at: self.app.now(),
        };
        let (payment, entry) = match self.app.store.pay(&payment, key.as_ref()).await {
            Ok(recorded) => recorded.value,
            Err(e) => match repeat_or(&self.app, key.as_ref(), e.into()).await? {
                Wrote::Payment(id) => self.app.store.payment(id).await?,
                other => {
                    return Err(StoreError::other(format!("request id of a payment names {other:?}")).into());
                }
            },
        };
        tracing::info!(
            payment_id = %payment.id,
            account = %payment.account_unit_id,
            amount = %payment.amount,
            balance = %entry.balance,
            user_id = %scope.actor.user_id,
            "counsel paid"
        );
        Ok(pb::PayCounselResponse { payment: Some(payment_pb(&payment)), entry: Some(entry_pb(&entry)) })
    }

    async fn list_payments(
        &self,
        req: Request<pb::ListPaymentsRequest>,
    ) -> ApiResult<pb::ListPaymentsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let account = optional_code("account_unit_id", &r.account_unit_id)?;
        let mut person_id = optional_code("person_id", &r.person_id)?;
        let mut filter = PaymentFilter {
            accounts: None,
            person_id: None,
            from: r.from.as_ref().map(|t| instant("from", t)).transpose()?,
            to: r.to.as_ref().map(|t| instant("to", t)).transpose()?,
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to <= from
        {
            return Err(FieldError::new("to", "must be after `from`").into());
        }
        if scope.reach == Reach::Own {
            // A counsel reads their own payments, from any account.
            let me = scope
                .actor
                .person_id
                .clone()
                .ok_or_else(|| ApiError::denied("this account is not linked to a person"))?;
            if person_id.as_ref().is_some_and(|p| *p != me) {
                return Err(ApiError::denied("person_id is not within your jurisdiction"));
            }
            person_id = Some(me);
            filter.accounts = account.map(|a| vec![a]);
        } else {
            let units = self.app.store.fund_units().await?;
            let reach = account_reach(&scope, &units);
            filter.accounts = match account {
                Some(a) => {
                    named_account("account_unit_id", &a, &scope, &units, &reach)?;
                    Some(vec![a])
                }
                None => reach,
            };
        }
        filter.person_id = person_id;
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let result = self.app.store.list_payments(&filter, &page).await?;
        Ok(pb::ListPaymentsResponse {
            payments: result.items.iter().map(payment_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, result.next_cursor),
        })
    }

    async fn policy_pb(&self) -> ApiResult<pb::ProgrammePolicy> {
        let p = self.app.programme.current(self.app.store.as_ref()).await?;
        Ok(pb::ProgrammePolicy {
            toml: p.policy.to_toml(),
            updated_by: p.updated_by.map(|u| u.to_string()).unwrap_or_default(),
            updated_at: opt_timestamp(p.updated_at),
        })
    }

    async fn set_policy(
        &self,
        req: Request<pb::SetProgrammePolicyRequest>,
    ) -> ApiResult<pb::ProgrammePolicy> {
        let actor = actor(&req)?;
        let text = &req.get_ref().toml;
        if text.len() > MAX_POLICY_BYTES {
            return Err(FieldError::new("toml", "is longer than 64 KiB").into());
        }
        let policy = ProgrammePolicy::from_toml(text).map_err(|e| FieldError::new("toml", e.to_string()))?;
        let stored = StoredPolicy {
            document: policy.to_toml(),
            updated_by: actor.user_id,
            updated_at: self.app.now(),
        };
        self.app.programme.set(self.app.store.as_ref(), policy, stored).await?;
        tracing::info!(user_id = %actor.user_id, "programme policy changed");
        self.policy_pb().await
    }
}

#[tonic::async_trait]
impl FundService for FundSvc {
    async fn allocate_fund(
        &self,
        req: Request<pb::AllocateFundRequest>,
    ) -> Result<Response<pb::FundYear>, Status> {
        respond(self.allocate(req).await)
    }
    async fn get_fund_year(
        &self,
        req: Request<pb::GetFundYearRequest>,
    ) -> Result<Response<pb::FundYear>, Status> {
        respond(self.get_year(req).await)
    }
    async fn list_accounts(
        &self,
        req: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        respond(FundSvc::list_accounts(self, req).await)
    }
    async fn get_account_statement(
        &self,
        req: Request<pb::GetAccountStatementRequest>,
    ) -> Result<Response<pb::AccountStatement>, Status> {
        respond(self.statement(req).await)
    }
    async fn pay_counsel(
        &self,
        req: Request<pb::PayCounselRequest>,
    ) -> Result<Response<pb::PayCounselResponse>, Status> {
        respond(self.pay(req).await)
    }
    async fn list_payments(
        &self,
        req: Request<pb::ListPaymentsRequest>,
    ) -> Result<Response<pb::ListPaymentsResponse>, Status> {
        respond(FundSvc::list_payments(self, req).await)
    }
    async fn get_programme_policy(
        &self,
        _req: Request<pb::GetProgrammePolicyRequest>,
    ) -> Result<Response<pb::ProgrammePolicy>, Status> {
        respond(self.policy_pb().await)
    }
    async fn set_programme_policy(
        &self,
        req: Request<pb::SetProgrammePolicyRequest>,
    ) -> Result<Response<pb::ProgrammePolicy>, Status> {
        respond(self.set_policy(req).await)
    }
}
