//! The one connection that writes, owned by one task.
//!
//! SQLite has one write lock, and writers on several connections do not queue for it:
//! one that finds it taken sleeps in the busy handler's back-off and tries again. So
//! every write of a store is a job sent to one task that owns the write connection; the
//! caller awaits the answer. A caller that stops waiting (a client's deadline, the
//! server's timeout) only drops its end of the answer: the job it sent runs whole or not
//! at all, so no connection is ever left inside a transaction by a cancelled request.
//! A job whose caller has stopped waiting before it starts is skipped.
//!
//! The task takes the first waiting job and, while that group runs, each job waiting
//! behind it (at most [`MAX_GROUP`]), and writes them in one transaction: one
//! `BEGIN IMMEDIATE`, a `SAVEPOINT` per job (a job that fails is rolled back alone and
//! its caller gets its own error), one `COMMIT`. Every caller is answered after that
//! commit, so a caller that looks again after an error (a retry that lost a race on a
//! unique key) finds what the others wrote; if the commit fails, nothing of the group
//! was written and every caller whose job had succeeded gets the commit's error. A job
//! that may fail at commit (deferred foreign keys: the directory import) runs in a
//! group of its own. Every statement is a round trip to the connection's own thread (a
//! wake-up on each side), so the group's own statements ride together: the begin with
//! the first savepoint, each release with the next savepoint or the commit.
//!
//! A job the task has not taken within the store's acquire timeout (the writer stuck
//! behind a lock another process holds, or a queue too long) is withdrawn: it will not
//! run, and its caller is told `Unavailable` at once rather than at its deadline. A job
//! the task has taken is waited for to the end, so its caller never hears `Unavailable`
//! for a write that may still commit.
//!
//! After a failure that may have left the connection in a transaction (an I/O error, a
//! full disk that rolled the transaction back, a `ROLLBACK` or `COMMIT` that failed),
//! the task drops the connection and opens a new one for the next group, so writes work
//! again once the cause is gone.

use futures::FutureExt;
use futures::future::BoxFuture;
use hotline_store::StoreError;
use hotline_store_sql::{is_foreign_key_violation, is_unreachable};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most jobs committed together.
pub(crate) const MAX_GROUP: usize = 64;

/// The error of a job: what its caller gets when the job fails, or when the group it
/// ran in could not be committed.
pub(crate) trait JobError: Send + 'static {
    /// Nothing of the job was written, because of `cause`.
    fn not_committed(cause: &sqlx::Error) -> Self;
    /// The job was withdrawn after waiting `waited` for the writer: nothing was written.
    fn not_taken(waited: Duration) -> Self;
}

impl JobError for StoreError {
    fn not_committed(cause: &sqlx::Error) -> Self {
        // Deferred foreign keys, checked at commit, are the directory's references.
        if is_foreign_key_violation(cause) {
            StoreError::Invalid("directory: a reference to a unit or person does not resolve".into())
        } else if is_unreachable(cause) {
            StoreError::Unavailable(format!("not written: {cause}"))
        } else {
            StoreError::other(NotCommitted(cause.to_string()))
        }
    }

    fn not_taken(waited: Duration) -> Self {
        StoreError::Unavailable(format!("the write waited {} ms for the writer", waited.as_millis()))
    }
}

/// Where a job stands: waiting in the queue, taken by the task (it runs to its end), or
/// withdrawn by its caller (it never runs). Only the first move away from waiting counts.
const WAITING: u8 = 0;
const TAKEN: u8 = 1;
const WITHDRAWN: u8 = 2;

#[derive(Debug, thiserror::Error)]
#[error("not written: {0}")]
struct NotCommitted(String);

/// A job's answer, given to its caller once its fate is known: `None` for its own
/// result, or why nothing of it was written.
type Answer = Box<dyn FnOnce(Option<&sqlx::Error>) + Send>;

/// A job with its answer's type erased, as the task holds it.
trait Work: Send {
    /// Runs in a group of its own.
    fn alone(&self) -> bool;
    /// Takes the job to run it: false when its caller stopped waiting or withdrew it
    /// (then it must not run). Taking a job taken already is true.
    fn take(&self) -> bool;
    /// Runs the job's statements: whether they succeeded, and the answer.
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, (bool, Answer)>;
    /// Answers without running: nothing was written, because of `cause`.
    fn refuse(self: Box<Self>, cause: &sqlx::Error);
}

struct Job<F, T, E> {
    statements: F,
    alone: bool,
    reply: oneshot::Sender<Result<T, E>>,
    state: Arc<AtomicU8>,
}

impl<F, T, E> Work for Job<F, T, E>
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: JobError,
{
    fn alone(&self) -> bool {
        self.alone
    }

    fn take(&self) -> bool {
        if self.reply.is_closed() {
            return false;
        }
        match self.state.compare_exchange(WAITING, TAKEN, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(now) => now == TAKEN,
        }
    }

    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, (bool, Answer)> {
        let Job { statements, reply, .. } = *self;
        Box::pin(async move {
            let result = statements(conn).await;
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |not_written: Option<&sqlx::Error>| {
                let result = match not_written {
                    Some(cause) if ok => Err(E::not_committed(cause)),
                    _ => result,
                };
                let _ = reply.send(result);
            });
            (ok, answer)
        })
    }

    fn refuse(self: Box<Self>, cause: &sqlx::Error) {
        let _ = self.reply.send(Err(E::not_committed(cause)));
    }
}

