use std::process::ExitCode;

use clap::{Parser, Subcommand};
use omw_chat::{
    auth::jwt::JwtVerifier,
    config::{Config, LogFormat},
};
use omw_domain::Role;

#[derive(Parser)]
#[command(
    name = "omw-chat",
    version,
    about = "Real-time chat for active service bookings"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Socket.IO and the REST API (the default).
    Serve {
        /// Seed a customer, a worker and an accepted booking, serve the web demo, and enable
        /// the demo-only endpoints.
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Validate the environment as `serve` does and print the effective configuration, one
    /// NAME=value line per setting, secrets redacted. Connects to nothing.
    CheckConfig {
        /// Check it as `serve --demo` would (no secrets needed).
        #[arg(long)]
        demo: bool,
    },
    /// The encryption key file (ENCRYPTION_KEY_FILE) and the chat keys it wraps (SPEC §9.6).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Check a transcript (GET /api/v1/platform/chats/{id}/transcript, saved to FILE)
    /// offline: its chain, its messages against the chain, and the signature over the chain's
    /// head. Exits 0 when it holds, 1 naming the first entry or message that does not.
    VerifyTranscript {
        file: std::path::PathBuf,
        /// The signing key's public half: base64 of its 32 bytes, PEM, or a file holding
        /// either (GET /api/v1/platform/transcript-key). Default: the public half of
        /// TRANSCRIPT_SIGNING_KEY_FILE (or ./data/transcript-signing.pem).
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print a JWT for a user, signed with JWT_SECRET (for operators and tests).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Start a new epoch and wrap every live chat key under it (the running servers pick the
    /// new epoch up by themselves).
    Rotate,
    /// Destroy an old epoch, once no live chat key is under it: what it wrapped (in backups
    /// too) can no longer be read.
    Destroy { epoch: i64 },
    /// The epochs, and how many live chat keys each wraps.
    Status,
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "customer" => Ok(Role::Customer),
        "worker" => Ok(Role::Worker),
        _ => Err("customer or worker".into()),
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(omw_chat::config::DEFAULT_LOG_FILTER)
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Text => logs.init(),
        // One object per line: timestamp, level, fields, and the current span and its parents
        // with their fields (an HTTP request's method, path, status and latency).
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve { demo: false })).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, naming what is wrong.
            eprintln!("omw-chat: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => {
            let config = Config::from_env(demo)?;
            init_tracing(config.log_format);
            // The embedded default (an SQLite file under ./data) must work from an empty folder.
            ensure_sqlite_dir(&config.database_url);
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                database = %omw_chat::config::redact(&config.database_url),
                files = %config.storage_url.as_deref().map_or_else(
                    || config.upload_dir.display().to_string(),
                    omw_chat::config::redact,
                ),
                "omw-chat starting"
            );
            if demo && config.web_dir.is_none() && !omw_chat::http::web::embedded() {
                tracing::warn!(
                    "this binary was built without the web client: the demo answers 503 at /; \
                     set WEB_DIR to a built web/dist"
                );
            }
            let running = omw_chat::server::start(config, true).await?;
            // A stable line for people and for tools that start the server on port 0.
            println!("omw-chat listening on http://{}", running.addr);
            if demo {
                println!(
                    "omw-chat demo: open http://localhost:{}/",
                    running.addr.port()
                );
            }
            running.wait().await
        }
        Command::Migrate => {
            let url = omw_chat::config::database_url(&omw_chat::config::ProcessEnv)?;
            init_tracing(omw_chat::config::log_format(&omw_chat::config::ProcessEnv)?);
            ensure_sqlite_dir(&url);
            let store = omw_storage::open(&url, 1).await?;
            store.migrate().await?;
            println!("database is up to date ({})", store.backend().as_str());
            Ok(())
        }
        Command::Keys { action } => {
            let env = omw_chat::config::ProcessEnv;
            let url = omw_chat::config::database_url(&env)?;
            init_tracing(omw_chat::config::log_format(&env)?);
            let settings = omw_chat::config::EncryptionSettings::from_env(&env)?;
            let path = settings.path();
            let file = std::sync::Arc::new(
                omw_chat::keys::KeyFile::load(path)?
                    .ok_or_else(|| anyhow::anyhow!("{}: no key file", path.display()))?,
            );
            if let KeysAction::Rotate = action {
                let epoch = file.rotate().map_err(anyhow::Error::msg)?;
                file.save()?;
                println!("new epoch {epoch}");
            }
            let wrapper: std::sync::Arc<dyn omw_storage::KeyWrapper> = file.clone();
            let sealer = omw_storage::Sealer::new(Some(wrapper), false);
            let store = omw_storage::open_sealed(&url, 2, sealer).await?;
            store.migrate().await?;
            match action {
                KeysAction::Rotate => {
                    let mut total = 0;
                    loop {
                        let n = store.rewrap_chat_keys(500).await?;
                        total += n;
                        if n == 0 {
                            break;
                        }
                    }
                    println!("{total} chat keys wrapped under the new epoch");
                }
                KeysAction::Destroy { epoch } => {
                    let live = store.chat_keys_under(epoch).await?;
                    if live > 0 {
                        anyhow::bail!(
                            "epoch {epoch} still wraps {live} chat keys: run `keys rotate` first"
                        );
                    }
                    file.destroy(epoch).map_err(anyhow::Error::msg)?;
                    file.save()?;
                    println!("epoch {epoch} destroyed");
                }
                KeysAction::Status => {
                    for epoch in file.epochs() {
                        let live = store.chat_keys_under(epoch).await?;
                        println!("epoch {epoch}: {live} chat keys");
                    }
                }
            }
            Ok(())
        }
        Command::VerifyTranscript { file, public_key } => {
            verify_transcript(&file, public_key.as_deref())
        }
        Command::CheckConfig { demo } => {
            let config = Config::from_env(demo)?;
            for (name, value) in config.effective(&omw_chat::config::ProcessEnv) {
                println!("{name}={value}");
            }
            Ok(())
        }
        Command::Token {
            sub,
            role,
            name,
            ttl,
        } => {
            let config = Config::from_env(false).or_else(|e| {
                // Minting needs only the secret; accept a missing platform key here.
                if e.var == "PLATFORM_API_KEY" {
                    Config::load(&TokenEnv, false)
                } else {
                    Err(e)
                }
            })?;
            let jwt = JwtVerifier::new(&config.jwt()).map_err(anyhow::Error::msg)?;
            println!(
                "{}",
                jwt.mint(&sub, role, name.as_deref(), ttl)
                    .map_err(anyhow::Error::msg)?
            );
            Ok(())
        }
    }
}

