//! Test fixtures against any omw-chat server: bookings through the platform API, HS256 tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt, stream};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

/// Where the server is and how to act as the platform and mint user tokens.
#[derive(Clone, Debug)]
pub struct Target {
    /// `http://127.0.0.1:5001`
    pub url: String,
    /// Where workers connect, when not `url` (another node of the same deployment).
    pub worker_url: Option<String>,
    pub platform_key: String,
    pub jwt_secret: String,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// One booking chat with its two participants.
#[derive(Clone, Debug)]
pub struct Pair {
    pub booking_id: String,
    pub chat_id: String,
    pub customer: User,
    pub worker: User,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    role: &'a str,
    name: &'a str,
    iat: u64,
    exp: u64,
}

pub fn mint(secret: &str, sub: &str, role: &str, name: &str, ttl_secs: u64) -> Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = Claims {
        sub,
        role,
        name,
        iat: now,
        exp: now + ttl_secs,
    };
    Ok(jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// A per-process random tag so repeated runs against one database never collide.
pub fn run_tag() -> String {
    format!("{:08x}", rand::random::<u32>())
}

impl Target {
    async fn put_booking(&self, http: &reqwest::Client, id: &str, body: &Value) -> Result<Value> {
        let url = format!(
            "{}/api/v1/platform/bookings/{id}",
            self.url.trim_end_matches('/')
        );
        let res = http
            .put(&url)
            .bearer_auth(&self.platform_key)
            .json(body)
            .send()
            .await
            .with_context(|| format!("PUT {url}"))?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("PUT {url}: {status} {v}");
        }
        Ok(v)
    }

    /// `n` accepted bookings (each with its chat), `concurrency` requests at a time.
    pub async fn make_pairs(&self, n: usize, concurrency: usize) -> Result<Vec<Pair>> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()?;
        let tag = run_tag();
        let http = &http;
        let tag = &tag;
        let mut pairs: Vec<(usize, Pair)> = stream::iter(0..n)
            .map(|i| async move {
                let booking_id = format!("bench-{tag}-b{i}");
                let cust = format!("bench-{tag}-c{i}");
                let work = format!("bench-{tag}-w{i}");
                let body = json!({
                    "customer": {"id": cust, "name": format!("Customer {i}")},
                    "worker": {"id": work, "name": format!("Worker {i}")},
                    "status": "accepted",
                });
                let v = self.put_booking(http, &booking_id, &body).await?;
                let chat_id = v["chat"]["id"]
                    .as_str()
                    .with_context(|| format!("no chat in platform answer: {v}"))?
                    .to_string();
                let ttl = 6 * 3600;
                Ok::<_, anyhow::Error>((
                    i,
                    Pair {
                        booking_id,
                        chat_id,
                        customer: User {
                            token: mint(&self.jwt_secret, &cust, "customer", "Customer", ttl)?,
                            id: cust,
                        },
                        worker: User {
                            token: mint(&self.jwt_secret, &work, "worker", "Worker", ttl)?,
                            id: work,
                        },
                    },
                ))
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        pairs.sort_by_key(|(i, _)| *i);
        Ok(pairs.into_iter().map(|(_, p)| p).collect())
    }
}

/// VmRSS of a local process in KiB (from `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    for line in s.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kb = rest
                .split_whitespace()
                .next()
                .context("VmRSS value")?
                .parse()?;
            return Ok(kb);
        }
    }
    bail!("no VmRSS in /proc/{pid}/status")
}

/// Raise the soft open-files limit to the hard limit; returns (soft, hard) after.
pub fn raise_nofile_limit() -> (u64, u64) {
    // SAFETY: getrlimit/setrlimit with a valid, initialised struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return (0, 0);
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r = want;
            }
        }
        (r.rlim_cur, r.rlim_max)
    }
}
