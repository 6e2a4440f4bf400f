//! The generic store suite on PostgreSQL: every case in its own fresh database.

use hotline_store_postgres::PostgresStore;
use hotline_store_postgres::testing::{TestDatabase, pg_test_database};

async fn setup() -> Option<(PostgresStore, TestDatabase)> {
    let db = pg_test_database().await?;
    let store = PostgresStore::connect_with(db.url(), 4).await.expect("connect to the test database");
    Some((store, db))
}

hotline_store::store_tests!(setup());

#[tokio::test]
async fn migrations_run_once_and_the_guard_drops_the_database() {
    let Some(db) = pg_test_database().await else { return };
    let name = db.name().to_owned();
    let store = PostgresStore::connect(db.url()).await.expect("connect");
    // A second instance on the same database finds the migrations applied.
    let again = PostgresStore::connect_with(db.url(), 1).await.expect("connect again");
    let applied: i64 =
        sqlx::query_scalar("select count(*) from _sqlx_migrations").fetch_one(again.pool()).await.unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert_eq!(applied, files as i64, "each migration applied once");
    drop((store, again));
    let admin = std::env::var(hotline_store_postgres::testing::URL_ENV)
        .unwrap_or_else(|_| hotline_store_postgres::testing::DEFAULT_URL.to_owned());
    drop(db);
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let left: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = $1")
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the guard dropped {name}");
}

/// The sweeper's lease is held by one instance at a time across connection pools on one
/// database, and only on that database.
#[tokio::test]
async fn one_sweep_lease_per_database() {
    use hotline_store::SweepStore;
    let Some(db) = pg_test_database().await else { return };
    let Some(other_db) = pg_test_database().await else { return };
    let a = PostgresStore::connect_with(db.url(), 2).await.expect("connect");
    let b = PostgresStore::connect_with(db.url(), 2).await.expect("connect");
    let elsewhere = PostgresStore::connect_with(other_db.url(), 2).await.expect("connect");
    let lease = a.try_sweep_lease().await.unwrap().expect("free");
    assert!(b.try_sweep_lease().await.unwrap().is_none(), "held by the first instance");
    assert!(a.try_sweep_lease().await.unwrap().is_none(), "held, even from the same pool");
    assert!(elsewhere.try_sweep_lease().await.unwrap().is_some(), "another database has its own");
    lease.release().await;
    let lease = b.try_sweep_lease().await.unwrap().expect("free again once released");
    assert!(a.try_sweep_lease().await.unwrap().is_none());
    drop(lease);
    // A lease dropped without release: its connection goes back to the pool, rolled back,
    // shortly after.
    let mut taken = None;
    for _ in 0..50 {
        taken = a.try_sweep_lease().await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(taken.is_some(), "free again once dropped");
    drop((taken, a, b, elsewhere));
}

/// With a pool of one connection the lease takes no lock (the round needs the connection).
#[tokio::test]
async fn a_pool_of_one_sweeps_without_holding_its_connection() {
    use hotline_store::SweepStore;
    let Some(db) = pg_test_database().await else { return };
    let one = PostgresStore::connect_with(db.url(), 1).await.expect("connect");
    let lease = one.try_sweep_lease().await.unwrap().expect("granted");
    let until = chrono::Utc::now();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), one.orders_due_for_sweep(until, None, 10));
    assert!(read.await.expect("the round's reads get the connection").unwrap().is_empty());
    drop((lease, one));
}

/// Users that differed only in case before usernames were folded (migration 0013): the
/// earliest created keeps the name in every case; the other still signs in by its exact
/// spelling; no third spelling can be taken.
#[tokio::test]
async fn case_duplicates_from_before_usernames_folded() {
    use hotline_store::Store;
    let Some(db) = pg_test_database().await else { return };
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let all = sqlx::migrate!("../../migrations/postgres");
    let before = sqlx::migrate::Migrator {
        migrations: all.migrations.iter().filter(|m| m.version < 13).cloned().collect(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    for (id, name, created) in
        [(second, "Zhang", at("2026-02-01T00:00:00Z")), (first, "zhang", at("2026-01-01T00:00:00Z"))]
    {
        sqlx::query(
            "insert into users (id, username, display_name, role, unit_id, password_hash, active, created_at) \
             values ($1, $2, $3, 'seat_agent', '371500', 'x', true, $4)",
        )
        .bind(id)
        .bind(name)
        .bind(name)
        .bind(created)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = PostgresStore::connect_with(db.url(), 2).await.expect("0013 runs over case duplicates");
    let id = |name: &str| {
        let store = &store;
        let name = name.to_owned();
        async move { store.user_by_username(&name).await.unwrap().map(|u| u.id) }
    };
    assert_eq!(id("zhang").await, Some(first));
    assert_eq!(id("ZHANG").await, Some(first), "the earliest holds the folded name");
    assert_eq!(id("Zhang").await, Some(second), "the later one by its exact spelling");
    let mut third = store.get_user(first).await.unwrap();
    third.id = uuid::Uuid::now_v7();
    third.username = "ZHANG".into();
    assert!(matches!(store.create_user(&third, None).await, Err(hotline_store::StoreError::Conflict(_))));
}

/// A migration that is only a comment, as where PostgreSQL needs nothing for a change
/// (`-- Nothing to do on PostgreSQL: ...`), runs and is recorded like any other.
#[tokio::test]
async fn a_migration_of_comments_only_runs() {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let Some(db) = pg_test_database().await else { return };
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let mut migrations = sqlx::migrate!("../../migrations/postgres").migrations.to_vec();
    let sql = "-- Nothing to do on PostgreSQL: the change is SQLite's alone.\n";
    migrations.push(Migration::new(9999, "nothing_to_do".into(), MigrationType::Simple, sql.into(), false));
    let migrator = Migrator { migrations: migrations.into(), ..Migrator::DEFAULT };
    migrator.run(&pool).await.expect("a comment-only migration runs");
    let last: i64 = sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(last, 9999);
    pool.close().await;
}

/// A database a newer release has migrated further, as during a rolling upgrade: this
/// release opens it, tells the two schemas apart, and still writes.
#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_served() {
    use hotline_store::Store;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let Some(db) = pg_test_database().await else { return };
    let release = sqlx::migrate!("../../migrations/postgres").migrations.last().unwrap().version;
    let store = PostgresStore::connect_with(db.url(), 2).await.expect("a fresh database");
    let fresh = store.schema_versions().await.unwrap();
    assert_eq!((fresh.release, fresh.database), (release, release));
    assert!(!fresh.database_is_newer());
    // The newer release adds a column (migrations only add).
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let mut migrations = sqlx::migrate!("../../migrations/postgres").migrations.to_vec();
    let sql = "alter table calls add column newer_note text;\n";
    migrations.push(Migration::new(9999, "newer_note".into(), MigrationType::Simple, sql.into(), false));
    let newer = Migrator { migrations: migrations.into(), ..Migrator::DEFAULT };
    newer.run(&pool).await.expect("the newer release migrates");
    pool.close().await;

    let store = PostgresStore::connect_with(db.url(), 2).await.expect("this release opens the newer schema");
    let v = store.schema_versions().await.unwrap();
    assert_eq!((v.release, v.database), (release, 9999));
    assert!(v.database_is_newer());
    store.check_writable(chrono::Utc::now()).await.expect("and writes");
}