enum Message {
    Work(Box<dyn Work>),
    /// Close the connection and stop.
    Close(oneshot::Sender<()>),
}

/// The sending end of a store's writer. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Message>,
    /// How long a job may wait to be taken before it is withdrawn.
    wait: Duration,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("waiting", &(self.tx.max_capacity() - self.tx.capacity())).finish()
    }
}

impl Writer {
    /// Starts the task that writes on `conn`, reopening it with `options` when needed;
    /// a job not taken within `wait` is withdrawn.
    pub fn start(conn: SqliteConnection, options: SqliteConnectOptions, wait: Duration) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(conn, options, rx));
        Writer { tx, wait }
    }

    /// Runs `statements` in a transaction on the write connection, committed with the
    /// jobs waiting beside it; answers once it is committed (or has failed).
    pub async fn write<F, T, E>(&self, statements: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: JobError,
    {
        self.send(statements, false).await
    }

    /// Like [`Writer::write`], in a transaction of its own: for a job whose commit may
    /// fail (deferred foreign keys), so that the failure is its alone.
    pub async fn write_alone<F, T, E>(&self, statements: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: JobError,
    {
        self.send(statements, true).await
    }

    async fn send<F, T, E>(&self, statements: F, alone: bool) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: JobError,
    {
        let (reply, answer) = oneshot::channel();
        let state = Arc::new(AtomicU8::new(WAITING));
        let job = Box::new(Job { statements, alone, reply, state: state.clone() });
        let until = tokio::time::Instant::now() + self.wait;
        match tokio::time::timeout_at(until, self.tx.send(Message::Work(job))).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(E::not_committed(&sqlx::Error::PoolClosed)),
            // The queue stayed full: the job was never sent.
            Err(_) => return Err(E::not_taken(self.wait)),
        }
        let mut answer = answer;
        let answered = match tokio::time::timeout_at(until, &mut answer).await {
            Ok(answered) => answered,
            Err(_) => {
                if state.compare_exchange(WAITING, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    return Err(E::not_taken(self.wait));
                }
                // Taken already: it runs to its end, and its answer is waited for.
                answer.await
            }
        };
        // No answer: the job panicked.
        answered.unwrap_or_else(|_| Err(E::not_committed(&sqlx::Error::WorkerCrashed)))
    }

    /// Closes the write connection once the jobs sent before are done; later writes
    /// fail.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.tx.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

async fn run(conn: SqliteConnection, options: SqliteConnectOptions, mut rx: mpsc::Receiver<Message>) {
    let mut conn = Some(conn);
    let mut held: Option<Message> = None;
    loop {
        let message = match held.take() {
            Some(m) => m,
            None => match rx.recv().await {
                Some(m) => m,
                None => break,
            },
        };
        let first = match message {
            Message::Work(w) => w,
            Message::Close(done) => {
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                let _ = done.send(());
                return;
            }
        };
        if !first.take() {
            continue;
        }
        let mut c = match conn.take() {
            Some(c) => c,
            None => match options.connect().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "the SQLite write connection cannot be opened");
                    first.refuse(&e);
                    continue;
                }
            },
        };
        if write_group(&mut c, first, &mut rx, &mut held).await {
            conn = Some(c);
        } else {
            // It may be left inside a transaction: the next group opens a new one.
            drop(c);
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// Writes `first` and the jobs that wait behind it in one transaction, and answers
/// each; whether the connection is fit for the next group.
async fn write_group(
    conn: &mut SqliteConnection,
    first: Box<dyn Work>,
    rx: &mut mpsc::Receiver<Message>,
    held: &mut Option<Message>,
) -> bool {
    let alone = first.alone();
    let mut next = Some(first);
    let mut ran = 0;
    // Answers of the jobs that succeeded, given after the commit, and of those that
    // failed, given then too: a caller that looks again (a retry that lost a race on a
    // unique key) then finds what the others of the group wrote.
    let mut waiting: Vec<Answer> = Vec::new();
    let mut failed: Vec<Answer> = Vec::new();
    let mut broken: Option<sqlx::Error> = None;
    // The statements that close the step before (the transaction's begin, or the last
    // job's release) go with the next one, in one call to the connection's thread.
    let mut before = Before::Begin;
    while let Some(work) = next.take() {
        if work.take() {
            ran += 1;
            let opened = match before {
                Before::Begin => "BEGIN IMMEDIATE; SAVEPOINT job",
                Before::Release => "RELEASE job; SAVEPOINT job",
                Before::Nothing => "SAVEPOINT job",
            };
            if let Err(e) = execute(conn, opened).await {
                // At the begin: busy past the busy timeout (another process holds the
                // lock), or worse.
                work.refuse(&e);
                broken = Some(e);
                break;
            }
            match AssertUnwindSafe(work.run(conn)).catch_unwind().await {
                Ok((true, answer)) => {
                    waiting.push(answer);
                    before = Before::Release;
                }
                outcome => {
                    if outcome.is_err() {
                        // Its caller learns it from the answer dropped with the job.
                        tracing::error!("a write job panicked; it is rolled back");
                    }
                    // Fails when the error rolled the whole transaction back (a full
                    // disk, an I/O error): then nothing of the group is left to commit.
                    let undone = execute(conn, "ROLLBACK TO job; RELEASE job").await;
                    if let Ok((_, answer)) = outcome {
                        failed.push(answer);
                    }
                    if let Err(e) = undone {
                        broken = Some(e);
                        break;
                    }
                    before = Before::Nothing;
                }
            }
        }
        if !alone && ran < MAX_GROUP {
            next = match rx.try_recv() {
                Ok(Message::Work(w)) if !w.alone() => Some(w),
                Ok(other) => {
                    *held = Some(other);
                    None
                }
                Err(_) => None,
            };
        }
    }
    let cause = match broken {
        Some(e) => e,
        None => {
            let close = if before == Before::Release { "RELEASE job; COMMIT" } else { "COMMIT" };
            match execute(conn, close).await {
                Ok(()) => {
                    for answer in waiting.into_iter().chain(failed) {
                        answer(None);
                    }
                    return true;
                }
                Err(e) => e,
            }
        }
    };
    tracing::warn!(error = %cause, jobs = waiting.len(), "a group of writes was not committed");
    let _ = execute(conn, "ROLLBACK").await;
    for answer in waiting {
        answer(Some(&cause));
    }
    for answer in failed {
        answer(None);
    }
    false
}

/// What must run before the group's next statement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// The transaction is not begun yet.
    Begin,
    /// The last job succeeded: its savepoint is released.
    Release,
    /// The last job was rolled back and its savepoint released.
    Nothing,
}

