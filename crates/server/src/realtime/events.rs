//! The client → server events of SPEC §4, each answered through its acknowledgement.

use std::{future::Future, sync::Arc};

use omw_domain::{ClientMessage, Principal};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use socketioxide::extract::{AckSender, Event, TryData};
use tracing::Instrument;

use super::{
    Adapter, Realtime, SocketRef, chat_room,
    session::{Session, Ticket, TurnGuard},
    typing::Change,
};
use crate::{
    service::error::ServiceError,
    service::{chats::PageQuery, limits::user_key},
};

type Reply = Result<Value, ServiceError>;

/// `{ ok: true, ...data }` or `{ ok: false, error }`.
fn ack_body(reply: Reply) -> Value {
    match reply {
        Ok(Value::Object(mut map)) => {
            map.insert("ok".into(), Value::Bool(true));
            Value::Object(map)
        }
        Ok(_) => json!({ "ok": true }),
        Err(e) => {
            metrics::counter!("omw_errors_total", "code" => e.code.as_str()).increment(1);
            json!({ "ok": false, "error": e })
        }
    }
}

/// An event's data as `T`; it must be a JSON object (see `http::from_json_object`).
fn parse<T: DeserializeOwned>(
    data: Result<Value, impl std::fmt::Display>,
) -> Result<T, ServiceError> {
    let value = data.map_err(|e| ServiceError::invalid(format!("payload: {e}")))?;
    crate::http::from_json_object(value)
}

/// Handle one event: in socket order (see `Session::turn`), rate limited, acked.
async fn handle<F, Fut>(
    rt: Arc<Realtime>,
    s: SocketRef,
    event: &'static str,
    call: Call,
    handler: F,
) where
    F: FnOnce(Arc<Realtime>, SocketRef, Arc<Session>, Result<Value, String>, TurnGuard) -> Fut,
    Fut: Future<Output = Reply>,
{
    // Ids only: never the message text, never a token.
    let chat_id = call
        .data
        .as_ref()
        .ok()
        .and_then(|d| d.get("chat_id"))
        .and_then(Value::as_str)
        .filter(|id| id.len() <= omw_domain::booking::MAX_ID_CHARS)
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "event",
        event,
        sid = %s.id,
        user = %call.session.principal.user_id,
        chat_id,
    );
    handle_in_turn(rt, s, event, call, handler)
        .instrument(span)
        .await;
}

async fn handle_in_turn<F, Fut>(
    rt: Arc<Realtime>,
    s: SocketRef,
    event: &'static str,
    call: Call,
    handler: F,
) where
    F: FnOnce(Arc<Realtime>, SocketRef, Arc<Session>, Result<Value, String>, TurnGuard) -> Fut,
    Fut: Future<Output = Reply>,
{
    let session = call.session;
    let n = call.ticket.number();
    tracing::debug!(ticket = n, "event received");
    let turn = session.turn(call.ticket).await;
    tracing::debug!(ticket = n, "event handling");
    let started = std::time::Instant::now();
    // The handler holds the turn and may hand it on early (see send_message).
    let reply = match rt.chats.count_event(&session.principal).await {
        Err(e) => Err(e),
        Ok(()) => handler(rt.clone(), s.clone(), session, call.data, turn).await,
    };
    metrics::histogram!("omw_ack_seconds", "event" => event)
        .record(started.elapsed().as_secs_f64());
    let sent = call.ack.send(&ack_body(reply));
    tracing::debug!(ticket = n, ok = sent.is_ok(), "event acked");
}

/// What every event brings: its place in the socket's order, its payload and its ack.
struct Call {
    session: Arc<Session>,
    ticket: Ticket,
    data: Result<Value, String>,
    ack: AckSender<Adapter>,
}

