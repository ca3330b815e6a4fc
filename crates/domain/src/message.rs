//! Messages and the rules a client's message must satisfy.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{
    access::Role,
    error::DomainError,
    notice::SystemNotice,
    time::{Millis, serde_rfc3339},
};

/// Longest text body or caption, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest idempotency key a client may send.
pub const MAX_CLIENT_ID_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Image,
    File,
    Audio,
    System,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::File => "file",
            MessageKind::Audio => "audio",
            MessageKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Text,
            Self::Image,
            Self::File,
            Self::Audio,
            Self::System,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn has_attachment(self) -> bool {
        matches!(
            self,
            MessageKind::Image | MessageKind::File | MessageKind::Audio
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum SenderRole {
    Customer,
    Worker,
    System,
}

impl SenderRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderRole::Customer => "customer",
            SenderRole::Worker => "worker",
            SenderRole::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(SenderRole::Customer),
            "worker" => Some(SenderRole::Worker),
            "system" => Some(SenderRole::System),
            _ => None,
        }
    }
}

impl From<Role> for SenderRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Customer => SenderRole::Customer,
            Role::Worker => SenderRole::Worker,
        }
    }
}

/// Who wrote a message: a participant, or the service itself (`system`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct Sender {
    pub id: String,
    pub role: SenderRole,
    pub name: String,
}

impl Sender {
    pub const SYSTEM_ID: &'static str = "system";

    pub fn system() -> Self {
        Sender {
            id: Self::SYSTEM_ID.into(),
            role: SenderRole::System,
            name: "OMW".into(),
        }
    }
}

/// A stored file as a message shows it. `url`/`thumb_url` are API paths that need the
/// participant's Bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub thumb_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub height: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub duration_ms: Option<i64>,
}

impl Attachment {
    /// The API path of a stored file.
    pub fn url_for(id: &str) -> String {
        format!("/api/v1/attachments/{id}")
    }

    /// The API path of a stored file's thumbnail.
    pub fn thumb_url_for(id: &str) -> String {
        format!("/api/v1/attachments/{id}/thumb")
    }
}

impl MessageKind {
    /// Whether an upload of this MIME type may be sent as this kind of message.
    pub fn accepts_mime(self, mime: &str) -> bool {
        match self {
            MessageKind::Image => mime.starts_with("image/"),
            MessageKind::Audio => mime.starts_with("audio/") || mime == "video/webm",
            MessageKind::File => true,
            MessageKind::Text | MessageKind::System => false,
        }
    }
}

/// A stored message as every client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct Message {
    pub id: String,
    pub chat_id: String,
    pub seq: i64,
    pub sender: Sender,
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment: Option<Attachment>,
    pub client_id: Option<String>,
    #[serde(with = "serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    #[ts(type = "string")]
    pub created_at: Millis,
    /// What a system message says, beside its English `body`; absent on other messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub system: Option<SystemNotice>,
}

/// A message ready to be stored: validated, with its sender fixed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: String,
    pub chat_id: String,
    pub sender: Sender,
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment_id: Option<String>,
    pub client_id: Option<String>,
    pub created_at: Millis,
    /// Set on system messages only; `body` then holds its English text.
    pub system: Option<SystemNotice>,
}

/// What a client asked to send, before validation: `send_message` / `POST /chats/{id}/messages`
/// on the wire. Absent fields are refused or defaulted by the message rules (SPEC §3), with a
/// message naming the field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, TS)]
#[serde(default)]
#[schema(as = SendMessage)]
#[ts(optional_fields, rename = "SendMessage")]
pub struct ClientMessage {
    /// The sender's idempotency key: required; a resend with the same key returns the stored
    /// message.
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: Option<String>,
    /// `text` (the default), `image`, `file` or `audio`.
    pub kind: Option<String>,
    /// The text, or a caption for an attachment; at most 4000 characters.
    #[schema(max_length = 4000)]
    pub body: Option<String>,
    /// An upload's id (`POST /chats/{id}/attachments`) for image, file and audio messages.
    pub attachment_id: Option<String>,
}

/// Checked fields of a client's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMessage {
    pub client_id: String,
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment_id: Option<String>,
}

fn invalid(msg: impl Into<String>) -> DomainError {
    DomainError::InvalidPayload(msg.into())
}

