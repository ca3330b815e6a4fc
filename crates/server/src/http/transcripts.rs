//! Transcripts (SPEC §9.7), for the platform: a chat's messages and its signed chain, and the
//! public key to check them with.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{error::PlatformRefused, extract::Platform};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::reply::{ChainEntryView, ErrorReply, TranscriptKey, TranscriptReply, TranscriptView},
};

const ALGORITHM: &str = "Ed25519";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/platform/chats/{chat_id}/transcript", get(transcript))
        .route("/platform/transcript-key", get(key))
}

/// A chat's transcript: every message, the tamper-evident chain over its events, and an
/// Ed25519 signature over the chain's head. Available while the chat exists (active, closed
/// or held).
#[utoipa::path(get, path = "/api/v1/platform/chats/{chat_id}/transcript", tag = "platform",
    security(("platformKey" = [])),
    params(("chat_id" = String, Path, description = "The chat's id")),
    responses(
        (status = 200, description = "The transcript", body = TranscriptReply),
        PlatformRefused,
        (status = 404, description = "not_found: no such chat, or it is deleted", body = ErrorReply),
    ),
)]
pub(super) async fn transcript(
    _: Platform,
    State(s): State<AppState>,
    Path(chat_id): Path<String>,
) -> Result<Json<TranscriptReply>, ServiceError> {
    let t = s.chats.transcript(&chat_id).await?;
    let chain = t
        .entries
        .into_iter()
        .zip(1..)
        .map(|(e, n)| ChainEntryView {
            n,
            canonical: e.canonical.map(|c| STANDARD.encode(c)),
            hash: e.hash,
        })
        .collect();
    Ok(Json(TranscriptReply {
        transcript: TranscriptView {
            version: omw_domain::transcript::VERSION,
            chat: t.chat,
            generated_at: t.generated_at,
            messages: t.messages,
            chain,
            head: t.head,
            algorithm: ALGORITHM.into(),
            key_id: s.chats.transcript_signer().key_id().to_owned(),
            signature: STANDARD.encode(t.signature),
        },
    }))
}

/// The public key transcripts are signed with.
#[utoipa::path(get, path = "/api/v1/platform/transcript-key", tag = "platform",
    security(("platformKey" = [])),
    responses(
        (status = 200, description = "The signing key's public half", body = TranscriptKey),
        PlatformRefused,
    ),
)]
pub(super) async fn key(_: Platform, State(s): State<AppState>) -> Json<TranscriptKey> {
    let signer = s.chats.transcript_signer();
    Json(TranscriptKey {
        algorithm: ALGORITHM.into(),
        key_id: signer.key_id().to_owned(),
        public_key: STANDARD.encode(signer.public_key()),
        public_key_pem: signer.public_pem(),
    })
}
