//! omw-chat: real-time chat for active service bookings (Socket.IO + REST).
//!
//! Layout: the transports `http` (REST, platform API, health, demo) and `realtime` (Socket.IO)
//! call only `service` (domain rules + storage + notifications + uploads), which owns its state
//! and its error type; both speak the types of `wire` (requests, events, replies). Beneath
//! them: `auth` (JWT, platform key), `cluster` (Redis), `files` (local or S3), `config`, `conn`
//! (TCP accept loop); `server` wires and starts them. Domain rules live in `omw-domain`,
//! persistence in `omw-storage`.

pub mod auth;
pub mod cluster;
pub mod config;
pub mod conn;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod realtime;
pub mod server;
pub mod service;
pub mod wire;
