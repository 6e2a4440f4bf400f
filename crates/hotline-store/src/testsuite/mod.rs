//! The generic store test suite: one set of cases that every backend must pass, in one
//! file per subject: `directory`, `users`, `calls`, `orders`, `reads`, `routing`,
//! `queue`, `outbox` and `sweep`, and the cases that read the raw tables in `privacy`.
//!
//! Each case is a public async fn that takes a fresh, empty store. A backend's tests run
//! every case as its own test, each on its own database, with [`store_tests!`](crate::store_tests):
//!
//! ```text
//! /// `None` skips the test (the backend's server is not there, outside CI).
//! async fn setup() -> Option<(MyStore, Guard)> { ... }
//!
//! hotline_store::store_tests!(setup());
//! ```
//!
//! The guard is dropped after the case (after the store), so it can remove the database.
//! The backend's test crate needs `tokio` (macros, multi-thread runtime). The cases that
//! read the raw tables run with [`privacy_store_tests!`](crate::privacy_store_tests).
//!
//! [`directory::small_directory`] and [`directory::city_directory`] are also there for
//! other tests and tools that want directory data.

pub mod calls;
pub mod directory;
pub mod orders;
pub mod outbox;
pub mod privacy;
pub mod queue;
pub mod reads;
pub mod routing;
pub mod sweep;
pub mod users;

use crate::{RequestKey, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use hotline_domain::{Phone, Place};
use rust_decimal::Decimal;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use uuid::Uuid;

/// Expands to one `#[tokio::test]` per case of the suite, named as the case. `$setup` is
/// an expression evaluated in each test, a future of `Option<(store, guard)>`; `None`
/// skips the test. The one list of the suite's cases: a new case is added here.
#[macro_export]
macro_rules! store_tests {
    ($setup:expr) => {
        $crate::store_tests!(@cases $setup;
            directory::directory_import_and_lookup,
            directory::directory_reimport_updates,
            directory::directory_invalid_import_writes_nothing,
            directory::directory_full_city_import,
            users::users_create_and_lookup,
            users::users_are_one_in_any_ascii_case,
            users::users_create_with_request_ids,
            users::users_list_by_name_with_filters,
            users::users_new_password_revokes_their_sessions,
            calls::calls_record_and_idempotency,
            calls::calls_labelled_and_acceptance,
            orders::orders_numbering,
            orders::orders_created_together,
            orders::orders_create_idempotency,
            orders::orders_create_with_dispatch,
            orders::orders_round_trip,
            orders::orders_save_transition_version_check,
            orders::orders_concurrent_transitions,
            orders::orders_action_request_ids,
            orders::request_ids_across_writes,
            reads::orders_list_filters,
            reads::orders_list_pagination,
            reads::orders_overdue_follows_transitions,
            reads::caller_history_by_phone,
            reads::not_found_and_bad_cursors,
            routing::routing_institutions_import,
            routing::routing_candidate_status_counts_open_orders_and_leave,
            routing::routing_availability_changes_are_events,
            routing::routing_policy_is_saved,
            routing::time_limits_are_saved_and_versioned,
            queue::queue_records_rebuild_the_snapshot,
            queue::queue_totals_and_links,
            queue::queue_log_appends_at_the_expected_head,
            queue::stats_on_a_generated_history,
            queue::stats_rollup_matches_recomputation,
            sweep::sweep_pages_due_orders_by_deadline,
            sweep::sweep_finds_orders_dissatisfied_twice,
            sweep::sweep_lease_is_granted,
            sweep::sweep_marks_of_many_orders_in_one_read,
        );
        // These take the store shared, for tasks of their own.
        $crate::store_tests!(@shared $setup;
            outbox::outbox_sequences_committed_events_once_in_order,
            outbox::outbox_snapshots_match_filters_in_storage_and_memory,
            outbox::outbox_concurrent_writers_and_sequencers,
            queue::queue_log_concurrent_appends_form_one_chain,
        );
    };
    (@cases $setup:expr; $($subject:ident :: $case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, guard)) = ($setup).await else {
                    return;
                };
                $crate::testsuite::$subject::$case(&store).await;
                drop(store);
                drop(guard);
            }
        )+
    };
    (@shared $setup:expr; $($subject:ident :: $case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, guard)) = ($setup).await else {
                    return;
                };
                let store: std::sync::Arc<dyn $crate::Store> = std::sync::Arc::new(store);
                $crate::testsuite::$subject::$case(store.clone()).await;
                drop(store);
                drop(guard);
            }
        )+
    };
}

/// An instant from RFC 3339 text (tests use microsecond precision at most).
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

fn phone(s: &str) -> Phone {
    Phone::parse("phone", s).expect("test phone")
}

fn mins(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// Runs the futures concurrently on the current task; outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().expect("polled to completion")).collect())
        }
    })
    .await
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, entity: &str, id: &str) {
    match r {
        Err(StoreError::NotFound { entity: e, id: i }) => {
            assert_eq!((e, i.as_str()), (entity, id), "NotFound names the entity and id");
        }
        other => panic!("expected NotFound {entity} `{id}`, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_reused<T: std::fmt::Debug>(r: Result<T, StoreError>, id: &str) {
    match r {
        Err(StoreError::RequestReused { request_id }) => assert_eq!(request_id, id),
        other => panic!("expected RequestReused `{id}`, got {other:?}"),
    }
}

/// The key of the request `body` (standing for a request message) sent with `id`.
pub fn key(user: Uuid, id: &str, body: &str) -> RequestKey {
    RequestKey::new(user, id, "/hotline.test/Write", body.as_bytes())
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
}

#[track_caller]
fn assert_bad_cursor<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::BadCursor) => {}
        other => panic!("expected BadCursor, got {other:?}"),
    }
}

/// A place from a village id of the test directories (county 6 digits, township 9).
fn place(village: &str) -> Place {
    Place {
        county_id: village[..6].to_owned(),
        township_id: village[..9].to_owned(),
        village_id: village.to_owned(),
    }
}
