//! What the server says in a chat: a code with its parameters, and the English text of it.
//!
//! A system message carries both (SPEC §9.5): clients render the code in the reader's language
//! and fall back to the English `body` for a code they do not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// The kinds of system message, named as clients see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum SystemCode {
    /// The booking was accepted and the chat opened. Params: `worker_name?`.
    ChatOpened,
    /// The worker is on the way. Params: `worker_name?`.
    WorkerEnRoute,
    /// The service started.
    ServiceStarted,
    /// The service was completed; the chat is closed.
    ServiceCompleted,
    /// The booking was cancelled; the chat is closed.
    BookingCancelled,
}

impl SystemCode {
    pub const ALL: [SystemCode; 5] = [
        SystemCode::ChatOpened,
        SystemCode::WorkerEnRoute,
        SystemCode::ServiceStarted,
        SystemCode::ServiceCompleted,
        SystemCode::BookingCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SystemCode::ChatOpened => "chat_opened",
            SystemCode::WorkerEnRoute => "worker_en_route",
            SystemCode::ServiceStarted => "service_started",
            SystemCode::ServiceCompleted => "service_completed",
            SystemCode::BookingCancelled => "booking_cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A system message's meaning: `{ "code": …, "params": { … } }` on the wire and in storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct SystemNotice {
    pub code: SystemCode,
    /// Always an object on the wire, possibly empty, so clients need not check for it.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

impl SystemNotice {
    /// The param naming the worker, present only when the worker has a non-blank name.
    pub const WORKER_NAME: &'static str = "worker_name";

    /// A notice without params.
    pub fn new(code: SystemCode) -> Self {
        SystemNotice {
            code,
            params: BTreeMap::new(),
        }
    }

    /// A notice naming the worker. A missing or blank name is left out, so that each client
    /// supplies its own "Your provider" rather than one in the server's language.
    pub fn naming_worker(code: SystemCode, worker_name: Option<&str>) -> Self {
        let mut notice = Self::new(code);
        if let Some(name) = worker_name.map(str::trim).filter(|n| !n.is_empty()) {
            notice
                .params
                .insert(Self::WORKER_NAME.to_string(), name.to_string());
        }
        notice
    }

    /// The English text, stored as the message's `body` for clients that do not know the code.
    pub fn body(&self) -> String {
        match self.code {
            SystemCode::ChatOpened => format!(
                "{} accepted the booking. You can chat here while the service is active.",
                self.worker_label()
            ),
            SystemCode::WorkerEnRoute => format!("{} is on the way", self.worker_label()),
            SystemCode::ServiceStarted => "Service started".to_string(),
            SystemCode::ServiceCompleted => "Service completed. This chat is now closed.".into(),
            SystemCode::BookingCancelled => "Booking cancelled. This chat is now closed.".into(),
        }
    }

    fn worker_label(&self) -> &str {
        self.params
            .get(Self::WORKER_NAME)
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or("Your provider")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_bodies_are_the_published_texts() {
        let bob = Some("Bob");
        let cases = [
            (
                SystemNotice::naming_worker(SystemCode::ChatOpened, bob),
                "Bob accepted the booking. You can chat here while the service is active.",
            ),
            (
                SystemNotice::naming_worker(SystemCode::WorkerEnRoute, bob),
                "Bob is on the way",
            ),
            (
                SystemNotice::new(SystemCode::ServiceStarted),
                "Service started",
            ),
            (
                SystemNotice::new(SystemCode::ServiceCompleted),
                "Service completed. This chat is now closed.",
            ),
            (
                SystemNotice::new(SystemCode::BookingCancelled),
                "Booking cancelled. This chat is now closed.",
            ),
        ];
        for (notice, body) in cases {
            assert_eq!(notice.body(), body, "{:?}", notice.code);
        }
    }

    #[test]
    fn a_blank_or_missing_worker_name_is_left_out() {
        for w in [None, Some(""), Some("  \t")] {
            let n = SystemNotice::naming_worker(SystemCode::WorkerEnRoute, w);
            assert!(n.params.is_empty(), "{w:?}");
            assert_eq!(n.body(), "Your provider is on the way");
        }
        let n = SystemNotice::naming_worker(SystemCode::ChatOpened, Some("  Bob "));
        assert_eq!(n.params[SystemNotice::WORKER_NAME], "Bob");
        assert!(n.body().starts_with("Bob accepted"));
    }

    #[test]
    fn serializes_as_code_and_params_object() {
        let n = SystemNotice::naming_worker(SystemCode::WorkerEnRoute, Some("Bob"));
        assert_eq!(
            serde_json::to_string(&n).ok().as_deref(),
            Some(r#"{"code":"worker_en_route","params":{"worker_name":"Bob"}}"#)
        );
        let n = SystemNotice::new(SystemCode::ServiceStarted);
        assert_eq!(
            serde_json::to_string(&n).ok().as_deref(),
            Some(r#"{"code":"service_started","params":{}}"#)
        );
    }

    #[test]
    fn round_trips_and_refuses_unknown_codes() {
        for code in SystemCode::ALL {
            assert_eq!(SystemCode::parse(code.as_str()), Some(code));
            let n = SystemNotice::naming_worker(code, Some("Bob"));
            let json = serde_json::to_string(&n).unwrap_or_default();
            let back: Result<SystemNotice, _> = serde_json::from_str(&json);
            assert_eq!(back.ok(), Some(n));
        }
        assert!(serde_json::from_str::<SystemNotice>(r#"{"code":"teleported"}"#).is_err());
        let no_params: Result<SystemNotice, _> =
            serde_json::from_str(r#"{"code":"service_started"}"#);
        assert_eq!(
            no_params.ok(),
            Some(SystemNotice::new(SystemCode::ServiceStarted))
        );
    }
}
