//! `cargo xtask demo`: the main job on the default store, with the real `auth` binary in a fresh
//! temporary HOME: log in, list, look a URL up, log out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};

use crate::cmd;

pub(crate) fn run() -> Result<()> {
    let auth = cmd::build_auth()?;
    let home = TempHome::create()?;
    let token = format!("demo-token-{}", unique_suffix());
    let auth_in_home = |args: &[&str]| {
        let mut command = Command::new(&auth);
        command
            .args(args)
            .env("HOME", home.path())
            .env_remove("RATTLER_AUTH_FILE")
            .stdin(Stdio::null());
        command
    };

    cmd::run_hiding(
        &mut auth_in_home(&["login", "prefix.dev", "--token", &token]),
        Some(&token),
    )?;
    cmd::run(&mut auth_in_home(&["status"]))?;
    let printed = cmd::stdout_of(&mut auth_in_home(&["token", "repo.prefix.dev"]))?;
    print!("{printed}");
    if printed != format!("{token}\n") {
        bail!(
            "`auth token repo.prefix.dev` printed {printed:?}, not the token given to \
             `auth login prefix.dev` and a newline"
        );
    }
    cmd::run(&mut auth_in_home(&["logout", "prefix.dev"]))?;

    let file = home.path().join(".rattler").join("credentials.json");
    eprintln!("demo: passed; the credentials file was {}", file.display());
    home.remove()
}

/// `<pid>-<nanoseconds since the epoch>`: unique enough for a temporary name.
fn unique_suffix() -> String {
    #[allow(
        clippy::disallowed_methods,
        reason = "xtask is a developer tool, not part of `auth`: it may read the clock"
    )]
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// A new, empty directory under the system temporary directory, removed when dropped.
#[derive(Debug)]
struct TempHome {
    path: PathBuf,
}

impl TempHome {
    fn create() -> Result<Self> {
        let path = std::env::temp_dir().join(format!("auth-demo-{}", unique_suffix()));
        std::fs::create_dir(&path)
            .with_context(|| format!("could not create the temporary HOME {}", path.display()))?;
        eprintln!("demo: HOME is {}", path.display());
        Ok(Self { path })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.path)
            .with_context(|| format!("could not remove {}", self.path.display()))?;
        eprintln!("demo: removed {}", self.path.display());
        Ok(())
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        // After `remove` this finds nothing; after a failure it cleans up.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
