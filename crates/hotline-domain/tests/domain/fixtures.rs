//! Orders in every state, valid sample commands, and time helpers.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use hotline_domain::*;
use rust_decimal::Decimal;
use std::sync::LazyLock;
use uuid::Uuid;

pub static CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::official);
pub static POLICY: LazyLock<SlaPolicy> = LazyLock::new(SlaPolicy::default);

pub const CALLER_NAME: &str = "张三丰";
pub const CALLER_PHONE: &str = "13800138000";

/// A Shanghai wall-clock time, `YYYY-MM-DD HH:MM`, as a UTC instant.
pub fn sh(text: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM");
    shanghai().from_local_datetime(&local).unwrap().with_timezone(&Utc)
}

/// A UTC instant in RFC 3339.
pub fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

pub fn ctx(now: DateTime<Utc>) -> Ctx<'static> {
    Ctx { now, calendar: &CALENDAR, policy: &POLICY }
}

pub fn actor(role: Role) -> Actor {
    Actor { user_id: Uuid::from_u128(0x1000 + role as u128), role, person_id: None, unit_id: "371502".into() }
}

/// An allowed role for the action: the dispatcher where it may, else the first listed.
pub fn allowed_role(action: Action) -> Role {
    let roles = roles_for(action);
    if roles.contains(&Role::Dispatcher) { Role::Dispatcher } else { roles[0] }
}

pub fn new_order(category: Category, urgency: Urgency) -> NewOrder {
    NewOrder {
        id: Uuid::from_u128(42),
        number: "GD20250303000001".into(),
        call_id: Some(Uuid::from_u128(7)),
        channel: Channel::Phone,
        caller: Caller {
            name: Some(CALLER_NAME.into()),
            phone: Some(Phone::parse("caller.phone", CALLER_PHONE).unwrap()),
            anonymous: false,
            confidential: true,
            id_number: None,
        },
        place: Place {
            county_id: "371502".into(),
            township_id: "371502-001".into(),
            village_id: "371502-001-001".into(),
        },
        category,
        subcategory: Subcategory::LabourWages,
        urgency,
        description: "工资被拖欠三个月".into(),
        agent_answer: None,
        amount_in_dispute: Some(Decimal::new(1_250_000, 2)),
    }
}

pub fn register(category: Category, urgency: Urgency, now: DateTime<Utc>) -> WorkOrder {
    WorkOrder::register(new_order(category, urgency), &actor(Role::SeatAgent), &ctx(now))
        .expect("register")
        .order
}

pub fn target(unit: &str) -> Target {
    Target { unit_id: unit.into(), assignee_id: Some(format!("{unit}-counsel")) }
}

pub fn result() -> HandlingResult {
    HandlingResult {
        contacted_at: None,
        resolved: true,
        unresolved_reason: None,
        notes: "已协调用人单位支付工资".into(),
        amount_recovered: Some(Decimal::new(1_250_000, 2)),
    }
}

/// A valid command for each action (the success branch where there are two).
pub fn sample(action: Action) -> Command {
    match action {
        Action::Dispatch => {
            Command::Dispatch { target: target("371502-001-001"), complex: false, note: None }
        }
        Action::AnswerAndClose => Command::AnswerAndClose { answer: "可向劳动监察大队投诉".into() },
        Action::SignOff => Command::SignOff,
        Action::Return => {
            Command::Return { reason: ReturnReason::WrongLocality, note: Some("不属本村".into()) }
        }
        Action::ReviewReturn => {
            Command::ReviewReturn { decision: ReturnDecision::Reassign { target: target("371502-002-003") } }
        }
        Action::RequestExtension => Command::RequestExtension { days: 3, reason: "需调查取证".into() },
        Action::DecideExtension => Command::DecideExtension { approve: true, note: None },
        Action::Reply => Command::Reply { result: result() },
        Action::ReviewReply => Command::ReviewReply { pass: true, note: None },
        Action::RecordCallback => Command::RecordCallback {
            satisfaction: Satisfaction::Satisfied,
            method: CallbackMethod::Phone,
            note: None,
        },
        Action::PassOnRedo => Command::PassOnRedo { target: None, note: None },
        Action::Cancel => Command::Cancel { reason: CancelReason::Duplicate, note: None },
        Action::Archive => Command::Archive,
    }
}

/// Applies `cmd` as an allowed role one hour after the order's last change.
pub fn step(order: &WorkOrder, cmd: Command) -> Transition {
    let now = order.updated_at + Duration::hours(1);
    order
        .apply(&cmd, &actor(allowed_role(cmd.action())), &ctx(now))
        .unwrap_or_else(|e| panic!("{:?} from {}: {e}", cmd.action(), order.state))
}

/// An order in `state`, walked there through the real lifecycle from an ordinary
/// Monday (2025-03-03, no holiday near) so every deadline is set as in life.
pub fn order_in(state: State) -> WorkOrder {
    let path: &[Command] = &match state {
        State::Registered => vec![],
        State::AwaitingSignOff => vec![sample(Action::Dispatch)],
        State::ReturnUnderReview => vec![sample(Action::Dispatch), sample(Action::Return)],
        State::InProgress => vec![sample(Action::Dispatch), sample(Action::SignOff)],
        State::ExtensionUnderReview => {
            vec![sample(Action::Dispatch), sample(Action::SignOff), sample(Action::RequestExtension)]
        }
        State::ReplyUnderReview => {
            vec![sample(Action::Dispatch), sample(Action::SignOff), sample(Action::Reply)]
        }
        State::AwaitingCallback => vec![
            sample(Action::Dispatch),
            sample(Action::SignOff),
            sample(Action::Reply),
            sample(Action::ReviewReply),
        ],
        State::Redo => vec![
            sample(Action::Dispatch),
            sample(Action::SignOff),
            sample(Action::Reply),
            sample(Action::ReviewReply),
            Command::RecordCallback {
                satisfaction: Satisfaction::Dissatisfied,
                method: CallbackMethod::Phone,
                note: Some("仍未拿到工资".into()),
            },
        ],
        State::Closed => vec![
            sample(Action::Dispatch),
            sample(Action::SignOff),
            sample(Action::Reply),
            sample(Action::ReviewReply),
            sample(Action::RecordCallback),
        ],
        State::Cancelled => vec![sample(Action::Cancel)],
        State::Archived => vec![
            sample(Action::Dispatch),
            sample(Action::SignOff),
            sample(Action::Reply),
            sample(Action::ReviewReply),
            sample(Action::RecordCallback),
            sample(Action::Archive),
        ],
    };
    let mut order = register(Category::Mediation, Urgency::Normal, sh("2025-03-03 09:00"));
    for cmd in path {
        order = step(&order, cmd.clone()).order;
    }
    assert_eq!(order.state, state, "fixture walk");
    order
}
