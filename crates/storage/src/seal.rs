//! Encryption at rest (SPEC §9.6). Each chat has its own random 256-bit data key; message bodies
//! and attachment names are stored under AES-256-GCM with it, bound (as associated data) to the
//! chat, the item and what it is, so a ciphertext moved to another row or chat does not open.
//! Data keys are stored wrapped by a key-encryption key ([`KeyWrapper`]: a file, later a KMS);
//! deleting a chat first deletes its wrapped key, after which nothing of it can be read, in
//! backups too once the key-encryption key's epoch is destroyed.
//!
//! A chat stored without a key (created with encryption off, or before it existed) stays
//! plaintext: every read checks the chat's key, not a per-row flag.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use zeroize::Zeroizing;

use omw_domain::{Message, MessageKind, NewMessage};

use crate::error::StoreError;

/// A chat's data key, wiped from memory when dropped.
pub type DataKey = Zeroizing<[u8; 32]>;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key-encryption key of this epoch is gone: what it wrapped cannot be read any more.
    #[error("key epoch {0} is destroyed")]
    Destroyed(i64),
    #[error("{0}")]
    Failed(String),
}

/// Wraps and unwraps data keys with a key-encryption key that never leaves it (a file here; a
/// KMS such as Vault Transit could implement this over HTTP).
#[async_trait]
pub trait KeyWrapper: Send + Sync {
    /// The epoch new keys are wrapped under.
    fn current_epoch(&self) -> i64;
    /// `key` wrapped under the current epoch, for `chat_id` only.
    async fn wrap(&self, chat_id: &str, key: &DataKey) -> Result<(i64, Vec<u8>), KeyError>;
    async fn unwrap(&self, chat_id: &str, epoch: i64, wrapped: &[u8]) -> Result<DataKey, KeyError>;
}

/// What the store seals with: the wrapper, whether new chats get a key, and the chats' keys
/// unwrapped lately.
pub struct Sealer {
    wrapper: Option<Arc<dyn KeyWrapper>>,
    seal_new: bool,
    keys: moka::sync::Cache<String, Arc<LessSafeKey>>,
    /// Chats stored in plaintext: a chat gets its key when created or never.
    plain: moka::sync::Cache<String, ()>,
}

/// A chat's wrapped key as stored (`chats.key_epoch`, `chats.data_key`, base64): no epoch for
/// a plaintext chat, an epoch without a key for one whose key was destroyed.
pub type StoredKey<'a> = (Option<i64>, Option<&'a str>);

impl Sealer {
    /// `wrapper`: where data keys are wrapped (none: nothing is sealed, nothing sealed can be
    /// read). `seal_new`: whether chats created from now on get a key (`ENCRYPTION=off` keeps
    /// reading those that have one).
    pub fn new(wrapper: Option<Arc<dyn KeyWrapper>>, seal_new: bool) -> Sealer {
        Sealer {
            wrapper,
            seal_new,
            keys: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
            plain: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        }
    }

    /// What is known of a chat without asking the database: `Some(None)` for a plaintext
    /// chat, `Some(Some(key))` for a sealed one used lately.
    pub fn known(&self, chat_id: &str) -> Option<Option<Arc<LessSafeKey>>> {
        if let Some(key) = self.keys.get(chat_id) {
            return Some(Some(key));
        }
        self.plain.get(chat_id).map(|()| None)
    }

    /// No encryption (tools, tests of other things).
    pub fn off() -> Sealer {
        Sealer::new(None, false)
    }

    /// A key for a new chat: its (epoch, wrapped key) to store, or `None` when new chats are not
    /// sealed. The unwrapped key is kept for the chat's first messages.
    pub async fn new_chat_key(&self, chat_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        let Some(wrapper) = self.wrapper.as_ref().filter(|_| self.seal_new) else {
            return Ok(None);
        };
        let mut key: DataKey = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(key.as_mut())
            .map_err(|_| StoreError::Key("no randomness for a data key".into()))?;
        let (epoch, wrapped) = wrapper.wrap(chat_id, &key).await.map_err(key_error)?;
        self.keys
            .insert(chat_id.to_owned(), Arc::new(aead_key(&key)?));
        Ok(Some((epoch, STANDARD.encode(wrapped))))
    }

