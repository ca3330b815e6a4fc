//! The service layer: the only thing Socket.IO handlers and REST handlers call. It asks the
//! domain, writes through the store, and tells connected clients through a [`Notifier`]. Its
//! state is private: transports go through its methods, never past it into storage.

pub mod chats;
pub mod error;
pub mod holds;
pub mod jobs;
mod lifecycle;
pub mod limits;
pub mod notifier;
pub mod push;
pub mod sweeper;
pub mod transcripts;
pub mod uploads;
mod writer;

use std::{sync::Arc, time::Duration};

use omw_domain::{Chat, Principal};
use omw_storage::{Backend, Store};

pub use error::{ErrorCode, ServiceError};
pub use notifier::{NoopNotifier, Notifier};

use crate::{
    cluster::{Forget, Invalidations, Redis},
    config::Config,
    files::Files,
};

pub struct ChatService {
    store: Arc<dyn Store>,
    files: Files,
    notifier: Arc<dyn Notifier>,
    retention: Duration,
    /// Backoff of a failed chat deletion: first wait, longest wait.
    purge_retry: (Duration, Duration),
    /// Test hook: a pause between starting a chat's deletion and deleting.
    purge_pause: Duration,
    sweeper: sweeper::Wake,
    writer: writer::Writer,
    limits: limits::Limits,
    /// Tells other nodes to drop their cached copy of a chat that changed.
    invalidations: Invalidations,
    /// Admission for image decoding (concurrency and memory).
    decodes: uploads::gate::DecodeGate,
    uploads: crate::config::UploadLimits,
    /// Chats by id, for authorizing frequent events without a database round trip.
    cache: moka::sync::Cache<String, Chat>,
    /// The outbox's runner: webhooks, notification ladders.
    jobs: Arc<jobs::Jobs>,
    ladders: Arc<jobs::ladder::Ladders>,
    push: push::Push,
    /// Signs transcripts' chain heads.
    signer: crate::keys::signing::TranscriptSigner,
}

impl ChatService {
    pub fn new(
        store: Arc<dyn Store>,
        files: Files,
        notifier: Arc<dyn Notifier>,
        config: &Config,
        shared: Option<Redis>,
    ) -> anyhow::Result<Self> {
        // SQLite has one writer; server databases commit independent chats in parallel.
        let shards = match store.backend() {
            Backend::Sqlite => 1,
            _ => (config.db_max_connections / 2).clamp(1, 8) as usize,
        };
        let mut jobs = jobs::Jobs::new(store.clone(), config.jobs.clone());
        let webhooks = jobs::webhook::Webhooks::new(&config.webhooks, config.webhook_timeout)
            .map_err(|e| anyhow::anyhow!("webhook client: {e}"))?;
        jobs.handle(jobs::webhook::KIND, Arc::new(webhooks));
        let notify = config.webhooks.iter().any(|t| t.name == "notify");
        let ladders = Arc::new(jobs::ladder::Ladders::new(
            store.clone(),
            notifier.clone(),
            config.notify_delays,
            notify,
        ));
        jobs.handle(jobs::ladder::KIND, ladders.clone());
        let push = push::Push::new(store.clone(), &config.push)?;
        let pushes = jobs::push::Pushes::new(
            store.clone(),
            push.vapid().clone(),
            push.allow_insecure(),
            config.webhook_timeout,
        )
        .map_err(|e| anyhow::anyhow!("push client: {e}"))?;
        jobs.handle(jobs::push::KIND, Arc::new(pushes));
        let signer = crate::keys::signing::TranscriptSigner::load(
            config.transcript_key_file.as_deref(),
            &config.default_transcript_key_file,
        )?;
        Ok(ChatService {
            push,
            signer,
            jobs: Arc::new(jobs),
            ladders,
            writer: writer::Writer::spawn(
                store.clone(),
                notifier.clone(),
                shards,
                store.backend() == Backend::Sqlite,
                config.test_hooks.announce_delay,
            ),
            store,
            files,
            notifier,
            retention: config.chat_retention,
            purge_retry: (config.purge_retry_backoff, config.purge_retry_max),
            purge_pause: config.test_hooks.purge_delay,
            sweeper: sweeper::Wake::default(),
            limits: limits::Limits::new(
                &config.rate_limits,
                shared.clone().map(limits::redis::RedisRate::new),
            ),
            invalidations: Invalidations::new(shared),
            decodes: uploads::gate::DecodeGate::new(
                config.uploads.concurrent_decodes,
                config.uploads.decode_memory_bytes,
                config.uploads.decode_wait,
            ),
            uploads: config.uploads.clone(),
            cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        })
    }

    /// The outbox's runner, to spawn its loop (`jobs::spawn`) and to schedule jobs.
    pub fn jobs(&self) -> &Arc<jobs::Jobs> {
        &self.jobs
    }

    /// Web Push: the VAPID key and users' subscriptions.
    pub fn push(&self) -> &push::Push {
        &self.push
    }

    /// Which database engine the store runs on.
    pub fn database(&self) -> &'static str {
        self.store.backend().as_str()
    }

    /// Whether the database answers (readiness).
    pub async fn check_database(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    /// Count one event (socket or REST) of `who` against the shared rate limit.
    pub async fn count_event(&self, who: &Principal) -> Result<(), ServiceError> {
        self.limits.event(who).await
    }

    /// Drop rate-limit windows nobody used lately (memory).
    pub fn forget_idle_limits(&self) {
        self.limits.forget_idle();
    }

    /// Wait until every queued message is written (shutdown).
    pub async fn drain(&self) {
        self.writer.drain().await;
    }

    /// Keep the chat cache in step with changes made on other nodes (Redis); `None` without
    /// Redis.
    pub async fn follow_other_nodes(
        self: &Arc<Self>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, redis::RedisError> {
        let me = self.clone();
        self.invalidations
            .listen(Arc::new(move |what| match what {
                Forget::Chat(id) => me.refresh_cached(None, id),
                Forget::All => me.forget_all_cached(),
            }))
            .await
    }

    /// Image decoding's admission gate (tests hold a slot to see an upload wait).
    #[doc(hidden)]
    pub fn decodes(&self) -> &uploads::gate::DecodeGate {
        &self.decodes
    }
}
