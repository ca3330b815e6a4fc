//! The wire contract of SPEC §4–5 as Rust types, written once for both transports: what
//! clients send (`request`), what they get back (`reply`) and what the server sends unasked
//! (`broadcast`). REST bodies, Socket.IO acks and events are these types serialized; neither transport builds JSON by hand. The OpenAPI
//! document (`http::openapi`) and the TypeScript types of the web client (`typescript`) are
//! generated from them.

pub mod broadcast;
pub mod reply;
pub mod request;
pub mod typescript;

pub use request::from_json_object;
