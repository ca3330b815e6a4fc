//! idle, storm and max scenarios (pairs/echo/reconnect live in `pairs`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use futures::{SinkExt, StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;

use crate::pairs::{self, Mode, PairsConfig};
use crate::setup::{Target, rss_kib};
use crate::sio::Conn;
use crate::stats::{Latency, new_hist, record};

fn self_rss_kib() -> Option<u64> {
    rss_kib(std::process::id()).ok()
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Keep a joined socket alive (answer pings) until `stop` fires.
async fn hold(conn: Conn, mut stop: watch::Receiver<bool>) {
    let (mut sink, mut stream) = conn.ws.split();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            m = stream.next() => match m {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    if sink.send(Message::text("3")).await.is_err() { break; }
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
    }
    let _ = sink.close().await;
}

#[derive(Clone, Debug)]
pub struct IdleConfig {
    pub sockets: usize,
    pub connect_concurrency: usize,
    pub settle: Duration,
    pub hold: Duration,
    pub server_pid: Option<u32>,
    pub label: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IdleReport {
    pub scenario: String,
    pub label: String,
    pub url: String,
    pub sockets: usize,
    pub joined: usize,
    pub errors: usize,
    pub error_samples: Vec<String>,
    pub connect_s: f64,
    pub server_rss_kib_before: Option<u64>,
    pub server_rss_kib_after: Option<u64>,
    pub server_rss_kib_per_socket: Option<f64>,
    pub tool_rss_kib: Option<u64>,
}

impl IdleReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "idle [{}] {} sockets: {} joined, {} errors, connect+join {:.2} s\n",
            self.label, self.sockets, self.joined, self.errors, self.connect_s
        );
        match (
            self.server_rss_kib_before,
            self.server_rss_kib_after,
            self.server_rss_kib_per_socket,
        ) {
            (Some(b), Some(a), Some(p)) => {
                s += &format!("  server RSS {b} KiB -> {a} KiB  =>  {p:.1} KiB per joined socket\n")
            }
            _ => s += "  server RSS: not measured (give --server-pid of a local server)\n",
        }
        s += &format!("  tool RSS {} KiB", self.tool_rss_kib.unwrap_or(0));
        for e in &self.error_samples {
            s += &format!("\n  error: {e}");
        }
        s
    }
}

