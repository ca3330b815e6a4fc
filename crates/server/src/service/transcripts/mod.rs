//! Transcripts for the platform (SPEC §9.7): a chat's messages and its tamper-evident chain,
//! with the chain's head signed, so a mediator can check offline that nothing was altered,
//! reordered, added or removed since the events were stored.

use omw_domain::{Chat, Message, time::now_millis, transcript};

use super::{ChatService, ServiceError};
use crate::keys::signing::TranscriptSigner;

pub mod verify;

/// Messages read per round trip while building a transcript.
const PAGE: u32 = 500;

/// A chat's transcript, signed.
pub struct Transcript {
    pub chat: Chat,
    pub generated_at: i64,
    /// Every message the chain covers, oldest first.
    pub messages: Vec<Message>,
    pub entries: Vec<transcript::ChainEntry>,
    /// The last entry's hash (hex); the genesis hash for an empty chain.
    pub head: String,
    /// Ed25519 over the head's 32 bytes.
    pub signature: Vec<u8>,
}

impl ChatService {
    /// The transcript of a chat, whatever its state (active, closed, held); `not_found` once
    /// its deletion has begun.
    pub async fn transcript(&self, chat_id: &str) -> Result<Transcript, ServiceError> {
        let gone = || ServiceError::not_found("no such chat (or it is deleted)");
        // The chain first: messages stored after it was read are left out, not unaccounted.
        let chain = self.store.chain_of(chat_id).await?.ok_or_else(gone)?;
        let chat = self.store.get_chat(chat_id).await?.ok_or_else(gone)?;
        let last = transcript::last_message_seq(&chain.entries);
        let mut messages = Vec::new();
        let mut after = 0;
        loop {
            let (found, next) = self.store.messages_as_stored(chat_id, after, PAGE).await?;
            messages.extend(
                found
                    .into_iter()
                    .filter(|m| last.is_none_or(|last| m.seq <= last)),
            );
            match next {
                Some(seq) if last.is_none_or(|last| seq < last) => after = seq,
                _ => break,
            }
        }
        Ok(Transcript {
            chat,
            generated_at: now_millis(),
            messages,
            signature: self.signer.sign(&chain.head),
            entries: chain.entries,
            head: hex::encode(chain.head),
        })
    }

    /// The key transcripts are signed with.
    pub fn transcript_signer(&self) -> &TranscriptSigner {
        &self.signer
    }
}
