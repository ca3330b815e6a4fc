//! Configuration from the environment (the seed's names first), validated at start.
//!
//! A bad or missing required value stops the start with one line naming the variable.

use std::{net::IpAddr, path::PathBuf, time::Duration};

use thiserror::Error;

use crate::auth::jwt::JwtSettings;
pub use crate::auth::keys::JwtKey;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("configuration: {var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn bad(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

#[derive(Debug, Clone)]
pub struct RateLimits {
    /// `send_message` (and REST sends) per user per window.
    pub messages: u32,
    pub messages_window: Duration,
    /// Every other client event per user per window.
    pub events: u32,
    pub events_window: Duration,
}

/// What one upload, and uploads together, may cost.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Bytes of one user's uploads not yet sent in a message.
    pub quota_user_bytes: u64,
    /// Bytes of one chat's uploads not yet sent in a message.
    pub quota_chat_bytes: u64,
    /// Pixels of all a GIF's frames together.
    pub max_gif_pixels: u64,
    /// Images decoded at once.
    pub concurrent_decodes: usize,
    /// Memory all image decodes may use together.
    pub decode_memory_bytes: u64,
    /// How long an upload waits for a decode slot before `unavailable`.
    pub decode_wait: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    /// Allowed browser origins for Socket.IO and REST CORS; `["*"]` allows any.
    pub cors_origins: Vec<String>,
    pub jwt_key: JwtKey,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub database_url: String,
    pub db_max_connections: u32,
    pub redis_url: Option<String>,
    /// Namespace of this deployment's Redis keys and channels.
    pub redis_prefix: String,
    pub upload_dir: PathBuf,
    pub storage_url: Option<String>,
    pub max_upload_bytes: u64,
    pub uploads: UploadLimits,
    pub chat_retention: Duration,
    /// Wait after a failed chat deletion; doubled with each further failure.
    pub purge_retry_backoff: Duration,
    /// Longest wait between attempts to delete a chat.
    pub purge_retry_max: Duration,
    /// Pauses that force races in tests (`OMW_TEST_*`); zero otherwise.
    pub test_hooks: TestHooks,
    pub platform_api_key: String,
    pub rate_limits: RateLimits,
    /// Largest Socket.IO / Engine.IO message accepted, in bytes.
    pub max_socket_payload: u64,
    pub demo: bool,
    /// `WEB_DIR`: a folder with a built web client served at `/` in demo mode instead of the
    /// one embedded in the binary.
    pub web_dir: Option<PathBuf>,
    /// `LOG_FORMAT`: text for people, JSON lines for log collectors.
    pub log_format: LogFormat,
    /// HTTP timeouts, connection caps and the JWT clock leeway (see [`ServerLimits`]).
    pub server: ServerLimits,
    /// The outbox's job runner (see [`JobSettings`]).
    pub jobs: JobSettings,
    /// Where signed webhooks go (`<NAME>_WEBHOOK_URL` / `_SECRET`), each at most once.
    pub webhooks: Vec<WebhookTarget>,
    /// `WEBHOOK_TIMEOUT`: how long one delivery attempt may take.
    pub webhook_timeout: Duration,
    /// `NOTIFY_DELAYS`: the notification ladder's delays per urgency.
    pub notify_delays: omw_domain::ladder::Delays,
    /// Web Push: the VAPID key and subject, and which endpoints are accepted.
    pub push: PushSettings,
    /// Encryption at rest (SPEC §9.6).
    pub encryption: EncryptionSettings,
    /// `TRANSCRIPT_SIGNING_KEY_FILE`: the Ed25519 key that signs transcripts (SPEC §9.7);
    /// `None` uses `./data/transcript-signing.pem`, created on first start.
    pub transcript_key_file: Option<PathBuf>,
    /// Where `transcript_key_file` is created when unset.
    pub default_transcript_key_file: PathBuf,
}

/// Encryption at rest (SPEC §9.6).
#[derive(Debug, Clone)]
pub struct EncryptionSettings {
    /// `ENCRYPTION`: whether new chats are stored encrypted (`off` still reads those that are).
    pub enabled: bool,
    /// `ENCRYPTION_KEY_FILE`; `None` uses `./data/encryption.key`, created on first start.
    pub key_file: Option<PathBuf>,
    pub default_key_file: PathBuf,
}

impl EncryptionSettings {
    fn load(env: &dyn Env, data_dir: &std::path::Path) -> Result<Self, ConfigError> {
        let enabled = match env.get("ENCRYPTION").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(_) => return Err(bad("ENCRYPTION", "must be on or off")),
        };
        Ok(EncryptionSettings {
            enabled,
            key_file: env.get("ENCRYPTION_KEY_FILE").map(PathBuf::from),
            default_key_file: data_dir.join("encryption.key"),
        })
    }

    /// As `serve` reads them, alone (for `omw-chat keys`).
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Self::load(env, std::path::Path::new("./data"))
    }

    /// The key file in use.
    pub fn path(&self) -> &std::path::Path {
        self.key_file.as_deref().unwrap_or(&self.default_key_file)
    }
}

/// Web Push (SPEC §9.2).
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// `VAPID_PRIVATE_KEY_FILE`: the VAPID signing key (P-256, PEM); `None` uses
    /// `./data/vapid.pem`, created on first start.
    pub vapid_key_file: Option<PathBuf>,
    /// Where `vapid_key_file` is created when unset.
    pub default_key_file: PathBuf,
    /// `VAPID_SUBJECT`: how push services reach the operator (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// `PUSH_ALLOW_INSECURE_ENDPOINTS`: accept `http` endpoints and local addresses (tests).
    pub allow_insecure_endpoints: bool,
}

