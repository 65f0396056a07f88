//! A real S3 server that checks SigV4 (`s3s` with its file-system backend `s3s-fs`), in this
//! process on a loopback port, with one access key. Buckets are directories of its data
//! directory and objects are files in them, so a test puts and reads objects directly.
//!
//! What it refuses (see `tests/README.md`, and `tests/e2e/peers.rs`): an unsigned
//! request, a wrong secret (`SignatureDoesNotMatch`), an unknown access key, a tampered or expired
//! presigned URL, all with 403; it requires `x-amz-content-sha256`. It checks neither the region
//! nor `x-amz-security-token`.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// A running S3 server; dropping it shuts it down.
#[derive(Debug)]
pub struct S3 {
    data: tempfile::TempDir,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Closed when the server's thread has shut its runtime down.
    stopped: std::sync::mpsc::Receiver<()>,
}

impl S3 {
    /// Starts a server that accepts requests signed with this key pair only. It listens when
    /// this returns.
    ///
    /// # Panics
    /// When it cannot bind a loopback port or make its runtime.
    pub fn start(access_key: &str, secret_key: &str) -> Self {
        let data = tempfile::Builder::new()
            .prefix("auth-s3-")
            .tempdir()
            .expect("a temporary directory");
        let store = s3s_fs::FileSystem::new(data.path()).expect("s3s-fs opens its data directory");
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        let service = builder.build();

        // Bound here, so the port is ours and accepts connections before the thread runs.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
        let port = listener.local_addr().expect("a bound port").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
        let (done, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("peers-s3".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("the listener joins the runtime");
                    tokio::spawn(serve(listener, service));
                    // Returns when the handle is dropped (the sender with it).
                    let _ = stop_requested.await;
                });
                // This cancels the accept loop and every connection; the file system's blocking
                // tasks get until the deadline to finish.
                runtime.shutdown_timeout(crate::deadline());
                drop(done);
            })
            .expect("a thread for the S3 server");
        Self {
            data,
            port,
            stop: Some(stop),
            thread: Some(thread),
            stopped,
        }
    }

    /// `http://127.0.0.1:PORT`, for path-style requests (`/BUCKET/KEY`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory: one directory per bucket, one file per object.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Makes a bucket (its directory).
    ///
    /// # Panics
    /// When the directory cannot be made.
    pub fn create_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.data_dir().join(bucket)).expect("the bucket's directory");
    }

    /// Stores an object (a file in the bucket's directory; `/` in the key makes directories).
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn put_file(&self, bucket: &str, key: &str, contents: &[u8]) {
        let path = self.object_path(bucket, key);
        std::fs::create_dir_all(path.parent().expect("an object is inside its bucket"))
            .expect("the object's directory");
        std::fs::write(path, contents).expect("the object is written");
    }

    /// An object's contents, or `None` when there is no such object.
    pub fn read_file(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.object_path(bucket, key)).ok()
    }

    fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        assert!(
            !bucket.contains('/') && !key.split('/').any(|part| part == ".."),
            "bucket {bucket:?} and key {key:?} must stay inside the data directory"
        );
        self.data_dir().join(bucket).join(key)
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        drop(self.stop.take());
        let deadline = crate::Deadline::start();
        // Its sender is dropped when the thread ends (or panics): then the join is immediate.
        let ended = !matches!(
            self.stopped.recv_timeout(deadline.remaining()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if ended {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        } else if !std::thread::panicking() {
            panic!(
                "the S3 server did not shut down within {} s; a request of the test is still \
                 running on it",
                deadline.total().as_secs()
            );
        }
    }
}

/// Accepts connections and serves each with HTTP/1.1 until the runtime is dropped.
async fn serve(listener: tokio::net::TcpListener, service: s3s::service::S3Service) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = connection.await;
        });
    }
}
