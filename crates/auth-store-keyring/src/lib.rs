//! The OS keyring as a credential store shared with rattler and pixi; the crate docs are its README.
#![doc = include_str!("../README.md")]

#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
mod dbus;
mod platform;
mod store;

pub use store::{KeyringOptions, KeyringStore};
