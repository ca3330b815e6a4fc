//! Storage for omw-chat: one [`Store`] interface, three real backends (SQLite, MariaDB/MySQL,
//! PostgreSQL) over concrete sqlx pools, each with its own migrations.

mod backend;
mod chain;
mod connect;
mod error;
pub mod file_seal;
mod hold;
mod outbox;
mod push;
mod seal;
mod sql;
mod store;

pub use backend::Backend;
pub use chain::{Chains, StoredChain};
pub use connect::{open, open_sealed};
pub use error::StoreError;
pub use file_seal::FileKey;
pub use hold::{Hold, Holds, Placed};
pub use outbox::{Job, MAX_DEDUPE_KEY, NewJob, Outbox, Settle};
pub use push::{PushSubscription, Subscriptions};
pub use seal::{DataKey, KeyError, KeyWrapper, Sealer};
pub use store::{
    Admission, AppliedBooking, AttachmentRecord, Backoff, ChatSummary, Inserted, MessagePage,
    NewAttachment, Page, ReadState, Store,
};
