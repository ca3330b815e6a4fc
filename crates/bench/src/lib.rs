//! omw-chat-bench: a load generator for omw-chat speaking Socket.IO v5 over raw WebSocket.

pub mod echo;
pub mod pairs;
pub mod plot;
pub mod scenarios;
pub mod setup;
pub mod sio;
pub mod stats;
