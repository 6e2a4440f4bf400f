//! Every (state, action) pair, and every role for every action.

use crate::fixtures::{actor, ctx, order_in, sample};
use chrono::Duration;
use hotline_domain::*;

/// The legal moves, written out: (from, action) -> (to, event). Every pair not listed
/// must be refused as an illegal transition. Where an action has two outcomes the
/// sample command takes the first branch listed in `Command`'s docs.
const LEGAL: &[(State, Action, State, EventKind)] = {
    use Action as A;
    use EventKind as E;
    use State as S;
    &[
        (S::Registered, A::Dispatch, S::AwaitingSignOff, E::Dispatched),
        (S::Registered, A::AnswerAndClose, S::Closed, E::AnsweredAndClosed),
        (S::Registered, A::Cancel, S::Cancelled, E::Cancelled),
        (S::AwaitingSignOff, A::SignOff, S::InProgress, E::SignedOff),
        (S::AwaitingSignOff, A::Return, S::ReturnUnderReview, E::Returned),
        (S::AwaitingSignOff, A::Cancel, S::Cancelled, E::Cancelled),
        (S::ReturnUnderReview, A::ReviewReturn, S::AwaitingSignOff, E::ReturnAccepted),
        (S::ReturnUnderReview, A::Cancel, S::Cancelled, E::Cancelled),
        (S::InProgress, A::RequestExtension, S::ExtensionUnderReview, E::ExtensionRequested),
        (S::InProgress, A::Reply, S::ReplyUnderReview, E::Replied),
        (S::ExtensionUnderReview, A::DecideExtension, S::InProgress, E::ExtensionApproved),
        (S::ReplyUnderReview, A::ReviewReply, S::AwaitingCallback, E::ReplyPassed),
        (S::AwaitingCallback, A::RecordCallback, S::Closed, E::CallbackSatisfied),
        (S::Redo, A::PassOnRedo, S::AwaitingSignOff, E::RedoPassedOn),
        (S::Closed, A::Archive, S::Archived, E::Archived),
        (S::Cancelled, A::Archive, S::Archived, E::Archived),
    ]
};

fn expected(state: State, action: Action) -> Option<(State, EventKind)> {
    LEGAL.iter().find(|(s, a, _, _)| *s == state && *a == action).map(|(_, _, to, kind)| (*to, *kind))
}

#[test]
fn the_table_covers_the_whole_grid() {
    assert_eq!(State::ALL.len(), 11);
    assert_eq!(Action::ALL.len(), 13);
    assert_eq!(LEGAL.len(), 16);
    // No pair twice, and the table agrees with the published `states_for`.
    for action in Action::ALL {
        let from_table: Vec<State> = LEGAL.iter().filter(|r| r.1 == *action).map(|r| r.0).collect();
        assert_eq!(from_table, states_for(*action), "{action}");
    }
}

#[test]
fn every_state_and_action_pair_as_every_allowed_role() {
    let mut decided = 0;
    for &state in State::ALL {
        let order = order_in(state);
        let now = order.updated_at + Duration::minutes(30);
        for &action in Action::ALL {
            for &role in roles_for(action) {
                let got = order.apply(&sample(action), &actor(role), &ctx(now));
                let seat_agent_late_cancel =
                    action == Action::Cancel && role == Role::SeatAgent && state != State::Registered;
                match (expected(state, action), got) {
                    (Some(_), Err(DomainError::IllegalTransition { state: s, action: a }))
                        if seat_agent_late_cancel =>
                    {
                        assert!(!states_for_role(action, role).contains(&state));
                        assert_eq!((s, a), (state, action));
                    }
                    (Some((to, kind)), Ok(t)) => {
                        assert!(!seat_agent_late_cancel, "{role} cancelled a {state} order");
                        assert_eq!(t.order.state, to, "{state} x {action}");
                        assert_eq!(t.event.kind, kind, "{state} x {action}");
                        assert_eq!(t.event.from_state, Some(state));
                        assert_eq!(t.event.to_state, to);
                        assert_eq!(t.event.at, now);
                        assert_eq!((t.event.actor_id, t.event.actor_role), (actor(role).user_id, role));
                        assert_eq!(t.order.version, order.version + 1);
                        assert_eq!(t.order.updated_at, now);
                        assert_eq!(t.order.id, order.id);
                    }
                    (None, Err(DomainError::IllegalTransition { state: s, action: a })) => {
                        assert_eq!((s, a), (state, action));
                    }
                    (want, got) => {
                        panic!("{state} x {action} as {role}: expected {want:?}, got {got:?}")
                    }
                }
                decided += 1;
            }
        }
    }
    // 11 states x the allowed roles of the 13 actions.
    let roles_per_state: usize = Action::ALL.iter().map(|a| roles_for(*a).len()).sum();
    assert_eq!(decided, 11 * roles_per_state);
}

#[test]
fn every_action_refused_for_every_other_role_in_every_state() {
    let mut refused = 0;
    for &state in State::ALL {
        let order = order_in(state);
        let now = order.updated_at + Duration::minutes(30);
        for &action in Action::ALL {
            for &role in Role::ALL.iter().filter(|r| !roles_for(action).contains(r)) {
                let err = order.apply(&sample(action), &actor(role), &ctx(now)).unwrap_err();
                assert_eq!(err, DomainError::RoleNotAllowed { role, action }, "{state} x {action} as {role}");
                refused += 1;
            }
        }
    }
    assert!(refused > 11 * 13 * 5, "{refused}");
}

#[test]
fn the_error_names_state_and_action() {
    let order = order_in(State::Closed);
    let err =
        order.apply(&sample(Action::SignOff), &actor(Role::Counsel), &ctx(order.updated_at)).unwrap_err();
    assert_eq!(err.to_string(), "cannot sign_off a work order that is closed");
    let err =
        order.apply(&sample(Action::Archive), &actor(Role::Counsel), &ctx(order.updated_at)).unwrap_err();
    assert_eq!(err.to_string(), "a counsel may not archive a work order");
}