impl PushSettings {
    fn load(env: &dyn Env, data_dir: &std::path::Path) -> Result<Self, ConfigError> {
        let vapid_subject = env
            .get("VAPID_SUBJECT")
            .unwrap_or_else(|| DEFAULT_VAPID_SUBJECT.to_string());
        if !(vapid_subject.starts_with("mailto:") || vapid_subject.starts_with("https://")) {
            return Err(bad("VAPID_SUBJECT", "must be a mailto: or https: URL"));
        }
        Ok(PushSettings {
            vapid_key_file: env.get("VAPID_PRIVATE_KEY_FILE").map(PathBuf::from),
            default_key_file: data_dir.join("vapid.pem"),
            vapid_subject,
            allow_insecure_endpoints: flag(env, "PUSH_ALLOW_INSECURE_ENDPOINTS", false)?,
        })
    }
}

/// What `VAPID_SUBJECT` is when unset: a placeholder that push services accept; operators set
/// their own contact.
pub const DEFAULT_VAPID_SUBJECT: &str = "mailto:push@omw-chat.invalid";

/// A `true`/`false` (or `1`/`0`) variable.
fn flag(env: &dyn Env, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env.get(var).as_deref() {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(bad(var, "must be true or false")),
    }
}

/// How the job runner claims and retries the outbox's jobs.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `JOBS_POLL`: how often each node looks for due jobs; a due job waits at most this long.
    pub poll: Duration,
    /// `JOBS_LEASE`: how long a claimed job stays this node's; a node that dies mid-job loses it
    /// to another after this long.
    pub lease: Duration,
    /// Jobs claimed (and run concurrently) at once.
    pub batch: u32,
    /// `JOBS_MAX_ATTEMPTS`: tries before a failing job is dropped.
    pub max_attempts: u32,
    /// `JOBS_RETRY_BACKOFF`, `JOBS_RETRY_MAX`: wait after a failed try, doubled per further
    /// failure up to the second.
    pub retry_backoff: Duration,
    pub retry_max: Duration,
}

impl JobSettings {
    fn load(env: &dyn Env) -> Result<Self, ConfigError> {
        let max_attempts = parse_num(env, "JOBS_MAX_ATTEMPTS", 20u32)?;
        if max_attempts == 0 {
            return Err(bad("JOBS_MAX_ATTEMPTS", "must be positive"));
        }
        Ok(JobSettings {
            poll: positive_duration(env, "JOBS_POLL", Duration::from_secs(1))?,
            lease: positive_duration(env, "JOBS_LEASE", Duration::from_secs(60))?,
            batch: 32,
            max_attempts,
            retry_backoff: positive_duration(env, "JOBS_RETRY_BACKOFF", Duration::from_secs(10))?,
            retry_max: positive_duration(env, "JOBS_RETRY_MAX", Duration::from_secs(3600))?,
        })
    }
}

/// One webhook receiver of the platform's: `<NAME>_WEBHOOK_URL` and the secret that signs what
/// is sent there, `<NAME>_WEBHOOK_SECRET`.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// `notify`, `booking` or `moderation`.
    pub name: &'static str,
    pub url: String,
    pub secret: String,
}

/// The webhooks of SPEC §9 this server sends, by name: `notify` (the notification ladder's
/// e-mail/SMS step). Booking actions (`BOOKING_…`) and reports (`MODERATION_…`) add theirs here.
pub const WEBHOOKS: [(&str, &str, &str); 1] =
    [("notify", "NOTIFY_WEBHOOK_URL", "NOTIFY_WEBHOOK_SECRET")];

/// `NOTIFY_DELAYS`: `high=10s/2m,normal=1m/15m,low=5m/1h` — per urgency, the push delay and
/// the webhook delay, both from the message that started the ladder. An urgency left out keeps
/// its default.
fn notify_delays(env: &dyn Env) -> Result<omw_domain::ladder::Delays, ConfigError> {
    const VAR: &str = "NOTIFY_DELAYS";
    let mut delays = omw_domain::ladder::Delays::default();
    let Some(v) = env.get(VAR) else {
        return Ok(delays);
    };
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let shape = || {
            bad(
                VAR,
                format!("expected urgency=push/webhook, such as high=10s/2m: {part:?}"),
            )
        };
        let (urgency, steps) = part.split_once('=').ok_or_else(shape)?;
        let (push, webhook) = steps.split_once('/').ok_or_else(shape)?;
        let steps = omw_domain::ladder::Steps {
            push: omw_domain::time::millis_of(parse_duration(VAR, push)?),
            webhook: omw_domain::time::millis_of(parse_duration(VAR, webhook)?),
        };
        match urgency.trim() {
            "high" => delays.high = steps,
            "normal" => delays.normal = steps,
            "low" => delays.low = steps,
            other => {
                return Err(bad(
                    VAR,
                    format!("urgency is high, normal or low, not {other:?}"),
                ));
            }
        }
    }
    Ok(delays)
}

/// Shortest accepted webhook secret: 128 bits.
pub const MIN_WEBHOOK_SECRET_BYTES: usize = 16;

fn webhook_targets(env: &dyn Env) -> Result<Vec<WebhookTarget>, ConfigError> {
    let mut out = Vec::new();
    for (name, url_var, secret_var) in WEBHOOKS {
        let (url, secret) = (env.get(url_var), env.get(secret_var));
        let Some(url) = url else {
            continue;
        };
        let url = url.trim().to_string();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(bad(url_var, format!("not an http(s) URL: {url:?}")));
        }
        let secret = secret.ok_or_else(|| bad(secret_var, format!("required with {url_var}")))?;
        if secret.len() < MIN_WEBHOOK_SECRET_BYTES {
            return Err(bad(
                secret_var,
                format!("at least {MIN_WEBHOOK_SECRET_BYTES} bytes"),
            ));
        }
        out.push(WebhookTarget { name, url, secret });
    }
    Ok(out)
}