fn verify_transcript(file: &std::path::Path, public_key: Option<&str>) -> anyhow::Result<()> {
    use omw_chat::{keys::signing, service::transcripts::verify};
    let json = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let key = match public_key {
        Some(text) => signing::parse_public_key(text).map_err(anyhow::Error::msg)?,
        None => {
            let own = std::env::var_os("TRANSCRIPT_SIGNING_KEY_FILE").map_or_else(
                || "./data/transcript-signing.pem".into(),
                std::path::PathBuf::from,
            );
            let signer = signing::TranscriptSigner::load(Some(&own), &own).map_err(|e| {
                anyhow::anyhow!("no --public-key, and this server's signing key: {e}")
            })?;
            signer.public_key().to_vec()
        }
    };
    match verify::verify(&json, &key) {
        Ok(v) => {
            let c = &v.checked;
            println!(
                "OK: chat {}: {} chain entries, {} messages, signed by key {}",
                v.chat_id, c.entries, c.messages, v.key_id
            );
            if !c.before_chain.is_empty() {
                println!(
                    "note: {} messages were stored before this chat's chain began (seq {:?}); \
                     the chain does not vouch for them",
                    c.before_chain.len(),
                    c.before_chain
                );
            }
            Ok(())
        }
        Err(verify::VerifyError::Unreadable(e)) => {
            anyhow::bail!("{}: not a transcript: {e}", file.display())
        }
        Err(e) => {
            println!("FAILED: {e}");
            std::process::exit(1);
        }
    }
}

/// The process environment with a placeholder platform key (for `token`).
struct TokenEnv;

impl omw_chat::config::Env for TokenEnv {
    fn get(&self, key: &str) -> Option<String> {
        if key == "PLATFORM_API_KEY" {
            return Some("unused-for-minting-tokens".into());
        }
        omw_chat::config::ProcessEnv.get(key)
    }
}

fn ensure_sqlite_dir(url: &str) {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
}
