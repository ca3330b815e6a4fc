//! omw-chat: real-time chat for active service bookings (Socket.IO + REST).
//!
//! Layers, top first; a module imports only from its own layer and those below (checked by
//! `crates/module-graph`, which also holds the list):
//! - root: the binary (`main.rs`), `server` (wires and starts everything), `conn` (TCP accept
//!   loop), `fuzzing` (the fuzz targets' entry points);
//! - transports: `http` (REST, platform API, health, demo) and `realtime` (Socket.IO);
//! - `wire`: the contract's types (requests, events, replies) both transports speak;
//! - `service`: domain rules + storage + notifications + uploads; owns its state and its
//!   error type;
//! - `config`: the environment, validated; hands values down;
//! - below: `auth` (JWT, platform key), `cluster` (Redis), `files` (local or S3).
//!
//! Domain rules live in `omw-domain`, persistence in `omw-storage`.

pub mod auth;
pub mod cluster;
pub mod config;
pub mod conn;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod keys;
pub mod realtime;
pub mod server;
pub mod service;
pub mod wire;