/// Pauses a test can set to hold one side of a race open. Not for production.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestHooks {
    /// `join_chat`: between reading the chat and joining its room.
    pub join_delay: Duration,
    /// The writer: before broadcasting each written batch.
    pub announce_delay: Duration,
    /// A handshake: while it holds its admission turn.
    pub handshake_delay: Duration,
    /// A chat deletion: between starting (no hold accepted from then on) and deleting.
    pub purge_delay: Duration,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line, with the fields of the event and of its spans.
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// `LOG_FORMAT`: `text` (default) or `json`.
pub fn log_format(env: &dyn Env) -> Result<LogFormat, ConfigError> {
    match env.get("LOG_FORMAT").map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(LogFormat::Text),
        Some(v) if v == "text" => Ok(LogFormat::Text),
        Some(v) if v == "json" => Ok(LogFormat::Json),
        Some(v) => Err(bad("LOG_FORMAT", format!("text or json, not {v:?}"))),
    }
}

/// Reads variables; a trait so tests can feed a map instead of the process environment.
pub trait Env {
    fn get(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn get(&self, key: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

fn parse_num<T: std::str::FromStr>(
    env: &dyn Env,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match env.get(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| bad(var, format!("not a valid number: {v:?}"))),
    }
}

/// `0`, `90` (seconds), or a human duration such as `30s`, `15m`, `24h`, `7d`.
pub fn parse_duration(var: &'static str, v: &str) -> Result<Duration, ConfigError> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(v).map_err(|e| bad(var, format!("not a duration ({e}): {v:?}")))
}

fn duration(env: &dyn Env, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    env.get(var)
        .map_or(Ok(default), |v| parse_duration(var, &v))
}

/// A duration that must be above zero (a timer of 0 would fire at once, or never wait).
fn positive_duration(
    env: &dyn Env,
    var: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let d = duration(env, var, default)?;
    if d.is_zero() {
        return Err(bad(var, "must be positive"));
    }
    Ok(d)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `DATABASE_URL`, else the seed's `DB_HOST/DB_USER/DB_PASSWORD/DB_NAME` (MySQL/MariaDB), else
/// an SQLite file under `./data`.
pub fn database_url(env: &dyn Env) -> Result<String, ConfigError> {
    if let Some(url) = env.get("DATABASE_URL") {
        omw_storage::Backend::from_url(&url).map_err(|e| bad("DATABASE_URL", e.to_string()))?;
        return Ok(url);
    }
    if let Some(host) = env.get("DB_HOST") {
        let user = env
            .get("DB_USER")
            .ok_or_else(|| bad("DB_USER", "required with DB_HOST"))?;
        let name = env
            .get("DB_NAME")
            .ok_or_else(|| bad("DB_NAME", "required with DB_HOST"))?;
        let password = env.get("DB_PASSWORD").unwrap_or_default();
        let port = parse_num(env, "DB_PORT", 3306u16)?;
        let auth = if password.is_empty() {
            percent_encode(&user)
        } else {
            format!("{}:{}", percent_encode(&user), percent_encode(&password))
        };
        return Ok(format!(
            "mysql://{auth}@{host}:{port}/{}",
            percent_encode(&name)
        ));
    }
    Ok("sqlite://./data/omw-chat.db".to_string())
}

fn positive<T: std::str::FromStr + PartialEq + Default>(
    env: &dyn Env,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    let v = parse_num(env, var, default)?;
    if v == T::default() {
        return Err(bad(var, "must be positive"));
    }
    Ok(v)
}

fn upload_limits(env: &dyn Env) -> Result<UploadLimits, ConfigError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(UploadLimits {
        quota_user_bytes: positive(env, "UPLOAD_QUOTA_USER_BYTES", 100 * 1024 * 1024u64)?,
        quota_chat_bytes: positive(env, "UPLOAD_QUOTA_CHAT_BYTES", 200 * 1024 * 1024u64)?,
        max_gif_pixels: positive(env, "MAX_GIF_PIXELS", 100_000_000u64)?,
        concurrent_decodes: positive(env, "MAX_CONCURRENT_DECODES", cores)?,
        decode_memory_bytes: positive(env, "DECODE_MEMORY_BYTES", 1024 * 1024 * 1024u64)?,
        decode_wait: duration(env, "DECODE_WAIT", Duration::from_secs(10))?,
    })
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Config {
    pub fn from_env(demo: bool) -> Result<Config, ConfigError> {
        Self::load(&ProcessEnv, demo)
    }

    /// What the token verifier needs (`auth::jwt::JwtVerifier::new`).
    pub fn jwt(&self) -> JwtSettings {
        JwtSettings {
            key: self.jwt_key.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway: self.server.jwt_leeway,
        }
    }

    pub fn load(env: &dyn Env, demo: bool) -> Result<Config, ConfigError> {
        let port = parse_num(env, "PORT", 5001u16)?;
        let host = parse_num(env, "HOST", IpAddr::from([0, 0, 0, 0]))?;

        let jwt_key = match (env.get("JWT_PUBLIC_KEY_FILE"), env.get("JWT_SECRET")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "JWT_PUBLIC_KEY_FILE",
                    "set either JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both",
                ));
            }
            (Some(path), None) => {
                let pem = std::fs::read(&path)
                    .map_err(|e| bad("JWT_PUBLIC_KEY_FILE", format!("{path}: {e}")))?;
                crate::auth::keys::check_public_key(&pem)
                    .map_err(|e| bad("JWT_PUBLIC_KEY_FILE", e))?;
                JwtKey::PublicKeyPem(pem)
            }
            // HS256 is only as strong as its secret (RFC 7518 §3.2: at least the hash size).
            (None, Some(secret)) if secret.len() < MIN_JWT_SECRET_BYTES => {
                return Err(bad(
                    "JWT_SECRET",
                    format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
                ));
            }
            (None, Some(secret)) => JwtKey::Secret(secret.into_bytes()),
            (None, None) if demo => JwtKey::Secret(random_secret().into_bytes()),
            (None, None) => return Err(bad("JWT_SECRET", "required (or JWT_PUBLIC_KEY_FILE)")),
        };

        let platform_api_key = match env.get("PLATFORM_API_KEY") {
            Some(k) if k.len() < 16 => {
                return Err(bad("PLATFORM_API_KEY", "must be at least 16 characters"));
            }
            Some(k) => k,
            None if demo => random_secret(),
            None => return Err(bad("PLATFORM_API_KEY", "required")),
        };

        let cors_origins = match env.get("SOCKET_CORS_ORIGIN") {
            Some(list) => {
                let origins: Vec<String> = list
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect();
                for o in &origins {
                    if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
                        return Err(bad("SOCKET_CORS_ORIGIN", format!("not an origin: {o:?}")));
                    }
                }
                origins
            }
            None => vec![
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
                "http://localhost:3000".to_string(),
            ],
        };

