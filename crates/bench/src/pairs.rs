//! The `pairs` engine: N customer/worker pairs, each in its own booking chat, both sides sending
//! at a paced rate. Also the echo baseline (same frames against a raw WebSocket echo server) and
//! the reconnect scenario (clients dropped at random, catching up with `load_messages`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures::{SinkExt, StreamExt, TryStreamExt, stream};
use hdrhistogram::Histogram;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{Pair, Target, rss_kib};
use crate::sio::{Conn, Frame, classify};
use crate::stats::{Latency, new_hist, record};

#[derive(Clone, Debug)]
pub struct PairsConfig {
    /// Customer/worker pairs (2 sockets each).
    pub pairs: usize,
    /// Messages per second per client; 0 = unpaced (as fast as the window allows).
    pub rate: f64,
    pub duration: Duration,
    /// Most unacknowledged messages per client; a paced send due while the window is full is
    /// sent late (its latency counts from when it was due) or, if still full, skipped.
    pub window: usize,
    /// Text body length in bytes.
    pub body_len: usize,
    /// After `duration`: how long to wait at most for outstanding acks and deliveries.
    pub drain: Duration,
    /// Random disconnects during the run (the reconnect scenario); 0 = none.
    pub drops: usize,
    /// How long a dropped client stays away before reconnecting.
    pub down: Duration,
    /// Sockets connecting at a time during setup.
    pub connect_concurrency: usize,
    /// Check every chat's history at the end (load_messages paging).
    pub verify: bool,
    /// A local server process to read VmRSS from.
    pub server_pid: Option<u32>,
    /// Free-form label copied into the JSON line (e.g. "sqlite").
    pub label: String,
}

