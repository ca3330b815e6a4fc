//! Who is calling: user JWTs and the platform's API key.

pub mod jwt;
pub mod keys;
pub mod platform;
