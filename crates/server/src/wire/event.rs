//! The client → server events of SPEC §4, parsed once from their name and payload.

use serde_json::Value;

use super::request::{
    InChat, JoinChat, LeaveChat, MarkRead, PageRequest, RefreshToken, SendMessage, Typing,
    from_json_object,
};
use crate::service::ServiceError;

pub enum ClientEvent {
    JoinChat(JoinChat),
    LeaveChat(LeaveChat),
    SendMessage(InChat<SendMessage>),
    LoadMessages(InChat<PageRequest>),
    Typing(Typing),
    MarkRead(InChat<MarkRead>),
    RefreshToken(RefreshToken),
}

/// The events a client may send, by name.
pub const NAMES: [&str; 7] = [
    "join_chat",
    "leave_chat",
    "send_message",
    "load_messages",
    "typing",
    "mark_read",
    "refresh_token",
];

impl ClientEvent {
    /// The event's name as a metric label: one of [`NAMES`], or `unknown` (a client's
    /// arbitrary names never become labels).
    pub fn label(name: &str) -> &'static str {
        NAMES
            .iter()
            .find(|n| **n == name)
            .copied()
            .unwrap_or("unknown")
    }

    /// The event named `name` with its payload; `invalid_payload` for an unknown name or a
    /// payload of the wrong shape.
    pub fn parse(name: &str, data: Result<Value, String>) -> Result<ClientEvent, ServiceError> {
        let known = Self::label(name);
        if known == "unknown" {
            return Err(ServiceError::invalid(format!("unknown event: {name}")));
        }
        let value = data.map_err(|e| ServiceError::invalid(format!("payload: {e}")))?;
        Ok(match known {
            "join_chat" => ClientEvent::JoinChat(from_json_object(value)?),
            "leave_chat" => ClientEvent::LeaveChat(from_json_object(value)?),
            "send_message" => ClientEvent::SendMessage(from_json_object(value)?),
            "load_messages" => ClientEvent::LoadMessages(from_json_object(value)?),
            "typing" => ClientEvent::Typing(from_json_object(value)?),
            "mark_read" => ClientEvent::MarkRead(from_json_object(value)?),
            _ => ClientEvent::RefreshToken(from_json_object(value)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_parse_by_name_and_refuse_other_shapes() {
        let send = ClientEvent::parse(
            "send_message",
            Ok(json!({ "chat_id": "c1", "client_id": "x", "body": "hi" })),
        );
        assert!(
            matches!(send, Ok(ClientEvent::SendMessage(m)) if m.chat_id == "c1" && m.rest.body.as_deref() == Some("hi"))
        );
        let page = ClientEvent::parse("load_messages", Ok(json!({ "chat_id": "c1", "limit": 5 })));
        assert!(matches!(page, Ok(ClientEvent::LoadMessages(p)) if p.rest.limit == Some(5)));
        for (name, data) in [
            ("nope", json!({})),
            ("mark_read", json!(["c1", 5])),
            ("mark_read", json!({ "chat_id": "c1", "up_to_seq": "5" })),
            ("typing", json!("c1")),
        ] {
            let e = ClientEvent::parse(name, Ok(data)).err().map(|e| e.code);
            assert_eq!(e, Some(crate::service::ErrorCode::InvalidPayload), "{name}");
        }
        assert_eq!(ClientEvent::label("drop_tables"), "unknown");
    }
}
