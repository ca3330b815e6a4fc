//! The notification ladder (SPEC §9.2): a message waiting unread for a recipient who is not
//! attending the chat climbs, one rung at a time, from a web push to a webhook for the platform's
//! e-mail or SMS — sooner the closer the appointment. One ladder per chat and recipient: later
//! messages ride on it (the webhook then reports them together, a digest), never one per message.

use serde::{Deserialize, Serialize};

use crate::{BookingStatus, Chat, Role, time::Millis};

/// How urgently the recipient must be reached, from the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// The worker is on the way or at work, or the appointment is less than 2 h away.
    High,
    /// The appointment is less than 24 h away.
    Normal,
    /// Later, or no appointment time known.
    Low,
}

impl Urgency {
    /// As the webhook names it, and as Web Push's `Urgency` header takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Normal => "normal",
            Urgency::Low => "low",
        }
    }
}

const HOUR: Millis = 3_600_000;

/// The urgency of a booking in `status` whose appointment is at `starts_at`, at `now`.
pub fn urgency(status: BookingStatus, starts_at: Option<Millis>, now: Millis) -> Urgency {
    if matches!(status, BookingStatus::EnRoute | BookingStatus::InProgress) {
        return Urgency::High;
    }
    match starts_at.map(|t| t.saturating_sub(now)) {
        Some(left) if left < 2 * HOUR => Urgency::High,
        Some(left) if left < 24 * HOUR => Urgency::Normal,
        _ => Urgency::Low,
    }
}

/// The two rungs' delays for one urgency, both counted from the message that started the
/// ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    pub push: Millis,
    pub webhook: Millis,
}

/// The delays of every urgency (`NOTIFY_DELAYS` overrides them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    pub high: Steps,
    pub normal: Steps,
    pub low: Steps,
}

impl Default for Delays {
    /// Seconds when the worker is near; about a minute the day before; minutes otherwise.
    fn default() -> Self {
        Delays {
            high: Steps {
                push: 10_000,
                webhook: 120_000,
            },
            normal: Steps {
                push: 60_000,
                webhook: 900_000,
            },
            low: Steps {
                push: 300_000,
                webhook: 3_600_000,
            },
        }
    }
}

impl Delays {
    pub fn of(&self, urgency: Urgency) -> Steps {
        match urgency {
            Urgency::High => self.high,
            Urgency::Normal => self.normal,
            Urgency::Low => self.low,
        }
    }
}

/// A rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rung {
    Push,
    Webhook,
}

/// A ladder in progress: what its job stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    pub chat_id: String,
    pub recipient_id: String,
    /// The recipient's seat in the chat (absent in ladders stored before it was kept).
    #[serde(default)]
    pub recipient_role: Option<Role>,
    pub urgency: Urgency,
    /// When the message that started it was stored.
    pub started_at: Millis,
    /// The rung to run next.
    pub next: Rung,
}

impl Ladder {
    /// A new ladder for a message stored at `now`, and when its first rung runs.
    pub fn start(
        chat_id: &str,
        recipient: (Role, &str),
        urgency: Urgency,
        now: Millis,
        delays: &Delays,
    ) -> (Ladder, Millis) {
        let ladder = Ladder {
            chat_id: chat_id.into(),
            recipient_id: recipient.1.into(),
            recipient_role: Some(recipient.0),
            urgency,
            started_at: now,
            next: Rung::Push,
        };
        (ladder, now.saturating_add(delays.of(urgency).push.max(0)))
    }

    /// A new ladder for the same recipient, for a message stored at `now`.
    pub fn restart(&self, now: Millis, delays: &Delays) -> (Ladder, Millis) {
        let fresh = Ladder {
            started_at: now,
            next: Rung::Push,
            ..self.clone()
        };
        (
            fresh,
            now.saturating_add(delays.of(self.urgency).push.max(0)),
        )
    }

    /// The recipient's seat in `chat`.
    pub fn recipient_role(&self, chat: &Chat) -> Role {
        self.recipient_role
            .unwrap_or(if chat.customer.id == self.recipient_id {
                Role::Customer
            } else {
                Role::Worker
            })
    }

    /// The same rung once more, one push delay from `now`: the recipient was attending the chat
    /// when it fell due (they see it, and their read mark follows), but a page can stay
    /// "focused" after its user left, so the ladder looks again rather than ending.
    pub fn defer(&self, now: Millis, delays: &Delays) -> Millis {
        now.saturating_add(delays.of(self.urgency).push.max(1_000))
    }

    /// The rung after the one just run, and when it runs; `None` at the top.
    pub fn climb(&self, delays: &Delays) -> Option<(Ladder, Millis)> {
        match self.next {
            Rung::Push => {
                let steps = delays.of(self.urgency);
                let at = self
                    .started_at
                    .saturating_add(steps.webhook.max(steps.push));
                Some((
                    Ladder {
                        next: Rung::Webhook,
                        ..self.clone()
                    },
                    at,
                ))
            }
            Rung::Webhook => None,
        }
    }
}

