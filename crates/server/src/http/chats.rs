//! The REST API of SPEC §5: everything the socket does, as plain HTTP.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};

use super::{
    AuthUser, JsonBody,
    error::{Refused, WriteRefused},
    extract::QueryParams,
};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::{
        reply::{ChatReply, Chats, ErrorReply, MessageReply, Messages, ReadMark},
        request::{MarkRead, PageRequest, SendMessage},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chats", get(list_chats))
        .route("/chats/{chat_id}", get(get_chat))
        .route("/bookings/{booking_id}/chat", get(chat_by_booking))
        .route("/chats/{chat_id}/messages", get(messages).post(send))
        .route("/chats/{chat_id}/read", post(mark_read))
}

type Res<T> = Result<Json<T>, ServiceError>;

/// The caller's chats, each with its newest message and unread count.
#[utoipa::path(get, path = "/api/v1/chats", tag = "chats",
    security(("bearerJwt" = [])),
    responses(
        (status = 200, description = "OK", body = Chats),
        (status = 401, description = "unauthorized", body = ErrorReply),
    ),
)]
pub(super) async fn list_chats(State(s): State<AppState>, AuthUser(who): AuthUser) -> Res<Chats> {
    Ok(Json(s.chats.list_chats(&who).await?.into()))
}

/// One chat of the caller's.
#[utoipa::path(get, path = "/api/v1/chats/{chat_id}", tag = "chats",
    security(("bearerJwt" = [])),
    params(("chat_id" = String, Path, description = "The chat")),
    responses(
        (status = 200, description = "OK", body = ChatReply),
        Refused,
    ),
)]
pub(super) async fn get_chat(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
) -> Res<ChatReply> {
    let chat = s.chats.chat_for(&who, &chat_id).await?;
    Ok(Json(ChatReply { chat }))
}

/// The chat of one of the caller's bookings.
#[utoipa::path(get, path = "/api/v1/bookings/{booking_id}/chat", tag = "chats",
    security(("bearerJwt" = [])),
    params(("booking_id" = String, Path, description = "The platform's booking id")),
    responses(
        (status = 200, description = "OK", body = ChatReply),
        Refused,
    ),
)]
pub(super) async fn chat_by_booking(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(booking_id): Path<String>,
) -> Res<ChatReply> {
    let chat = s.chats.chat_for_booking(&who, &booking_id).await?;
    Ok(Json(ChatReply { chat }))
}

/// History, oldest first.
#[utoipa::path(get, path = "/api/v1/chats/{chat_id}/messages", tag = "chats",
    security(("bearerJwt" = [])),
    params(("chat_id" = String, Path, description = "The chat"), PageRequest),
    responses(
        (status = 200, description = "OK", body = Messages),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        Refused,
    ),
)]
pub(super) async fn messages(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    QueryParams(q): QueryParams<PageRequest>,
) -> Res<Messages> {
    let page = s.chats.load_messages(&who, &chat_id, q.into()).await?;
    Ok(Json(page.into()))
}

/// Send a message: idempotent on `client_id`, broadcast to the chat's sockets.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/messages", tag = "chats",
    security(("bearerJwt" = [])),
    params(("chat_id" = String, Path, description = "The chat")),
    request_body = SendMessage,
    responses(
        (status = 201, description = "Stored", body = MessageReply),
        Refused,
        WriteRefused,
        (status = 429, description = "rate_limited", body = ErrorReply),
    ),
)]
pub(super) async fn send(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<SendMessage>,
) -> Result<(StatusCode, Json<MessageReply>), ServiceError> {
    let inserted = s.chats.send_message(&who, &chat_id, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageReply {
            message: inserted.message,
        }),
    ))
}

/// Mark the chat read up to a seq.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/read", tag = "chats",
    security(("bearerJwt" = [])),
    params(("chat_id" = String, Path, description = "The chat")),
    request_body = MarkRead,
    responses(
        (status = 200, description = "OK", body = ReadMark),
        Refused,
        WriteRefused,
    ),
)]
pub(super) async fn mark_read(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<MarkRead>,
) -> Res<ReadMark> {
    let last_read_seq = s.chats.mark_read(&who, &chat_id, b.up_to_seq).await?;
    Ok(Json(ReadMark { last_read_seq }))
}