impl ClientMessage {
    /// Clients send text, image, file or audio; never system. Text needs a non-blank body; the
    /// others need an attachment and may carry a caption.
    pub fn validate(self) -> Result<ValidMessage, DomainError> {
        let client_id = self
            .client_id
            .ok_or_else(|| invalid("client_id is required"))?;
        if client_id.is_empty()
            || client_id.chars().count() > MAX_CLIENT_ID_CHARS
            || client_id.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "client_id must be 1 to {MAX_CLIENT_ID_CHARS} printable characters"
            )));
        }
        let kind = self.kind.ok_or_else(|| invalid("kind is required"))?;
        let kind = MessageKind::parse(&kind)
            .ok_or_else(|| invalid("kind must be one of text, image, file, audio"))?;
        if kind == MessageKind::System {
            return Err(invalid("clients cannot send system messages"));
        }
        if let Some(body) = &self.body {
            if body.chars().count() > MAX_BODY_CHARS {
                return Err(invalid(format!(
                    "body is longer than {MAX_BODY_CHARS} characters"
                )));
            }
            if body.contains('\0') {
                return Err(invalid("body contains a NUL character"));
            }
        }
        let body = self.body.filter(|b| !b.trim().is_empty());
        if kind.has_attachment() {
            if self.attachment_id.as_deref().is_none_or(str::is_empty) {
                return Err(invalid(format!(
                    "a {} message needs attachment_id",
                    kind.as_str()
                )));
            }
        } else {
            if self.attachment_id.is_some() {
                return Err(invalid("a text message cannot carry an attachment"));
            }
            if body.is_none() {
                return Err(invalid("a text message needs a non-empty body"));
            }
        }
        Ok(ValidMessage {
            client_id,
            kind,
            body,
            attachment_id: self.attachment_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> ClientMessage {
        ClientMessage {
            client_id: Some("c-1".into()),
            kind: Some("text".into()),
            body: Some(body.into()),
            attachment_id: None,
        }
    }

    #[test]
    fn body_limit_at_and_beyond_the_edge() {
        assert!(text(&"é".repeat(MAX_BODY_CHARS)).validate().is_ok());
        assert!(text(&"é".repeat(MAX_BODY_CHARS + 1)).validate().is_err());
    }

    #[test]
    fn blank_and_nul_bodies_are_refused() {
        assert!(text("   \n").validate().is_err());
        assert!(text("a\0b").validate().is_err());
    }

    #[test]
    fn system_kind_and_unknown_kind_are_refused() {
        let mut m = text("hi");
        m.kind = Some("system".into());
        assert!(m.validate().is_err());
        let mut m = text("hi");
        m.kind = Some("video".into());
        assert!(m.validate().is_err());
    }

    #[test]
    fn attachment_kinds_need_an_attachment() {
        let mut m = text("caption");
        m.kind = Some("image".into());
        assert!(m.clone().validate().is_err());
        m.attachment_id = Some("a1".into());
        let v = m.validate().unwrap();
        assert_eq!(v.body.as_deref(), Some("caption"));
    }

    fn stored(kind: MessageKind, system: Option<SystemNotice>) -> Message {
        Message {
            id: "m1".into(),
            chat_id: "c1".into(),
            seq: 1,
            sender: Sender::system(),
            kind,
            body: system.as_ref().map(SystemNotice::body),
            attachment: None,
            client_id: None,
            created_at: 0,
            system,
        }
    }

    #[test]
    fn system_is_serialized_only_when_present() {
        use crate::notice::SystemCode;

        let text = serde_json::to_value(stored(MessageKind::Text, None)).unwrap_or_default();
        assert!(text.get("system").is_none(), "{text}");
        let notice = SystemNotice::new(SystemCode::ServiceStarted);
        let sys =
            serde_json::to_value(stored(MessageKind::System, Some(notice))).unwrap_or_default();
        assert_eq!(
            sys["system"],
            serde_json::json!({ "code": "service_started", "params": {} })
        );
        assert_eq!(sys["body"], "Service started");
    }

    #[test]
    fn client_id_is_required_and_bounded() {
        let mut m = text("hi");
        m.client_id = None;
        assert!(m.validate().is_err());
        let mut m = text("hi");
        m.client_id = Some("x".repeat(MAX_CLIENT_ID_CHARS));
        assert!(m.validate().is_ok());
        let mut m = text("hi");
        m.client_id = Some("x".repeat(MAX_CLIENT_ID_CHARS + 1));
        assert!(m.validate().is_err());
    }
}
