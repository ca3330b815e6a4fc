//! Starting and stopping the server.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use std::sync::atomic::Ordering;

use anyhow::Context;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};

use crate::{
    auth::jwt::JwtVerifier,
    cluster::{Bus, Redis},
    config::{Config, EncryptionSettings, redact},
    conn,
    files::Files,
    http,
    http::state::AppState,
    keys::KeyFile,
    realtime::{self, Expiry, Presence, Realtime, SocketIo, SocketNotifier, Typing},
    service::{self, ChatService},
};

/// A running server: its address, and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub io: SocketIo,
    stop: Option<oneshot::Sender<()>>,
    join: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop gracefully: finish queued writes, close sockets, stop accepting, return.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.join).await;
        self.background.iter().for_each(JoinHandle::abort);
    }

    /// Wait until the server stops by itself (SIGTERM / Ctrl-C).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let res = (&mut self.join).await;
        self.background.iter().for_each(JoinHandle::abort);
        res.context("server task")?.context("server")
    }
}

/// What the store seals chats with (SPEC §9.6): the key file, created under `./data` when none
/// is configured. With `ENCRYPTION=off` new chats are stored in plaintext, and an existing key
/// file still opens the chats it sealed.
pub fn sealer(settings: &EncryptionSettings) -> anyhow::Result<omw_storage::Sealer> {
    let path = settings.path();
    let wrapper = if settings.key_file.is_some() {
        let file = KeyFile::load(path)?;
        Some(file.with_context(|| format!("ENCRYPTION_KEY_FILE {}: not found", path.display()))?)
    } else if !settings.enabled {
        KeyFile::load(path)?
    } else {
        let (file, created) = KeyFile::load_or_create(path)?;
        if created {
            tracing::warn!(
                path = %path.display(),
                "created the encryption key; keep it safe and apart from database backups (ENCRYPTION_KEY_FILE)"
            );
        }
        Some(file)
    };
    Ok(omw_storage::Sealer::new(
        wrapper.map(|f| Arc::new(f) as Arc<dyn omw_storage::KeyWrapper>),
        settings.enabled,
    ))
}

