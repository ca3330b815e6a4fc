//! Web Push (SPEC §9.2): the server's VAPID key, users' subscriptions, and what a push carries.
//! The notification ladder decides when to push (`jobs::ladder`); `jobs::push` sends one.

pub mod endpoint;
pub mod vapid;

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use omw_domain::{Principal, push::MAX_SUBSCRIPTIONS_PER_USER, time::now_millis};
use omw_storage::{PushSubscription, Store};
use web_push_native::{Auth, p256::PublicKey};

use super::{ServiceError, limits::user_key};
use crate::config::PushSettings;

pub use vapid::Vapid;

/// A subscription as a browser hands it over (`PushSubscription.toJSON()`).
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A browser's keys, decoded: where a push's payload is encrypted to (RFC 8291).
pub struct BrowserKeys {
    pub public: PublicKey,
    pub auth: Auth,
    /// The keys as stored: base64url without padding, whatever form they came in.
    pub p256dh: String,
    pub auth_secret: String,
}

impl BrowserKeys {
    pub fn decode(p256dh: &str, auth: &str) -> Result<BrowserKeys, String> {
        let point = URL_SAFE_NO_PAD
            .decode(p256dh.trim_end_matches('='))
            .map_err(|_| "keys.p256dh: not base64url")?;
        if point.len() != 65 {
            return Err("keys.p256dh: must be a 65-byte uncompressed P-256 point".into());
        }
        let public =
            PublicKey::from_sec1_bytes(&point).map_err(|_| "keys.p256dh: not a point on P-256")?;
        let secret: [u8; 16] = URL_SAFE_NO_PAD
            .decode(auth.trim_end_matches('='))
            .map_err(|_| "keys.auth: not base64url")?
            .try_into()
            .map_err(|_| "keys.auth: must be 16 bytes")?;
        Ok(BrowserKeys {
            public,
            auth: Auth::from(secret),
            p256dh: URL_SAFE_NO_PAD.encode(&point),
            auth_secret: URL_SAFE_NO_PAD.encode(secret),
        })
    }
}

/// A subscription's id: the SHA-256 of its endpoint (hex), so that one endpoint is one row.
pub fn subscription_id(endpoint: &str) -> String {
    hex::encode(digest(&SHA256, endpoint.as_bytes()))
}

/// A push's `Topic` (RFC 8030 §5.4): at most 32 base64url characters, the same for every push
/// of one chat, so a push service holding several for an offline device delivers the last one
/// only. A hash: the chat id itself may be longer or use other characters.
pub fn topic(chat_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, chat_id.as_bytes()).as_ref()[..24])
}

pub struct Push {
    store: Arc<dyn Store>,
    vapid: Arc<Vapid>,
    allow_insecure: bool,
}

impl Push {
    pub fn new(store: Arc<dyn Store>, settings: &PushSettings) -> Result<Push, vapid::VapidError> {
        let vapid = Vapid::load(
            settings.vapid_key_file.as_deref(),
            &settings.default_key_file,
            &settings.vapid_subject,
        )?;
        Ok(Push {
            store,
            vapid: Arc::new(vapid),
            allow_insecure: settings.allow_insecure_endpoints,
        })
    }

    pub fn vapid(&self) -> &Arc<Vapid> {
        &self.vapid
    }

    /// Whether `http` and local endpoints are accepted (tests).
    pub fn allow_insecure(&self) -> bool {
        self.allow_insecure
    }

    /// Store `who`'s subscription (a browser or device of theirs). The same endpoint again
    /// replaces the old keys; an endpoint another user had moves to `who`.
    pub async fn subscribe(
        &self,
        who: &Principal,
        sub: NewSubscription,
    ) -> Result<(), ServiceError> {
        endpoint::check(&sub.endpoint, self.allow_insecure)
            .map_err(|e| ServiceError::invalid(e.to_string()))?;
        let keys = BrowserKeys::decode(&sub.p256dh, &sub.auth).map_err(ServiceError::invalid)?;
        let row = PushSubscription {
            id: subscription_id(&sub.endpoint),
            user_key: user_key(who),
            endpoint: sub.endpoint,
            p256dh: keys.p256dh,
            auth: keys.auth_secret,
            created_at: now_millis(),
        };
        self.store
            .save_subscription(&row, MAX_SUBSCRIPTIONS_PER_USER)
            .await?;
        metrics::counter!("omw_push_subscriptions_total", "change" => "added").increment(1);
        Ok(())
    }

    /// Forget `who`'s subscription at `endpoint`. Idempotent; never touches another user's.
    pub async fn unsubscribe(&self, who: &Principal, endpoint: &str) -> Result<(), ServiceError> {
        if endpoint.len() > omw_domain::push::MAX_ENDPOINT_BYTES {
            return Err(ServiceError::invalid("endpoint: too long"));
        }
        if self
            .store
            .delete_subscription(&user_key(who), &subscription_id(endpoint))
            .await?
        {
            metrics::counter!("omw_push_subscriptions_total", "change" => "removed").increment(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_is_32_base64url_characters_per_chat() {
        let t = topic("0195c1f0-7a1b-7c2d-8e3f-123456789abc");
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(t, topic("0195c1f0-7a1b-7c2d-8e3f-123456789abc"));
        assert_ne!(t, topic("another chat"));
        assert_eq!(subscription_id("x").len(), 64);
    }

    #[test]
    fn browser_keys_must_be_a_p256_point_and_a_16_byte_secret() {
        // A point from RFC 8291's example.
        let p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let auth = "BTBZMqHH6r4Tts7J_aSIgg";
        assert!(BrowserKeys::decode(p256dh, auth).is_ok());
        let padded = BrowserKeys::decode(&format!("{p256dh}="), &format!("{auth}==")).unwrap();
        assert_eq!(
            (padded.p256dh.as_str(), padded.auth_secret.as_str()),
            (p256dh, auth)
        );
        assert!(
            BrowserKeys::decode(p256dh, "BTBZMqHH6r4Tts7J_aSI").is_err(),
            "15 bytes"
        );
        assert!(
            BrowserKeys::decode(&p256dh[..86], auth).is_err(),
            "64 bytes"
        );
        let off_curve = format!("B{}", "A".repeat(86));
        assert!(BrowserKeys::decode(&off_curve, auth).is_err());
        assert!(BrowserKeys::decode("!!", auth).is_err());
    }
}
