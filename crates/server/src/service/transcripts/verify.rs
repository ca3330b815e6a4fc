//! Checking a transcript offline (`omw-chat verify-transcript FILE`): the chain, the messages
//! against it, and the signature over its head.

use base64::{Engine, engine::general_purpose::STANDARD};
use omw_domain::transcript::{self, ChainEntry, MessageFacts, Problem};
use serde::Deserialize;

use crate::keys::signing;

/// A transcript as `GET /platform/chats/{id}/transcript` returns it (the reply, or the
/// `transcript` object inside), read for what verification needs.
#[derive(Deserialize)]
struct Document {
    chat: ChatRef,
    messages: Vec<MessageFacts>,
    chain: Vec<EntryDoc>,
    head: String,
    key_id: String,
    signature: String,
}

#[derive(Deserialize)]
struct ChatRef {
    id: String,
}

#[derive(Deserialize)]
struct EntryDoc {
    canonical: Option<String>,
    hash: String,
}

#[derive(Deserialize)]
struct Reply {
    transcript: Document,
}

/// A transcript that holds.
#[derive(Debug)]
pub struct Verified {
    pub chat_id: String,
    pub key_id: String,
    pub checked: transcript::Checked,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Not a transcript at all.
    #[error("not a transcript: {0}")]
    Unreadable(String),
    /// A transcript that does not hold: what, first.
    #[error("{0}")]
    Tampered(Problem),
    #[error("signature: {0}")]
    Signature(String),
}

/// Check the transcript in `json` against `public_key` (the raw 32 bytes).
pub fn verify(json: &[u8], public_key: &[u8]) -> Result<Verified, VerifyError> {
    let doc = match serde_json::from_slice::<Reply>(json) {
        Ok(reply) => reply.transcript,
        Err(_) => serde_json::from_slice::<Document>(json)
            .map_err(|e| VerifyError::Unreadable(e.to_string()))?,
    };
    let entries: Vec<ChainEntry> = doc
        .chain
        .into_iter()
        .map(|e| ChainEntry {
            // Bytes that are not base64 are as good as missing: the entry is named.
            canonical: e.canonical.and_then(|c| STANDARD.decode(c).ok()),
            hash: e.hash,
        })
        .collect();
    let checked = transcript::verify(&doc.chat.id, &entries, &doc.head, &doc.messages)
        .map_err(VerifyError::Tampered)?;
    let key_id = signing::key_id(public_key);
    if key_id != doc.key_id {
        return Err(VerifyError::Signature(format!(
            "made with key {}, and the key given is {key_id}",
            doc.key_id
        )));
    }
    let head = transcript::parse_hash(&doc.head)
        .ok_or_else(|| VerifyError::Signature("the head is not a hash".into()))?;
    if !signing::verify(public_key, &head, &doc.signature) {
        return Err(VerifyError::Signature(
            "it does not verify: the head was not signed with this key".into(),
        ));
    }
    Ok(Verified {
        chat_id: doc.chat.id,
        key_id,
        checked,
    })
}