pub async fn idle(target: &Target, cfg: &IdleConfig) -> Result<IdleReport> {
    let pairs = target.make_pairs(cfg.sockets.div_ceil(2), 32).await?;
    let users: Vec<(String, String)> = pairs
        .iter()
        .flat_map(|p| {
            [
                (p.customer.token.clone(), p.chat_id.clone()),
                (p.worker.token.clone(), p.chat_id.clone()),
            ]
        })
        .take(cfg.sockets)
        .collect();
    // Let the server settle after the REST setup before the baseline.
    sleep(Duration::from_secs(1)).await;
    let before = cfg.server_pid.and_then(|p| rss_kib(p).ok());
    let (stop, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let url = &target.url;
    let results: Vec<Result<Conn>> = stream::iter(users)
        .map(|(tok, chat)| async move {
            let mut c = Conn::connect(url, &tok).await?;
            c.call("join_chat", &json!({ "chat_id": chat })).await?;
            c.backlog.clear();
            Ok(c)
        })
        .buffer_unordered(cfg.connect_concurrency.max(1))
        .collect()
        .await;
    let connect_s = t0.elapsed().as_secs_f64();
    let mut r = IdleReport {
        scenario: "idle".into(),
        label: cfg.label.clone(),
        url: url.clone(),
        sockets: cfg.sockets,
        connect_s,
        server_rss_kib_before: before,
        ..IdleReport::default()
    };
    let mut tasks = Vec::new();
    for res in results {
        match res {
            Ok(c) => {
                r.joined += 1;
                tasks.push(tokio::spawn(hold(c, stop_rx.clone())));
            }
            Err(e) => {
                r.errors += 1;
                if r.error_samples.len() < 5 {
                    r.error_samples.push(format!("{e:#}"));
                }
            }
        }
    }
    sleep(cfg.settle).await;
    r.server_rss_kib_after = cfg.server_pid.and_then(|p| rss_kib(p).ok());
    r.tool_rss_kib = self_rss_kib();
    if let (Some(b), Some(a)) = (r.server_rss_kib_before, r.server_rss_kib_after)
        && r.joined > 0
    {
        r.server_rss_kib_per_socket = Some((a as f64 - b as f64) / r.joined as f64);
    }
    sleep(cfg.hold).await;
    let _ = stop.send(true);
    let _ = timeout(Duration::from_secs(10), futures::future::join_all(tasks)).await;
    Ok(r)
}

#[derive(Clone, Debug)]
pub struct StormConfig {
    pub clients: usize,
    pub timeout: Duration,
    pub label: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StormReport {
    pub scenario: String,
    pub label: String,
    pub url: String,
    pub clients: usize,
    pub joined: usize,
    pub errors: usize,
    pub error_samples: Vec<String>,
    /// From the start of the storm until the last client joined.
    pub all_joined_s: f64,
    /// Per client: connect + authenticate + join.
    pub join_latency: Latency,
}

impl StormReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "storm [{}] {} clients at once: {} joined, {} errors, all joined after {:.3} s\n  per-client connect+auth+join {}",
            self.label,
            self.clients,
            self.joined,
            self.errors,
            self.all_joined_s,
            self.join_latency.line()
        );
        for e in &self.error_samples {
            s += &format!("\n  error: {e}");
        }
        s
    }
}

