//! Several nodes: the Redis connection they share, Socket.IO fan-out over it ([`Bus`]) and cache
//! invalidation. Presence, typing and rate limits keep their Redis halves beside their local
//! ones (`realtime::presence`, `realtime::typing`, `service::limits`). Without `REDIS_URL` there
//! is one node and all of it stays in-process; the handlers are the same either way.

mod bus;
mod health;
mod invalidate;

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, RwLock},
    time::Duration,
};

use redis::{
    Client, ProtocolVersion, PushInfo, PushKind, RedisError,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use tokio::sync::mpsc;

pub use bus::{Bus, BusError};
pub use health::Health;
pub use invalidate::{Forget, Invalidations};

/// A message from a subscribed channel: (channel, payload).
pub type ChanItem = (String, Vec<u8>);

/// Where messages of each subscribed channel go.
type Routes = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// How long a request path waits for Redis before it carries on without it.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(thiserror::Error, Debug)]
pub enum ClusterError {
    #[error("{0}")]
    Redis(#[from] RedisError),
    #[error("Redis {0} is too old: 7 or newer is needed (RESP3 pub/sub)")]
    TooOld(String),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Redis is unreachable")]
    Down,
}

/// One node's connection to Redis: commands and pub/sub over one multiplexed RESP3
/// connection that reconnects and resubscribes by itself.
#[derive(Clone)]
pub struct Redis {
    conn: ConnectionManager,
    routes: Routes,
    prefix: Arc<str>,
    /// This process, as other nodes see it in shared state.
    node: Arc<str>,
    pub health: Arc<Health>,
}

/// `REDIS_URL` with RESP3 asked for (socketioxide's pub/sub needs push messages).
fn resp3_url(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// Whether `url` can be used as `REDIS_URL` (checked at start, before connecting).
pub fn check_url(url: &str) -> Result<(), String> {
    let client = Client::open(resp3_url(url).as_str()).map_err(|e| e.to_string())?;
    if client.get_connection_info().redis_settings().protocol() != ProtocolVersion::RESP3 {
        return Err("protocol must be resp3".into());
    }
    Ok(())
}

fn route(routes: &Routes, msg: PushInfo) {
    if !matches!(msg.kind, PushKind::Message) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(payload)) = (
        redis::from_redis_value::<String>(chan),
        redis::from_redis_value::<Vec<u8>>(payload),
    ) else {
        return;
    };
    let Ok(routes) = routes.read() else { return };
    if let Some(tx) = routes.get(&chan)
        && tx.try_send((chan, payload)).is_err()
    {
        // The adapter's consumer is behind: dropping beats blocking Redis' reader. Clients
        // catch up by seq.
        metrics::counter!("omw_redis_dropped_total").increment(1);
    }
}

impl Redis {
    /// Connect, check the server version, and start watching its health.
    pub async fn connect(url: &str, prefix: &str) -> Result<Redis, ClusterError> {
        let client = Client::open(resp3_url(url).as_str())?;
        let routes: Routes = Arc::default();
        let push_routes = routes.clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            // Reconnecting is driven by the health check every second; no long retry loops
            // inside a request.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500))
            .set_automatic_resubscription()
            .set_push_sender(move |msg: PushInfo| {
                route(&push_routes, msg);
                Ok::<(), redis::aio::SendError>(())
            });
        let mut conn = tokio::time::timeout(
            Duration::from_secs(10),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| ClusterError::Timeout(Duration::from_secs(10)))??;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await?;
        let version = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("0")
            .trim()
            .to_string();
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major < 7 {
            return Err(ClusterError::TooOld(version));
        }
        let redis = Redis {
            conn,
            routes,
            prefix: prefix.into(),
            node: uuid::Uuid::new_v4().to_string().into(),
            health: Arc::new(Health::new()),
        };
        Ok(redis)
    }

    /// A key (or channel) in this deployment's namespace.
    pub fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Run one Redis operation for a request path: skipped at once while Redis is known to be
    /// down, bounded in time, and counted.
    pub async fn call<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, ClusterError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        if !self.health.is_up() {
            return Err(ClusterError::Down);
        }
        match tokio::time::timeout(CALL_TIMEOUT, f(self.conn.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.health.failed(op, &e);
                Err(e.into())
            }
            Err(_) => {
                let e = ClusterError::Timeout(CALL_TIMEOUT);
                self.health.failed(op, &e);
                Err(e)
            }
        }
    }

    /// Publish to a channel for a request path; false if it could not be sent (counted).
    pub async fn publish(&self, op: &'static str, chan: String, payload: Vec<u8>) -> bool {
        let sent = self
            .call(op, |mut c| async move {
                redis::cmd("PUBLISH")
                    .arg(chan)
                    .arg(payload)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await;
        if sent.is_err() {
            metrics::counter!("omw_redis_publish_skipped_total", "op" => op).increment(1);
        }
        sent.is_ok()
    }

    /// Deliver messages of `chan` to a new stream.
    pub async fn subscribe(
        &self,
        chan: String,
        buffer: usize,
    ) -> Result<mpsc::Receiver<ChanItem>, RedisError> {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        if let Ok(mut routes) = self.routes.write() {
            routes.insert(chan.clone(), tx);
        }
        self.conn.clone().subscribe(&chan).await?;
        Ok(rx)
    }

    pub async fn unsubscribe(&self, chan: String) -> Result<(), RedisError> {
        if let Ok(mut routes) = self.routes.write() {
            routes.remove(&chan);
        }
        self.conn.clone().unsubscribe(&chan).await
    }

    /// Ping every second: notices outages and recoveries (logged, `omw_redis_up`) and makes
    /// the connection manager reconnect (and resubscribe) as soon as Redis is back.
    pub fn spawn_health_check(&self) -> tokio::task::JoinHandle<()> {
        let redis = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let mut conn = redis.conn.clone();
                let ping = tokio::time::timeout(
                    Duration::from_secs(2),
                    redis::cmd("PING").query_async::<String>(&mut conn),
                )
                .await;
                match ping {
                    Ok(Ok(_)) => redis.health.ok(),
                    Ok(Err(e)) => redis.health.failed("ping", &e),
                    Err(_) => redis.health.failed("ping", &"timeout"),
                }
            }
        })
    }
}
