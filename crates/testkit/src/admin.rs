//! The administrative connection to a MariaDB or PostgreSQL server that creates and drops the
//! test databases: one code path for both, the dialects differing only in their SQL.

use sqlx::{AssertSqlSafe, Connection, Executor, MySqlConnection, PgConnection};

use crate::Kind;

pub(crate) enum Admin {
    MySql(MySqlConnection),
    Postgres(PgConnection),
}

impl Admin {
    pub(crate) async fn connect(kind: Kind, url: &str) -> Result<Admin, sqlx::Error> {
        Ok(match kind {
            Kind::MySql => Admin::MySql(MySqlConnection::connect(url).await?),
            Kind::Postgres => Admin::Postgres(PgConnection::connect(url).await?),
            Kind::Sqlite => unreachable!("SQLite needs no server"),
        })
    }

    /// The names of the test databases (`omw_t_…`) on the server.
    pub(crate) async fn test_databases(&mut self) -> Result<Vec<String>, sqlx::Error> {
        let names: Vec<(String,)> = match self {
            Admin::MySql(c) => {
                sqlx::query_as("SHOW DATABASES LIKE 'omw\\_t\\_%'")
                    .fetch_all(c)
                    .await?
            }
            Admin::Postgres(c) => {
                sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'omw\\_t\\_%'")
                    .fetch_all(c)
                    .await?
            }
        };
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    pub(crate) async fn create_database(&mut self, name: &str) -> Result<(), sqlx::Error> {
        let sql = match self {
            Admin::MySql(_) => {
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
            Admin::Postgres(_) => format!("CREATE DATABASE \"{name}\""),
        };
        self.execute(sql).await
    }

    pub(crate) async fn drop_database(&mut self, name: &str) -> Result<(), sqlx::Error> {
        let sql = match self {
            Admin::MySql(_) => format!("DROP DATABASE IF EXISTS `{name}`"),
            Admin::Postgres(_) => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        };
        self.execute(sql).await
    }

    async fn execute(&mut self, sql: String) -> Result<(), sqlx::Error> {
        match self {
            Admin::MySql(c) => c.execute(AssertSqlSafe(sql)).await.map(drop),
            Admin::Postgres(c) => c.execute(AssertSqlSafe(sql)).await.map(drop),
        }
    }
}