        let max_upload_bytes = parse_num(env, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024u64)?;
        if max_upload_bytes == 0 {
            return Err(bad("MAX_UPLOAD_BYTES", "must be positive"));
        }
        let uploads = upload_limits(env)?;
        let db_max_connections = parse_num(env, "DB_MAX_CONNECTIONS", 10u32)?;
        if db_max_connections == 0 {
            return Err(bad("DB_MAX_CONNECTIONS", "must be positive"));
        }
        let messages = parse_num(env, "RATE_LIMIT_MESSAGES", 20u32)?;
        let events = parse_num(env, "RATE_LIMIT_EVENTS", 120u32)?;
        if messages == 0 {
            return Err(bad("RATE_LIMIT_MESSAGES", "must be positive"));
        }
        if events == 0 {
            return Err(bad("RATE_LIMIT_EVENTS", "must be positive"));
        }
        let rate_limits = RateLimits {
            messages,
            messages_window: duration(env, "RATE_LIMIT_WINDOW", Duration::from_secs(10))?,
            events,
            events_window: duration(env, "RATE_LIMIT_EVENTS_WINDOW", Duration::from_secs(10))?,
        };

        let jobs = JobSettings::load(env)?;
        let webhook_timeout = positive_duration(env, "WEBHOOK_TIMEOUT", Duration::from_secs(10))?;
        // A lease that can run out mid-delivery would let a second node send the same webhook
        // while the first still waits for its answer; twice the timeout leaves room for the
        // claim and the settle around it.
        if jobs.lease < webhook_timeout.saturating_mul(2) {
            return Err(bad("JOBS_LEASE", "must be at least twice WEBHOOK_TIMEOUT"));
        }

        let data_dir = PathBuf::from("./data");
        let encryption = EncryptionSettings::load(env, &data_dir)?;
        // Nodes that made a key each would not read each other's chats.
        if env.get("REDIS_URL").is_some() && encryption.enabled && encryption.key_file.is_none() {
            return Err(bad(
                "ENCRYPTION_KEY_FILE",
                "required with REDIS_URL: every node needs the same key file",
            ));
        }
        Ok(Config {
            host,
            port,
            cors_origins,
            jwt_key,
            jwt_issuer: env.get("JWT_ISSUER"),
            jwt_audience: env.get("JWT_AUDIENCE"),
            database_url: database_url(env)?,
            db_max_connections,
            redis_url: match env.get("REDIS_URL") {
                Some(url) => {
                    crate::cluster::check_url(&url).map_err(|e| bad("REDIS_URL", e))?;
                    Some(url)
                }
                None => None,
            },
            redis_prefix: env
                .get("REDIS_PREFIX")
                .unwrap_or_else(|| "omw-chat".to_string()),
            upload_dir: env
                .get("UPLOAD_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("uploads")),
            storage_url: match env.get("STORAGE_URL") {
                Some(url) => {
                    crate::files::Files::s3(&url).map_err(|e| bad("STORAGE_URL", e))?;
                    Some(url)
                }
                None => None,
            },
            max_upload_bytes,
            uploads,
            chat_retention: duration(env, "CHAT_RETENTION", Duration::ZERO)?,
            purge_retry_backoff: positive_duration(
                env,
                "PURGE_RETRY_BACKOFF",
                Duration::from_secs(30),
            )?,
            test_hooks: TestHooks {
                join_delay: Duration::from_millis(parse_num(env, "OMW_TEST_JOIN_DELAY_MS", 0)?),
                announce_delay: Duration::from_millis(parse_num(
                    env,
                    "OMW_TEST_ANNOUNCE_DELAY_MS",
                    0,
                )?),
                handshake_delay: Duration::from_millis(parse_num(
                    env,
                    "OMW_TEST_HANDSHAKE_DELAY_MS",
                    0,
                )?),
                purge_delay: Duration::from_millis(parse_num(env, "OMW_TEST_PURGE_DELAY_MS", 0)?),
            },
            purge_retry_max: positive_duration(env, "PURGE_RETRY_MAX", Duration::from_secs(3600))?,
            platform_api_key,
            rate_limits,
            max_socket_payload: parse_num(env, "MAX_SOCKET_PAYLOAD_BYTES", 64 * 1024u64)?,
            demo,
            // The demo serves the web client embedded in the binary unless this names another.
            web_dir: env.get("WEB_DIR").map(PathBuf::from),
            log_format: log_format(env)?,
            server: ServerLimits::load(env)?,
            jobs,
            webhooks: webhook_targets(env)?,
            webhook_timeout,
            notify_delays: notify_delays(env)?,
            push: PushSettings::load(env, &data_dir)?,
            encryption,
            transcript_key_file: env.get("TRANSCRIPT_SIGNING_KEY_FILE").map(PathBuf::from),
            default_transcript_key_file: data_dir.join("transcript-signing.pem"),
        })
    }
}

