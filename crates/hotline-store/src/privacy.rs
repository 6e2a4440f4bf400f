//! What storage keeps for privacy and sign-in security: the record of every full view
//! of caller data, re-sealing caller data under the current key, sign-in sessions and
//! their revocation, and the failed sign-in count behind lock-out.

use crate::{Page, PageRequest, ResealSummary, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A caller field whose full value was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CallerField {
    Name,
    Phone,
    IdNumber,
}

impl CallerField {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerField::Name => "name",
            CallerField::Phone => "phone",
            CallerField::IdNumber => "id_number",
        }
    }

    pub fn parse(s: &str) -> Option<CallerField> {
        match s {
            "name" => Some(CallerField::Name),
            "phone" => Some(CallerField::Phone),
            "id_number" => Some(CallerField::IdNumber),
            _ => None,
        }
    }

    /// Fields as stored: names joined by commas.
    pub fn join(fields: &[CallerField]) -> String {
        fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
    }

    /// The stored list back; unknown names are an error naming the text.
    pub fn split(s: &str) -> std::result::Result<Vec<CallerField>, String> {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| CallerField::parse(p).ok_or_else(|| p.to_owned()))
            .collect()
    }
}

/// One response that showed a caller's full values: who saw which record's fields,
/// when, through which RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerDataView {
    /// Assigned by storage (increasing); ignored on insert.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Uuid,
    pub role: Role,
    /// The work order shown, or the order a call became (when known).
    pub order_id: Option<Uuid>,
    /// The call record shown.
    pub call_id: Option<Uuid>,
    pub fields: Vec<CallerField>,
    /// The RPC's method name, e.g. `GetWorkOrder`.
    pub rpc: String,
    /// The queue call shown (the telephony layer's call id), for views of the live queue.
    pub telephony_call_id: Option<String>,
}

/// Filters for listing views; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewFilter {
    pub user_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// A sign-in session: one issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token's `jti`.
    pub id: Uuid,
    pub user_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the authentication check must refuse besides bad tokens: sessions revoked
/// before they expired, and users who are not active.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations {
    /// Revoked sessions not yet expired, with their expiry.
    pub sessions: Vec<(Uuid, DateTime<Utc>)>,
    pub inactive_users: Vec<Uuid>,
}

/// Failed sign-in counting for one username (whether or not it exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the username.
    pub max_failures: u32,
    pub window: chrono::Duration,
    /// How long the lock lasts from the failure that set it.
    pub lock_for: chrono::Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            window: chrono::Duration::minutes(15),
            lock_for: chrono::Duration::minutes(15),
        }
    }
}

/// One username's failed sign-in count as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: u32,
    pub first_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutPolicy {
    /// The count after one more failure at `now`. A lock in force is left as it is; a
    /// count older than the window, or whose lock has ended, starts again; reaching
    /// `max_failures` locks the username for `lock_for`.
    pub fn after_failure(&self, before: Option<FailureCount>, now: DateTime<Utc>) -> FailureCount {
        let fresh = FailureCount { failures: 1, first_at: now, locked_until: None };
        let mut next = match before {
            Some(b) if b.locked_until.is_some_and(|l| l > now) => return b,
            Some(b) if b.locked_until.is_some() || b.first_at <= now - self.window => fresh,
            Some(b) => FailureCount { failures: b.failures + 1, ..b },
            None => fresh,
        };
        if next.failures >= self.max_failures {
            next.locked_until = Some(now + self.lock_for);
        }
        next
    }
}

#[async_trait]
pub trait PrivacyStore {
    // ---- caller data -------------------------------------------------------------

    /// Re-seals under the current caller key every row sealed under another key, and
    /// seals rows stored in clear before encryption; with `only_clear`, just the latter.
    /// In batches, each its own transaction; safe to run while the server serves.
    async fn reseal_callers(&self, only_clear: bool) -> Result<ResealSummary>;

    /// The ids of the keys caller data is sealed under, in calls, work orders and
    /// telephony queue calls, each once, in order; rows stored in clear count for none.
    /// One index probe per key id, whatever the size of the tables: the server asks at
    /// start, to refuse data sealed under a key it does not have.
    async fn caller_key_ids(&self) -> Result<Vec<String>>;

    /// Records the full views of one response, in one insert.
    async fn record_caller_views(&self, views: &[CallerDataView]) -> Result<()>;
    /// Newest first, with a cursor.
    async fn list_caller_views(
        &self,
        filter: &ViewFilter,
        page: &PageRequest,
    ) -> Result<Page<CallerDataView>>;

    // ---- sessions and users ------------------------------------------------------

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// Revokes one session of this user; `false` when there is none or it was revoked.
    async fn revoke_session(&self, id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Result<bool>;
    /// Sets the user's active flag and, when deactivating, revokes all their sessions,
    /// in one transaction. Returns the sessions revoked. NotFound for an unknown user.
    async fn set_user_active(&self, user_id: Uuid, active: bool, at: DateTime<Utc>) -> Result<u64>;
    /// Revoked sessions expiring after `now`, and inactive users.
    async fn revocations(&self, now: DateTime<Utc>) -> Result<Revocations>;

    // ---- lock-out ----------------------------------------------------------------

    /// When the username is locked at `now`, until when.
    async fn sign_in_locked_until(&self, username: &str, now: DateTime<Utc>)
    -> Result<Option<DateTime<Utc>>>;
    /// Counts a failed sign-in (see [`LockoutPolicy::after_failure`]), in one
    /// transaction; returns the count as it now stands.
    async fn record_sign_in_failure(
        &self,
        username: &str,
        now: DateTime<Utc>,
        policy: &LockoutPolicy,
    ) -> Result<FailureCount>;
    /// Forgets the failures after a successful sign-in.
    async fn clear_sign_in_failures(&self, username: &str) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_counts_within_the_window() {
        let p = LockoutPolicy::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let min = chrono::Duration::minutes;
        let mut c = None;
        for i in 0..4 {
            c = Some(p.after_failure(c, t0 + min(i)));
            assert_eq!(c.unwrap().locked_until, None);
        }
        // The fifth within 15 minutes locks for 15 minutes.
        let locked = p.after_failure(c, t0 + min(5));
        assert_eq!(locked.locked_until, Some(t0 + min(20)));
        // Failures during the lock change nothing.
        assert_eq!(p.after_failure(Some(locked), t0 + min(10)), locked);
        // After the lock, counting starts again.
        let again = p.after_failure(Some(locked), t0 + min(21));
        assert_eq!((again.failures, again.locked_until), (1, None));
        // Four failures, then one after the window: no lock.
        let mut c = None;
        for i in 0..4 {
            c = Some(p.after_failure(c, t0 + min(i)));
        }
        let late = p.after_failure(c, t0 + min(16));
        assert_eq!((late.failures, late.locked_until), (1, None));
    }
}
