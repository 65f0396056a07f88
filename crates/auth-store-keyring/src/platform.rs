//! Opening the platform's keyring (on the Secret Service its direct read path, else the
//! `keyring-core` store), and what "available" means on each platform.

use std::sync::Arc;

/// How to unlock a locked keyring, for every message that says it is locked.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) const UNLOCK_HINT: &str = "unlock it (log in to the desktop session or unlock it in \
     your keyring app; without a desktop, start gnome-keyring with `gnome-keyring-daemon \
     --unlock`, which reads its password on standard input) and try again";

/// The Secret Service's direct read path ([`crate::dbus`]); none on the other platforms.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) use crate::dbus::SecretService as Fast;

/// No direct read path on this platform: every read goes through `keyring-core`.
#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios")))))]
#[derive(Debug)]
pub(crate) enum Fast {}

/// One item of a search of the direct read path.
#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios")))))]
pub(crate) struct Found {
    pub(crate) path: String,
    pub(crate) attributes: std::collections::HashMap<String, String>,
}

#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios")))))]
impl Fast {
    pub(crate) fn search(
        &self,
        _attributes: &std::collections::HashMap<&str, &str>,
    ) -> Result<Option<Vec<Found>>, String> {
        match *self {}
    }

    pub(crate) fn secrets(
        &self,
        _paths: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<u8>>, String> {
        match *self {}
    }
}

/// What the probe opened: `keyring-core`'s store, or (on the Secret Service) the direct read
/// path, `keyring-core`'s store being opened only when a write or a fallback needs it.
pub(crate) struct Opened {
    pub(crate) core: Option<Arc<keyring_core::CredentialStore>>,
    pub(crate) fast: Option<Fast>,
}

/// The platform's keyring, after checking that it can be used without a prompt nobody answers.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) fn open(interactive: bool) -> Result<Opened, String> {
    use crate::dbus::ProbeError;

    let probed = Fast::probe().map_err(|err| match err {
        ProbeError::Unreachable(err) => format!(
            "cannot reach the Secret Service on the D-Bus session bus ({})",
            shown(&err)
        ),
        ProbeError::NoDefaultCollection(err) => format!(
            "the Secret Service has no default collection to store credentials in ({})",
            shown(&err)
        ),
        ProbeError::LockedUnknown(err) => format!(
            "cannot tell whether the default collection is locked ({})",
            shown(&err)
        ),
    })?;
    if probed.locked && !interactive {
        return Err(format!(
            "the default keyring collection is locked, and unlocking it needs a prompt that \
             nobody can answer (standard input is not a terminal); {UNLOCK_HINT}"
        ));
    }
    Ok(Opened {
        core: None,
        fast: Some(probed.service),
    })
}

/// `keyring-core`'s Secret Service store, for writes and for what the direct path leaves to it.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) fn open_core() -> Result<Arc<keyring_core::CredentialStore>, String> {
    let store = zbus_secret_service_keyring_store::Store::new()
        .map_err(|err| format!("cannot open the Secret Service store ({})", shown(&err)))?;
    Ok(store)
}

#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios")))))]
pub(crate) fn open(_interactive: bool) -> Result<Opened, String> {
    Ok(Opened {
        core: Some(open_core()?),
        fast: None,
    })
}

/// What a keyring error means when the platform's own error says more than `keyring-core`'s
/// kind: on the Secret Service, a locked collection or an unlock prompt that was dismissed (or
/// could not be shown) come as "no storage access", and are said as "locked, unlock it so".
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) fn explain(err: &keyring_core::Error) -> Option<String> {
    let (keyring_core::Error::NoStorageAccess(inner) | keyring_core::Error::PlatformFailure(inner)) =
        err
    else {
        return None;
    };
    match inner.downcast_ref::<secret_service::Error>()? {
        secret_service::Error::Locked => Some(format!(
            "the keyring collection that holds the entries is locked; {UNLOCK_HINT}"
        )),
        secret_service::Error::Prompt => Some(format!(
            "the keyring is locked, and its unlock prompt was dismissed or could not be shown \
             (no desktop session to show it in); {UNLOCK_HINT}"
        )),
        secret_service::Error::PromptDisconnected => Some(format!(
            "the keyring is locked, and its unlock prompt went away before it was answered; \
             {UNLOCK_HINT}"
        )),
        _ => None,
    }
}

#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios")))))]
pub(crate) fn explain(_err: &keyring_core::Error) -> Option<String> {
    None
}

/// An error of the platform, as a message shows it: its text comes from another process (a
/// D-Bus peer), so control characters are escaped.
fn shown(err: &dyn std::fmt::Display) -> String {
    auth_core::escape_control(&err.to_string()).into_owned()
}

#[cfg(target_os = "macos")]
pub(crate) fn open_core() -> Result<Arc<keyring_core::CredentialStore>, String> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|err| format!("cannot open the macOS Keychain ({})", shown(&err)))?;
    Ok(store)
}

#[cfg(target_os = "windows")]
pub(crate) fn open_core() -> Result<Arc<keyring_core::CredentialStore>, String> {
    let store = windows_native_keyring_store::Store::new().map_err(|err| {
        format!(
            "cannot open the Windows Credential Manager ({})",
            shown(&err)
        )
    })?;
    Ok(store)
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "windows",
    all(unix, not(any(target_os = "macos", target_os = "ios")))
)))]
pub(crate) fn open_core() -> Result<Arc<keyring_core::CredentialStore>, String> {
    Err(format!(
        "no keyring is supported on {}",
        std::env::consts::OS
    ))
}

/// The search that lists rattler's entries: by the `service` attribute where there are
/// attributes; on Windows by a pattern on the target name (`{key}.rattler`).
pub(crate) fn search_spec(service: &str) -> Vec<(&'static str, String)> {
    if cfg!(target_os = "windows") {
        vec![("pattern", format!(r"\.{}\z", escape_regex(service)))]
    } else {
        vec![("service", service.to_owned())]
    }
}

fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
