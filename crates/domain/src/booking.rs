//! Bookings are owned by the platform and mirrored here; their status drives the chat.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{
    error::DomainError,
    notice::{SystemCode, SystemNotice},
    time::{Millis, serde_rfc3339},
};

/// Longest id accepted for bookings and users (fits an indexed utf8mb4 VARCHAR).
pub const MAX_ID_CHARS: usize = 191;
/// Longest display name kept.
pub const MAX_NAME_CHARS: usize = 200;

/// Why a chat closed: the booking reached a final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Completed,
    Cancelled,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "completed" => Some(CloseReason::Completed),
            "cancelled" => Some(CloseReason::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Requested,
    Accepted,
    EnRoute,
    InProgress,
    Completed,
    Cancelled,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 6] = [
        BookingStatus::Requested,
        BookingStatus::Accepted,
        BookingStatus::EnRoute,
        BookingStatus::InProgress,
        BookingStatus::Completed,
        BookingStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Requested => "requested",
            BookingStatus::Accepted => "accepted",
            BookingStatus::EnRoute => "en_route",
            BookingStatus::InProgress => "in_progress",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Final statuses never change again.
    pub fn is_final(self) -> bool {
        matches!(self, BookingStatus::Completed | BookingStatus::Cancelled)
    }

    /// The statuses during which the chat is usable.
    pub fn chat_active(self) -> bool {
        matches!(
            self,
            BookingStatus::Accepted | BookingStatus::EnRoute | BookingStatus::InProgress
        )
    }

    /// Position on the forward path requested → accepted → en_route → in_progress → completed.
    fn rank(self) -> u8 {
        match self {
            BookingStatus::Requested => 0,
            BookingStatus::Accepted => 1,
            BookingStatus::EnRoute => 2,
            BookingStatus::InProgress => 3,
            BookingStatus::Completed => 4,
            BookingStatus::Cancelled => 5,
        }
    }
}

/// A customer or a worker as the platform names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Party {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// A booking as the platform last said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct Booking {
    pub id: String,
    pub customer: Party,
    pub worker: Option<Party>,
    pub status: BookingStatus,
    /// The appointment (RFC 3339), when the platform gave one (SPEC §9.1).
    #[serde(with = "serde_rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[ts(type = "string | null")]
    pub starts_at: Option<Millis>,
    /// Where the service takes place: ISO 3166-1 alpha-2, upper case (SPEC §9.1).
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$")]
    pub region: Option<String>,
}

/// What the platform says a booking is now (`PUT /platform/bookings/{id}`). `starts_at` and
/// `region` left out keep what was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingUpdate {
    pub customer: Party,
    pub worker: Option<Party>,
    pub status: BookingStatus,
    pub starts_at: Option<Millis>,
    pub region: Option<String>,
}

/// A region as stored: two ASCII letters (ISO 3166-1 alpha-2), upper-cased.
pub fn normalize_region(region: &str) -> Result<String, DomainError> {
    let r = region.trim();
    if r.len() != 2 || !r.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(DomainError::InvalidPayload(
            "region must be an ISO 3166-1 alpha-2 code, such as DE".into(),
        ));
    }
    Ok(r.to_ascii_uppercase())
}

/// The consequences of applying an update, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The booking as it is after the update.
    pub booking: Booking,
    /// False when the update repeats what is stored (an idempotent retry).
    pub changed: bool,
    /// The chat is to be created now (the booking was just accepted).
    pub open_chat: bool,
    /// System messages to add to the chat, in order.
    pub system_messages: Vec<SystemNotice>,
    /// The chat is to be closed for this reason.
    pub close_chat: Option<CloseReason>,
}

pub fn validate_id(what: &str, id: &str) -> Result<(), DomainError> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(DomainError::InvalidPayload(format!(
            "{what} must be 1 to {MAX_ID_CHARS} printable characters"
        )));
    }
    Ok(())
}

