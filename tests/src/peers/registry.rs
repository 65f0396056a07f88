//! A container registry: Debian's `docker-registry` (the CNCF distribution registry, 2.8) with
//! htpasswd (bcrypt) authentication and filesystem storage in a temporary directory, on
//! 127.0.0.1; and [`oci_image`], a one-layer OCI image layout for skopeo to push to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{free_ports, htpasswd, http_get, system_program};
use crate::deadline::{Deadline, Stream, Watched, output_within};

/// A running registry; dropping it kills the process.
#[derive(Debug)]
pub struct Registry {
    process: Watched,
    port: u16,
    /// Declared last: removed after the process is gone.
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry on 127.0.0.1 that takes `user` and `password` (HTTP Basic; every other
    /// request gets 401 with `WWW-Authenticate: Basic realm="auth-tests"`).
    ///
    /// # Panics
    /// When `docker-registry` or `htpasswd` is missing (the message says what to install), or
    /// the registry does not listen within the deadline.
    pub fn start(user: &str, password: &str) -> Self {
        let program = system_program("docker-registry", "docker-registry");
        let dir = tempfile::Builder::new()
            .prefix("auth-registry-")
            .tempdir()
            .expect("a temporary directory");
        let users = htpasswd(dir.path(), user, password);
        let mut last = String::new();
        // Another process may take the free port before the registry binds it: try again.
        for _ in 0..4 {
            let port = free_ports(1)[0];
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {data}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: auth-tests-not-a-secret\nauth:\n  htpasswd:\n    realm: auth-tests\n    path: {users}\n",
                    data = dir.path().join("data").display(),
                    users = users.display(),
                ),
            )
            .expect("the registry's config");
            let mut process = Watched::spawn(
                Command::new(&program)
                    .args(["serve".as_ref(), config.as_os_str()])
                    .env_clear()
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped()),
            );
            let listening = format!("listening on 127.0.0.1:{port}");
            match process.wait_for_line(
                "docker-registry to say it listens",
                Deadline::start(),
                |stream, line| stream == Stream::Stderr && line.contains(&listening),
            ) {
                Ok(_) => {
                    let registry = Self {
                        process,
                        port,
                        _dir: dir,
                    };
                    let answer = http_get(&format!("http://{}/v2/", registry.host()), &[]);
                    assert_eq!(
                        answer.status, 401,
                        "the registry answers /v2/ without credentials with 401"
                    );
                    return registry;
                }
                Err(output) => {
                    last = String::from_utf8_lossy(&output.stderr).into_owned();
                    if !last.contains("address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("docker-registry did not start: {last}");
    }

    /// `127.0.0.1:PORT`, the registry as docker and skopeo name it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the registry logged so far (its requests, `authorized request` or
    /// `error authorizing context`, with the user name).
    pub fn log(&self) -> String {
        self.process.stderr_so_far()
    }
}

/// Writes an OCI image layout to `dir` (`oci-layout`, `index.json`, `blobs/sha256/…`) holding one
/// image tagged `tag`: one uncompressed tar layer with `hello.txt`, a config for `linux/amd64`,
/// and the manifest. Returns `dir`, for `skopeo copy oci:DIR:TAG …`.
///
/// # Panics
/// When a file cannot be written or `tar`/`sha256sum` fail.
pub fn oci_image(dir: &Path, tag: &str) -> PathBuf {
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).expect("the layout's blobs directory");
    let content = dir.join("content");
    std::fs::create_dir_all(&content).expect("the layer's directory");
    std::fs::write(content.join("hello.txt"), "hello from auth's tests\n").expect("a layer file");
    let layer_tar = dir.join("layer.tar");
    let output = output_within(
        Command::new("tar")
            .arg("-cf")
            .arg(&layer_tar)
            .arg("-C")
            .arg(&content)
            .arg("hello.txt"),
        None,
        "tar to make the image's layer",
    );
    assert!(output.status.success(), "tar failed: {output:?}");
    let layer = std::fs::read(&layer_tar).expect("the layer");
    std::fs::remove_file(&layer_tar).expect("the layer's temporary file");
    let layer = blob(&blobs, &layer);
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"sha256:{}\"]}}}}",
        layer.0
    );
    let config = blob(&blobs, config.as_bytes());
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{}\",\"size\":{}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:{}\",\"size\":{}}}]}}",
        config.0, config.1, layer.0, layer.1
    );
    let manifest = blob(&blobs, manifest.as_bytes());
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:{}\",\"size\":{},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}",
        manifest.0, manifest.1
    );
    std::fs::write(dir.join("index.json"), index).expect("index.json");
    std::fs::write(dir.join("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}")
        .expect("oci-layout");
    std::fs::remove_dir_all(&content).expect("the layer's directory removed");
    dir.to_owned()
}

/// Writes `bytes` as a blob named by its SHA-256; returns (hex digest, size).
fn blob(blobs: &Path, bytes: &[u8]) -> (String, usize) {
    let staging = blobs.join("staging");
    std::fs::write(&staging, bytes).expect("a blob");
    let output = output_within(
        Command::new("sha256sum").arg(&staging),
        None,
        "sha256sum of an image blob",
    );
    assert!(output.status.success(), "sha256sum failed");
    let digest = String::from_utf8(output.stdout)
        .expect("sha256sum prints hex")
        .split_whitespace()
        .next()
        .expect("sha256sum prints the hash first")
        .to_owned();
    std::fs::rename(&staging, blobs.join(&digest)).expect("a blob named by its digest");
    (digest, bytes.len())
}
