//! Opening the platform's `keyring-core` store, and what "available" means on each platform.

use std::sync::Arc;

/// The platform's store, after checking that it can be used without a prompt nobody answers.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
pub(crate) fn open(interactive: bool) -> Result<Arc<keyring_core::CredentialStore>, String> {
    use secret_service::EncryptionType;
    use secret_service::blocking::SecretService;

    let service = SecretService::connect(EncryptionType::Plain).map_err(|err| {
        format!("cannot reach the Secret Service on the D-Bus session bus ({err})")
    })?;
    let collection = service.get_default_collection().map_err(|err| {
        format!("the Secret Service has no default collection to store credentials in ({err})")
    })?;
    let locked = collection
        .is_locked()
        .map_err(|err| format!("cannot tell whether the default collection is locked ({err})"))?;
    if locked && !interactive {
        return Err(
            "the default keyring collection is locked, and unlocking it needs a prompt \
                    that nobody can answer (standard input is not a terminal)"
                .to_owned(),
        );
    }
    let store = zbus_secret_service_keyring_store::Store::new()
        .map_err(|err| format!("cannot open the Secret Service store ({err})"))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
pub(crate) fn open(_interactive: bool) -> Result<Arc<keyring_core::CredentialStore>, String> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|err| format!("cannot open the macOS Keychain ({err})"))?;
    Ok(store)
}

#[cfg(target_os = "windows")]
pub(crate) fn open(_interactive: bool) -> Result<Arc<keyring_core::CredentialStore>, String> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|err| format!("cannot open the Windows Credential Manager ({err})"))?;
    Ok(store)
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "windows",
    all(unix, not(any(target_os = "macos", target_os = "ios")))
)))]
pub(crate) fn open(_interactive: bool) -> Result<Arc<keyring_core::CredentialStore>, String> {
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