// ---- The effective configuration, for `omw-chat check-config` --------------------------------

/// What a secret prints as.
const REDACTED: &str = "***";

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl Config {
    /// Every setting as `(NAME, value)`, in the order of the README's configuration table,
    /// secrets redacted: `JWT_SECRET` and `PLATFORM_API_KEY` as `***`, passwords inside
    /// `DATABASE_URL` / `REDIS_URL` / `STORAGE_URL` masked; the AWS credentials are not listed.
    /// `env` supplies the variables read elsewhere (`RUST_LOG`).
    pub fn effective(&self, env: &dyn Env) -> Vec<(&'static str, String)> {
        let or_unset = |v: Option<String>| v.unwrap_or_default();
        let (secret, key_file) = match &self.jwt_key {
            JwtKey::Secret(_) => (REDACTED.to_string(), String::new()),
            JwtKey::PublicKeyPem(_) => (String::new(), or_unset(env.get("JWT_PUBLIC_KEY_FILE"))),
        };
        let s = &self.server;
        let mut lines = vec![
            ("PORT", self.port.to_string()),
            ("HOST", self.host.to_string()),
            ("SOCKET_CORS_ORIGIN", self.cors_origins.join(",")),
            ("JWT_SECRET", secret),
            ("JWT_PUBLIC_KEY_FILE", key_file),
            ("JWT_ISSUER", or_unset(self.jwt_issuer.clone())),
            ("JWT_AUDIENCE", or_unset(self.jwt_audience.clone())),
            ("JWT_LEEWAY", human(s.jwt_leeway)),
            ("DATABASE_URL", redact(&self.database_url)),
            ("DB_MAX_CONNECTIONS", self.db_max_connections.to_string()),
            ("REDIS_URL", or_unset(self.redis_url.as_deref().map(redact))),
            ("REDIS_PREFIX", self.redis_prefix.clone()),
            ("UPLOAD_DIR", self.upload_dir.display().to_string()),
            (
                "STORAGE_URL",
                or_unset(self.storage_url.as_deref().map(redact)),
            ),
            ("MAX_UPLOAD_BYTES", self.max_upload_bytes.to_string()),
            (
                "UPLOAD_QUOTA_USER_BYTES",
                self.uploads.quota_user_bytes.to_string(),
            ),
            (
                "UPLOAD_QUOTA_CHAT_BYTES",
                self.uploads.quota_chat_bytes.to_string(),
            ),
            ("MAX_GIF_PIXELS", self.uploads.max_gif_pixels.to_string()),
            (
                "MAX_CONCURRENT_DECODES",
                self.uploads.concurrent_decodes.to_string(),
            ),
            (
                "DECODE_MEMORY_BYTES",
                self.uploads.decode_memory_bytes.to_string(),
            ),
            ("DECODE_WAIT", human(self.uploads.decode_wait)),
            ("CHAT_RETENTION", human(self.chat_retention)),
            ("PURGE_RETRY_BACKOFF", human(self.purge_retry_backoff)),
            ("PURGE_RETRY_MAX", human(self.purge_retry_max)),
            ("PLATFORM_API_KEY", REDACTED.to_string()),
            ("RATE_LIMIT_MESSAGES", self.rate_limits.messages.to_string()),
            ("RATE_LIMIT_WINDOW", human(self.rate_limits.messages_window)),
            ("RATE_LIMIT_EVENTS", self.rate_limits.events.to_string()),
            (
                "RATE_LIMIT_EVENTS_WINDOW",
                human(self.rate_limits.events_window),
            ),
            (
                "MAX_SOCKET_PAYLOAD_BYTES",
                self.max_socket_payload.to_string(),
            ),
            ("HTTP_HEADER_TIMEOUT", human(s.header_timeout)),
            ("HTTP_BODY_TIMEOUT", human(s.body_timeout)),
            ("HTTP_IDLE_TIMEOUT", human(s.idle_timeout)),
            ("MAX_CONNECTIONS", s.max_connections.to_string()),
            ("MAX_HTTP_CONNECTIONS", s.max_http_connections.to_string()),
            ("MAX_SOCKETS_PER_USER", s.max_sockets_per_user.to_string()),
            (
                "MAX_SOCKETS_PER_IP",
                match s.max_sockets_per_ip {
                    usize::MAX => 0,
                    n => n,
                }
                .to_string(),
            ),
            ("HANDSHAKE_CONCURRENCY", s.handshake_concurrency.to_string()),
            ("HANDSHAKE_WAIT", human(s.handshake_wait)),
            ("SHUTDOWN_GRACE", human(s.shutdown_grace)),
            ("JOBS_POLL", human(self.jobs.poll)),
            ("JOBS_LEASE", human(self.jobs.lease)),
            ("JOBS_MAX_ATTEMPTS", self.jobs.max_attempts.to_string()),
            ("JOBS_RETRY_BACKOFF", human(self.jobs.retry_backoff)),
            ("JOBS_RETRY_MAX", human(self.jobs.retry_max)),
            ("WEBHOOK_TIMEOUT", human(self.webhook_timeout)),
            ("NOTIFY_DELAYS", {
                let d = &self.notify_delays;
                let ms = |m: i64| human(Duration::from_millis(u64::try_from(m).unwrap_or(0)));
                [("high", d.high), ("normal", d.normal), ("low", d.low)]
                    .map(|(n, s)| format!("{n}={}/{}", ms(s.push), ms(s.webhook)))
                    .join(",")
            }),
            (
                "VAPID_PRIVATE_KEY_FILE",
                self.push
                    .vapid_key_file
                    .as_ref()
                    .unwrap_or(&self.push.default_key_file)
                    .display()
                    .to_string(),
            ),
            ("VAPID_SUBJECT", self.push.vapid_subject.clone()),
            (
                "ENCRYPTION",
                if self.encryption.enabled { "on" } else { "off" }.to_string(),
            ),
            (
                "ENCRYPTION_KEY_FILE",
                self.encryption.path().display().to_string(),
            ),
            (
                "TRANSCRIPT_SIGNING_KEY_FILE",
                self.transcript_key_file
                    .as_ref()
                    .unwrap_or(&self.default_transcript_key_file)
                    .display()
                    .to_string(),
            ),
            (
                "PUSH_ALLOW_INSECURE_ENDPOINTS",
                self.push.allow_insecure_endpoints.to_string(),
            ),
            (
                "WEB_DIR",
                self.web_dir
                    .as_ref()
                    .map_or_else(String::new, |d| d.display().to_string()),
            ),
            ("LOG_FORMAT", self.log_format.as_str().to_string()),
        ];
        for (name, url_var, secret_var) in WEBHOOKS {
            let target = self.webhooks.iter().find(|t| t.name == name);
            lines.push((url_var, or_unset(target.map(|t| redact(&t.url)))));
            lines.push((secret_var, or_unset(target.map(|_| REDACTED.to_string()))));
        }
        lines.extend([
            (
                "RUST_LOG",
                env.get("RUST_LOG")
                    .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_string()),
            ),
            (
                "OMW_TEST_JOIN_DELAY_MS",
                self.test_hooks.join_delay.as_millis().to_string(),
            ),
            (
                "OMW_TEST_ANNOUNCE_DELAY_MS",
                self.test_hooks.announce_delay.as_millis().to_string(),
            ),
            (
                "OMW_TEST_HANDSHAKE_DELAY_MS",
                self.test_hooks.handshake_delay.as_millis().to_string(),
            ),
            (
                "OMW_TEST_PURGE_DELAY_MS",
                self.test_hooks.purge_delay.as_millis().to_string(),
            ),
        ]);
        lines
    }
}

