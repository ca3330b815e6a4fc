//! The SQL backends. The queries are written once (`queries.rs`) and adapted per dialect; the
//! code that runs them is written once (`store_impl.rs`) and instantiated for each concrete
//! sqlx pool type — sqlx's `Any` driver would lose types and placeholder rewriting.

mod checkpoint;
mod queries;
mod rows;
#[macro_use]
mod store_impl;
#[macro_use]
mod outbox_impl;
#[macro_use]
mod push_impl;
#[macro_use]
mod hold_impl;
#[macro_use]
mod chain_impl;
mod mysql;
mod postgres;
mod sqlite;

pub use mysql::MySqlStore;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub(crate) use store_impl::retry_pause;