impl Default for PairsConfig {
    fn default() -> Self {
        PairsConfig {
            pairs: 10,
            rate: 10.0,
            duration: Duration::from_secs(10),
            window: 64,
            body_len: 64,
            drain: Duration::from_secs(10),
            drops: 0,
            down: Duration::from_millis(300),
            connect_concurrency: 64,
            verify: true,
            server_pid: None,
            label: String::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Mode {
    /// An omw-chat server.
    Chat(Target),
    /// A raw WebSocket echo server (`ws://host:port/`).
    Echo(String),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PairsReport {
    pub scenario: String,
    pub label: String,
    pub url: String,
    pub pairs: usize,
    pub clients: usize,
    pub rate_per_client: f64,
    /// clients × rate (0 when unpaced).
    pub offered_per_s: f64,
    pub duration_s: f64,
    pub window: usize,
    pub body_len: usize,
    pub sent: u64,
    /// Sends due while the window stayed full (offered load not sent).
    pub skipped: u64,
    pub acked: u64,
    /// Acks received within the measured duration, per second.
    pub acked_per_s: f64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// Messages sent but never acknowledged (drain timeout or connection loss).
    pub unacked: u64,
    pub ack_latency: Latency,
    /// Intended send time → counterpart's `new_message` (echo: → echo received).
    pub delivery_latency: Latency,
    /// Acked messages the counterpart got (live or by catch-up).
    pub delivered: u64,
    pub delivered_catchup: u64,
    /// Acked messages the counterpart never got.
    pub lost_delivery: u64,
    /// Live `new_message` events received more than once.
    pub dup_delivery: u64,
    pub chats_verified: u64,
    /// Acked client_ids missing from the chat history.
    pub lost_history: u64,
    /// client_ids stored more than once.
    pub dup_history: u64,
    /// Chats whose seq is not 1, 2, 3 … without gaps.
    pub seq_gap_chats: u64,
    /// Acks whose seq differs from the stored one.
    pub ack_seq_mismatch: u64,
    pub drops: usize,
    pub reconnects: u64,
    pub server_rss_kib_before: Option<u64>,
    pub server_rss_kib_after: Option<u64>,
    pub setup_s: f64,
    pub elapsed_s: f64,
}

impl PairsReport {
    pub fn ok(&self) -> bool {
        self.errors == 0
            && self.unacked == 0
            && self.lost_delivery == 0
            && self.dup_delivery == 0
            && self.lost_history == 0
            && self.dup_history == 0
            && self.seq_gap_chats == 0
            && self.ack_seq_mismatch == 0
    }

    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} [{}] {} pairs ({} sockets), {} msg/s/client (offered {:.0}/s), {:.1} s, body {} B, window {}\n",
            self.scenario,
            self.label,
            self.pairs,
            self.clients,
            self.rate_per_client,
            self.offered_per_s,
            self.duration_s,
            self.body_len,
            self.window
        );
        s += &format!(
            "  sent {}  acked {}  => {:.0} acked msg/s   skipped {}  errors {}  unacked {}\n",
            self.sent, self.acked, self.acked_per_s, self.skipped, self.errors, self.unacked
        );
        s += &format!("  ack latency      {}\n", self.ack_latency.line());
        s += &format!("  delivery latency {}\n", self.delivery_latency.line());
        s += &format!(
            "  delivered {} (catch-up {})  lost {}  dup {}\n",
            self.delivered, self.delivered_catchup, self.lost_delivery, self.dup_delivery
        );
        if self.chats_verified > 0 {
            s += &format!(
                "  history: {} chats verified, lost {}  dup {}  seq-gap chats {}  ack/seq mismatches {}\n",
                self.chats_verified,
                self.lost_history,
                self.dup_history,
                self.seq_gap_chats,
                self.ack_seq_mismatch
            );
        }
        if self.drops > 0 {
            s += &format!(
                "  drops scheduled {}  reconnects {}\n",
                self.drops, self.reconnects
            );
        }
        if let (Some(b), Some(a)) = (self.server_rss_kib_before, self.server_rss_kib_after) {
            s += &format!("  server RSS {b} KiB -> {a} KiB\n");
        }
        for e in &self.error_samples {
            s += &format!("  error: {e}\n");
        }
        s += &format!("  verdict: {}", if self.ok() { "OK" } else { "PROBLEMS" });
        s
    }
}

// ---------------------------------------------------------------------------------------------

/// Progress of one pair, shared by its two client tasks.
#[derive(Default)]
struct PairShared {
    done: [AtomicBool; 2],
    acked: [AtomicU64; 2],
}

/// Latency samples are batched per client and merged into shared histograms.
struct Hists {
    ack: Histogram<u64>,
    delivery: Histogram<u64>,
}

struct Spec {
    pair_idx: usize,
    /// 0 customer, 1 worker.
    role: usize,
    chat_id: String,
    user_id: String,
    token: String,
    url: String,
    echo: bool,
    verify: bool,
    base: Instant,
    start: Instant,
    end: Instant,
    drain_deadline: Instant,
    drops: Vec<Instant>,
    down: Duration,
}

#[derive(Default)]
struct Out {
    pair_idx: usize,
    role: usize,
    sent: u64,
    skipped: u64,
    acked_in_window: u64,
    /// (client_id, seq) of every acked message.
    acked: Vec<(String, i64)>,
    errors: u64,
    error_samples: Vec<String>,
    unacked: u64,
    /// counterpart client_id → live deliveries.
    live: HashMap<String, u32>,
    catchup: HashSet<String>,
    reconnects: u64,
    /// (client_id, seq) of the chat's stored user messages, when verified.
    history: Option<Vec<(Option<String>, i64)>>,
}

struct Pending {
    cid: String,
    due_us: u64,
}

#[derive(Deserialize)]
struct NewMessageEv<'a> {
    #[serde(borrow)]
    message: Msg<'a>,
}

#[derive(Deserialize)]
struct Msg<'a> {
    seq: i64,
    #[serde(borrow, default)]
    client_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sender: Sender<'a>,
}

#[derive(Deserialize)]
struct Sender<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct SendAck {
    ok: bool,
    #[serde(default)]
    message: Option<AckedMsg>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct AckedMsg {
    seq: i64,
}

fn body_micros(body: &str) -> Option<u64> {
    let end = body.find(' ').unwrap_or(body.len());
    body[..end].parse().ok()
}

struct Client {
    spec: Spec,
    out: Out,
    shared: Arc<PairShared>,
    hists: Arc<Mutex<Hists>>,
    ack_samples: Vec<u64>,
    deliv_samples: Vec<u64>,
    pending: HashMap<u64, Pending>,
    next_ack_id: u64,
    /// Index of the next paced send.
    k: u64,
    offset: Duration,
    period: Option<Duration>,
    window: usize,
    body_pad: String,
    max_seen: i64,
    peer_unique: u64,
    drop_idx: usize,
}

impl Client {
    fn now_us(&self) -> u64 {
        self.spec.base.elapsed().as_micros() as u64
    }