async fn execute(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempSqlite;
    use sqlx::Row;

    async fn insert(c: &mut SqliteConnection, k: i64, v: &str) -> Result<(), StoreError> {
        sqlx::query("insert into t (k, v) values (?, ?)")
            .bind(k)
            .bind(v)
            .execute(c)
            .await
            .map_err(StoreError::other)?;
        Ok(())
    }

    /// Job `k` writes its row, and when it must fail, a second row that breaks `v`'s
    /// unique rule: what it wrote first must be rolled back with it, and nothing else.
    async fn job(writer: &Writer, k: i64, fail: bool) -> Result<(), StoreError> {
        writer
            .write(move |c| {
                Box::pin(async move {
                    insert(c, k, &format!("v{k}")).await?;
                    if fail { insert(c, 100 + k, "v0").await } else { Ok(()) }
                })
            })
            .await
    }

    async fn keys(options: &SqliteConnectOptions) -> Vec<i64> {
        let mut c = options.connect().await.expect("read connection");
        let rows = sqlx::query("select k from t order by k").fetch_all(&mut c).await.expect("read");
        rows.iter().map(|r| r.get::<i64, _>("k")).collect()
    }

    #[tokio::test]
    async fn a_group_commits_every_job_but_those_that_failed() {
        let db = TempSqlite::new();
        let options = crate::connect_options(&db.url()).expect("options");
        let mut conn = options.connect().await.expect("connect");
        sqlx::query("create table t (k integer primary key, v text not null unique)")
            .execute(&mut conn)
            .await
            .expect("table");
        let writer = Writer::start(conn, options.clone(), Duration::from_secs(10));

        // The first job holds the writer until the others wait behind it, so that they
        // are written in its group, one after the other.
        let (open, gate) = oneshot::channel::<()>();
        let held = writer.clone();
        let first = tokio::spawn(async move {
            held.write(move |c| {
                Box::pin(async move {
                    insert(c, 0, "v0").await?;
                    let _ = gate.await;
                    Ok::<_, StoreError>(())
                })
            })
            .await
        });
        // Failures after a success, after a failure, and successes after a failure, the
        // group closing on a success.
        let fails = [(1, true), (2, false), (3, true), (4, true), (5, false), (6, false)];
        let mut rest = Vec::new();
        for (k, fail) in fails {
            let writer = writer.clone();
            rest.push(tokio::spawn(async move { job(&writer, k, fail).await }));
        }
        while writer.tx.max_capacity() - writer.tx.capacity() < fails.len() {
            tokio::task::yield_now().await;
        }
        open.send(()).expect("the first job waits");
        first.await.expect("first").expect("the first job is written");
        for ((k, fail), handle) in fails.into_iter().zip(rest) {
            let result = handle.await.expect("job");
            assert_eq!(result.is_err(), fail, "job {k}: {result:?}");
        }
        assert_eq!(keys(&options).await, vec![0, 2, 5, 6]);

        // A group of one job that fails writes nothing, and the next group writes.
        assert!(job(&writer, 7, true).await.is_err());
        job(&writer, 8, false).await.expect("a write after a failed group");
        assert_eq!(keys(&options).await, vec![0, 2, 5, 6, 8]);
        writer.close().await;
    }
}
