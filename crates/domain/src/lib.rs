//! The omw-chat domain: what a booking, a chat and a message are, and the rules between them.
//!
//! Nothing here does I/O. Storage persists these types; transports (Socket.IO, REST) call the
//! service layer, which asks these rules before it writes.

pub mod access;
pub mod booking;
pub mod chat;
pub mod error;
pub mod ladder;
pub mod message;
pub mod notice;
pub mod push;
pub mod retention;
pub mod time;
pub mod transcript;

pub use access::{Principal, Role};
pub use booking::{
    Booking, BookingStatus, BookingUpdate, CloseReason, Party, Transition, normalize_region,
};
pub use chat::{Chat, ChatStatus};
pub use error::DomainError;
pub use message::{
    Attachment, ClientMessage, MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, Message, MessageKind,
    NewMessage, Sender, SenderRole, ValidMessage,
};
pub use notice::{SystemCode, SystemNotice};