/// Open the database (migrating it), then serve on `config.host:config.port` (port 0 picks a
/// free one). `shutdown_on_signal` makes SIGTERM/Ctrl-C stop it gracefully.
pub async fn start(config: Config, shutdown_on_signal: bool) -> anyhow::Result<Running> {
    http::metrics::install();
    http::metrics::register(config.redis_url.is_some());
    let store = omw_storage::open_sealed(
        &config.database_url,
        config.db_max_connections,
        sealer(&config.encryption)?,
    )
    .await
    .with_context(|| format!("opening the database ({})", redact(&config.database_url)))?;
    store.migrate().await.context("migrating the database")?;
    store
        .check_chat_keys()
        .await
        .context("checking the encryption key file")?;
    let files = match &config.storage_url {
        Some(url) => Files::s3(url).map_err(|e| anyhow::anyhow!("STORAGE_URL: {e}"))?,
        None => Files::local(&config.upload_dir)
            .with_context(|| format!("UPLOAD_DIR {}", config.upload_dir.display()))?,
    };
    let jwt =
        Arc::new(JwtVerifier::new(&config.jwt()).map_err(|e| anyhow::anyhow!("JWT key: {e}"))?);
    let config = Arc::new(config);
    let mut background = Vec::new();

    if config.redis_url.is_some()
        && (config.push.vapid_key_file.is_none()
            || config.encryption.key_file.is_none()
            || config.transcript_key_file.is_none())
    {
        tracing::warn!(
            "several nodes (REDIS_URL) must share their keys: set VAPID_PRIVATE_KEY_FILE, ENCRYPTION_KEY_FILE and TRANSCRIPT_SIGNING_KEY_FILE to the same files on every node"
        );
    }
    let redis = match &config.redis_url {
        Some(url) => {
            let redis = Redis::connect(url, &config.redis_prefix)
                .await
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
            background.push(redis.spawn_health_check());
            Some(redis)
        }
        None => None,
    };
    let bus = redis.clone().map_or_else(Bus::local, Bus::redis);
    let (sio_layer, io) = realtime::layer(&config, bus);
    let typing = Arc::new(Typing::new(
        redis.clone().map(realtime::typing::redis::RedisTyping::new),
    ));
    let notifier = Arc::new(SocketNotifier {
        io: io.clone(),
        typing: typing.clone(),
    });
    let chats = Arc::new(ChatService::new(
        store,
        files,
        notifier,
        &config,
        redis.clone(),
    )?);
    if let Some(task) = chats
        .follow_other_nodes()
        .await
        .context("subscribing to chat changes on Redis")?
    {
        background.push(task);
    }
    let presence = Arc::new(Presence::new(
        redis
            .clone()
            .map(realtime::presence::redis::RedisPresence::new),
    ));
    background.extend(presence.spawn_heartbeat());
    let expiry = Arc::new(Expiry::default());
    background.push(expiry.spawn());
    realtime::register(Arc::new(Realtime {
        io: io.clone(),
        chats: chats.clone(),
        jwt: jwt.clone(),
        config: config.clone(),
        presence,
        typing,
        expiry,
        caps: realtime::SocketCaps::new(
            config.server.max_connections,
            config.server.max_sockets_per_user,
            config.server.max_sockets_per_ip,
        ),
        admission: Arc::new(realtime::Admission::new(
            config.server.handshake_concurrency,
            config.server.handshake_wait,
        )),
    }))
    .await
    .map_err(|e| anyhow::anyhow!("Socket.IO adapter: {e:?}"))?;

    let sweep_every = config
        .chat_retention
        .clamp(Duration::from_secs(1), Duration::from_secs(30));
    background.push(service::sweeper::spawn(chats.clone(), sweep_every));
    background.push(service::jobs::spawn(chats.jobs().clone()));
    let limits_chats = chats.clone();
    background.push(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limits_chats.forget_idle_limits();
        }
    }));

    let mut state = AppState {
        config: config.clone(),
        jwt,
        chats: chats.clone(),
        demo: None,
        draining: Arc::default(),
    };
    if config.demo {
        state.demo = Some(Arc::new(
            http::demo::seed(&state).await.context("seeding the demo")?,
        ));
    }
    let app = http::router(state.clone())
        .layer(sio_layer)
        .layer(axum::middleware::map_request(realtime::detach_request))
        .layer(http::cors(&config));

    let listener = bind(config.host, config.port)
        .with_context(|| format!("binding {}:{}", config.host, config.port))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let sio = io.clone();
    let draining = state.draining.clone();
    let limits = config.server.clone();
    let join = tokio::spawn(async move {
        let conns = conn::Connections::new(limits.max_http_connections);
        let (accepting_tx, accepting_rx) = watch::channel(false);
        let server = tokio::spawn(conn::serve(
            listener,
            app,
            limits.clone(),
            conns.clone(),
            accepting_rx,
        ));
        if shutdown_on_signal {
            tokio::select! {
                _ = stop_rx => {}
                _ = signal() => tracing::info!("shutting down"),
            }
        } else {
            let _ = stop_rx.await;
        }
        // From here `/readyz` answers 503, so a load balancer sends no new work; during the
        // grace period requests are still served.
        draining.store(true, Ordering::Release);
        tokio::time::sleep(limits.shutdown_grace).await;
        // Stop accepting: new connections are refused while the rest drains.
        let _ = accepting_tx.send(true);
        let _ = server.await;
        // Finish acknowledged-to-be writes, then close the sockets (they hold their connection
        // slots), then wait for requests in flight.
        let _ = tokio::time::timeout(Duration::from_secs(10), chats.drain()).await;
        sio.close().await;
        if !conns
            .closed(limits.body_timeout.max(Duration::from_secs(5)))
            .await
        {
            tracing::warn!("connections still open at shutdown; closing them");
        }
        Ok(())
    });
    tracing::info!(%addr, database = state.chats.database(), redis = redis.is_some(), demo = config.demo, "omw-chat listening");
    Ok(Running {
        addr,
        state,
        io,
        stop: Some(stop_tx),
        join,
        background,
    })
}

/// Listen with a deep accept queue: thousands of clients reconnecting at once (a deploy, a
/// network blip) must not be dropped by the kernel's default backlog of 128.
fn bind(host: std::net::IpAddr, port: u16) -> std::io::Result<TcpListener> {
    let addr = SocketAddr::new(host, port);
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