    fn flush_samples(&mut self, force: bool) {
        if !force && self.ack_samples.len() + self.deliv_samples.len() < 512 {
            return;
        }
        let mut h = self.hists.lock().expect("histograms");
        for &v in &self.ack_samples {
            record(&mut h.ack, v);
        }
        for &v in &self.deliv_samples {
            record(&mut h.delivery, v);
        }
        drop(h);
        self.ack_samples.clear();
        self.deliv_samples.clear();
    }

    fn error(&mut self, e: impl std::fmt::Display) {
        self.out.errors += 1;
        if self.out.error_samples.len() < 3 {
            self.out.error_samples.push(e.to_string());
        }
    }

    fn frame_for(&self, id: u64, cid: &str, due_us: u64) -> String {
        // The echo baseline sends exactly the frames a chat client sends.
        let payload = format!(
            "{{\"chat_id\":\"{}\",\"client_id\":\"{}\",\"kind\":\"text\",\"body\":\"{:013} {}\"}}",
            self.spec.chat_id, cid, due_us, self.body_pad
        );
        crate::sio::event_frame(id, "send_message", &payload)
    }

    /// Frames to send now: paced sends that are due (or, unpaced, as many as the window allows).
    fn due_sends(&mut self, now: Instant) -> Vec<String> {
        let mut frames = Vec::new();
        if now >= self.spec.end || now < self.spec.start {
            return frames;
        }
        loop {
            let due = match self.period {
                Some(p) => {
                    let due = self.spec.start + self.offset + p.mul_f64(self.k as f64);
                    if due > now || due >= self.spec.end {
                        break;
                    }
                    due
                }
                None => now,
            };
            if self.pending.len() >= self.window {
                if self.period.is_some() {
                    // Still full: if it is more than one period overdue, give it up.
                    let p = self.period.unwrap_or_default();
                    if now.duration_since(due) > p.max(Duration::from_millis(1)) * 4 {
                        self.out.skipped += 1;
                        self.k += 1;
                        continue;
                    }
                }
                break;
            }
            let due_us = due.duration_since(self.spec.base).as_micros() as u64;
            let cid = format!("{}-{}-{}", self.spec.pair_idx, self.spec.role, self.k);
            self.k += 1;
            self.next_ack_id += 1;
            let id = self.next_ack_id;
            frames.push(self.frame_for(id, &cid, due_us));
            self.pending.insert(id, Pending { cid, due_us });
            self.out.sent += 1;
        }
        frames
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let mut wake = self.spec.drain_deadline;
        if now < self.spec.end {
            wake = wake.min(self.spec.end);
            if self.pending.len() < self.window {
                match self.period {
                    Some(p) => {
                        let due = self.spec.start + self.offset + p.mul_f64(self.k as f64);
                        wake = wake.min(due.max(now));
                    }
                    None => wake = wake.min(now.max(self.spec.start)),
                }
            }
            if let Some(d) = self.spec.drops.get(self.drop_idx) {
                wake = wake.min(*d);
            }
        }
        wake
    }

    fn on_ack(&mut self, id: u64, json: &str, is_echo: bool) {
        let Some(p) = self.pending.remove(&id) else {
            if !is_echo {
                self.error(format!("ack for unknown id {id}"));
            }
            return;
        };
        let now = self.now_us();
        let lat = now.saturating_sub(p.due_us);
        if is_echo {
            self.ack_samples.push(lat);
            self.deliv_samples.push(lat);
            self.out.acked.push((p.cid, 0));
            self.note_acked(now);
            return;
        }
        match serde_json::from_str::<(SendAck,)>(json) {
            Ok((a,)) if a.ok => {
                let seq = a.message.map(|m| m.seq).unwrap_or(-1);
                self.ack_samples.push(lat);
                self.out.acked.push((p.cid, seq));
                self.note_acked(now);
            }
            Ok((a,)) => self.error(format!(
                "send_message refused: {}",
                a.error.unwrap_or(Value::Null)
            )),
            Err(e) => self.error(format!("bad ack {json}: {e}")),
        }
    }

