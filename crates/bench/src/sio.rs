//! A minimal Socket.IO v5 client over a raw WebSocket (Engine.IO v4, `transport=websocket`).
//!
//! Why not a full Socket.IO client library: a load client must not be the bottleneck. The framing
//! we need is tiny — `0{open}`, `40{auth}` → `40{sid}` / `44{error}`, ping `2` → pong `3`,
//! events `42<id>[name, payload]` and acks `43<id>[body]` — and owning it lets one task drive one
//! socket without locks, extra channels or per-event allocations beyond JSON parsing.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One Socket.IO (or Engine.IO-level) text frame, classified without parsing the JSON.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Engine.IO ping (`2`): answer with `3`.
    Ping,
    /// `43<id>[body]`: `json` is the JSON array.
    Ack { id: u64, json: &'a str },
    /// `42[name, payload]`: `json` is the JSON array.
    Event { json: &'a str },
    /// `42<id>[...]` (an event carrying an ack id, as an echo server returns our own frames).
    EventWithId { id: u64, json: &'a str },
    /// Anything else (open packet, connect/disconnect, noop …).
    Other,
}

pub fn classify(s: &str) -> Frame<'_> {
    let b = s.as_bytes();
    if b == b"2" {
        return Frame::Ping;
    }
    if b.len() < 3 || b[0] != b'4' {
        return Frame::Other;
    }
    let kind = b[1];
    let rest = &s[2..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        rest[..digits].parse::<u64>().ok()
    } else {
        None
    };
    let json = &rest[digits..];
    match (kind, id) {
        (b'3', Some(id)) => Frame::Ack { id, json },
        (b'2', None) => Frame::Event { json },
        (b'2', Some(id)) => Frame::EventWithId { id, json },
        _ => Frame::Other,
    }
}

/// `http://host:port` (or `ws://…`) → the Socket.IO WebSocket endpoint.
pub fn socket_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}/socket.io/?EIO=4&transport=websocket")
}

/// An event frame with an ack id: `42<id>["event",payload]`.
pub fn event_frame(id: u64, event: &str, payload: &str) -> String {
    let mut s = String::with_capacity(payload.len() + event.len() + 16);
    s.push_str("42");
    s.push_str(&id.to_string());
    s.push_str("[\"");
    s.push_str(event);
    s.push_str("\",");
    s.push_str(payload);
    s.push(']');
    s
}

/// The first element of an ack array (`[body]` → `body`).
pub fn ack_body(json: &str) -> Result<Value> {
    let mut v: Vec<Value> = serde_json::from_str(json).context("ack is not a JSON array")?;
    if v.is_empty() {
        return Ok(Value::Null);
    }
    Ok(v.swap_remove(0))
}

/// A connected, authenticated Socket.IO client (namespace `/`).
pub struct Conn {
    pub ws: Ws,
    next_id: u64,
    /// Text frames (events) that arrived while `call` waited for its ack, oldest first.
    pub backlog: Vec<String>,
}

/// Small per-socket buffers (tungstenite's default read buffer is 128 KiB): 10,000 sockets in
/// one process must stay cheap.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

impl Conn {
    /// Open the WebSocket, read the Engine.IO open packet, CONNECT with `{token}`.
    pub async fn connect(base_url: &str, token: &str) -> Result<Conn> {
        let url = socket_url(base_url);
        let (ws, _) = tokio::time::timeout(
            CALL_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(&url, Some(ws_config()), true),
        )
        .await
        .map_err(|_| anyhow!("websocket connect timed out"))?
        .with_context(|| format!("websocket connect to {url}"))?;
        let mut conn = Conn {
            ws,
            next_id: 0,
            backlog: Vec::new(),
        };
        let open = conn.next_text().await?;
        if !open.starts_with('0') {
            bail!("expected an Engine.IO open packet, got {open:?}");
        }
        let auth = serde_json::json!({ "token": token });
        conn.ws.send(Message::text(format!("40{auth}"))).await?;
        loop {
            let t = conn.next_text().await?;
            if t.starts_with("40") {
                return Ok(conn);
            }
            if t.starts_with("44") {
                bail!("connect refused: {t}");
            }
            // Events before the CONNECT answer are not expected; keep them anyway.
            conn.backlog.push(t);
        }
    }

    /// Open a raw WebSocket (no Socket.IO), with TCP_NODELAY like `connect`.
    pub async fn connect_raw(url: &str) -> Result<Conn> {
        let (ws, _) = tokio::time::timeout(
            CALL_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true),
        )
        .await
        .map_err(|_| anyhow!("websocket connect timed out"))?
        .with_context(|| format!("websocket connect to {url}"))?;
        Ok(Conn::raw(ws))
    }

    /// Wrap an already-open raw WebSocket (echo baseline): no Socket.IO handshake.
    pub fn raw(ws: Ws) -> Conn {
        Conn {
            ws,
            next_id: 0,
            backlog: Vec::new(),
        }
    }

    pub fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn set_next_id(&mut self, id: u64) {
        self.next_id = id;
    }

    /// The next text frame, answering pings on the way.
    async fn next_text(&mut self) -> Result<String> {
        loop {
            let msg = tokio::time::timeout(CALL_TIMEOUT, self.ws.next())
                .await
                .map_err(|_| anyhow!("no frame within {CALL_TIMEOUT:?}"))?
                .ok_or_else(|| anyhow!("connection closed"))??;
            match msg {
                Message::Text(t) => {
                    if t.as_str() == "2" {
                        self.ws.send(Message::text("3")).await?;
                        continue;
                    }
                    return Ok(t.as_str().to_string());
                }
                Message::Close(_) => bail!("connection closed by server"),
                _ => continue,
            }
        }
    }

    /// Emit `event` with an ack and wait for it; other frames go to `backlog`.
    /// Returns the ack body; `{ok:false}` becomes an error.
    pub async fn call(&mut self, event: &str, payload: &Value) -> Result<Value> {
        let id = self.take_id();
        let frame = event_frame(id, event, &payload.to_string());
        self.ws.send(Message::text(frame)).await?;
        loop {
            let t = self.next_text().await?;
            if let Frame::Ack { id: got, json } = classify(&t)
                && got == id
            {
                let body = ack_body(json)?;
                if body.get("ok") != Some(&Value::Bool(true)) {
                    bail!("{event} failed: {body}");
                }
                return Ok(body);
            }
            self.backlog.push(t);
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_frames() {
        assert_eq!(classify("2"), Frame::Ping);
        assert_eq!(
            classify("4312[{\"ok\":true}]"),
            Frame::Ack {
                id: 12,
                json: "[{\"ok\":true}]"
            }
        );
        assert_eq!(
            classify("42[\"new_message\",{}]"),
            Frame::Event {
                json: "[\"new_message\",{}]"
            }
        );
        assert_eq!(
            classify("427[\"send_message\",{}]"),
            Frame::EventWithId {
                id: 7,
                json: "[\"send_message\",{}]"
            }
        );
        assert_eq!(classify("0{\"sid\":\"x\"}"), Frame::Other);
        assert_eq!(classify("40{\"sid\":\"x\"}"), Frame::Other);
    }

    #[test]
    fn builds_urls_and_frames() {
        assert_eq!(
            socket_url("http://127.0.0.1:5001/"),
            "ws://127.0.0.1:5001/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(event_frame(3, "x", "{}"), "423[\"x\",{}]");
    }
}