/// Route an event to its handler by name.
async fn dispatch(rt: Arc<Realtime>, s: SocketRef, event: String, call: Call) {
    match event.as_str() {
        "join_chat" => handle(rt, s, "join_chat", call, join_chat).await,
        "leave_chat" => handle(rt, s, "leave_chat", call, leave_chat).await,
        "send_message" => handle(rt, s, "send_message", call, send_message).await,
        "load_messages" => handle(rt, s, "load_messages", call, load_messages).await,
        "typing" => handle(rt, s, "typing", call, typing).await,
        "mark_read" => handle(rt, s, "mark_read", call, mark_read).await,
        "refresh_token" => handle(rt, s, "refresh_token", call, refresh_token).await,
        // Still takes its turn (its ticket is numbered) and counts against the rate limit.
        _ => {
            let unknown = move |_: Arc<Realtime>, _: SocketRef, _: Arc<Session>, _, _| async move {
                Err(ServiceError::invalid(format!("unknown event: {event}")))
            };
            handle(rt, s, "unknown", call, unknown).await;
        }
    }
}

/// One fallback handler routes every event. socketioxide keeps a map of handlers per socket,
/// and seven `on` registrations cost ~0.5 KiB of every idle socket.
pub fn register(rt: &Arc<Realtime>, s: &SocketRef, session: &Arc<Session>) {
    let rt = rt.clone();
    let session = session.clone();
    s.on_fallback(
        move |s: SocketRef,
              Event(event): Event,
              ack: AckSender<Adapter>,
              TryData(data): TryData<Value>| {
            let call = Call {
                ticket: session.ticket(),
                session: session.clone(),
                data: data.map_err(|e| e.to_string()),
                ack,
            };
            dispatch(rt.clone(), s, event, call)
        },
    );
}

#[derive(Deserialize)]
struct JoinChat {
    chat_id: Option<String>,
    booking_id: Option<String>,
}

async fn join_chat(
    rt: Arc<Realtime>,
    s: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: JoinChat = parse(data)?;
    let who = &session.principal;
    let chat = match (p.chat_id, p.booking_id) {
        (Some(id), _) => rt.chats.chat_for(who, &id).await?,
        (None, Some(b)) => rt.chats.chat_for_booking(who, &b).await?,
        (None, None) => return Err(ServiceError::invalid("chat_id or booking_id is required")),
    };
    let (page, reads) = rt.chats.opening(&chat).await?;
    let read_of = |id: &str| {
        reads
            .iter()
            .find(|r| r.user_id == id)
            .map_or(0, |r| r.last_read_seq)
    };
    let mut participants: Vec<Value> = Vec::with_capacity(2);
    for (party, role) in [
        (&chat.customer, omw_domain::Role::Customer),
        (&chat.worker, omw_domain::Role::Worker),
    ] {
        let (online, last_seen) = rt
            .presence
            .status(&format!("{}:{}", role.as_str(), party.id))
            .await;
        participants.push(json!({
            "id": party.id,
            "role": role,
            "name": party.name,
            "online": online,
            "last_seen": last_seen.map(omw_domain::time::rfc3339),
            "last_read_seq": read_of(&party.id),
        }));
    }
    let hook = rt.config.test_hooks.join_delay;
    if !hook.is_zero() {
        tokio::time::sleep(hook).await;
    }
    // A closed chat can still be read until it is deleted, but has no live room.
    let chat = if chat.is_active() {
        s.join(chat_room(&chat.id));
        session.set_joined(&chat.id, true);
        // A close that committed after the read above may have emptied the room before this
        // socket joined it. Read again, now that it is in: a close committing after this read
        // empties the room after the join (it leaves the room only once committed).
        match rt.chats.reread(&chat.id).await {
            Ok(Some(now)) if now.is_active() => chat,
            again => {
                s.leave(chat_room(&chat.id));
                session.set_joined(&chat.id, false);
                again?.ok_or_else(|| ServiceError::not_found("chat not found"))?
            }
        }
    } else {
        chat
    };
    Ok(
        json!({ "chat": chat, "messages": page.messages, "has_more": page.has_more, "participants": participants }),
    )
}

#[derive(Deserialize)]
struct ChatRef {
    chat_id: String,
}

