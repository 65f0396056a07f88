//! Integration tests of `KeyringStore` against a real Secret Service: gnome-keyring on a private
//! D-Bus session bus (`dbus-run-session`), in a temporary HOME.
//!
//! The store connects to the bus named by `DBUS_SESSION_BUS_ADDRESS`, which only a new process
//! can be given without changing this one's environment, so each test runs itself again inside
//! the session ([`in_session`]) and checks that run.

#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
mod agree;
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
mod locked;
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
mod session;