    /// The chat's key from its stored form; `None` for a plaintext chat.
    pub async fn key(
        &self,
        chat_id: &str,
        stored: StoredKey<'_>,
    ) -> Result<Option<Arc<LessSafeKey>>, StoreError> {
        let (epoch, wrapped) = match stored {
            (None, _) => {
                self.plain.insert(chat_id.to_owned(), ());
                return Ok(None);
            }
            (Some(_), None) => {
                return Err(StoreError::KeyDestroyed(format!(
                    "the data key of chat {chat_id} is destroyed"
                )));
            }
            (Some(epoch), Some(wrapped)) => (epoch, wrapped),
        };
        if let Some(key) = self.keys.get(chat_id) {
            return Ok(Some(key));
        }
        let key = Arc::new(aead_key(&self.unwrap(chat_id, epoch, wrapped).await?)?);
        self.keys.insert(chat_id.to_owned(), key.clone());
        Ok(Some(key))
    }

    /// The epoch new keys are wrapped under; `None` without a key file.
    pub fn current_epoch(&self) -> Option<i64> {
        self.wrapper.as_ref().map(|w| w.current_epoch())
    }

    /// A stored key (`epoch`, base64) wrapped anew under the current epoch.
    pub async fn rewrap(
        &self,
        chat_id: &str,
        epoch: i64,
        wrapped: &str,
    ) -> Result<(i64, String), StoreError> {
        let key = self.unwrap(chat_id, epoch, wrapped).await?;
        let wrapper = self.wrapper()?;
        let (epoch, wrapped) = wrapper.wrap(chat_id, &key).await.map_err(key_error)?;
        Ok((epoch, STANDARD.encode(wrapped)))
    }

    fn wrapper(&self) -> Result<&Arc<dyn KeyWrapper>, StoreError> {
        self.wrapper
            .as_ref()
            .ok_or_else(|| StoreError::Key("this chat is encrypted and no key file is set".into()))
    }

    /// A stored key (`epoch`, base64) unwrapped.
    async fn unwrap(
        &self,
        chat_id: &str,
        epoch: i64,
        wrapped: &str,
    ) -> Result<DataKey, StoreError> {
        let wrapped = STANDARD
            .decode(wrapped)
            .map_err(|_| StoreError::Corrupt(format!("data key of chat {chat_id}")))?;
        self.wrapper()?
            .unwrap(chat_id, epoch, &wrapped)
            .await
            .map_err(key_error)
    }

    /// The chat's key is destroyed: forget it here too.
    pub fn forget(&self, chat_id: &str) {
        self.keys.invalidate(chat_id);
    }
}

fn key_error(e: KeyError) -> StoreError {
    match e {
        KeyError::Destroyed(_) => StoreError::KeyDestroyed(e.to_string()),
        KeyError::Failed(_) => StoreError::Key(e.to_string()),
    }
}

fn aead_key(key: &DataKey) -> Result<LessSafeKey, StoreError> {
    UnboundKey::new(&AES_256_GCM, key.as_ref())
        .map(LessSafeKey::new)
        .map_err(|_| StoreError::Key("a data key is not 256 bits".into()))
}

/// What an attachment's sealed name is, in its associated data.
pub(crate) const ATTACHMENT_NAME: &str = "attachment-name";

fn body_what(kind: MessageKind) -> String {
    format!("body:{}", kind.as_str())
}

/// A new message's body as stored: sealed when its chat has a key.
pub(crate) fn seal_body(
    key: Option<&LessSafeKey>,
    m: &NewMessage,
) -> Result<Option<String>, StoreError> {
    match (key, &m.body) {
        (Some(k), Some(body)) => Ok(Some(seal(k, &m.chat_id, &m.id, &body_what(m.kind), body)?)),
        _ => Ok(m.body.clone()),
    }
}