/// The log filter when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

// ---- HTTP server: timeouts, connection caps, JWT leeway --------------------------------------

/// Shortest accepted `JWT_SECRET`: 256 bits, the size of HS256's hash.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Limits of the HTTP server itself: how long a peer may take, how many may connect.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// `HTTP_HEADER_TIMEOUT`: a request head must arrive completely within this (slowloris).
    pub header_timeout: Duration,
    /// `HTTP_BODY_TIMEOUT`: longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// `HTTP_IDLE_TIMEOUT`: a keep-alive connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// `MAX_CONNECTIONS`: Socket.IO connections this node serves at once.
    pub max_connections: usize,
    /// `MAX_HTTP_CONNECTIONS`: open TCP connections (sockets and HTTP); past it a new one gets
    /// a fast `503`. By default a tenth above `MAX_CONNECTIONS` plus 64, so that REST calls and
    /// the socket cap's own refusals still get through when every socket place is taken.
    pub max_http_connections: usize,
    /// `MAX_SOCKETS_PER_USER`: Socket.IO connections of one user on this node.
    pub max_sockets_per_user: usize,
    /// `MAX_SOCKETS_PER_IP`: Socket.IO connections from one IP address on this node (`0`, the
    /// default: no cap).
    pub max_sockets_per_ip: usize,
    /// `HANDSHAKE_CONCURRENCY`: Socket.IO handshakes checked at once; the others queue.
    pub handshake_concurrency: usize,
    /// `HANDSHAKE_WAIT`: how long a queued handshake waits before it is refused `rate_limited`.
    pub handshake_wait: Duration,
    /// `JWT_LEEWAY`: clock skew allowed on `exp` and `nbf`.
    pub jwt_leeway: Duration,
    /// `SHUTDOWN_GRACE`: after SIGTERM, how long `/readyz` answers 503 while requests are
    /// still served, before the drain starts (so a load balancer stops sending new ones).
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    fn load(env: &dyn Env) -> Result<ServerLimits, ConfigError> {
        let max_connections = positive(env, "MAX_CONNECTIONS", 20_000)?;
        Ok(ServerLimits {
            header_timeout: positive_duration(env, "HTTP_HEADER_TIMEOUT", Duration::from_secs(10))?,
            body_timeout: positive_duration(env, "HTTP_BODY_TIMEOUT", Duration::from_secs(30))?,
            idle_timeout: positive_duration(env, "HTTP_IDLE_TIMEOUT", Duration::from_secs(60))?,
            max_connections,
            max_http_connections: positive(
                env,
                "MAX_HTTP_CONNECTIONS",
                max_connections
                    .saturating_add(max_connections / 10)
                    .saturating_add(64),
            )?,
            max_sockets_per_user: positive(env, "MAX_SOCKETS_PER_USER", 10)?,
            // Off by default: behind a proxy or load balancer every client has its address.
            max_sockets_per_ip: match parse_num(env, "MAX_SOCKETS_PER_IP", 0usize)? {
                0 => usize::MAX,
                n => n,
            },
            handshake_concurrency: positive(env, "HANDSHAKE_CONCURRENCY", 64)?,
            handshake_wait: positive_duration(env, "HANDSHAKE_WAIT", Duration::from_secs(5))?,
            jwt_leeway: duration(env, "JWT_LEEWAY", Duration::from_secs(30))?,
            shutdown_grace: duration(env, "SHUTDOWN_GRACE", Duration::ZERO)?,
        })
    }
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "unit-test-secret-0123456789abcdef";

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let short = "x".repeat(MIN_JWT_SECRET_BYTES - 1);
        let e = Config::load(
            &[
                ("JWT_SECRET", short.as_str()),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
            ],
            false,
        )
        .unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        assert!(e.to_string().contains("at least 32 bytes"), "{e}");
        let enough = "x".repeat(MIN_JWT_SECRET_BYTES);
        Config::load(
            &[
                ("JWT_SECRET", enough.as_str()),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
            ],
            false,
        )
        .unwrap();
    }

    #[test]
    fn server_limits_have_defaults_and_refuse_zero() {
        let c = Config::load(
            &[
                ("JWT_SECRET", SECRET),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(c.server.jwt_leeway, Duration::from_secs(30));
        assert_eq!(c.server.header_timeout, Duration::from_secs(10));
        assert_eq!(c.server.max_connections, 20_000);
        assert_eq!(c.server.max_http_connections, 22_064);
        for var in [
            "MAX_CONNECTIONS",
            "MAX_HTTP_CONNECTIONS",
            "HANDSHAKE_CONCURRENCY",
            "HANDSHAKE_WAIT",
            "MAX_SOCKETS_PER_USER",
            "HTTP_HEADER_TIMEOUT",
            "HTTP_BODY_TIMEOUT",
            "HTTP_IDLE_TIMEOUT",
        ] {
            let env = [
                ("JWT_SECRET", SECRET),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
                (var, "0"),
            ];
            assert_eq!(Config::load(&env, false).unwrap_err().var, var);
        }
    }

    #[test]
    fn missing_secret_names_the_variable() {
        let e = Config::load(&[("PLATFORM_API_KEY", "0123456789abcdef")], false).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        assert!(e.to_string().starts_with("configuration: JWT_SECRET:"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("PORT", "eighty"),
        ];
        assert_eq!(Config::load(&base, false).unwrap_err().var, "PORT");
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("CHAT_RETENTION", "soon"),
        ];
        assert_eq!(
            Config::load(&base, false).unwrap_err().var,
            "CHAT_RETENTION"
        );
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("DATABASE_URL", "oracle://x"),
        ];
        assert_eq!(Config::load(&base, false).unwrap_err().var, "DATABASE_URL");
        let base = [("JWT_SECRET", SECRET), ("PLATFORM_API_KEY", "short")];
        assert_eq!(
            Config::load(&base, false).unwrap_err().var,
            "PLATFORM_API_KEY"
        );
    }

    #[test]
    fn demo_needs_no_secrets() {
        let c = Config::load(&[("X", "y")], true).unwrap();
        assert!(matches!(c.jwt_key, JwtKey::Secret(_)));
        assert_eq!(c.port, 5001);
        assert_eq!(c.chat_retention, Duration::ZERO);
        assert!(c.database_url.starts_with("sqlite://"));
    }

    #[test]
    fn seed_db_variables_select_mysql() {
        let env = [
            ("DB_HOST", "db"),
            ("DB_USER", "omw"),
            ("DB_PASSWORD", "p@ss"),
            ("DB_NAME", "omw_database"),
        ];
        assert_eq!(
            database_url(&env).unwrap(),
            "mysql://omw:p%40ss@db:3306/omw_database"
        );
    }

    #[test]
    fn a_bad_storage_url_is_refused() {
        for url in ["ftp://bucket", "s3://", "s3://b?color=blue"] {
            let env = [
                ("JWT_SECRET", SECRET),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
                ("STORAGE_URL", url),
            ];
            assert_eq!(
                Config::load(&env, false).unwrap_err().var,
                "STORAGE_URL",
                "{url}"
            );
        }
    }

    #[test]
    fn purge_retry_settings() {
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
        ];
        let c = Config::load(&base, false).unwrap();
        assert_eq!(c.purge_retry_backoff, Duration::from_secs(30));
        assert_eq!(c.purge_retry_max, Duration::from_secs(3600));
        for (var, value) in [
            ("PURGE_RETRY_BACKOFF", "0"),
            ("PURGE_RETRY_BACKOFF", "soon"),
            ("PURGE_RETRY_MAX", "0s"),
        ] {
            let env = [
                ("JWT_SECRET", SECRET),
                ("PLATFORM_API_KEY", "0123456789abcdef"),
                (var, value),
            ];
            assert_eq!(Config::load(&env, false).unwrap_err().var, var, "{value}");
        }
        let env = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("PURGE_RETRY_BACKOFF", "1ms"),
            ("PURGE_RETRY_MAX", "2h"),
        ];
        let c = Config::load(&env, false).unwrap();
        assert_eq!(c.purge_retry_backoff, Duration::from_millis(1));
        assert_eq!(c.purge_retry_max, Duration::from_secs(7200));
    }

    #[test]
    fn upload_limits_have_defaults_and_name_their_variable() {
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
        ];
        let c = Config::load(&base, false).unwrap();
        assert_eq!(c.uploads.quota_user_bytes, 100 * 1024 * 1024);
        assert_eq!(c.uploads.quota_chat_bytes, 200 * 1024 * 1024);
        assert_eq!(c.uploads.max_gif_pixels, 100_000_000);
        assert!(c.uploads.concurrent_decodes >= 1);
        for var in [
            "UPLOAD_QUOTA_USER_BYTES",
            "UPLOAD_QUOTA_CHAT_BYTES",
            "MAX_GIF_PIXELS",
            "MAX_CONCURRENT_DECODES",
            "DECODE_MEMORY_BYTES",
        ] {
            for v in ["0", "lots"] {
                let env = [
                    ("JWT_SECRET", SECRET),
                    ("PLATFORM_API_KEY", "0123456789abcdef"),
                    (var, v),
                ];
                assert_eq!(Config::load(&env, false).unwrap_err().var, var, "{var}={v}");
            }
        }
        let env = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("DECODE_WAIT", "a while"),
        ];
        assert_eq!(Config::load(&env, false).unwrap_err().var, "DECODE_WAIT");
    }

    #[test]
    fn log_format_is_text_or_json() {
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("LOG_FORMAT", "JSON"),
        ];
        assert_eq!(
            Config::load(&base, false).unwrap().log_format,
            LogFormat::Json
        );
        let base = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "0123456789abcdef"),
            ("LOG_FORMAT", "xml"),
        ];
        assert_eq!(Config::load(&base, false).unwrap_err().var, "LOG_FORMAT");
        let c = Config::load(&[("X", "y")], true).unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.web_dir, None, "the demo serves the embedded web client");
    }

    #[test]
    fn several_nodes_need_one_key_file() {
        let env = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "platform-key-0123456789"),
            ("REDIS_URL", "redis://cache:6379"),
        ];
        assert_eq!(
            Config::load(&env, false).unwrap_err().var,
            "ENCRYPTION_KEY_FILE"
        );
        let off = [env[0], env[1], env[2], ("ENCRYPTION", "off")];
        assert!(
            Config::load(&off, false).is_ok(),
            "nothing sealed from now on"
        );
        assert_eq!(
            Config::load(&[env[0], env[1], ("ENCRYPTION", "yes")], false)
                .unwrap_err()
                .var,
            "ENCRYPTION"
        );
    }

    #[test]
    fn the_effective_configuration_hides_secrets() {
        let env = [
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", "platform-key-0123456789"),
            ("DATABASE_URL", "postgres://omw:db-pass-123@db:5432/omw"),
            ("REDIS_URL", "redis://:redis-pass-456@cache:6379"),
            ("ENCRYPTION_KEY_FILE", "/etc/omw-chat/encryption.key"),
        ];
        let c = Config::load(&env, false).unwrap();
        let lines = c.effective(&env);
        let text = format!("{lines:?}");
        for secret in [
            SECRET,
            "platform-key-0123456789",
            "db-pass-123",
            "redis-pass-456",
        ] {
            assert!(!text.contains(secret), "{secret} printed: {text}");
        }
        let get = |name: &str| lines.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("PORT"), "5001");
        assert_eq!(get("JWT_SECRET"), "***");
        assert_eq!(get("DATABASE_URL"), "postgres://omw:***@db:5432/omw");
        assert_eq!(get("CHAT_RETENTION"), "0s");
        assert_eq!(get("MAX_SOCKETS_PER_IP"), "0");
        assert_eq!(lines.first().unwrap().0, "PORT");
    }

    #[test]
    fn webhooks_need_a_url_and_a_long_enough_secret() {
        let secret = "0123456789abcdef";
        let c = Config::load(&[("X", "y")], true).unwrap();
        assert!(c.webhooks.is_empty());
        let env = [
            (
                "NOTIFY_WEBHOOK_URL",
                "https://platform.example/hooks/notify",
            ),
            ("NOTIFY_WEBHOOK_SECRET", secret),
        ];
        let c = Config::load(&env, true).unwrap();
        assert_eq!(c.webhooks.len(), 1);
        assert_eq!(
            (c.webhooks[0].name, c.webhooks[0].secret.as_str()),
            ("notify", secret)
        );
        let lines = c.effective(&env);
        assert!(!format!("{lines:?}").contains(secret));
        for (env, var) in [
            (
                [("NOTIFY_WEBHOOK_URL", "https://p.example/h"), ("X", "")],
                "NOTIFY_WEBHOOK_SECRET",
            ),
            (
                [
                    ("NOTIFY_WEBHOOK_URL", "ftp://p.example/h"),
                    ("NOTIFY_WEBHOOK_SECRET", secret),
                ],
                "NOTIFY_WEBHOOK_URL",
            ),
            (
                [
                    ("NOTIFY_WEBHOOK_URL", "https://p.example/h"),
                    ("NOTIFY_WEBHOOK_SECRET", "short"),
                ],
                "NOTIFY_WEBHOOK_SECRET",
            ),
        ] {
            assert_eq!(Config::load(&env, true).unwrap_err().var, var);
        }
        for var in ["JOBS_POLL", "JOBS_LEASE", "JOBS_RETRY_BACKOFF"] {
            assert_eq!(Config::load(&[(var, "0")], true).unwrap_err().var, var);
        }
        assert_eq!(
            Config::load(&[("JOBS_MAX_ATTEMPTS", "0")], true)
                .unwrap_err()
                .var,
            "JOBS_MAX_ATTEMPTS"
        );
        let short_lease = [("JOBS_LEASE", "19s"), ("WEBHOOK_TIMEOUT", "10s")];
        assert_eq!(
            Config::load(&short_lease, true).unwrap_err().var,
            "JOBS_LEASE"
        );
    }

    #[test]
    fn notify_delays_override_each_urgency() {
        let c = Config::load(&[("X", "y")], true).unwrap();
        assert_eq!(c.notify_delays, omw_domain::ladder::Delays::default());
        let c = Config::load(&[("NOTIFY_DELAYS", "high=200ms/1s, low=1m/2h")], true).unwrap();
        let d = c.notify_delays;
        assert_eq!((d.high.push, d.high.webhook), (200, 1000));
        assert_eq!((d.low.push, d.low.webhook), (60_000, 7_200_000));
        assert_eq!(d.normal, omw_domain::ladder::Delays::default().normal);
        let printed = c.effective(&[("X", "y")]);
        let line = printed.iter().find(|(n, _)| *n == "NOTIFY_DELAYS").unwrap();
        assert!(
            line.1.starts_with("high=200ms/1s,normal=1m/15m,low=1m/2h"),
            "{}",
            line.1
        );
        for bad in ["high=1s", "urgent=1s/2s", "high=soon/1s", "high"] {
            assert_eq!(
                Config::load(&[("NOTIFY_DELAYS", bad)], true)
                    .unwrap_err()
                    .var,
                "NOTIFY_DELAYS",
                "{bad}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("X", "0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_duration("X", "15m").unwrap(),
            Duration::from_secs(900)
        );
        assert_eq!(
            parse_duration("X", "7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
    }
}
