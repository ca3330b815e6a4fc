//! Socket.IO (protocol v5) on socketioxide: handshake auth, rooms, events and pushes.
//!
//! Rooms: `user:{role}:{id}` (every socket of a user: pushes such as `chat_available`),
//! `chat:{id}` (sockets that joined a chat: `new_message`, `user_typing`, `messages_read`) and
//! `attend:{chat}:{role}:{id}` (a user's sockets in that chat whose page is focused: the
//! notification ladder leaves a user alone while it has one, on any node).

mod admission;
mod caps;
pub(crate) mod events;
mod expiry;
mod handshake;
mod notifier;
pub mod presence;
mod session;
pub mod typing;

use std::sync::Arc;

use omw_domain::Principal;
use socketioxide::{ParserConfig, TransportType, layer::SocketIoLayer};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

pub use admission::Admission;
pub use caps::SocketCaps;
pub use expiry::Expiry;
pub use notifier::SocketNotifier;
pub use presence::Presence;
pub use typing::Typing;

use crate::{auth::jwt::JwtVerifier, cluster::Bus, config::Config, service::ChatService};

/// socketioxide's Redis adapter over our [`Bus`]: local when there is no Redis, so the handlers
/// are the same code for one node and for several.
pub type Adapter = CustomRedisAdapter<socketioxide::adapter::Emitter, Bus>;
pub type SocketIo = socketioxide::SocketIo<Adapter>;
pub type SocketRef = socketioxide::extract::SocketRef<Adapter>;

/// The default namespace, to broadcast from the server side; `None` once it is closed at
/// shutdown (`io.to()` would panic then, e.g. in a disconnect handler).
fn root(io: &SocketIo) -> Option<socketioxide::operators::BroadcastOperators<Adapter>> {
    io.of("/")
}

pub fn chat_room(chat_id: &str) -> String {
    format!("chat:{chat_id}")
}

pub fn user_room(role: omw_domain::Role, user_id: &str) -> String {
    format!("user:{}:{user_id}", role.as_str())
}

pub fn attending_room(chat_id: &str, role: omw_domain::Role, user_id: &str) -> String {
    format!("attend:{chat_id}:{}:{user_id}", role.as_str())
}

pub fn principal_room(p: &Principal) -> String {
    user_room(p.role, &p.user_id)
}

/// Everything the socket handlers need.
pub struct Realtime {
    pub io: SocketIo,
    pub chats: Arc<ChatService>,
    pub jwt: Arc<JwtVerifier>,
    pub config: Arc<Config>,
    pub presence: Arc<Presence>,
    pub typing: Arc<Typing>,
    pub expiry: Arc<Expiry>,
    pub caps: Arc<SocketCaps>,
    pub admission: Arc<Admission>,
}

/// Binary attachments one event may carry (no event takes any; one is tolerated).
pub(crate) const MAX_INCOMING_BINARIES: usize = 1;

/// The Socket.IO layer with explicit limits (no 64 MiB WebSocket defaults).
pub fn layer(config: &Config, bus: Bus) -> (SocketIoLayer<Adapter>, SocketIo) {
    let max = usize::try_from(config.max_socket_payload).unwrap_or(64 * 1024);
    let adapter = RedisAdapterCtr::new_with_driver(
        bus,
        RedisAdapterConfig::new().with_prefix(format!("{}:sio", config.redis_prefix)),
    );
    socketioxide::SocketIo::builder()
        .max_payload(config.max_socket_payload)
        .ws_max_message_size(max)
        .ws_max_frame_size(max)
        .max_buffer_size(1024)
        // Idle sockets dominate memory: a small read buffer per WebSocket (frames are ≤ 64 KiB
        // and are read in several chunks when larger).
        .ws_read_buffer_size(512)
        .transports([TransportType::Polling, TransportType::Websocket])
        .with_parser(
            ParserConfig::common()
                .max_incoming_binary_buf_size(max)
                .max_incoming_binaries(MAX_INCOMING_BINARIES),
        )
        .with_adapter::<Adapter>(adapter)
        .build_layer()
}

/// The path under which socketioxide serves Socket.IO (its default).
const SOCKET_IO_PATH: &str = "/socket.io";

