//! Throwaway databases for tests, one per test, on every configured backend.
//!
//! SQLite is always available. MariaDB and PostgreSQL are used when `OMW_TEST_MYSQL_URL` /
//! `OMW_TEST_POSTGRES_URL` name a server database the tests may create databases beside
//! (e.g. `mysql://root@127.0.0.1:3306/test`, `postgres://postgres@127.0.0.1:5432/test`).
//! Unset, those backends are skipped with a loud line — unless `CI=true`, where a missing or
//! unreachable backend fails the test.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

mod admin;
use admin::Admin;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    MySql,
    Postgres,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Sqlite, Kind::MySql, Kind::Postgres];

    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Kind::Sqlite => None,
            Kind::MySql => Some("OMW_TEST_MYSQL_URL"),
            Kind::Postgres => Some("OMW_TEST_POSTGRES_URL"),
        }
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database that exists for one test.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

/// Databases older than this, left behind by a crashed run, are dropped by the next run.
const STALE_SECS: u64 = 3600;
const PREFIX: &str = "omw_t_";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Replace the database name (the URL path) of a server URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn stale(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|ts| ts.parse::<u64>().ok())
        .is_some_and(|ts| ts + STALE_SECS < now_secs())
}

impl TestDb {
    /// A fresh database of this kind, or `None` (with a loud line) if the backend is not
    /// configured outside CI.
    pub async fn create(kind: Kind) -> Option<TestDb> {
        let name = format!("{PREFIX}{}_{:08x}", now_secs(), rand::rng().random::<u32>());
        let Some(var) = kind.env_var() else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/chat.db", dir.path().display());
            return Some(TestDb {
                kind,
                url,
                admin_url: None,
                name,
                _dir: Some(dir),
            });
        };
        let admin_url = match std::env::var(var) {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    !in_ci(),
                    "CI=true but {var} is not set: the {kind:?} suite cannot run"
                );
                eprintln!("SKIPPED: {kind:?} backend — set {var} to run it");
                return None;
            }
        };
        let mut admin = Admin::connect(kind, &admin_url)
            .await
            .unwrap_or_else(|e| panic!("{var}={admin_url}: cannot connect: {e}"));
        let names = admin.test_databases().await.expect("list databases");
        for old in names.into_iter().filter(|n| stale(n)) {
            let _ = admin.drop_database(&old).await;
        }
        admin.create_database(&name).await.expect("create database");
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            kind,
            url,
            admin_url: Some(admin_url),
            name,
            _dir: None,
        })
    }

    /// Drop the database (SQLite: the temp dir goes with the value).
    pub async fn drop_db(self) {
        let Some(admin) = &self.admin_url else { return };
        if let Ok(mut c) = Admin::connect(self.kind, admin).await {
            let _ = c.drop_database(&self.name).await;
        }
    }

    /// Run one statement on the test database, as an operator (or an intruder) with its own
    /// connection would; how many rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        use sqlx::{Connection, Executor};
        let statement = sql;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let done = match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("connect");
                c.execute(sql).await.map(|r| r.rows_affected())
            }
            Kind::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .expect("connect");
                c.execute(sql).await.map(|r| r.rows_affected())
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                c.execute(sql).await.map(|r| r.rows_affected())
            }
        };
        done.unwrap_or_else(|e| panic!("{statement}: {e}"))
    }

    /// The folder SQLite's file lives in (for tests that inspect the file itself).
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(|d| d.path())
    }
}

/// Run the same test body against every backend kind; the body gets a fresh database.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { $crate::run(super::$name, $crate::Kind::Sqlite).await } )*
        }
        mod mysql {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { $crate::run(super::$name, $crate::Kind::MySql).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { $crate::run(super::$name, $crate::Kind::Postgres).await } )*
        }
    };
}

/// Create the database, run the body, drop the database (also kept on failure for a look).
pub async fn run<F, Fut>(body: F, kind: Kind)
where
    F: FnOnce(std::sync::Arc<TestDb>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let db = std::sync::Arc::new(db);
    body(db.clone()).await;
    if let Ok(db) = std::sync::Arc::try_unwrap(db) {
        db.drop_db().await;
    }
}

/// The Redis server tests may use (`OMW_TEST_REDIS_URL`), or `None` with a loud line outside
/// CI. Tests keep apart by giving every run its own key prefix ([`redis_prefix`]).
pub fn redis_url() -> Option<String> {
    match std::env::var("OMW_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !in_ci(),
                "CI=true but OMW_TEST_REDIS_URL is not set: the Redis suites cannot run"
            );
            eprintln!("SKIPPED: Redis suites — set OMW_TEST_REDIS_URL to run them");
            None
        }
    }
}

/// A key prefix no other test run uses.
pub fn redis_prefix() -> String {
    format!("omw-t-{}-{:08x}", now_secs(), rand::rng().random::<u32>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::with_database("mysql://root@127.0.0.1:3306/test", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
        assert_eq!(
            super::with_database("postgres://p@h/test?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
    }
}
