//! Rows as the database returns them, and their conversion into domain types.

use omw_domain::{
    Attachment, Booking, BookingStatus, Chat, ChatStatus, CloseReason, Message, MessageKind, Party,
    Sender, SenderRole, SystemNotice,
};
use sqlx::FromRow;

use crate::{
    error::StoreError,
    store::{AttachmentRecord, NewAttachment, ReadState},
};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

#[derive(Debug, FromRow)]
pub struct BookingRow {
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub worker_id: Option<String>,
    pub worker_name: Option<String>,
    pub status: String,
    pub starts_at: Option<i64>,
    pub region: Option<String>,
}

impl TryFrom<BookingRow> for Booking {
    type Error = StoreError;
    fn try_from(r: BookingRow) -> Result<Self, StoreError> {
        Ok(Booking {
            status: BookingStatus::parse(&r.status)
                .ok_or_else(|| corrupt("booking status", &r.status))?,
            id: r.id,
            customer: Party {
                id: r.customer_id,
                name: r.customer_name,
            },
            worker: r.worker_id.map(|id| Party {
                id,
                name: r.worker_name.unwrap_or_default(),
            }),
            starts_at: r.starts_at,
            region: r.region,
        })
    }
}

#[derive(Debug, FromRow)]
pub struct ChatRow {
    pub id: String,
    pub booking_id: String,
    pub status: String,
    pub booking_status: String,
    pub customer_id: String,
    pub customer_name: String,
    pub worker_id: String,
    pub worker_name: Option<String>,
    pub last_seq: i64,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
}

impl TryFrom<ChatRow> for Chat {
    type Error = StoreError;
    fn try_from(r: ChatRow) -> Result<Self, StoreError> {
        let close_reason = match r.close_reason.as_deref() {
            None => None,
            Some(s) => Some(CloseReason::parse(s).ok_or_else(|| corrupt("close reason", s))?),
        };
        Ok(Chat {
            status: ChatStatus::parse(&r.status)
                .ok_or_else(|| corrupt("chat status", &r.status))?,
            booking_status: BookingStatus::parse(&r.booking_status)
                .ok_or_else(|| corrupt("booking status", &r.booking_status))?,
            id: r.id,
            booking_id: r.booking_id,
            customer: Party {
                id: r.customer_id,
                name: r.customer_name,
            },
            worker: Party {
                id: r.worker_id,
                name: r.worker_name.unwrap_or_default(),
            },
            last_seq: r.last_seq,
            created_at: r.created_at,
            closed_at: r.closed_at,
            close_reason,
        })
    }
}

/// A chat in a user's list, with their read mark and unread count.
#[derive(Debug, FromRow)]
pub struct MyChatRow {
    #[sqlx(flatten)]
    pub chat: ChatRow,
    pub unread_count: i64,
}

/// The lock row of a chat: what a writer needs to assign the next seq.
#[derive(Debug, Clone, FromRow)]
pub struct ChatLockRow {
    pub id: String,
    pub status: String,
    pub last_seq: i64,
    pub key_epoch: Option<i64>,
    pub data_key: Option<String>,
    pub chain_len: i64,
    pub chain_head: Option<String>,
}

/// A chat's chain head and key, for reading its chain.
#[derive(Debug, Clone, FromRow)]
pub struct ChainStateRow {
    pub chain_len: i64,
    pub chain_head: Option<String>,
    pub key_epoch: Option<i64>,
    pub data_key: Option<String>,
}

/// A chat's key to wrap anew under the current epoch.
#[derive(Debug, Clone, FromRow)]
pub struct StaleKeyRow {
    pub id: String,
    pub key_epoch: i64,
    pub data_key: String,
}

/// A chat's wrapped data key (`None`s: a plaintext chat).
#[derive(Debug, Clone, FromRow)]
pub struct ChatKeyRow {
    pub key_epoch: Option<i64>,
    pub data_key: Option<String>,
}

