//! Web Push subscriptions (SPEC §9.2): where the notification ladder's push goes, per user and
//! device.

use async_trait::async_trait;
use omw_domain::time::Millis;

use crate::error::StoreError;

/// One browser's or device's subscription.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushSubscription {
    /// The SHA-256 of `endpoint` (hex): one row per endpoint.
    pub id: String,
    /// The owner, as `role:user_id`.
    pub user_key: String,
    /// The push service's URL for this subscription (RFC 8030).
    pub endpoint: String,
    /// The browser's P-256 key and auth secret (base64url, RFC 8291).
    pub p256dh: String,
    pub auth: String,
    pub created_at: Millis,
}

#[async_trait]
pub trait Subscriptions: Send + Sync {
    /// Store `sub`, replacing the row of the same endpoint whoever owned it (a browser profile
    /// that another user logs into). The owner's oldest beyond `max_per_user` are deleted.
    async fn save_subscription(
        &self,
        sub: &PushSubscription,
        max_per_user: u32,
    ) -> Result<(), StoreError>;

    /// Delete `user_key`'s subscription `id`; false when they have none such.
    async fn delete_subscription(&self, user_key: &str, id: &str) -> Result<bool, StoreError>;

    /// Delete subscription `id` whoever owns it (its push service answered 404 or 410).
    async fn prune_subscription(&self, id: &str) -> Result<bool, StoreError>;

    /// A user's subscriptions, newest first.
    async fn subscriptions_of(&self, user_key: &str) -> Result<Vec<PushSubscription>, StoreError>;

    async fn subscription(&self, id: &str) -> Result<Option<PushSubscription>, StoreError>;
}
