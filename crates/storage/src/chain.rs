//! The tamper-evident chain of a chat (SPEC §9.7): each event appends an entry in the same
//! transaction that stores it, under the chat's row lock, so the chain orders events exactly
//! as they were stored. An entry's canonical bytes are sealed with the chat's data key (bound
//! to the chat and the entry's hash); once the key is gone, the stored hashes reveal nothing.

use async_trait::async_trait;
use aws_lc_rs::{aead::LessSafeKey, rand::SecureRandom};
use omw_domain::transcript::{self, ChainEntry, Entry, Event, SALT_BYTES};

use crate::{error::StoreError, seal};

/// What an entry's sealed bytes are, in their associated data.
const CHAIN_ENTRY: &str = "chain-entry";

/// A chat's chain as stored: its entries in order and the head the chat row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChain {
    pub entries: Vec<ChainEntry>,
    pub head: [u8; 32],
}

#[async_trait]
pub trait Chains: Send + Sync {
    /// The chain of a chat, up to the head its row holds; `None` when the chat is gone (or its
    /// deletion has begun). An entry whose bytes do not open comes back without them, for the
    /// verifier to name.
    async fn chain_of(&self, chat_id: &str) -> Result<Option<StoredChain>, StoreError>;

    /// Up to `limit` of a chat's messages after `after_seq`, oldest first, as stored: a value
    /// that does not open is left out of its message, and a row that does not read is skipped
    /// (the verifier names both). With them the seq to read on after, when more follow.
    async fn messages_as_stored(
        &self,
        chat_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<(Vec<omw_domain::Message>, Option<i64>), StoreError>;
}

/// A chat's chain while a transaction appends to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub len: i64,
    pub hash: [u8; 32],
}

impl Head {
    /// From the chat row's `chain_len` and `chain_head`.
    pub fn stored(chat_id: &str, len: i64, head: Option<&str>) -> Result<Head, StoreError> {
        let hash = match head {
            None => transcript::genesis(chat_id),
            Some(h) => transcript::parse_hash(h)
                .ok_or_else(|| StoreError::Corrupt(format!("chain head of chat {chat_id}")))?,
        };
        Ok(Head { len, hash })
    }

    pub fn hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// One entry to insert: (n, hash hex, canonical as stored).
pub(crate) type NewEntry = (i64, String, String);

/// Append `event` to the chain at `head`: the row to store, sealed with `key` when the chat
/// has one.
pub(crate) fn append(
    head: &mut Head,
    chat_id: &str,
    key: Option<&LessSafeKey>,
    event: Event,
) -> Result<NewEntry, StoreError> {
    let mut salt = [0u8; SALT_BYTES];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| StoreError::Key("no randomness for a chain salt".into()))?;
    let n = head.len + 1;
    let canonical = Entry::new(chat_id, n, &salt, event).canonical();
    head.hash = transcript::link(&head.hash, canonical.as_bytes());
    head.len = n;
    let hash = head.hex();
    let stored = match key {
        Some(k) => seal::seal(k, chat_id, &hash, CHAIN_ENTRY, &canonical)?,
        None => canonical,
    };
    Ok((n, hash, stored))
}

/// An entry as read back: its bytes, or none where they do not open.
pub(crate) fn read_back(
    key: Option<&LessSafeKey>,
    chat_id: &str,
    hash: String,
    stored: String,
) -> ChainEntry {
    let canonical = match key {
        Some(k) => seal::open(k, chat_id, &hash, CHAIN_ENTRY, &stored).ok(),
        None => Some(stored),
    };
    ChainEntry {
        canonical: canonical.map(String::into_bytes),
        hash,
    }
}