async fn leave_chat(
    rt: Arc<Realtime>,
    s: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: ChatRef = parse(data)?;
    rt.chats.member_chat(&session.principal, &p.chat_id).await?;
    s.leave(chat_room(&p.chat_id));
    session.set_joined(&p.chat_id, false);
    let who = &session.principal;
    if !rt
        .typing
        .clear_user(&user_key(who), std::slice::from_ref(&p.chat_id))
        .await
        .is_empty()
    {
        emit_typing(&s, &p.chat_id, who, false).await;
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
struct SendMessage {
    chat_id: String,
    client_id: Option<String>,
    kind: Option<String>,
    body: Option<String>,
    attachment_id: Option<String>,
}

async fn send_message(
    rt: Arc<Realtime>,
    s: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    turn: TurnGuard,
) -> Reply {
    let p: SendMessage = parse(data)?;
    let who = &session.principal;
    let msg = ClientMessage {
        client_id: p.client_id,
        kind: p.kind,
        body: p.body,
        attachment_id: p.attachment_id,
    };
    let queued = rt.chats.queue_message(who, &p.chat_id, msg).await?;
    // Its place in the chat is taken: the socket's next event may start while this one
    // becomes durable, so a client's pipelined sends share a batch. The ack still waits.
    drop(turn);
    let inserted = rt.chats.stored(queued).await?;
    // Sending ends typing.
    if matches!(
        rt.typing.set(&p.chat_id, &user_key(who), false).await,
        Change::Stopped
    ) {
        emit_typing(&s, &p.chat_id, who, false).await;
    }
    Ok(json!({ "message": inserted.message }))
}

#[derive(Deserialize)]
struct LoadMessages {
    chat_id: String,
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: Option<i64>,
}

async fn load_messages(
    rt: Arc<Realtime>,
    _: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: LoadMessages = parse(data)?;
    let q = PageQuery {
        before_seq: p.before_seq,
        after_seq: p.after_seq,
        limit: p.limit,
    };
    let page = rt
        .chats
        .load_messages(&session.principal, &p.chat_id, q)
        .await?;
    Ok(json!({ "messages": page.messages, "has_more": page.has_more }))
}

#[derive(Deserialize)]
struct TypingEvent {
    chat_id: String,
    is_typing: bool,
}

pub async fn emit_typing(s: &SocketRef, chat_id: &str, who: &Principal, is_typing: bool) {
    let payload = json!({ "chat_id": chat_id, "user_id": who.user_id, "is_typing": is_typing });
    let _ = s.to(chat_room(chat_id)).emit("user_typing", &payload).await;
}

async fn typing(
    rt: Arc<Realtime>,
    s: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: TypingEvent = parse(data)?;
    let who = session.principal.clone();
    let chat = rt.chats.member_chat(&who, &p.chat_id).await?;
    chat.ensure_writable()?;
    let key = user_key(&who);
    match rt.typing.set(&p.chat_id, &key, p.is_typing).await {
        Change::Started => {
            emit_typing(&s, &p.chat_id, &who, true).await;
            let (rt, s, chat_id) = (rt.clone(), s.clone(), p.chat_id.clone());
            tokio::spawn(async move {
                if rt.typing.clone().expire(chat_id.clone(), key).await {
                    emit_typing(&s, &chat_id, &who, false).await;
                }
            });
        }
        Change::Stopped => emit_typing(&s, &p.chat_id, &who, false).await,
        Change::None => {}
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
struct MarkRead {
    chat_id: String,
    up_to_seq: i64,
}

async fn mark_read(
    rt: Arc<Realtime>,
    _: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: MarkRead = parse(data)?;
    let last_read_seq = rt
        .chats
        .mark_read(&session.principal, &p.chat_id, p.up_to_seq)
        .await?;
    Ok(json!({ "last_read_seq": last_read_seq }))
}

#[derive(Deserialize)]
struct RefreshToken {
    token: String,
}

async fn refresh_token(
    rt: Arc<Realtime>,
    s: SocketRef,
    session: Arc<Session>,
    data: Result<Value, String>,
    _turn: TurnGuard,
) -> Reply {
    let p: RefreshToken = parse(data)?;
    let v = rt.jwt.verify(&p.token)?;
    if v.principal.user_id != session.principal.user_id
        || v.principal.role != session.principal.role
    {
        return Err(ServiceError::forbidden("the new token names another user"));
    }
    let was = session
        .expires_at_ms
        .swap(v.expires_at_ms, std::sync::atomic::Ordering::AcqRel);
    if !rt.expiry.moved(s.id, was, v.expires_at_ms) {
        // The old token ran out first: the socket is on its way out.
        return Err(ServiceError::unauthorized("token expired"));
    }
    Ok(json!({ "expires_at": omw_domain::time::rfc3339(v.expires_at_ms) }))
}
