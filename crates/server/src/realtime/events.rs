//! The client → server events of SPEC §4: parsed once into a [`ClientEvent`], handled in the
//! socket's order, answered through the acknowledgement with the wire types of `crate::wire`.

use std::sync::Arc;

use omw_domain::Principal;
use serde::Serialize;
use serde_json::{Value, json};
use socketioxide::extract::{AckSender, Event, TryData};
use tracing::Instrument;

use super::{
    Adapter, Realtime, SocketRef, attending_room, chat_room,
    session::{Session, Ticket, TurnGuard},
    typing::Change,
};
use crate::{
    service::{ServiceError, limits::user_key},
    wire::{
        broadcast::{ServerEvent, UserTyping},
        reply::{Done, Joined, MessageReply, Messages, ReadMark, TokenExpiry},
        request::{
            InChat, JoinChat, LeaveChat, MarkRead, PageRequest, PresenceReport, RefreshToken,
            SendMessage, Typing, from_json_object,
        },
    },
};

/// A client → server event, parsed from its name and payload.
pub enum ClientEvent {
    JoinChat(JoinChat),
    LeaveChat(LeaveChat),
    SendMessage(InChat<SendMessage>),
    LoadMessages(InChat<PageRequest>),
    Typing(Typing),
    MarkRead(InChat<MarkRead>),
    RefreshToken(RefreshToken),
    Presence(PresenceReport),
}

/// The events a client may send, by name.
pub const NAMES: [&str; 8] = [
    "join_chat",
    "leave_chat",
    "send_message",
    "load_messages",
    "typing",
    "mark_read",
    "refresh_token",
    "presence",
];

impl ClientEvent {
    /// The event's name as a metric label: one of [`NAMES`], or `unknown` (a client's
    /// arbitrary names never become labels).
    pub fn label(name: &str) -> &'static str {
        NAMES
            .iter()
            .find(|n| **n == name)
            .copied()
            .unwrap_or("unknown")
    }

    /// The event named `name` with its payload; `invalid_payload` for an unknown name or a
    /// payload of the wrong shape.
    pub fn parse(name: &str, data: Result<Value, String>) -> Result<ClientEvent, ServiceError> {
        let known = Self::label(name);
        if known == "unknown" {
            return Err(ServiceError::invalid(format!("unknown event: {name}")));
        }
        let value = data.map_err(|e| ServiceError::invalid(format!("payload: {e}")))?;
        Ok(match known {
            "join_chat" => ClientEvent::JoinChat(from_json_object(value)?),
            "leave_chat" => ClientEvent::LeaveChat(from_json_object(value)?),
            "send_message" => ClientEvent::SendMessage(from_json_object(value)?),
            "load_messages" => ClientEvent::LoadMessages(from_json_object(value)?),
            "typing" => ClientEvent::Typing(from_json_object(value)?),
            "mark_read" => ClientEvent::MarkRead(from_json_object(value)?),
            "presence" => ClientEvent::Presence(from_json_object(value)?),
            _ => ClientEvent::RefreshToken(from_json_object(value)?),
        })
    }
}

type Reply = Result<Value, ServiceError>;

/// A wire reply as ack data.
fn reply(data: impl Serialize) -> Reply {
    serde_json::to_value(data).map_err(|e| {
        tracing::error!(error = %e, "serializing an ack");
        ServiceError::internal()
    })
}

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

/// What every event brings: its place in the socket's order, its payload and its ack.
struct Call {
    session: Arc<Session>,
    ticket: Ticket,
    data: Result<Value, String>,
    ack: AckSender<Adapter>,
}

/// Handle one event in a span of its own (ids only: never the message text, never a token).
async fn handle(rt: Arc<Realtime>, s: SocketRef, name: String, call: Call) {
    let chat_id = call
        .data
        .as_ref()
        .ok()
        .and_then(|d| d.get("chat_id"))
        .and_then(Value::as_str)
        .filter(|id| id.len() <= omw_domain::booking::MAX_ID_CHARS)
        .unwrap_or_default()
        .to_owned();
    let event = ClientEvent::label(&name);
    let span = tracing::info_span!(
        "event",
        event,
        sid = %s.id,
        user = %call.session.principal.user_id,
        chat_id,
    );
    in_turn(rt, s, event, name, call).instrument(span).await;
}

