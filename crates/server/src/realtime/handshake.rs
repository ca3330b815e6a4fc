//! Connecting: Origin and JWT checks, the user's room, presence, and token expiry.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError, Weak, atomic::Ordering},
    time::{Duration, Instant},
};

use omw_domain::{Principal, time::now_millis};
use serde_json::Value;
use socketioxide::{extract::TryData, handler::ConnectHandler, socket::Sid};

use super::{
    Realtime, SocketIo, SocketRef,
    caps::Over,
    events, principal_room, root,
    session::{Session, Undo},
    user_room,
};
use crate::cluster::Bus;
use crate::{
    auth::platform::bearer,
    service::error::ErrorCode,
    service::limits::user_key,
    wire::broadcast::{Presence, ServerEvent, UserStatus},
};

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
    let connecting = Arc::new(Connecting::default());
    let taken = connecting.clone();
    let mw_rt = rt.clone();
    let authenticate = move |s: SocketRef, TryData(auth): TryData<Value>| {
        let rt = mw_rt.clone();
        let connecting = connecting.clone();
        async move {
            // Held until the handshake is checked and counted (its CONNECT then leaves).
            let Some(_turn) = rt.admission.enter().await else {
                metrics::counter!("omw_handshake_refused_total", "code" => "rate_limited", "cap" => "admission")
                    .increment(1);
                return Err(Refusal(ErrorCode::RateLimited));
            };
            let hook = rt.config.test_hooks.handshake_delay;
            if !hook.is_zero() {
                tokio::time::sleep(hook).await;
            }
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
            let verified = rt.jwt.verify(&token).map_err(|_| {
                metrics::counter!("omw_handshake_refused_total", "code" => "unauthorized")
                    .increment(1);
                Refusal(ErrorCode::Unauthorized)
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
                        Over::Node => "node",
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
            // Counted before CONNECT leaves: a client that has its CONNECT is online. Should
            // sending CONNECT fail (the client left mid-handshake), socketioxide drops the socket
            // without its disconnect handler; dropping the session then uncounts it.
            let undo: Undo = {
                let rt = rt.clone();
                let who = session.principal.clone();
                Box::new(move || {
                    metrics::gauge!("omw_socket_connections").decrement(1.0);
                    if let Some(now) = rt.presence.uncount_local(&who)
                        && let Ok(runtime) = tokio::runtime::Handle::try_current()
                    {
                        runtime.spawn(async move { announce_offline(&rt, &who, now).await });
                    }
                })
            };
            let first_here = session.count(
                || {
                    metrics::gauge!("omw_socket_connections").increment(1.0);
                    rt.presence.count_local(&session.principal)
                },
                undo,
            );
            if first_here == Some(true) {
                let (rt, who) = (rt.clone(), session.principal.clone());
                tokio::spawn(async move { announce_online(&rt, &who).await });
            }
            connecting.insert(s.id, &session);
            Ok(())
        }
    };
    let crt = rt.clone();
    let on_connect = move |s: SocketRef| {
        let rt = crt.clone();
        let connecting = taken.clone();
        async move { connected(rt, s, &connecting).await }
    };
    io.ns("/", on_connect.with(authenticate)).await
}

/// How long a session waits between the handshake middleware and `on_connect`. The connect
/// handler is spawned right after CONNECT is sent, so only an abandoned handshake (never
/// connected) stays longer; its entry does not keep the session alive.
const CONNECTING_TTL: Duration = Duration::from_secs(60);

/// Sessions between the handshake middleware and `on_connect` (which socketioxide gives only the
/// socket), by socket id, oldest first for expiry.
#[derive(Default)]
struct Connecting(Mutex<Waiting>);

/// The sessions, and when each was handed over (in that order).
type Waiting = (HashMap<Sid, Weak<Session>>, VecDeque<(Instant, Sid)>);

impl Connecting {
    fn insert(&self, sid: Sid, session: &Arc<Session>) {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (by_sid, order) = &mut *guard;
        while let Some((at, old)) = order.front()
            && at.elapsed() > CONNECTING_TTL
        {
            by_sid.remove(old);
            order.pop_front();
        }
        by_sid.insert(sid, Arc::downgrade(session));
        order.push_back((Instant::now(), sid));
    }

    fn take(&self, sid: Sid) -> Option<Arc<Session>> {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.remove(&sid).and_then(|w| w.upgrade())
    }
}

/// CONNECT reached the client: watch its token's expiry (unless it already left).
async fn connected(rt: Arc<Realtime>, s: SocketRef, connecting: &Connecting) {
    let Some(session) = connecting.take(s.id) else {
        // Waited past CONNECTING_TTL, or already dropped: the client reconnects.
        let _ = s.disconnect();
        return;
    };
    session.watch(|| {
        rt.expiry
            .watch(&s, session.expires_at_ms.load(Ordering::Acquire));
    });
}

async fn disconnected(rt: Arc<Realtime>, s: SocketRef, session: Arc<Session>) {
    let who = &session.principal;
    let mut last_here = None;
    session.end(|watched| {
        metrics::gauge!("omw_socket_connections").decrement(1.0);
        if watched {
            rt.expiry
                .forget(s.id, session.expires_at_ms.load(Ordering::Acquire));
        }
        last_here = rt.presence.uncount_local(who);
    });
    for chat_id in rt
        .typing
        .clear_user(&user_key(who), &session.joined())
        .await
    {
        events::emit_typing(&s, &chat_id, who, false).await;
    }
    if let Some(now) = last_here {
        announce_offline(&rt, who, now).await;
    }
}

/// This node's first socket of `who`: tell their counterparts if no other node had one.
async fn announce_online(rt: &Realtime, who: &Principal) {
    if rt.presence.came_online(who).await {
        broadcast_status(rt, who, Presence::Online, now_millis()).await;
    }
}

/// This node's last socket of `who` left at `now`: tell their counterparts if it was the last
/// one anywhere.
async fn announce_offline(rt: &Realtime, who: &Principal, now: i64) {
    if let Some(last_seen) = rt.presence.went_offline(who, now).await {
        broadcast_status(rt, who, Presence::Offline, last_seen).await;
    }
}

/// Tell the users who share an active chat with `who` that their status changed.
async fn broadcast_status(rt: &Realtime, who: &Principal, status: Presence, last_seen: i64) {
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
    let payload = UserStatus {
        user_id: &who.user_id,
        status,
        last_seen,
    };
    if let Some(io) = root(&rt.io) {
        let _ = io.to(rooms).emit(UserStatus::NAME, &payload).await;
    }
}
