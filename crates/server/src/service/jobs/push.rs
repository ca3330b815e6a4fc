//! One Web Push to one subscription (RFC 8030), as a job: the payload `{ type: "message",
//! chat_id, seq }` encrypted to the browser's keys (RFC 8291), signed for the push service with
//! the server's VAPID key (RFC 8292). A 2xx settles it; 404 or 410 means the subscription is
//! gone and it is deleted; a 429, a 5xx or no answer is retried; anything else drops the push.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use omw_domain::{ladder::Urgency, time::now_millis};
use omw_storage::{Job, NewJob, Store};
use serde::{Deserialize, Serialize};

use super::{Handler, Outcome};
use crate::service::push::{BrowserKeys, Vapid, endpoint, topic};

pub const KIND: &str = "push";

/// What a push job stores.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    subscription_id: String,
    /// The subscription's owner: a push for what they read meanwhile is not sent.
    recipient_id: String,
    chat_id: String,
    /// The newest message's seq: the notification opens the chat there.
    seq: i64,
    urgency: Urgency,
    ttl_secs: u64,
}

/// What the browser's service worker receives (SPEC §9.2): no text, no names.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    chat_id: &'a str,
    seq: i64,
}

/// Whom a push goes to: a subscription of the recipient's.
pub struct Recipient<'a> {
    pub subscription_id: &'a str,
    pub user_id: &'a str,
}

/// A push of `chat_id` (newest message `seq`) to one subscription, due now.
pub fn job(to: Recipient, chat_id: &str, seq: i64, urgency: Urgency, ttl_secs: u64) -> NewJob {
    let payload = Payload {
        subscription_id: to.subscription_id.into(),
        recipient_id: to.user_id.into(),
        chat_id: chat_id.into(),
        seq,
        urgency,
        ttl_secs,
    };
    let mut job = NewJob::new(
        KIND,
        serde_json::to_string(&payload).unwrap_or_default(),
        now_millis(),
    );
    job.chat_id = Some(chat_id.into());
    job
}

pub struct Pushes {
    store: Arc<dyn Store>,
    vapid: Arc<Vapid>,
    client: http_client::Client,
    allow_insecure: bool,
}

impl Pushes {
    pub fn new(
        store: Arc<dyn Store>,
        vapid: Arc<Vapid>,
        allow_insecure: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = http_client::Client::builder()
            .timeout(timeout)
            .redirect(http_client::redirect::Policy::none())
            // A proxy would resolve the endpoint's name itself, past the check below.
            .no_proxy()
            .dns_resolver(Arc::new(endpoint::PublicOnly { allow_insecure }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Pushes {
            store,
            vapid,
            client,
            allow_insecure,
        })
    }

    fn counted(outcome: &'static str) {
        metrics::counter!("omw_pushes_total", "outcome" => outcome).increment(1);
    }

    async fn prune(&self, id: &str, why: String) -> Outcome {
        match self.store.prune_subscription(id).await {
            Ok(_) => {
                Self::counted("pruned");
                Outcome::Done {
                    spawn: vec![],
                    restart: None,
                }
            }
            Err(e) => Outcome::Retry(format!("{why}; deleting the subscription failed: {e}")),
        }
    }
}

#[async_trait]
impl Handler for Pushes {
    async fn run(&self, job: &Job) -> Outcome {
        let Ok(p) = serde_json::from_str::<Payload>(&job.payload) else {
            return Outcome::Drop("push payload does not parse".into());
        };
        // Retried past its TTL, a push service would drop it anyway; the ladder's webhook has
        // taken over by then.
        let ttl_ms = i64::try_from(p.ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        if now_millis() > job.created_at.saturating_add(ttl_ms) {
            Self::counted("expired");
            return Outcome::Drop("the push expired before it could be sent".into());
        }
        match self.store.unread_for(&p.chat_id, &p.recipient_id).await {
            Ok(0) => return Outcome::Drop("read meanwhile".into()),
            Ok(_) => {}
            Err(e) => return Outcome::Retry(e.to_string()),
        }
        let sub = match self.store.subscription(&p.subscription_id).await {
            Ok(Some(sub)) => sub,
            // Unsubscribed or pruned meanwhile.
            Ok(None) => return Outcome::Drop("the subscription is gone".into()),
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        // Checked when stored; checked again, as the rules may have tightened since.
        let url = match endpoint::check(&sub.endpoint, self.allow_insecure) {
            Ok(url) => url,
            Err(e) => return self.prune(&sub.id, e.to_string()).await,
        };
        let keys = match BrowserKeys::decode(&sub.p256dh, &sub.auth) {
            Ok(keys) => keys,
            Err(e) => return self.prune(&sub.id, e).await,
        };
        let body = Body {
            kind: "message",
            chat_id: &p.chat_id,
            seq: p.seq,
        };
        let plain = serde_json::to_vec(&body).unwrap_or_default();
        let sealed = match web_push_native::encrypt(plain, &keys.public, &keys.auth) {
            Ok(sealed) => sealed,
            Err(e) => return Outcome::Drop(format!("encrypting the push: {e}")),
        };
        let origin = url.origin().ascii_serialization();
        let authorization = match self.vapid.authorization(&origin, now_millis() / 1000) {
            Ok(a) => a,
            Err(e) => return Outcome::Drop(e.to_string()),
        };
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/octet-stream")
            .header("content-encoding", "aes128gcm")
            .header("ttl", p.ttl_secs.to_string())
            .header("urgency", omw_domain::push::urgency_header(p.urgency))
            .header("topic", topic(&p.chat_id))
            .header("authorization", authorization)
            .body(sealed)
            .send()
            .await;
        match answer.map(|r| r.status().as_u16()) {
            Ok(200..=299) => {
                Self::counted("sent");
                Outcome::Done {
                    spawn: vec![],
                    restart: None,
                }
            }
            Ok(status @ (404 | 410)) => {
                self.prune(&sub.id, format!("the push service answered {status}"))
                    .await
            }
            Ok(status @ (408 | 429 | 500..=599)) => {
                Self::counted("retried");
                Outcome::Retry(format!("the push service answered {status}"))
            }
            Err(e) => {
                Self::counted("retried");
                Outcome::Retry(format!("push: {e}"))
            }
            Ok(status) => {
                Self::counted("failed");
                Outcome::Drop(format!("the push service refused it: {status}"))
            }
        }
    }
}