    fn note_acked(&mut self, now_us: u64) {
        if now_us <= self.spec.end.duration_since(self.spec.base).as_micros() as u64 {
            self.out.acked_in_window += 1;
        }
        self.shared.acked[self.spec.role].fetch_add(1, Ordering::Release);
    }

    fn on_event(&mut self, json: &str) {
        if !json.starts_with("[\"new_message\",") {
            return;
        }
        let ev = match serde_json::from_str::<(serde::de::IgnoredAny, NewMessageEv)>(json) {
            Ok((_, ev)) => ev,
            Err(e) => {
                self.error(format!("bad new_message: {e}"));
                return;
            }
        };
        let m = ev.message;
        self.max_seen = self.max_seen.max(m.seq);
        if m.sender.id == self.spec.user_id {
            return;
        }
        let Some(cid) = m.client_id else { return };
        let first = !self.out.catchup.contains(cid.as_ref());
        let n = self.out.live.entry(cid.into_owned()).or_insert(0);
        *n += 1;
        if *n == 1 && first {
            self.peer_unique += 1;
            if let Some(t) = m.body.as_deref().and_then(body_micros) {
                let now = self.now_us();
                self.deliv_samples.push(now.saturating_sub(t));
            }
        }
    }

    /// Returns true when a pong must be sent.
    fn on_text(&mut self, t: &str) -> bool {
        match classify(t) {
            Frame::Ping => return true,
            Frame::Ack { id, json } => self.on_ack(id, json, false),
            Frame::EventWithId { id, json } if self.spec.echo => self.on_ack(id, json, true),
            Frame::Event { json } => self.on_event(json),
            _ => {}
        }
        false
    }

    fn finished(&self, now: Instant) -> bool {
        if now >= self.spec.drain_deadline {
            return true;
        }
        if now < self.spec.end || !self.pending.is_empty() {
            return false;
        }
        self.shared.done[self.spec.role].store(true, Ordering::Release);
        if self.spec.echo {
            return true;
        }
        let peer = 1 - self.spec.role;
        self.shared.done[peer].load(Ordering::Acquire)
            && self.peer_unique >= self.shared.acked[peer].load(Ordering::Acquire)
    }

    /// Reconnect after a drop: connect, join, resend what is unacked, catch up on history.
    async fn reconnect(&mut self) -> Result<Conn> {
        self.out.reconnects += 1;
        sleep(self.spec.down).await;
        let mut last = None;
        let mut conn = None;
        for _ in 0..5 {
            match Conn::connect(&self.spec.url, &self.spec.token).await {
                Ok(c) => {
                    conn = Some(c);
                    break;
                }
                Err(e) => {
                    last = Some(e);
                    sleep(Duration::from_millis(200)).await;
                }
            }
        }
        let mut conn = conn.ok_or_else(|| last.unwrap_or_else(|| anyhow!("reconnect failed")))?;
        conn.call("join_chat", &json!({ "chat_id": self.spec.chat_id }))
            .await?;
        // Retry unacknowledged sends with the same client_id (idempotent on the server).
        let old: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        conn.set_next_id(self.next_ack_id.max(conn.next_id()));
        for p in old {
            let id = conn.take_id();
            let frame = self.frame_for(id, &p.cid, p.due_us);
            conn.ws.send(Message::text(frame)).await?;
            self.pending.insert(id, p);
        }
        // Catch up on what the counterpart sent while we were away.
        loop {
            let body = conn
                .call(
                    "load_messages",
                    &json!({ "chat_id": self.spec.chat_id, "after_seq": self.max_seen, "limit": 100 }),
                )
                .await?;
            let msgs = body["messages"].as_array().cloned().unwrap_or_default();
            for m in &msgs {
                let seq = m["seq"].as_i64().unwrap_or(0);
                self.max_seen = self.max_seen.max(seq);
                if m["sender"]["id"].as_str() == Some(self.spec.user_id.as_str()) {
                    continue;
                }
                if let Some(cid) = m["client_id"].as_str()
                    && !self.out.live.contains_key(cid)
                    && self.out.catchup.insert(cid.to_string())
                {
                    self.peer_unique += 1;
                }
            }
            if msgs.is_empty() || body["has_more"] != Value::Bool(true) {
                break;
            }
        }
        self.next_ack_id = conn.next_id();
        let backlog = std::mem::take(&mut conn.backlog);
        for t in backlog {
            // A new_message already counted by catch-up is not a duplicate delivery.
            if let Frame::Event { json } = classify(&t)
                && json.starts_with("[\"new_message\",")
                && let Ok((_, ev)) =
                    serde_json::from_str::<(serde::de::IgnoredAny, NewMessageEv)>(json)
                && ev
                    .message
                    .client_id
                    .as_deref()
                    .is_some_and(|c| self.out.catchup.contains(c))
            {
                continue;
            }
            self.on_text(&t);
        }
        Ok(conn)
    }