/// In socket order (see `Session::turn`), rate limited, parsed, handled, acked. An unknown or
/// malformed event still takes its turn and counts against the rate limit.
async fn in_turn(rt: Arc<Realtime>, s: SocketRef, event: &'static str, name: String, call: Call) {
    let Call {
        session,
        ticket,
        data,
        ack,
    } = call;
    let n = ticket.number();
    tracing::debug!(ticket = n, "event received");
    let turn = session.turn(ticket).await;
    tracing::debug!(ticket = n, "event handling");
    let started = std::time::Instant::now();
    let reply = match rt.chats.count_event(&session.principal).await {
        Err(e) => Err(e),
        Ok(()) => match ClientEvent::parse(&name, data) {
            Err(e) => Err(e),
            Ok(parsed) => run(&rt, &s, &session, parsed, turn).await,
        },
    };
    metrics::histogram!("omw_ack_seconds", "event" => event)
        .record(started.elapsed().as_secs_f64());
    let sent = ack.send(&ack_body(reply));
    tracing::debug!(ticket = n, ok = sent.is_ok(), "event acked");
}

/// The handler of each event. The turn is held until the handler returns, except by
/// `send_message`, which hands it on early.
async fn run(
    rt: &Arc<Realtime>,
    s: &SocketRef,
    session: &Arc<Session>,
    event: ClientEvent,
    turn: TurnGuard,
) -> Reply {
    match event {
        ClientEvent::JoinChat(p) => join_chat(rt, s, session, p).await,
        ClientEvent::LeaveChat(p) => leave_chat(rt, s, session, p).await,
        ClientEvent::SendMessage(p) => send_message(rt, s, session, p, turn).await,
        ClientEvent::LoadMessages(p) => load_messages(rt, session, p).await,
        ClientEvent::Typing(p) => typing(rt, s, session, p).await,
        ClientEvent::MarkRead(p) => mark_read(rt, session, p).await,
        ClientEvent::RefreshToken(p) => refresh_token(rt, s, session, p).await,
        ClientEvent::Presence(p) => presence(s, session, p),
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
            handle(rt.clone(), s, event, call)
        },
    );
}

async fn join_chat(
    rt: &Arc<Realtime>,
    s: &SocketRef,
    session: &Arc<Session>,
    p: JoinChat,
) -> Reply {
    let who = &session.principal;
    let chat = match (p.chat_id, p.booking_id) {
        (Some(id), _) => rt.chats.chat_for(who, &id).await?,
        (None, Some(b)) => rt.chats.chat_for_booking(who, &b).await?,
        (None, None) => return Err(ServiceError::invalid("chat_id or booking_id is required")),
    };
    let (page, reads) = rt.chats.opening(&chat).await?;
    let mut statuses = [(false, None); 2];
    for (status, key) in statuses.iter_mut().zip([
        format!("customer:{}", chat.customer.id),
        format!("worker:{}", chat.worker.id),
    ]) {
        *status = rt.presence.status(&key).await;
    }
    let hook = rt.config.test_hooks.join_delay;
    if !hook.is_zero() {
        tokio::time::sleep(hook).await;
    }
    // A closed chat can still be read until it is deleted, but has no live room.
    let chat = if chat.is_active() {
        s.join(chat_room(&chat.id));
        session.set_joined(&chat.id, true);
        attend(s, session, &chat.id, session.focused());
        // A close that committed after the read above may have emptied the room before this
        // socket joined it. Read again, now that it is in: a close committing after this read
        // empties the room after the join (it leaves the room only once committed).
        match rt.chats.reread(&chat.id).await {
            Ok(Some(now)) if now.is_active() => chat,
            again => {
                s.leave(chat_room(&chat.id));
                session.set_joined(&chat.id, false);
                attend(s, session, &chat.id, false);
                again?.ok_or_else(|| ServiceError::not_found("chat not found"))?
            }
        }
    } else {
        chat
    };
    reply(Joined::new(chat, page, &reads, statuses))
}

async fn leave_chat(
    rt: &Arc<Realtime>,
    s: &SocketRef,
    session: &Arc<Session>,
    p: LeaveChat,
) -> Reply {
    rt.chats.member_chat(&session.principal, &p.chat_id).await?;
    s.leave(chat_room(&p.chat_id));
    session.set_joined(&p.chat_id, false);
    attend(s, session, &p.chat_id, false);
    let who = &session.principal;
    if !rt
        .typing
        .clear_user(&user_key(who), std::slice::from_ref(&p.chat_id))
        .await
        .is_empty()
    {
        emit_typing(s, &p.chat_id, who, false).await;
    }
    reply(Done {})
}

async fn send_message(
    rt: &Arc<Realtime>,
    s: &SocketRef,
    session: &Arc<Session>,
    p: InChat<SendMessage>,
    turn: TurnGuard,
) -> Reply {
    let who = &session.principal;
    let queued = rt.chats.queue_message(who, &p.chat_id, p.rest).await?;
    // Its place in the chat is taken: the socket's next event may start while this one
    // becomes durable, so a client's pipelined sends share a batch. The ack still waits.
    drop(turn);
    let inserted = rt.chats.stored(queued).await?;
    // Sending ends typing.
    if matches!(
        rt.typing.set(&p.chat_id, &user_key(who), false).await,
        Change::Stopped
    ) {
        emit_typing(s, &p.chat_id, who, false).await;
    }
    reply(MessageReply {
        message: inserted.message,
    })
}

