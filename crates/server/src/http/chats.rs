//! The REST API of SPEC §5: everything the socket does, as plain HTTP.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use omw_domain::ClientMessage;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AuthUser, JsonBody, extract::QueryParams};
use crate::{http::state::AppState, service::chats::PageQuery, service::error::ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chats", get(list_chats))
        .route("/chats/{chat_id}", get(get_chat))
        .route("/bookings/{booking_id}/chat", get(chat_by_booking))
        .route("/chats/{chat_id}/messages", get(messages).post(send))
        .route("/chats/{chat_id}/read", post(mark_read))
}

type Res = Result<Json<Value>, ServiceError>;

async fn list_chats(State(s): State<AppState>, AuthUser(who): AuthUser) -> Res {
    let chats: Vec<Value> = s
        .chats
        .list_chats(&who)
        .await?
        .into_iter()
        .map(|c| {
            let mut v = json!(c.chat);
            v["last_message"] = json!(c.last_message);
            v["unread_count"] = json!(c.unread_count);
            v
        })
        .collect();
    Ok(Json(json!({ "chats": chats })))
}

async fn get_chat(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
) -> Res {
    Ok(Json(
        json!({ "chat": s.chats.chat_for(&who, &chat_id).await? }),
    ))
}

async fn chat_by_booking(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(booking_id): Path<String>,
) -> Res {
    Ok(Json(
        json!({ "chat": s.chats.chat_for_booking(&who, &booking_id).await? }),
    ))
}

#[derive(Deserialize)]
struct MessagesQuery {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: Option<i64>,
}

async fn messages(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    QueryParams(q): QueryParams<MessagesQuery>,
) -> Res {
    let q = PageQuery {
        before_seq: q.before_seq,
        after_seq: q.after_seq,
        limit: q.limit,
    };
    let page = s.chats.load_messages(&who, &chat_id, q).await?;
    Ok(Json(
        json!({ "messages": page.messages, "has_more": page.has_more }),
    ))
}

#[derive(Deserialize)]
struct SendBody {
    client_id: Option<String>,
    kind: Option<String>,
    body: Option<String>,
    attachment_id: Option<String>,
}

async fn send(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<SendBody>,
) -> Result<(StatusCode, Json<Value>), ServiceError> {
    let msg = ClientMessage {
        client_id: b.client_id,
        kind: b.kind,
        body: b.body,
        attachment_id: b.attachment_id,
    };
    let inserted = s.chats.send_message(&who, &chat_id, msg).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": inserted.message })),
    ))
}

#[derive(Deserialize)]
struct ReadBody {
    up_to_seq: i64,
}

async fn mark_read(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    JsonBody(b): JsonBody<ReadBody>,
) -> Res {
    Ok(Json(
        json!({ "last_read_seq": s.chats.mark_read(&who, &chat_id, b.up_to_seq).await? }),
    ))
}