    async fn run(mut self, mut conn: Conn) -> Out {
        for t in std::mem::take(&mut conn.backlog) {
            self.on_text(&t);
        }
        self.next_ack_id = conn.next_id();
        'outer: loop {
            let (mut sink, mut stream) = conn.ws.split();
            loop {
                let now = Instant::now();
                let frames = self.due_sends(now);
                if !frames.is_empty() {
                    let mut failed = None;
                    for f in frames {
                        if let Err(e) = sink.feed(Message::text(f)).await {
                            failed = Some(e);
                            break;
                        }
                    }
                    if failed.is_none()
                        && let Err(e) = sink.flush().await
                    {
                        failed = Some(e);
                    }
                    if let Some(e) = failed {
                        self.error(format!("send: {e}"));
                        break 'outer;
                    }
                }
                self.flush_samples(false);
                if self.finished(now) {
                    break;
                }
                if let Some(d) = self.spec.drops.get(self.drop_idx).copied()
                    && now >= d
                {
                    self.drop_idx += 1;
                    drop(sink);
                    drop(stream);
                    match self.reconnect().await {
                        Ok(c) => {
                            conn = c;
                            continue 'outer;
                        }
                        Err(e) => {
                            self.error(format!("reconnect: {e:#}"));
                            break 'outer;
                        }
                    }
                }
                let wake = self.next_wake(now);
                tokio::select! {
                    biased;
                    m = stream.next() => match m {
                        Some(Ok(Message::Text(t))) => {
                            if self.on_text(t.as_str()) && sink.send(Message::text("3")).await.is_err() {
                                self.error("pong failed");
                                break 'outer;
                            }
                        }
                        Some(Ok(Message::Close(_))) | None => {
                            self.error("connection closed by server");
                            break 'outer;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            self.error(format!("read: {e}"));
                            break 'outer;
                        }
                    },
                    _ = sleep_until(wake) => {}
                }
            }
            // Finished normally: verify the history with this connection (customer side).
            self.out.unacked += self.pending.len() as u64;
            self.pending.clear();
            self.flush_samples(true);
            let ws = match sink.reunite(stream) {
                Ok(ws) => ws,
                Err(_) => return self.out,
            };
            let mut conn = Conn::raw(ws);
            conn.set_next_id(self.next_ack_id);
            if self.spec.verify {
                match history(&mut conn, &self.spec.chat_id).await {
                    Ok(h) => self.out.history = Some(h),
                    Err(e) => self.error(format!("history: {e:#}")),
                }
            }
            conn.close().await;
            return self.out;
        }
        // Aborted.
        self.out.unacked += self.pending.len() as u64;
        self.pending.clear();
        self.flush_samples(true);
        self.shared.done[self.spec.role].store(true, Ordering::Release);
        self.out
    }
}

/// Every stored user message of a chat, oldest first: (client_id, seq).
async fn history(conn: &mut Conn, chat_id: &str) -> Result<Vec<(Option<String>, i64)>> {
    let mut after = 0i64;
    let mut out = Vec::new();
    loop {
        let body = conn
            .call(
                "load_messages",
                &json!({ "chat_id": chat_id, "after_seq": after, "limit": 100 }),
            )
            .await?;
        let msgs = body["messages"]
            .as_array()
            .context("load_messages without messages")?;
        for m in msgs {
            let seq = m["seq"].as_i64().context("message without seq")?;
            after = after.max(seq);
            out.push((m["client_id"].as_str().map(str::to_string), seq));
        }
        if msgs.is_empty() || body["has_more"] != Value::Bool(true) {
            return Ok(out);
        }
    }
}

async fn connect_and_join(url: &str, token: &str, chat_id: &str) -> Result<Conn> {
    let mut c = Conn::connect(url, token).await?;
    c.call("join_chat", &json!({ "chat_id": chat_id })).await?;
    Ok(c)
}

