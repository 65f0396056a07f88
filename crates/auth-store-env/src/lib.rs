//! Credentials from environment variables as a read-only store; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod names;
mod store;

pub use names::{EncodedHost, NameError, decode_host, encode_host};
pub use store::{EnvStore, LOCATION, NAMES, PREFIXES, Problem};
