//! The OS keyring as a credential store shared with rattler and pixi; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod platform;
mod store;

pub use store::{KeyringOptions, KeyringStore};
