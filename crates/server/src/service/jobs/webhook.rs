//! Signed webhooks to the platform (SPEC §9, §9.2), delivered as jobs: at least once, with the
//! job's id as `Idempotency-Key` on every attempt, and `X-Omw-Signature: sha256=<hex HMAC-SHA256
//! of the body>` under the target's own secret. A 2xx settles it; a 408, a 429, a 5xx or no
//! answer is retried with backoff; any other status is the receiver's refusal and drops it.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use omw_domain::time::now_millis;
use omw_storage::{Job, NewJob};
use serde::{Deserialize, Serialize};

use super::{Handler, Outcome};
use crate::config::WebhookTarget;

pub const KIND: &str = "webhook";

/// What a webhook job stores: the target's name and the exact body that is signed and sent.
#[derive(Serialize, Deserialize)]
struct Payload {
    target: String,
    body: String,
}

/// A webhook job for `target` (`notify`, `booking`, `moderation`) carrying `body`, due now.
/// `chat_id` ties it to a chat whose closing drops it.
pub fn job(target: &str, body: &impl Serialize, chat_id: Option<&str>) -> NewJob {
    let payload = Payload {
        target: target.into(),
        body: serde_json::to_string(body).unwrap_or_default(),
    };
    let mut job = NewJob::new(
        KIND,
        serde_json::to_string(&payload).unwrap_or_default(),
        now_millis(),
    );
    job.chat_id = chat_id.map(str::to_owned);
    job
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`: the `X-Omw-Signature` value.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), body);
    format!("sha256={}", hex::encode(tag.as_ref()))
}

/// Delivers webhook jobs to the configured targets.
pub struct Webhooks {
    client: http_client::Client,
    targets: HashMap<String, WebhookTarget>,
}

impl Webhooks {
    pub fn new(targets: &[WebhookTarget], timeout: Duration) -> Result<Self, String> {
        let client = http_client::Client::builder()
            .timeout(timeout)
            .redirect(http_client::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let targets = targets
            .iter()
            .map(|t| (t.name.to_string(), t.clone()))
            .collect();
        Ok(Webhooks { client, targets })
    }
}

#[async_trait]
impl Handler for Webhooks {
    async fn run(&self, job: &Job) -> Outcome {
        let Ok(p) = serde_json::from_str::<Payload>(&job.payload) else {
            return Outcome::Drop("webhook payload does not parse".into());
        };
        // Another node may have the URL (a rolling change of configuration): try again later.
        let Some(target) = self.targets.get(&p.target) else {
            return Outcome::Retry(format!("no URL configured for the {} webhook", p.target));
        };
        let answer = self
            .client
            .post(target.url.as_str())
            .header("content-type", "application/json")
            .header(
                "x-omw-signature",
                signature(target.secret.as_bytes(), p.body.as_bytes()),
            )
            .header("idempotency-key", job.id.as_str())
            .body(p.body)
            .send()
            .await;
        let status = answer.as_ref().map(|r| r.status().as_u16());
        let result = match status {
            Ok(200..=299) => "delivered",
            Ok(408 | 429 | 500..=599) | Err(_) => "failed",
            Ok(_) => "refused",
        };
        metrics::counter!("omw_webhook_attempts_total", "target" => target.name, "result" => result)
            .increment(1);
        match (result, answer) {
            ("delivered", _) => Outcome::Done {
                spawn: vec![],
                restart: None,
            },
            (_, Err(e)) => Outcome::Retry(format!("{} webhook: {e}", target.name)),
            ("failed", Ok(r)) => {
                Outcome::Retry(format!("{} webhook answered {}", target.name, r.status()))
            }
            (_, Ok(r)) => Outcome::Drop(format!(
                "{} webhook refused it: {}",
                target.name,
                r.status()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
