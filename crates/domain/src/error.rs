use thiserror::Error;

/// A rule of the domain said no. Each variant maps to one SPEC error code in the transports.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("{0}")]
    InvalidPayload(String),
    #[error("{0}")]
    Conflict(String),
    #[error("this chat is closed")]
    ChatClosed,
    #[error("you are not a participant of this chat")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
}
