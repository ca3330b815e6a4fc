//! The REST API of SPEC §5: everything the socket does, as plain HTTP.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};

use super::{AuthUser, JsonBody, extract::QueryParams};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::{
        reply::{ChatReply, Chats, MessageReply, Messages, ReadMark},
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

async fn list_chats(State(s): State<AppState>, AuthUser(who): AuthUser) -> Res<Chats> {
    Ok(Json(s.chats.list_chats(&who).await?.into()))
}

async fn get_chat(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
) -> Res<ChatReply> {
    let chat = s.chats.chat_for(&who, &chat_id).await?;
    Ok(Json(ChatReply { chat }))
}

async fn chat_by_booking(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(booking_id): Path<String>,
) -> Res<ChatReply> {
    let chat = s.chats.chat_for_booking(&who, &booking_id).await?;
    Ok(Json(ChatReply { chat }))
}

async fn messages(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    QueryParams(q): QueryParams<PageRequest>,
) -> Res<Messages> {
    let page = s.chats.load_messages(&who, &chat_id, q.into()).await?;
    Ok(Json(page.into()))
}

async fn send(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<SendMessage>,
) -> Result<(StatusCode, Json<MessageReply>), ServiceError> {
    let inserted = s.chats.send_message(&who, &chat_id, b.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageReply {
            message: inserted.message,
        }),
    ))
}

async fn mark_read(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<MarkRead>,
) -> Res<ReadMark> {
    let last_read_seq = s.chats.mark_read(&who, &chat_id, b.up_to_seq).await?;
    Ok(Json(ReadMark { last_read_seq }))
}