/// Whether a rung still has a reason to run: the recipient has not read up to the newest
/// message the counterpart wrote.
pub fn still_unread(last_read_seq: i64, newest_from_counterpart: Option<i64>) -> bool {
    newest_from_counterpart.is_some_and(|seq| seq > last_read_seq)
}

/// The ladder's job key: one live ladder per chat and recipient.
pub fn dedupe_key(chat_id: &str, recipient_id: &str) -> String {
    format!("ladder:{chat_id}:{recipient_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_000_000_000;

    #[test]
    fn urgency_follows_the_status_and_the_appointment() {
        use BookingStatus::*;
        assert_eq!(urgency(EnRoute, None, NOW), Urgency::High);
        assert_eq!(
            urgency(InProgress, Some(NOW + 48 * HOUR), NOW),
            Urgency::High
        );
        assert_eq!(
            urgency(Accepted, Some(NOW + 2 * HOUR - 1), NOW),
            Urgency::High
        );
        assert_eq!(
            urgency(Accepted, Some(NOW + 2 * HOUR), NOW),
            Urgency::Normal
        );
        assert_eq!(
            urgency(Accepted, Some(NOW - HOUR), NOW),
            Urgency::High,
            "overdue"
        );
        assert_eq!(
            urgency(Accepted, Some(NOW + 24 * HOUR - 1), NOW),
            Urgency::Normal
        );
        assert_eq!(urgency(Accepted, Some(NOW + 24 * HOUR), NOW), Urgency::Low);
        assert_eq!(urgency(Accepted, None, NOW), Urgency::Low);
        assert_eq!(urgency(Accepted, Some(i64::MIN), i64::MAX), Urgency::High);
    }

    #[test]
    fn a_ladder_climbs_from_push_to_webhook_and_stops() {
        let d = Delays::default();
        let (l, at) = Ladder::start("c1", (Role::Worker, "u1"), Urgency::High, NOW, &d);
        assert_eq!((l.next, at), (Rung::Push, NOW + 10_000));
        let (l2, at2) = l.climb(&d).expect("a second rung");
        assert_eq!((l2.next, at2), (Rung::Webhook, NOW + 120_000));
        assert_eq!(l2.started_at, NOW);
        assert_eq!(l2.climb(&d), None);
        let (again, at3) = l2.restart(NOW + 5, &d);
        assert_eq!(
            (again.next, again.started_at, at3),
            (Rung::Push, NOW + 5, NOW + 10_005)
        );
        assert_eq!(again.recipient_role, Some(Role::Worker));
        // A webhook delay shorter than the push's never runs the webhook first.
        let odd = Delays {
            low: Steps {
                push: 5_000,
                webhook: 1_000,
            },
            ..d
        };
        let (l, _) = Ladder::start("c1", (Role::Worker, "u1"), Urgency::Low, NOW, &odd);
        assert_eq!(l.climb(&odd).map(|(_, at)| at), Some(NOW + 5_000));
        let (_, at) = Ladder::start("c1", (Role::Worker, "u1"), Urgency::Low, i64::MAX - 1, &d);
        assert_eq!(at, i64::MAX);
    }

    #[test]
    fn a_deferred_rung_looks_again_one_push_delay_later() {
        let d = Delays::default();
        let (l, _) = Ladder::start("c1", (Role::Customer, "u1"), Urgency::High, NOW, &d);
        assert_eq!(l.defer(NOW + 50_000, &d), NOW + 60_000);
        let quick = Delays {
            high: Steps {
                push: 100,
                webhook: 200,
            },
            ..d
        };
        assert_eq!(l.defer(NOW, &quick), NOW + 1_000, "at least a second");
    }

    #[test]
    fn reading_up_to_the_newest_message_ends_the_reason() {
        assert!(still_unread(3, Some(4)));
        assert!(!still_unread(4, Some(4)));
        assert!(!still_unread(5, Some(4)));
        assert!(!still_unread(0, None));
    }

    #[test]
    fn a_ladder_round_trips_through_its_job_payload() {
        let (l, _) = Ladder::start(
            "c1",
            (Role::Worker, "u1"),
            Urgency::Normal,
            NOW,
            &Delays::default(),
        );
        let json = serde_json::to_string(&l).unwrap();
        assert!(json.contains("\"urgency\":\"normal\"") && json.contains("\"next\":\"push\""));
        assert_eq!(serde_json::from_str::<Ladder>(&json).unwrap(), l);
        let older = json.replace(",\"recipient_role\":\"worker\"", "");
        assert_ne!(older, json);
        assert_eq!(
            serde_json::from_str::<Ladder>(&older)
                .unwrap()
                .recipient_role,
            None
        );
        assert_eq!(dedupe_key("c1", "u1"), "ladder:c1:u1");
    }
}
