//! The service layer: what Socket.IO handlers and REST handlers both call. It asks the domain,
//! writes through the store, and tells connected clients through a [`Notifier`].

mod lifecycle;
pub mod notifier;
pub mod sweeper;

use std::{sync::Arc, time::Duration};

use omw_storage::Store;

pub use notifier::{NoopNotifier, Notifier};

use crate::files::Files;

pub struct ChatService {
    pub store: Arc<dyn Store>,
    pub files: Files,
    pub notifier: Arc<dyn Notifier>,
    pub retention: Duration,
    pub sweeper: sweeper::Wake,
}

impl ChatService {
    pub fn new(
        store: Arc<dyn Store>,
        files: Files,
        notifier: Arc<dyn Notifier>,
        retention: Duration,
    ) -> Self {
        ChatService {
            store,
            files,
            notifier,
            retention,
            sweeper: sweeper::Wake::default(),
        }
    }
}
