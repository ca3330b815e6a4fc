//! What every handler can reach.

use std::sync::Arc;

use crate::{auth::jwt::JwtVerifier, config::Config, service::ChatService};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub jwt: Arc<JwtVerifier>,
    pub chats: Arc<ChatService>,
    pub demo: Option<Arc<DemoState>>,
    /// Set at shutdown (SIGTERM): `/readyz` answers 503 from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// The booking the demo plays with; replaced by a fresh one on reset.
pub struct DemoState {
    pub booking_id: tokio::sync::Mutex<String>,
}