pub async fn storm(target: &Target, cfg: &StormConfig) -> Result<StormReport> {
    let pairs = target.make_pairs(cfg.clients.div_ceil(2), 32).await?;
    let users: Vec<(String, String)> = pairs
        .iter()
        .flat_map(|p| {
            [
                (p.customer.token.clone(), p.chat_id.clone()),
                (p.worker.token.clone(), p.chat_id.clone()),
            ]
        })
        .take(cfg.clients)
        .collect();
    sleep(Duration::from_millis(500)).await;
    let (stop, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(users.len());
    for (tok, chat) in users {
        let url = target.url.clone();
        let limit = cfg.timeout;
        tasks.push(tokio::spawn(async move {
            let r = timeout(limit, async {
                let mut c = Conn::connect(&url, &tok).await?;
                c.call("join_chat", &json!({ "chat_id": chat })).await?;
                c.backlog.clear();
                Ok::<_, anyhow::Error>(c)
            })
            .await;
            let dt = t0.elapsed();
            match r {
                Ok(Ok(c)) => Ok((dt, c)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(anyhow::anyhow!("not joined within {limit:?}")),
            }
        }));
    }
    let mut r = StormReport {
        scenario: "storm".into(),
        label: cfg.label.clone(),
        url: target.url.clone(),
        clients: cfg.clients,
        ..StormReport::default()
    };
    let mut h = new_hist();
    let mut held = Vec::new();
    for t in tasks {
        match t.await? {
            Ok((dt, c)) => {
                r.joined += 1;
                record(&mut h, dt.as_micros() as u64);
                r.all_joined_s = r.all_joined_s.max(dt.as_secs_f64());
                held.push(tokio::spawn(hold(c, stop_rx.clone())));
            }
            Err(e) => {
                r.errors += 1;
                if r.error_samples.len() < 5 {
                    r.error_samples.push(format!("{e:#}"));
                }
            }
        }
    }
    r.join_latency = Latency::of(&h);
    let _ = stop.send(true);
    let _ = timeout(Duration::from_secs(10), futures::future::join_all(held)).await;
    Ok(r)
}

#[derive(Clone, Debug)]
pub struct MaxConfig {
    /// Per-step pairs settings (`rate` is overridden by the steps).
    pub base: PairsConfig,
    pub start_rate: f64,
    /// Each step multiplies the per-client rate by this.
    pub factor: f64,
    pub max_steps: usize,
    pub p99_limit_ms: f64,
    pub plot: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MaxStep {
    pub rate_per_client: f64,
    pub offered_per_s: f64,
    pub acked_per_s: f64,
    pub ack_latency: Latency,
    pub delivery_latency: Latency,
    pub ok: bool,
    pub held: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MaxReport {
    pub scenario: String,
    pub label: String,
    pub url: String,
    pub pairs: usize,
    pub step_duration_s: f64,
    pub p99_limit_ms: f64,
    pub steps: Vec<MaxStep>,
    pub max_held_rate_per_client: Option<f64>,
    pub max_held_offered_per_s: Option<f64>,
    pub max_held_acked_per_s: Option<f64>,
}

impl MaxReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "max [{}] {} pairs, {:.0} s per step, limit p99 delivery {} ms\n",
            self.label, self.pairs, self.step_duration_s, self.p99_limit_ms
        );
        for st in &self.steps {
            s += &format!(
                "  offered {:>8.0}/s  acked {:>8.0}/s  delivery p50 {:.2} p95 {:.2} p99 {:.2} max {:.2} ms  {}\n",
                st.offered_per_s,
                st.acked_per_s,
                st.delivery_latency.p50_ms,
                st.delivery_latency.p95_ms,
                st.delivery_latency.p99_ms,
                st.delivery_latency.max_ms,
                if st.held { "held" } else { "NOT held" }
            );
        }
        match self.max_held_offered_per_s {
            Some(o) => {
                s += &format!(
                    "  highest rate held: {o:.0} msg/s offered ({:.0} acked/s, {} msg/s per client)",
                    self.max_held_acked_per_s.unwrap_or(0.0),
                    self.max_held_rate_per_client.unwrap_or(0.0)
                )
            }
            None => s += "  no step held",
        }
        s
    }
}

pub async fn max(mode: &Mode, cfg: &MaxConfig) -> Result<MaxReport> {
    if cfg.factor <= 1.0 {
        bail!("--factor must be > 1");
    }
    let url = match mode {
        Mode::Chat(t) => t.url.clone(),
        Mode::Echo(u) => u.clone(),
    };
    let mut r = MaxReport {
        scenario: "max".into(),
        label: cfg.base.label.clone(),
        url,
        pairs: cfg.base.pairs,
        step_duration_s: cfg.base.duration.as_secs_f64(),
        p99_limit_ms: cfg.p99_limit_ms,
        ..MaxReport::default()
    };
    let mut rate = cfg.start_rate;
    for _ in 0..cfg.max_steps {
        let mut pc = cfg.base.clone();
        pc.rate = rate;
        let rep = pairs::run(&pc, mode).await?;
        eprintln!("{}", rep.summary());
        let held = rep.ok()
            && rep.delivery_latency.p99_ms <= cfg.p99_limit_ms
            && rep.acked_per_s >= 0.95 * rep.offered_per_s;
        r.steps.push(MaxStep {
            rate_per_client: rate,
            offered_per_s: rep.offered_per_s,
            acked_per_s: rep.acked_per_s,
            ack_latency: rep.ack_latency.clone(),
            delivery_latency: rep.delivery_latency.clone(),
            ok: rep.ok(),
            held,
        });
        if held {
            r.max_held_rate_per_client = Some(rate);
            r.max_held_offered_per_s = Some(rep.offered_per_s);
            r.max_held_acked_per_s = Some(rep.acked_per_s);
        } else {
            break;
        }
        rate = (rate * cfg.factor * 100.0).round() / 100.0;
        // Let the server flush and settle between steps.
        sleep(Duration::from_secs(1)).await;
    }
    Ok(r)
}
