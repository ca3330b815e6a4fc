//! The notification ladder as outbox jobs (SPEC §9.2; the rules are `omw_domain::ladder`): a
//! stored message starts its recipient's ladder unless one runs; each rung, when due, first
//! checks that something still waits unread and that the recipient is not attending the chat
//! (a focused page that joined it, on any node), so reading or looking ends the ladder and the
//! chat closing removes it. The push rung hands one push job per subscription of the
//! recipient's to the outbox, the webhook rung a signed webhook job, each in the same
//! transaction that moves the ladder on.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use omw_domain::{
    Chat, ChatStatus, Role,
    ladder::{self, Delays, Ladder, Rung},
    time::now_millis,
};
use omw_storage::{Job, NewJob, Store, StoreError};
use serde::Serialize;

use super::{Handler, Outcome, push, webhook};
use crate::service::Notifier;

pub const KIND: &str = "ladder";

/// How long this node remembers a ladder it started: a burst of messages costs one insert, not
/// one each. Never longer than the shortest first step, so the ladder is still stored while it is
/// remembered (one that ends early clears the entry on the node that ran it).
const STARTED_TTL: Duration = Duration::from_secs(5);

/// The escalation webhook's body (SPEC §9.2).
#[derive(Serialize)]
struct Escalation<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    booking_id: &'a str,
    chat_id: &'a str,
    recipient_id: &'a str,
    unread: i64,
    urgency: &'static str,
}

pub struct Ladders {
    store: Arc<dyn Store>,
    /// Asks whether the recipient is attending the chat (their sockets, on every node).
    notifier: Arc<dyn Notifier>,
    delays: Delays,
    /// Whether `NOTIFY_WEBHOOK_URL` is set: without it the ladder stops below the webhook.
    notify: bool,
    started: moka::sync::Cache<String, ()>,
}

impl Ladders {
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        delays: Delays,
        notify: bool,
    ) -> Self {
        let first_step = [delays.high, delays.normal, delays.low]
            .iter()
            .map(|s| u64::try_from(s.push).unwrap_or(0))
            .min()
            .unwrap_or(0);
        let ttl = STARTED_TTL.min(Duration::from_millis(first_step));
        Ladders {
            store,
            notifier,
            delays,
            notify,
            started: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
        }
    }

    /// A message for the participant in seat `recipient` was stored in `chat`: start their
    /// ladder unless one runs. In the background: the sender's ack does not wait for it.
    pub fn message_stored(self: &Arc<Self>, chat: &Chat, recipient: Role) {
        let recipient_id = &chat.seat(recipient).id;
        let key = ladder::dedupe_key(&chat.id, recipient_id);
        if self.started.contains_key(&key) {
            return;
        }
        self.started.insert(key.clone(), ());
        let (me, chat) = (self.clone(), chat.clone());
        tokio::spawn(async move {
            if let Err(e) = me.start(&chat, recipient, key.clone()).await {
                me.started.invalidate(&key);
                tracing::warn!(chat_id = %chat.id, error = %e, "starting a notification ladder failed");
            }
        });
    }

    async fn start(&self, chat: &Chat, recipient: Role, key: String) -> Result<(), StoreError> {
        let now = now_millis();
        let starts_at = self
            .store
            .get_booking(&chat.booking_id)
            .await?
            .and_then(|b| b.starts_at);
        let urgency = ladder::urgency(chat.booking_status, starts_at, now);
        let recipient_id = &chat.seat(recipient).id;
        let (ladder, run_at) = Ladder::start(
            &chat.id,
            (recipient, recipient_id),
            urgency,
            now,
            &self.delays,
        );
        let job = NewJob {
            dedupe_key: Some(key),
            chat_id: Some(chat.id.clone()),
            ..NewJob::new(KIND, payload(&ladder), run_at)
        };
        self.store.schedule_job(job).await?;
        Ok(())
    }

    /// The ladder is over: the next message may start another. One that came in while this
    /// step ran found the ladder still stored; the store then starts it over, fresh.
    fn ended(&self, l: &Ladder, spawn: Vec<NewJob>) -> Outcome {
        self.started
            .invalidate(&ladder::dedupe_key(&l.chat_id, &l.recipient_id));
        let (fresh, run_at) = l.restart(now_millis(), &self.delays);
        Outcome::Done {
            spawn,
            restart: Some((run_at, payload(&fresh))),
        }
    }

    fn climb(&self, l: &Ladder, spawn: Vec<NewJob>) -> Outcome {
        match l.climb(&self.delays) {
            Some((next, run_at)) => Outcome::Next {
                run_at,
                payload: payload(&next),
                spawn,
            },
            None => self.ended(l, spawn),
        }
    }

    /// One push job per subscription of the recipient's, for the chat's newest message.
    async fn pushes(&self, chat: &Chat, l: &Ladder) -> Result<Vec<NewJob>, StoreError> {
        let role = l.recipient_role(chat);
        let owner = format!("{}:{}", role.as_str(), l.recipient_id);
        let ttl = omw_domain::push::ttl_secs(self.delays.of(l.urgency));
        Ok(self
            .store
            .subscriptions_of(&owner)
            .await?
            .iter()
            .map(|s| {
                let to = push::Recipient {
                    subscription_id: &s.id,
                    user_id: &l.recipient_id,
                };
                push::job(to, &chat.id, chat.last_seq, l.urgency, ttl)
            })
            .collect())
    }
}

fn payload(l: &Ladder) -> String {
    serde_json::to_string(l).unwrap_or_default()
}

#[async_trait]
impl Handler for Ladders {
    async fn run(&self, job: &Job) -> Outcome {
        let Ok(l) = serde_json::from_str::<Ladder>(&job.payload) else {
            return Outcome::Drop("ladder payload does not parse".into());
        };
        let chat = match self.store.get_chat(&l.chat_id).await {
            Ok(Some(chat)) if chat.status == ChatStatus::Active => chat,
            Ok(_) => return self.ended(&l, vec![]),
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let unread = match self.store.unread_for(&l.chat_id, &l.recipient_id).await {
            Ok(n) => n,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        if unread == 0 {
            metrics::counter!("omw_ladder_ended_total", "by" => "read").increment(1);
            return self.ended(&l, vec![]);
        }
        // Looking at the chat right now: they see the message, and their read mark follows.
        // Looked at again later, as a page may stay "focused" after its user walked away.
        if self
            .notifier
            .attending(&chat, l.recipient_role(&chat), &l.recipient_id)
            .await
        {
            metrics::counter!("omw_ladder_deferred_total").increment(1);
            return Outcome::Next {
                run_at: l.defer(now_millis(), &self.delays),
                payload: job.payload.clone(),
                spawn: vec![],
            };
        }
        match l.next {
            // Without a subscription the ladder climbs on to the webhook at its time.
            Rung::Push => match self.pushes(&chat, &l).await {
                Ok(pushes) => self.climb(&l, pushes),
                Err(e) => Outcome::Retry(e.to_string()),
            },
            Rung::Webhook if self.notify => {
                let body = Escalation {
                    kind: "unread_messages",
                    booking_id: &chat.booking_id,
                    chat_id: &chat.id,
                    recipient_id: &l.recipient_id,
                    unread,
                    urgency: l.urgency.as_str(),
                };
                let waited = now_millis().saturating_sub(l.started_at).max(0);
                metrics::histogram!("omw_ladder_escalation_seconds").record(waited as f64 / 1000.0);
                self.ended(&l, vec![webhook::job("notify", &body, Some(&chat.id))])
            }
            Rung::Webhook => self.ended(&l, vec![]),
        }
    }
}
