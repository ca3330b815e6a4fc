//! omw-chat: real-time chat for active service bookings (Socket.IO + REST).
//!
//! Layout: `config` (environment), `auth` (JWT, platform key), `service` (what transports
//! call; domain rules + storage + notifications), `http` (REST/platform/health/demo),
//! `server` (start/stop). Domain rules live in `omw-domain`, persistence in `omw-storage`.

pub mod attachments;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod conn;
pub mod error;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod realtime;
pub mod server;
pub mod service;
pub mod state;
