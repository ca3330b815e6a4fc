//! The service layer: what Socket.IO handlers and REST handlers both call. It asks the domain,
//! writes through the store, and tells connected clients through a [`Notifier`].

pub mod chats;
mod lifecycle;
pub mod limits;
pub mod notifier;
pub mod sweeper;
pub mod writer;

use std::{sync::Arc, time::Duration};

use omw_domain::Chat;
use omw_storage::{Backend, Store};

pub use notifier::{NoopNotifier, Notifier};

use crate::{
    cluster::{Invalidations, Redis, rate::RedisRate},
    config::Config,
    files::Files,
};

pub struct ChatService {
    pub store: Arc<dyn Store>,
    pub files: Files,
    pub notifier: Arc<dyn Notifier>,
    pub retention: Duration,
    /// Backoff of a failed chat deletion: first wait, longest wait.
    pub purge_retry: (Duration, Duration),
    pub sweeper: sweeper::Wake,
    pub writer: writer::Writer,
    pub limits: limits::Limits,
    /// Tells other nodes to drop their cached copy of a chat that changed.
    pub invalidations: Invalidations,
    /// Admission for image decoding (concurrency and memory).
    pub decodes: crate::attachments::gate::DecodeGate,
    pub uploads: crate::config::UploadLimits,
    /// Chats by id, for authorizing frequent events without a database round trip.
    cache: moka::sync::Cache<String, Chat>,
}

impl ChatService {
    pub fn new(
        store: Arc<dyn Store>,
        files: Files,
        notifier: Arc<dyn Notifier>,
        config: &Config,
        shared: Option<Redis>,
    ) -> Self {
        // SQLite has one writer; server databases commit independent chats in parallel.
        let shards = match store.backend() {
            Backend::Sqlite => 1,
            _ => (config.db_max_connections / 2).clamp(1, 8) as usize,
        };
        ChatService {
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
            sweeper: sweeper::Wake::default(),
            limits: limits::Limits::new(&config.rate_limits, shared.clone().map(RedisRate::new)),
            invalidations: Invalidations::new(shared),
            decodes: crate::attachments::gate::DecodeGate::new(
                config.uploads.concurrent_decodes,
                config.uploads.decode_memory_bytes,
                config.uploads.decode_wait,
            ),
            uploads: config.uploads.clone(),
            cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }
}
