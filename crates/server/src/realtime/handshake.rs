//! Connecting: Origin and JWT checks, the user's room, presence, and token expiry.

use std::sync::{Arc, atomic::Ordering};

use omw_domain::{Principal, time::now_millis, time::rfc3339};
use serde_json::{Value, json};
use socketioxide::{extract::TryData, handler::ConnectHandler};

use super::{
    Realtime, SocketIo, SocketRef, caps::Over, events, principal_room, root, session::Session,
    user_room,
};
use crate::cluster::Bus;
use crate::{auth::platform::bearer, error::ErrorCode, service::limits::user_key};

/// A refused handshake. Its text is the SPEC error code, which socket.io-client shows as
/// `connect_error`'s `err.message`.
#[derive(Debug)]
pub struct Refusal(ErrorCode);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn origin_allowed(rt: &Realtime, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    rt.config
        .cors_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
}

pub async fn register(
    io: &SocketIo,
    rt: Arc<Realtime>,
) -> Result<(), socketioxide_redis::InitError<Bus>> {
    let mw_rt = rt.clone();
    let authenticate = move |s: SocketRef, TryData(auth): TryData<Value>| {
        let rt = mw_rt.clone();
        async move {
            let parts = s.req_parts();
            // Cross-site WebSocket hijacking: a browser always says where the page came from.
            // Clients that send no Origin (servers, mobile apps) are not browsers.
            if let Some(origin) = parts.headers.get(axum::http::header::ORIGIN) {
                let ok = origin.to_str().is_ok_and(|o| origin_allowed(&rt, o));
                if !ok {
                    metrics::counter!("omw_handshake_refused_total", "code" => "forbidden")
                        .increment(1);
                    return Err(Refusal(ErrorCode::Forbidden));
                }
            }
            let from_auth = auth
                .ok()
                .and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_string));
            let from_header = parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .and_then(bearer)
                .map(str::to_string);
            let Some(token) = from_auth.or(from_header) else {
                metrics::counter!("omw_handshake_refused_total", "code" => "unauthorized")
                    .increment(1);
                return Err(Refusal(ErrorCode::Unauthorized));
            };
            let verified = rt.jwt.verify(&token).map_err(|e| {
                metrics::counter!("omw_handshake_refused_total", "code" => "unauthorized")
                    .increment(1);
                Refusal(e.code)
            })?;
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            let slot = rt
                .caps
                .admit(&user_key(&verified.principal), peer)
                .map_err(|over| {
                    let cap = match over {
                        Over::User => "user",
                        Over::Ip => "ip",
                    };
                    metrics::counter!("omw_handshake_refused_total", "code" => "rate_limited", "cap" => cap)
                        .increment(1);
                    Refusal(ErrorCode::RateLimited)
                })?;
            // Released on disconnect; also when the socket is dropped without one (a client
            // that left mid-handshake), since the disconnect handler below owns it.
            let slot = Arc::new(slot);
            let session = Session::new(verified.principal, verified.expires_at_ms);
            // Everything the client may rely on right after `connect` is set up here, before
            // the CONNECT packet leaves: socketioxide runs the connect handler in a task of its
            // own, and an event arriving before its handler exists would be dropped. The
            // handlers hold the session themselves (socketioxide's per-socket extensions map
            // would cost ~0.2 KiB of every idle socket).
            s.join(principal_room(&session.principal));
            events::register(&rt, &s, &session);
            let drt = rt.clone();
            let dsession = session.clone();
            s.on_disconnect(move |s: SocketRef| {
                slot.release();
                let rt = drt.clone();
                let session = dsession.clone();
                async move { disconnected(rt, s, session).await }
            });
            // Should sending CONNECT fail after this (the client left mid-handshake),
            // socketioxide drops the socket without its disconnect handler; the expiry entry
            // still disconnects it at the token's expiry, which undoes the presence below.
            rt.expiry
                .watch(&s, session.expires_at_ms.load(Ordering::Acquire));
            if rt.presence.connected(&session.principal).await {
                let rt = rt.clone();
                tokio::spawn(async move {
                    broadcast_status(&rt, &session.principal, "online", now_millis()).await;
                });
            }
            metrics::gauge!("omw_socket_connections").increment(1.0);
            Ok(())
        }
    };
    // All the work is done in the middleware above, which only lets through what may connect.
    let on_connect = |_: SocketRef| async {};
    io.ns("/", on_connect.with(authenticate)).await
}

async fn disconnected(rt: Arc<Realtime>, s: SocketRef, session: Arc<Session>) {
    metrics::gauge!("omw_socket_connections").decrement(1.0);
    rt.expiry
        .forget(s.id, session.expires_at_ms.load(Ordering::Acquire));
    let who = &session.principal;
    for chat_id in rt
        .typing
        .clear_user(&user_key(who), &session.joined())
        .await
    {
        events::emit_typing(&s, &chat_id, who, false).await;
    }
    if let Some(last_seen) = rt.presence.disconnected(who).await {
        broadcast_status(&rt, who, "offline", last_seen).await;
    }
}

/// Tell the users who share an active chat with `who` that their status changed.
async fn broadcast_status(rt: &Realtime, who: &Principal, status: &str, last_seen: i64) {
    let chats = match rt.chats.list_chats(who).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "presence: listing chats failed");
            return;
        }
    };
    let rooms: Vec<String> = chats
        .iter()
        .filter(|c| c.chat.is_active())
        .map(|c| {
            let other = c.chat.counterpart_of(who);
            let role = match who.role {
                omw_domain::Role::Customer => omw_domain::Role::Worker,
                omw_domain::Role::Worker => omw_domain::Role::Customer,
            };
            user_room(role, other)
        })
        .collect();
    if rooms.is_empty() {
        return;
    }
    let payload =
        json!({ "user_id": who.user_id, "status": status, "last_seen": rfc3339(last_seen) });
    if let Some(io) = root(&rt.io) {
        let _ = io.to(rooms).emit("user_status_update", &payload).await;
    }
}