/// A stored message as its chat's participants read it.
pub(crate) fn open_message(
    key: Option<&LessSafeKey>,
    mut m: Message,
) -> Result<Message, StoreError> {
    let Some(k) = key else {
        return Ok(m);
    };
    if let Some(body) = m.body.take() {
        m.body = Some(open(k, &m.chat_id, &m.id, &body_what(m.kind), &body)?);
    }
    if let Some(a) = m.attachment.as_mut() {
        a.name = open(k, &m.chat_id, &a.id, ATTACHMENT_NAME, &a.name)?;
    }
    Ok(m)
}

/// A stored message as evidence: what does not open (altered or moved in storage) is left
/// out — a body becomes `None`, a file name empty — for the transcript's verifier to name.
pub(crate) fn open_message_as_stored(key: Option<&LessSafeKey>, mut m: Message) -> Message {
    let Some(k) = key else {
        return m;
    };
    m.body = m
        .body
        .take()
        .and_then(|body| open(k, &m.chat_id, &m.id, &body_what(m.kind), &body).ok());
    if let Some(a) = m.attachment.as_mut() {
        a.name = open(k, &m.chat_id, &a.id, ATTACHMENT_NAME, &a.name).unwrap_or_default();
    }
    m
}

/// What a sealed value is bound to: its chat, its row, and what it is there.
fn aad(chat_id: &str, item_id: &str, what: &str) -> String {
    format!("omw-chat/1|{chat_id}|{item_id}|{what}")
}

/// `plain` sealed for `chat_id`/`item_id`/`what`: base64 of nonce ‖ ciphertext ‖ tag.
pub fn seal(
    key: &LessSafeKey,
    chat_id: &str,
    item_id: &str,
    what: &str,
    plain: &str,
) -> Result<String, StoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| StoreError::Key("no randomness for a nonce".into()))?;
    let mut buf = plain.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad(chat_id, item_id, what).as_bytes()),
        &mut buf,
    )
    .map_err(|_| StoreError::Key("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(STANDARD.encode(out))
}

/// The plaintext of [`seal`]'s output; `Corrupt` when it was changed or moved.
pub fn open(
    key: &LessSafeKey,
    chat_id: &str,
    item_id: &str,
    what: &str,
    sealed: &str,
) -> Result<String, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("sealed {what} of {item_id} in chat {chat_id}"));
    let mut buf = STANDARD.decode(sealed).map_err(|_| corrupt())?;
    if buf.len() < NONCE_LEN {
        return Err(corrupt());
    }
    let mut rest = buf.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&buf).map_err(|_| corrupt())?;
    let plain = key
        .open_in_place(
            nonce,
            Aad::from(aad(chat_id, item_id, what).as_bytes()),
            &mut rest,
        )
        .map_err(|_| corrupt())?;
    String::from_utf8(plain.to_vec()).map_err(|_| corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LessSafeKey {
        aead_key(&Zeroizing::new([7u8; 32])).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_where_it_was_sealed() {
        let k = key();
        let sealed = seal(&k, "c1", "m1", "body:text", "I am at your gate").unwrap();
        assert!(!sealed.contains("gate"));
        assert_eq!(
            open(&k, "c1", "m1", "body:text", &sealed).unwrap(),
            "I am at your gate"
        );
        for (chat, item, what) in [
            ("c2", "m1", "body:text"),
            ("c1", "m2", "body:text"),
            ("c1", "m1", "body:image"),
        ] {
            assert!(
                open(&k, chat, item, what, &sealed).is_err(),
                "{chat} {item} {what}"
            );
        }
        let other = aead_key(&Zeroizing::new([8u8; 32])).unwrap();
        assert!(open(&other, "c1", "m1", "body:text", &sealed).is_err());
        let mut tampered = STANDARD.decode(&sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&k, "c1", "m1", "body:text", &STANDARD.encode(tampered)).is_err());
        assert!(open(&k, "c1", "m1", "body:text", "not base64!").is_err());
        assert!(open(&k, "c1", "m1", "body:text", "AAAA").is_err());
        // Two seals of one text differ (fresh nonces).
        assert_ne!(
            sealed,
            seal(&k, "c1", "m1", "body:text", "I am at your gate").unwrap()
        );
    }
}