fn validate_party(what: &str, p: &Party) -> Result<(), DomainError> {
    validate_id(what, &p.id)?;
    if p.name.chars().count() > MAX_NAME_CHARS || p.name.contains('\0') {
        return Err(DomainError::InvalidPayload(format!(
            "{what} name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

/// What the chat is told when a booking reaches `status`. Only the messages about the worker
/// name them (docs/protocol.md, "Languages").
fn status_notice(status: BookingStatus, worker: Option<&Party>) -> Option<SystemNotice> {
    let name = worker.map(|w| w.name.as_str());
    Some(match status {
        BookingStatus::Accepted => SystemNotice::naming_worker(SystemCode::ChatOpened, name),
        BookingStatus::EnRoute => SystemNotice::naming_worker(SystemCode::WorkerEnRoute, name),
        BookingStatus::InProgress => SystemNotice::new(SystemCode::ServiceStarted),
        BookingStatus::Completed => SystemNotice::new(SystemCode::ServiceCompleted),
        BookingStatus::Cancelled => SystemNotice::new(SystemCode::BookingCancelled),
        BookingStatus::Requested => return None,
    })
}

impl Transition {
    /// Decide what an update from the platform does to a booking and its chat.
    ///
    /// Forward moves may skip steps (a mirror must survive a lost update from the platform);
    /// backward moves, any move out of a final status, `completed` before the booking was
    /// accepted, and changing the customer or the assigned worker are conflicts.
    pub fn plan(
        booking_id: &str,
        current: Option<&Booking>,
        update: BookingUpdate,
    ) -> Result<Transition, DomainError> {
        validate_id("booking id", booking_id)?;
        validate_party("customer", &update.customer)?;
        if let Some(w) = &update.worker {
            validate_party("worker", w)?;
        }
        let needs_worker = update.status.chat_active() || update.status == BookingStatus::Completed;
        if needs_worker && update.worker.is_none() {
            return Err(DomainError::InvalidPayload(format!(
                "a booking that is {} needs a worker",
                update.status.as_str()
            )));
        }

        let region = update.region.as_deref().map(normalize_region).transpose()?;
        let next = Booking {
            id: booking_id.to_string(),
            customer: update.customer,
            worker: update.worker,
            status: update.status,
            starts_at: update.starts_at,
            region,
        };

        let Some(cur) = current else {
            // First sight of the booking: the platform may mirror it at any status.
            let open_chat = next.status.chat_active();
            let system_messages = if open_chat {
                let mut msgs = vec![status_notice(BookingStatus::Accepted, next.worker.as_ref())];
                if next.status != BookingStatus::Accepted {
                    msgs.push(status_notice(next.status, next.worker.as_ref()));
                }
                msgs.into_iter().flatten().collect()
            } else {
                Vec::new()
            };
            return Ok(Transition {
                booking: next,
                changed: true,
                open_chat,
                system_messages,
                close_chat: None,
            });
        };

        if cur.customer.id != next.customer.id {
            return Err(DomainError::Conflict(
                "the customer of a booking cannot change".into(),
            ));
        }
        let mut next = next;
        if next.starts_at.is_none() {
            next.starts_at = cur.starts_at;
        }
        if next.region.is_none() {
            next.region = cur.region.clone();
        }
        if cur.status != BookingStatus::Requested {
            // Once assigned, the worker stays; `worker: null` in a later update means "as before".
            match (&cur.worker, &next.worker) {
                (Some(_), None) => next.worker = cur.worker.clone(),
                (Some(a), Some(b)) if a.id != b.id => {
                    return Err(DomainError::Conflict(
                        "the worker of an accepted booking cannot change".into(),
                    ));
                }
                _ => {}
            }
        }

        if cur.status == next.status {
            let changed = cur != &next;
            return Ok(Transition {
                booking: next,
                changed,
                open_chat: false,
                system_messages: Vec::new(),
                close_chat: None,
            });
        }
        if cur.status.is_final() {
            return Err(DomainError::Conflict(format!(
                "booking is {} and cannot change",
                cur.status.as_str()
            )));
        }
        let legal = match next.status {
            BookingStatus::Cancelled => true,
            BookingStatus::Completed => cur.status.chat_active(),
            _ => next.status.rank() > cur.status.rank(),
        };
        if !legal {
            return Err(DomainError::Conflict(format!(
                "illegal transition {} -> {}",
                cur.status.as_str(),
                next.status.as_str()
            )));
        }

        let had_chat = cur.status.chat_active();
        let open_chat = !had_chat && next.status.chat_active();
        let mut system_messages = Vec::new();
        if open_chat {
            system_messages.extend(status_notice(BookingStatus::Accepted, next.worker.as_ref()));
        }
        if (had_chat || open_chat) && next.status != BookingStatus::Accepted {
            system_messages.extend(status_notice(next.status, next.worker.as_ref()));
        }
        let close_chat = match next.status {
            BookingStatus::Completed if had_chat => Some(CloseReason::Completed),
            BookingStatus::Cancelled if had_chat => Some(CloseReason::Cancelled),
            _ => None,
        };
        Ok(Transition {
            booking: next,
            changed: true,
            open_chat,
            system_messages,
            close_chat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingStatus::*;

    fn party(id: &str, name: &str) -> Party {
        Party {
            id: id.into(),
            name: name.into(),
        }
    }

    fn update(status: BookingStatus) -> BookingUpdate {
        let worker = (status != Requested && status != Cancelled).then(|| party("w1", "Bob"));
        BookingUpdate {
            customer: party("c1", "Alice"),
            worker,
            status,
            starts_at: None,
            region: None,
        }
    }

    fn booking(status: BookingStatus) -> Booking {
        let u = update(status);
        Booking {
            id: "b1".into(),
            customer: u.customer,
            worker: u.worker,
            status,
            starts_at: None,
            region: None,
        }
    }

    #[test]
    fn appointment_and_region_are_kept_until_the_platform_changes_them() {
        let mut u = update(Accepted);
        u.starts_at = Some(1_000);
        u.region = Some(" de ".into());
        let t = Transition::plan("b1", None, u).unwrap();
        assert_eq!(
            (t.booking.starts_at, t.booking.region.as_deref()),
            (Some(1_000), Some("DE"))
        );
        // A later update without them keeps them; one with them changes them.
        let later = Transition::plan("b1", Some(&t.booking), update(EnRoute)).unwrap();
        assert_eq!(
            (later.booking.starts_at, later.booking.region.as_deref()),
            (Some(1_000), Some("DE"))
        );
        let mut moved = update(Accepted);
        moved.starts_at = Some(2_000);
        let moved = Transition::plan("b1", Some(&t.booking), moved).unwrap();
        assert!(moved.changed && moved.system_messages.is_empty());
        assert_eq!(moved.booking.starts_at, Some(2_000));
        for bad in ["D", "DEU", "D1", "", "ÄÖ"] {
            let mut u = update(Accepted);
            u.region = Some(bad.into());
            assert!(
                matches!(
                    Transition::plan("b1", None, u),
                    Err(DomainError::InvalidPayload(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn every_pair_of_statuses_is_decided() {
        for from in BookingStatus::ALL {
            for to in BookingStatus::ALL {
                let mut u = update(to);
                if u.worker.is_none() && from != Requested && from != Cancelled {
                    u.worker = Some(party("w1", "Bob"));
                }
                let res = Transition::plan("b1", Some(&booking(from)), u);
                let expected_ok = from == to
                    || (!from.is_final()
                        && match to {
                            Cancelled => true,
                            Completed => from.chat_active(),
                            _ => to.rank() > from.rank(),
                        });
                assert_eq!(res.is_ok(), expected_ok, "{from:?} -> {to:?}: {res:?}");
                if let Ok(t) = res {
                    assert_eq!(
                        t.open_chat,
                        !from.chat_active() && to.chat_active() && from != to
                    );
                    assert_eq!(
                        t.close_chat.is_some(),
                        from.chat_active() && to.is_final(),
                        "{from:?} -> {to:?}"
                    );
                }
            }
        }
    }

    fn codes(t: &Transition) -> Vec<SystemCode> {
        t.system_messages.iter().map(|n| n.code).collect()
    }

    #[test]
    fn acceptance_opens_with_a_system_message() {
        let t = Transition::plan("b1", Some(&booking(Requested)), update(Accepted)).unwrap();
        assert!(t.open_chat);
        assert_eq!(codes(&t), [SystemCode::ChatOpened]);
        assert_eq!(
            t.system_messages[0].params[SystemNotice::WORKER_NAME],
            "Bob"
        );
        assert!(t.system_messages[0].body().starts_with("Bob accepted"));
    }

    #[test]
    fn first_sight_in_progress_opens_and_says_so() {
        let t = Transition::plan("b1", None, update(InProgress)).unwrap();
        assert!(t.open_chat);
        assert_eq!(
            codes(&t),
            [SystemCode::ChatOpened, SystemCode::ServiceStarted]
        );
        assert_eq!(t.system_messages[1].body(), "Service started");
        assert!(t.system_messages[1].params.is_empty());
    }

    #[test]
    fn en_route_names_the_worker() {
        let t = Transition::plan("b1", Some(&booking(Accepted)), update(EnRoute)).unwrap();
        assert_eq!(codes(&t), [SystemCode::WorkerEnRoute]);
        assert_eq!(t.system_messages[0].body(), "Bob is on the way");
    }

    #[test]
    fn a_nameless_worker_is_not_named() {
        let mut u = update(EnRoute);
        u.worker = Some(party("w1", " "));
        let t = Transition::plan("b1", None, u).unwrap();
        assert_eq!(
            codes(&t),
            [SystemCode::ChatOpened, SystemCode::WorkerEnRoute]
        );
        assert!(t.system_messages.iter().all(|n| n.params.is_empty()));
        assert_eq!(t.system_messages[1].body(), "Your provider is on the way");
    }

    #[test]
    fn closing_messages_carry_no_params() {
        let t = Transition::plan("b1", Some(&booking(InProgress)), update(Completed)).unwrap();
        assert_eq!(codes(&t), [SystemCode::ServiceCompleted]);
        assert!(t.system_messages[0].params.is_empty());
        assert_eq!(
            t.system_messages[0].body(),
            "Service completed. This chat is now closed."
        );
        let t = Transition::plan("b1", Some(&booking(EnRoute)), update(Cancelled)).unwrap();
        assert_eq!(codes(&t), [SystemCode::BookingCancelled]);
        assert!(t.system_messages[0].params.is_empty());
        assert_eq!(
            t.system_messages[0].body(),
            "Booking cancelled. This chat is now closed."
        );
    }

    #[test]
    fn no_chat_no_messages() {
        let t = Transition::plan("b1", Some(&booking(Requested)), update(Cancelled)).unwrap();
        assert!(t.system_messages.is_empty() && t.close_chat.is_none());
    }

    #[test]
    fn repeat_is_unchanged() {
        let t = Transition::plan("b1", Some(&booking(Accepted)), update(Accepted)).unwrap();
        assert!(!t.changed && !t.open_chat && t.system_messages.is_empty());
    }

    #[test]
    fn active_status_needs_a_worker() {
        let mut u = update(Accepted);
        u.worker = None;
        assert!(matches!(
            Transition::plan("b1", None, u),
            Err(DomainError::InvalidPayload(_))
        ));
    }

    #[test]
    fn worker_and_customer_cannot_change_after_acceptance() {
        let mut u = update(EnRoute);
        u.worker = Some(party("w2", "Eve"));
        assert!(matches!(
            Transition::plan("b1", Some(&booking(Accepted)), u),
            Err(DomainError::Conflict(_))
        ));
        let mut u = update(EnRoute);
        u.customer = party("c2", "Mallory");
        assert!(matches!(
            Transition::plan("b1", Some(&booking(Accepted)), u),
            Err(DomainError::Conflict(_))
        ));
    }

    #[test]
    fn cancel_without_worker_keeps_the_worker() {
        let mut u = update(Cancelled);
        u.worker = None;
        let t = Transition::plan("b1", Some(&booking(EnRoute)), u).unwrap();
        assert_eq!(t.booking.worker.unwrap().id, "w1");
        assert_eq!(t.close_chat, Some(CloseReason::Cancelled));
    }

    #[test]
    fn ids_are_validated() {
        assert!(Transition::plan("", None, update(Requested)).is_err());
        assert!(Transition::plan(&"x".repeat(192), None, update(Requested)).is_err());
        assert!(Transition::plan(&"x".repeat(191), None, update(Requested)).is_ok());
    }
}
