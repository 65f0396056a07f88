//! The OS keyring as a [`CredentialStore`]: the Secret Service on Linux, the Keychain on macOS,
//! the Credential Manager on Windows, each through `keyring-core` and its store crate.
//!
//! Entries are exactly rattler's: service `rattler`, account = the host key, secret = the
//! credential's JSON (on Windows the target is `{key}.rattler`, which the Windows store derives
//! from the same service and account). So pixi finds what `auth login` stored, and we find pixi's.
//!
//! The key design decision is that the keyring is probed once per process, in a thread with a
//! timeout, before anything else touches it: no session bus, no Secret Service, no default
//! collection, a locked collection that would need a prompt nobody can answer, or a bus that never
//! answers all make the store *unavailable, because …* within the timeout, and the chain moves on
//! to the next store. It never hangs. A call that fails after the probe (a collection locked
//! since, an unlock prompt dismissed) is unavailable *because …* as well, never "nothing stored",
//! and that reason is what `unavailable_reason` answers until a call succeeds; a call that does
//! not answer within the timeout makes the store unavailable for the rest of the process, without
//! waiting again. Text from the keyring (a peer's error, an account) reaches messages with its
//! control characters escaped, and a secret that is not a credential is described by its shape
//! only. After the probe, the store searches for its entries once
//! and keeps their keys, not their secrets, in a per-process index: a lookup reads the secret of
//! the one key it settles on, once, and a miss costs no keyring round trip; listing reads every
//! secret; this process's own writes update the index.

mod platform;
mod store;

pub use store::{KeyringOptions, KeyringStore};