/// Run one pairs (or echo, or reconnect) measurement.
pub async fn run(cfg: &PairsConfig, mode: &Mode) -> Result<PairsReport> {
    let t_setup = Instant::now();
    let echo = matches!(mode, Mode::Echo(_));
    let (url, worker_url, pairs): (String, String, Vec<Option<Pair>>) = match mode {
        Mode::Chat(t) => {
            let p = t.make_pairs(cfg.pairs, 32).await?;
            let worker_url = t.worker_url.clone().unwrap_or_else(|| t.url.clone());
            (t.url.clone(), worker_url, p.into_iter().map(Some).collect())
        }
        Mode::Echo(u) => (u.clone(), u.clone(), (0..cfg.pairs).map(|_| None).collect()),
    };
    let url_of = |role: usize| if role == 0 { &url } else { &worker_url };
    // Connect (and join) every socket.
    let jobs: Vec<(usize, usize)> = (0..cfg.pairs).flat_map(|i| [(i, 0), (i, 1)]).collect();
    let url_of = &url_of;
    let pairs_ref = &pairs;
    let mut conns: Vec<(usize, usize, Conn)> = stream::iter(jobs)
        .map(|(i, role)| async move {
            let conn = match &pairs_ref[i] {
                Some(p) => {
                    let u = if role == 0 { &p.customer } else { &p.worker };
                    connect_and_join(url_of(role), &u.token, &p.chat_id)
                        .await
                        .with_context(|| format!("connect/join pair {i}"))?
                }
                None => Conn::connect_raw(url_of(role)).await?,
            };
            Ok::<_, anyhow::Error>((i, role, conn))
        })
        .buffer_unordered(cfg.connect_concurrency.max(1))
        .try_collect()
        .await?;
    conns.sort_by_key(|(i, r, _)| (*i, *r));
    let setup_s = t_setup.elapsed().as_secs_f64();

    let rss_before = cfg.server_pid.and_then(|p| rss_kib(p).ok());
    let base = Instant::now();
    let start = base + Duration::from_millis(300);
    let end = start + cfg.duration;
    let drain_deadline = end + cfg.drain;
    let clients = conns.len();
    // Drop schedule: random clients at random times inside the middle 80 % of the run.
    let mut drops: Vec<Vec<Instant>> = vec![Vec::new(); clients];
    {
        let mut rng = rand::rng();
        for _ in 0..cfg.drops {
            let c = rng.random_range(0..clients.max(1));
            let f = rng.random_range(0.1..0.9);
            drops[c].push(start + cfg.duration.mul_f64(f));
        }
        for d in &mut drops {
            d.sort();
        }
    }
    let hists = Arc::new(Mutex::new(Hists {
        ack: new_hist(),
        delivery: new_hist(),
    }));
    let shared: Vec<Arc<PairShared>> = (0..cfg.pairs)
        .map(|_| Arc::new(PairShared::default()))
        .collect();
    let period = (cfg.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / cfg.rate));
    let body_pad = "x".repeat(cfg.body_len.saturating_sub(14));
    let mut handles = Vec::with_capacity(clients);
    let mut rng = rand::rng();
    for (ci, (i, role, conn)) in conns.into_iter().enumerate() {
        let (chat_id, user_id, token) = match &pairs[i] {
            Some(p) => {
                let u = if role == 0 { &p.customer } else { &p.worker };
                (p.chat_id.clone(), u.id.clone(), u.token.clone())
            }
            None => (
                format!("echo-chat-{i}"),
                format!("echo-{i}-{role}"),
                String::new(),
            ),
        };
        let offset = period
            .map(|p| p.mul_f64(rng.random_range(0.0..1.0)))
            .unwrap_or_default();
        let client = Client {
            spec: Spec {
                pair_idx: i,
                role,
                chat_id,
                user_id,
                token,
                url: url_of(role).clone(),
                echo,
                verify: cfg.verify && !echo && role == 0,
                base,
                start,
                end,
                drain_deadline,
                drops: std::mem::take(&mut drops[ci]),
                down: cfg.down,
            },
            out: Out {
                pair_idx: i,
                role,
                ..Out::default()
            },
            shared: shared[i].clone(),
            hists: hists.clone(),
            ack_samples: Vec::with_capacity(512),
            deliv_samples: Vec::with_capacity(512),
            pending: HashMap::new(),
            next_ack_id: 0,
            k: 0,
            offset,
            period,
            window: cfg.window.max(1),
            body_pad: body_pad.clone(),
            max_seen: 0,
            peer_unique: 0,
            drop_idx: 0,
        };
        handles.push(tokio::spawn(client.run(conn)));
    }
    let mut outs: Vec<Out> = Vec::with_capacity(clients);
    for h in handles {
        outs.push(h.await?);
    }
    let elapsed_s = base.elapsed().as_secs_f64();
    let rss_after = cfg.server_pid.and_then(|p| rss_kib(p).ok());
    let h = hists.lock().expect("histograms");

    let mut r = PairsReport {
        scenario: if echo {
            "echo".into()
        } else if cfg.drops > 0 {
            "reconnect".into()
        } else {
            "pairs".into()
        },
        label: cfg.label.clone(),
        url: if worker_url == url {
            url.clone()
        } else {
            format!("{url} + {worker_url}")
        },
        pairs: cfg.pairs,
        clients,
        rate_per_client: cfg.rate,
        offered_per_s: cfg.rate * clients as f64,
        duration_s: cfg.duration.as_secs_f64(),
        window: cfg.window,
        body_len: cfg.body_len,
        ack_latency: Latency::of(&h.ack),
        delivery_latency: Latency::of(&h.delivery),
        drops: cfg.drops,
        server_rss_kib_before: rss_before,
        server_rss_kib_after: rss_after,
        setup_s,
        elapsed_s,
        ..PairsReport::default()
    };
    for o in &outs {
        r.sent += o.sent;
        r.skipped += o.skipped;
        r.acked += o.acked.len() as u64;
        r.acked_per_s += o.acked_in_window as f64;
        r.errors += o.errors;
        r.unacked += o.unacked;
        r.reconnects += o.reconnects;
        for e in &o.error_samples {
            if r.error_samples.len() < 5 {
                r.error_samples
                    .push(format!("pair {} role {}: {e}", o.pair_idx, o.role));
            }
        }
    }
    r.acked_per_s /= cfg.duration.as_secs_f64().max(1e-9);
    if echo {
        r.delivered = r.acked;
        r.lost_delivery = r.unacked;
        return Ok(r);
    }
    // Per pair: what one side acked, the other must have received exactly once, and the
    // history must hold exactly once.
    let mut by_pair: Vec<[Option<&Out>; 2]> = vec![[None, None]; cfg.pairs];
    for o in &outs {
        by_pair[o.pair_idx][o.role] = Some(o);
    }
    for [c, w] in by_pair {
        let (Some(c), Some(w)) = (c, w) else { continue };
        for (sender, receiver) in [(c, w), (w, c)] {
            for (cid, _) in &sender.acked {
                let live = receiver.live.get(cid).copied().unwrap_or(0);
                let caught = receiver.catchup.contains(cid);
                if live == 0 && !caught {
                    r.lost_delivery += 1;
                } else {
                    r.delivered += 1;
                    if caught && live == 0 {
                        r.delivered_catchup += 1;
                    }
                }
            }
            r.dup_delivery += receiver.live.values().filter(|&&n| n > 1).count() as u64;
        }
        if let Some(hist) = &c.history {
            r.chats_verified += 1;
            let mut stored: HashMap<&str, (u32, i64)> = HashMap::new();
            for (cid, seq) in hist {
                if let Some(cid) = cid {
                    let e = stored.entry(cid.as_str()).or_insert((0, *seq));
                    e.0 += 1;
                }
            }
            r.dup_history += stored.values().filter(|(n, _)| *n > 1).count() as u64;
            for (cid, seq) in c.acked.iter().chain(w.acked.iter()) {
                match stored.get(cid.as_str()) {
                    None => r.lost_history += 1,
                    Some((_, s)) if *s != *seq => r.ack_seq_mismatch += 1,
                    _ => {}
                }
            }
            let gap = hist
                .iter()
                .enumerate()
                .any(|(i, (_, seq))| *seq != i as i64 + 1);
            if gap {
                r.seq_gap_chats += 1;
            }
        }
    }
    Ok(r)
}