async fn load_messages(
    rt: &Arc<Realtime>,
    session: &Arc<Session>,
    p: InChat<PageRequest>,
) -> Reply {
    let page = rt
        .chats
        .load_messages(&session.principal, &p.chat_id, p.rest.into())
        .await?;
    reply(Messages::from(page))
}

pub async fn emit_typing(s: &SocketRef, chat_id: &str, who: &Principal, is_typing: bool) {
    let payload = UserTyping {
        chat_id,
        user_id: &who.user_id,
        is_typing,
    };
    let _ = s
        .to(chat_room(chat_id))
        .emit(UserTyping::NAME, &payload)
        .await;
}

async fn typing(rt: &Arc<Realtime>, s: &SocketRef, session: &Arc<Session>, p: Typing) -> Reply {
    let who = session.principal.clone();
    let chat = rt.chats.member_chat(&who, &p.chat_id).await?;
    chat.ensure_writable()?;
    let key = user_key(&who);
    match rt.typing.set(&p.chat_id, &key, p.is_typing).await {
        Change::Started => {
            emit_typing(s, &p.chat_id, &who, true).await;
            let (rt, s, chat_id) = (rt.clone(), s.clone(), p.chat_id.clone());
            tokio::spawn(async move {
                if rt.typing.clone().expire(chat_id.clone(), key).await {
                    emit_typing(&s, &chat_id, &who, false).await;
                }
            });
        }
        Change::Stopped => emit_typing(s, &p.chat_id, &who, false).await,
        Change::None => {}
    }
    reply(Done {})
}

async fn mark_read(rt: &Arc<Realtime>, session: &Arc<Session>, p: InChat<MarkRead>) -> Reply {
    let last_read_seq = rt
        .chats
        .mark_read(&session.principal, &p.chat_id, p.rest.up_to_seq)
        .await?;
    reply(ReadMark { last_read_seq })
}

/// Put the socket in (or out of) the room of its user's sockets attending `chat_id`.
fn attend(s: &SocketRef, session: &Session, chat_id: &str, attending: bool) {
    let who = &session.principal;
    let room = attending_room(chat_id, who.role, &who.user_id);
    if attending {
        s.join(room);
    } else {
        s.leave(room);
    }
}

/// `presence`: the page is in front of its user, or not any more. The socket attends every
/// chat it joined while focused (SPEC §9.2).
fn presence(s: &SocketRef, session: &Arc<Session>, p: PresenceReport) -> Reply {
    session.set_focused(p.focused);
    for chat_id in session.joined() {
        attend(s, session, &chat_id, p.focused);
    }
    reply(Done {})
}

async fn refresh_token(
    rt: &Arc<Realtime>,
    s: &SocketRef,
    session: &Arc<Session>,
    p: RefreshToken,
) -> Reply {
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
    reply(TokenExpiry {
        expires_at: omw_domain::time::rfc3339(v.expires_at_ms),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::typescript::CLIENT_EVENTS;

    #[test]
    fn events_parse_by_name_and_refuse_other_shapes() {
        let send = ClientEvent::parse(
            "send_message",
            Ok(json!({ "chat_id": "c1", "client_id": "x", "body": "hi" })),
        );
        assert!(
            matches!(send, Ok(ClientEvent::SendMessage(m)) if m.chat_id == "c1" && m.rest.body.as_deref() == Some("hi"))
        );
        let page = ClientEvent::parse("load_messages", Ok(json!({ "chat_id": "c1", "limit": 5 })));
        assert!(matches!(page, Ok(ClientEvent::LoadMessages(p)) if p.rest.limit == Some(5)));
        for (name, data) in [
            ("nope", json!({})),
            ("mark_read", json!(["c1", 5])),
            ("mark_read", json!({ "chat_id": "c1", "up_to_seq": "5" })),
            ("typing", json!("c1")),
        ] {
            let e = ClientEvent::parse(name, Ok(data)).err().map(|e| e.code);
            assert_eq!(e, Some(crate::service::ErrorCode::InvalidPayload), "{name}");
        }
        assert_eq!(ClientEvent::label("drop_tables"), "unknown");
    }

    #[test]
    fn the_typescript_event_table_names_every_client_event_once() {
        let names: Vec<&str> = CLIENT_EVENTS.iter().map(|e| e.0).collect();
        assert_eq!(names, NAMES);
    }
}
