//! The wire contract of SPEC §4–5 as Rust types, written once for both transports: what
//! clients send (`request`, parsed into a [`ClientEvent`] for Socket.IO) and what they get back
//! (`reply`). REST bodies and Socket.IO acks are these types serialized; neither transport
//! builds JSON by hand.

pub mod event;
pub mod reply;
pub mod request;

pub use event::ClientEvent;
pub use request::from_json_object;