/// The request headers a Socket.IO connection still needs after routing: engineioxide reads
/// `sec-websocket-key` (upgrade) and `content-type` (polling), the handshake `origin` and
/// `authorization`. The others (cookies, user agent, …) would live as long as the socket.
const KEPT_HEADERS: [axum::http::HeaderName; 4] = [
    axum::http::header::SEC_WEBSOCKET_KEY,
    axum::http::header::CONTENT_TYPE,
    axum::http::header::ORIGIN,
    axum::http::header::AUTHORIZATION,
];

/// Give a Socket.IO request allocations of its own, holding only what the socket needs.
///
/// hyper parses a request head without copying: the URI and every header value are slices of
/// the connection's read buffer (8 KiB or more), and axum's router keeps a clone of the URI.
/// engineioxide keeps the request's parts for as long as the socket lives
/// (`SocketRef::req_parts`), and with them that whole buffer. Copying the few hundred bytes that
/// matter lets hyper's buffers go once the WebSocket takes over (16 KiB of heap per socket in a
/// heap profile, idle RSS 33.9 → 25.6 KiB per socket at 10,000 sockets). Of the extensions,
/// only hyper's upgrade handle is needed; the router's (URL params, original URI) would cost
/// another ~0.4 KiB per socket.
pub async fn detach_request(req: axum::extract::Request) -> axum::extract::Request {
    if !req.uri().path().starts_with(SOCKET_IO_PATH) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    if let Ok(uri) = axum::http::Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    // Sized to what is kept: engineioxide clones the map, and a clone keeps the capacity.
    let kept = KEPT_HEADERS
        .iter()
        .filter(|name| parts.headers.contains_key(*name))
        .count();
    let mut headers = axum::http::HeaderMap::with_capacity(kept);
    for name in &KEPT_HEADERS {
        if let Some(value) = parts.headers.get(name)
            // `from_bytes` copies; a value that was valid stays valid.
            && let Ok(mut copy) = axum::http::HeaderValue::from_bytes(value.as_bytes())
        {
            copy.set_sensitive(value.is_sensitive());
            headers.insert(name.clone(), copy);
        }
    }
    parts.headers = headers;
    let mut extensions = axum::http::Extensions::new();
    if let Some(upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() {
        extensions.insert(upgrade);
    }
    // The peer's address, for the per-IP socket cap.
    if let Some(peer) = parts
        .extensions
        .remove::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        extensions.insert(peer);
    }
    parts.extensions = extensions;
    axum::extract::Request::from_parts(parts, body)
}

/// Register the namespace `/` with its handshake middleware and event handlers (with Redis,
/// this subscribes the node to the namespace's channels).
pub async fn register(rt: Arc<Realtime>) -> Result<(), socketioxide_redis::InitError<Bus>> {
    let io = rt.io.clone();
    handshake::register(&io, rt).await
}

#[cfg(test)]
mod tests {
    use axum::http::{Request, header};

    use super::*;

    #[derive(Clone)]
    struct RouterLeftover;

    fn request(path: &str) -> axum::extract::Request {
        let mut req = Request::builder()
            .uri(path)
            .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
            .header(header::ORIGIN, "http://localhost:5001")
            .header(header::AUTHORIZATION, "Bearer t")
            .header(header::COOKIE, "session=0123456789abcdef")
            .header(header::USER_AGENT, "Mozilla/5.0")
            .body(axum::body::Body::empty())
            .expect("a valid request");
        req.extensions_mut().insert(RouterLeftover);
        req
    }

    #[tokio::test]
    async fn a_socket_io_request_keeps_only_what_the_socket_needs() {
        let req = detach_request(request("/socket.io/?EIO=4&transport=websocket")).await;
        let mut kept: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["authorization", "origin", "sec-websocket-key"]);
        assert_eq!(req.headers()[header::AUTHORIZATION], "Bearer t");
        assert_eq!(req.uri(), "/socket.io/?EIO=4&transport=websocket");
        assert!(req.extensions().get::<RouterLeftover>().is_none());
    }

    #[tokio::test]
    async fn other_requests_are_left_alone() {
        let req = detach_request(request("/api/v1/chats")).await;
        assert_eq!(req.headers().len(), 5);
        assert!(req.extensions().get::<RouterLeftover>().is_some());
    }
}