#[derive(Debug, FromRow)]
pub struct MessageRow {
    pub id: String,
    pub chat_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub sender_role: String,
    pub sender_name: String,
    pub kind: String,
    pub body: Option<String>,
    pub client_id: Option<String>,
    pub created_at: i64,
    pub system_notice: Option<String>,
    pub att_id: Option<String>,
    pub att_name: Option<String>,
    pub att_mime: Option<String>,
    pub att_size: Option<i64>,
    pub att_thumb_key: Option<String>,
    pub att_width: Option<i64>,
    pub att_height: Option<i64>,
    pub att_duration_ms: Option<i64>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        let attachment = r.att_id.map(|id| Attachment {
            url: Attachment::url_for(&id),
            thumb_url: r
                .att_thumb_key
                .as_ref()
                .map(|_| Attachment::thumb_url_for(&id)),
            name: r.att_name.unwrap_or_default(),
            mime: r.att_mime.unwrap_or_default(),
            size: r.att_size.unwrap_or_default(),
            width: r.att_width,
            height: r.att_height,
            duration_ms: r.att_duration_ms,
            id,
        });
        let system = r
            .system_notice
            .as_deref()
            .and_then(|json| decode_notice(&r.id, json));
        Ok(Message {
            sender: Sender {
                role: SenderRole::parse(&r.sender_role)
                    .ok_or_else(|| corrupt("sender role", &r.sender_role))?,
                id: r.sender_id,
                name: r.sender_name,
            },
            kind: MessageKind::parse(&r.kind).ok_or_else(|| corrupt("message kind", &r.kind))?,
            id: r.id,
            chat_id: r.chat_id,
            seq: r.seq,
            body: r.body,
            attachment,
            system,
            client_id: r.client_id,
            created_at: r.created_at,
        })
    }
}

/// A system notice as stored in `messages.system_notice`.
pub fn encode_notice(notice: &SystemNotice) -> Result<String, StoreError> {
    serde_json::to_string(notice)
        .map_err(|e| StoreError::Corrupt(format!("system notice {notice:?}: {e}")))
}

/// The stored notice of a message. A value this build cannot read — a code from a newer
/// version during a rolling upgrade, or a damaged row — leaves the message without one rather
/// than failing the page: clients then show the English body stored beside it.
fn decode_notice(message_id: &str, json: &str) -> Option<SystemNotice> {
    match serde_json::from_str(json) {
        Ok(notice) => Some(notice),
        Err(e) => {
            tracing::warn!(message_id, error = %e, "unreadable system notice; sending the body alone");
            None
        }
    }
}

impl From<NewAttachment> for AttachmentRecord {
    /// A freshly stored upload: not linked to any message yet.
    fn from(upload: NewAttachment) -> Self {
        AttachmentRecord {
            upload,
            message_id: None,
        }
    }
}

impl AttachmentRecord {
    /// The record with its name readable, opened with its chat's key (if it has one).
    pub fn opened(
        mut self,
        key: Option<&aws_lc_rs::aead::LessSafeKey>,
    ) -> Result<Self, StoreError> {
        if let Some(k) = key {
            let a = &mut self.upload;
            a.name =
                crate::seal::open(k, &a.chat_id, &a.id, crate::seal::ATTACHMENT_NAME, &a.name)?;
        }
        Ok(self)
    }

    /// The attachment as a message shows it.
    pub fn to_attachment(&self) -> Attachment {
        let a = &self.upload;
        Attachment {
            id: a.id.clone(),
            name: a.name.clone(),
            mime: a.mime.clone(),
            size: a.size,
            url: Attachment::url_for(&a.id),
            thumb_url: a
                .thumb_key
                .as_ref()
                .map(|_| Attachment::thumb_url_for(&a.id)),
            width: a.width,
            height: a.height,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Debug, FromRow)]
pub struct ReadStateRow {
    pub user_id: String,
    pub last_read_seq: i64,
    pub updated_at: i64,
}

impl From<ReadStateRow> for ReadState {
    fn from(r: ReadStateRow) -> Self {
        ReadState {
            user_id: r.user_id,
            last_read_seq: r.last_read_seq,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, FromRow)]
pub struct FileKeysRow {
    pub storage_key: String,
    pub thumb_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use omw_domain::SystemCode;

    use super::*;

    #[test]
    fn notices_round_trip_and_garbage_reads_as_none() {
        let notice = SystemNotice::new(SystemCode::ServiceCompleted);
        let json = encode_notice(&notice).unwrap_or_default();
        assert_eq!(decode_notice("m1", &json), Some(notice));
        for bad in [
            "",
            "{",
            "null",
            r#"{"code":"teleported","params":{}}"#,
            r#"{"code":7}"#,
        ] {
            assert_eq!(decode_notice("m1", bad), None, "{bad}");
        }
    }
}
