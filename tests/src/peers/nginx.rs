//! A real nginx (Debian's), in the foreground in a temporary directory, serving one or more
//! `server` blocks on free loopback ports: the HTTP servers that demand Basic, Bearer or conda
//! token credentials, a recorder of the headers that reach it, and TLS.
//!
//! nginx runs as one process (`master_process off`), so killing its PID stops it whole, and
//! every request is handled by that one event loop, which [`Nginx::recorded`] relies on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{free_ports, http_get, system_program};
use crate::deadline::{Deadline, Stream, Watched, output_within};

/// How often to start nginx again when one of its ports was taken between our pick and its bind.
const ATTEMPTS: usize = 4;

/// One `server` block of an [`Nginx`], returned by the [`NginxBuilder`] method that added it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Server(usize);

impl Server {
    /// Text that becomes this server's origin (`http://127.0.0.1:PORT`, or `https://...` for a
    /// TLS server) in every config body and snippet when nginx starts: for one server to redirect
    /// to another. `{port.N}` is the bare port.
    pub fn origin_placeholder(self) -> String {
        format!("{{origin.{}}}", self.0)
    }
}

/// An nginx to be started: `server` blocks and `http`-level snippets, in a temporary directory.
#[derive(Debug)]
pub struct NginxBuilder {
    dir: tempfile::TempDir,
    http: Vec<String>,
    servers: Vec<ServerSpec>,
}

#[derive(Debug)]
struct ServerSpec {
    body: String,
    tls: bool,
    record: bool,
}

/// A running nginx; dropping it kills it.
#[derive(Debug)]
pub struct Nginx {
    /// Held for its `Drop`, which kills nginx; declared first, so that nginx is killed before its
    /// directory is removed.
    #[expect(dead_code, reason = "held for its Drop, which kills nginx")]
    process: Watched,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
    tls: Vec<bool>,
    record: Vec<bool>,
    /// A server with no access log, for [`Nginx::recorded`] to wait on.
    barrier_port: u16,
    ca_cert: Option<PathBuf>,
}

impl Nginx {
    /// A builder in a new temporary directory.
    pub fn builder() -> NginxBuilder {
        NginxBuilder::new()
    }

    /// The port of a server.
    pub fn port(&self, server: Server) -> u16 {
        self.ports[server.0]
    }

    /// `http://127.0.0.1:PORT` (or `https://` for a TLS server).
    pub fn origin(&self, server: Server) -> String {
        origin(self.tls[server.0], self.ports[server.0])
    }

    /// The URL of `path` (with or without its leading `/`) on a server.
    pub fn url(&self, server: Server, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("{}/{path}", self.origin(server))
    }

    /// What a recording server ([`NginxBuilder::recorder`], [`NginxBuilder::record`]) has seen:
    /// one line per request that has been answered, tab-separated:
    /// `METHOD URI STATUS authorization=... x-amz-security-token=... cookie=...`, with `-` for an
    /// absent header and nginx's `\xHH` escapes for `"`, `\` and bytes outside printable ASCII.
    ///
    /// # Panics
    /// When the server does not record.
    pub fn recorded(&self, server: Server) -> String {
        let log = self.record_log(server);
        assert!(
            log.is_some(),
            "server {} does not record; add it with `recorder` or call `record` on it",
            server.0
        );
        // nginx writes a request's log line after sending the response, in the same turn of its
        // single event loop. When it has answered this later request, every response a client
        // has seen before has been logged.
        http_get(&format!("http://127.0.0.1:{}/", self.barrier_port), &[]);
        std::fs::read_to_string(log.expect("checked above")).unwrap_or_default()
    }

    /// The CA certificate that signed the TLS servers' certificate (for `localhost` and
    /// `127.0.0.1`): what a client must trust, e.g. through `SSL_CERT_FILE`.
    ///
    /// # Panics
    /// When no server uses TLS.
    pub fn ca_cert(&self) -> &Path {
        self.ca_cert
            .as_deref()
            .expect("no server of this nginx uses TLS; call `tls` on one")
    }

    /// The directory of nginx's config, logs and temporary files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// nginx's error log so far, for a failing test's message.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir().join("error.log")).unwrap_or_default()
    }

    fn record_log(&self, server: Server) -> Option<PathBuf> {
        self.record[server.0].then(|| record_log(self.dir(), server.0))
    }
}

impl NginxBuilder {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("auth-nginx-")
            .tempdir()
            .expect("a temporary directory");
        Self {
            dir,
            http: Vec::new(),
            servers: Vec::new(),
        }
    }

    /// The temporary directory of this nginx (its config, logs, and any files a test puts there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a snippet at the `http` level (a `map`, a `log_format`, ...). Placeholders as in
    /// [`NginxBuilder::server`] except `{port}`.
    pub fn http(&mut self, snippet: &str) -> &mut Self {
        self.http.push(snippet.to_owned());
        self
    }

    /// Adds a `server` block with this body; the builder adds its `listen 127.0.0.1:PORT` line.
    /// In the body, `{port}` becomes the server's port, `{port.N}` and `{origin.N}` the port and
    /// origin of server N (see [`Server::origin_placeholder`]), `{dir}` the builder's directory.
    pub fn server(&mut self, body: &str) -> Server {
        self.servers.push(ServerSpec {
            body: body.to_owned(),
            tls: false,
            record: false,
        });
        Server(self.servers.len() - 1)
    }

    /// Serves this server over TLS, with a certificate for `localhost` and `127.0.0.1` signed by
    /// a CA made for this nginx ([`Nginx::ca_cert`]).
    pub fn tls(&mut self, server: Server) -> &mut Self {
        self.servers[server.0].tls = true;
        self
    }

    /// Logs every request to this server for [`Nginx::recorded`].
    pub fn record(&mut self, server: Server) -> &mut Self {
        self.servers[server.0].record = true;
        self
    }

    /// A server that serves `root` only with HTTP Basic credentials (RFC 7617) of `user` and
    /// `password` (`auth_basic` with a bcrypt `htpasswd` file): 401 with
    /// `WWW-Authenticate: Basic realm="auth-tests"` otherwise.
    pub fn basic(&mut self, user: &str, password: &str, root: &Path) -> Server {
        let file = htpasswd(self.dir(), user, password);
        self.server(&format!(
            "auth_basic \"auth-tests\";\nauth_basic_user_file {};\nroot {};",
            quote(&file.display().to_string()),
            quote(&root.display().to_string()),
        ))
    }

    /// A server that serves `root` only with `Authorization: Bearer <token>` (RFC 6750): 401
    /// with `WWW-Authenticate: Bearer` otherwise.
    pub fn bearer(&mut self, token: &str, root: &Path) -> Server {
        let variable = format!("$peers_bearer_ok_{}", self.servers.len());
        self.http(&format!(
            "map $http_authorization {variable} {{\n    default 0;\n    {} 1;\n}}",
            quote(&format!("Bearer {token}"))
        ));
        self.server(&format!(
            "location / {{\n    if ({variable} = 0) {{\n        add_header WWW-Authenticate Bearer always;\n        return 401;\n    }}\n    root {};\n}}",
            quote(&root.display().to_string()),
        ))
    }

    /// A conda channel behind a token, as anaconda.org serves one: `root` is served under
    /// `/t/<token>/` only. Any other path under `/t/` (a wrong token) gets 401; any path outside
    /// `/t/` (no token) gets 403.
    pub fn conda_token(&mut self, token: &str, root: &Path) -> Server {
        self.server(&format!(
            "location ^~ {} {{\n    alias {};\n}}\nlocation ^~ /t/ {{\n    return 401;\n}}\nlocation / {{\n    return 403;\n}}",
            quote(&format!("/t/{token}/")),
            quote(&format!("{}/", root.display())),
        ))
    }

    /// A recording server: answers every request with 200 and `recorded <URI>`, except the exact
    /// paths of `redirects`, which answer `302` to their target (placeholders allowed, see
    /// [`Server::origin_placeholder`]). [`Nginx::recorded`] shows what reached it.
    pub fn recorder(&mut self, redirects: &[(&str, &str)]) -> Server {
        let mut body = String::new();
        for (path, target) in redirects {
            writeln!(
                body,
                "location = {} {{\n    return 302 {};\n}}",
                quote(path),
                quote(target)
            )
            .expect("writing to a String");
        }
        body.push_str("location / {\n    return 200 \"recorded $request_uri\\n\";\n}");
        let server = self.server(&body);
        self.record(server);
        server
    }

    /// Starts nginx and returns when it listens on every port.
    ///
    /// # Panics
    /// When nginx is not installed (the message says how to install it), its config is wrong, or
    /// it cannot bind its ports after a few tries: the message has nginx's own words.
    pub fn start(self) -> Nginx {
        let program = system_program("nginx", "nginx");
        let any_tls = self.servers.iter().any(|server| server.tls);
        let ca_cert = any_tls.then(|| make_certificates(self.dir()));
        let mut failures = String::new();
        for _ in 0..ATTEMPTS {
            // One port per server, and one for the barrier server.
            let mut ports = free_ports(self.servers.len() + 1);
            let barrier_port = ports.pop().expect("the barrier's port");
            let config = self.config(&ports, barrier_port);
            let config_path = self.dir().join("nginx.conf");
            std::fs::write(&config_path, &config).expect("nginx.conf is written");
            match launch(&program, self.dir(), &config_path) {
                Ok(process) => {
                    return Nginx {
                        process,
                        tls: self.servers.iter().map(|server| server.tls).collect(),
                        record: self.servers.iter().map(|server| server.record).collect(),
                        dir: self.dir,
                        ports,
                        barrier_port,
                        ca_cert,
                    };
                }
                Err(output) if output.contains("Address already in use") => {
                    failures.push_str(&output);
                }
                Err(output) => {
                    panic!(
                        "nginx did not start.\n--- nginx.conf\n{config}\n--- nginx said\n{output}"
                    )
                }
            }
        }
        panic!("nginx could not bind free ports in {ATTEMPTS} tries:\n{failures}")
    }

    /// The whole `nginx.conf`, every path inside the temporary directory.
    fn config(&self, ports: &[u16], barrier_port: u16) -> String {
        let dir = self.dir().display().to_string();
        let mut placeholders: Vec<(String, String)> = vec![("{dir}".to_owned(), dir.clone())];
        for (index, (server, port)) in self.servers.iter().zip(ports).enumerate() {
            placeholders.push((format!("{{port.{index}}}"), port.to_string()));
            placeholders.push((format!("{{origin.{index}}}"), origin(server.tls, *port)));
        }
        let fill = |text: &str| {
            placeholders
                .iter()
                .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
        };
        let mut config = format!(
            r"# Written by auth-tests (tests/src/peers/nginx.rs).
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
# Also on stderr, where the harness reads that nginx is listening.
error_log stderr notice;
events {{
    worker_connections 256;
}}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {dir}/client_body_temp;
    proxy_temp_path {dir}/proxy_temp;
    fastcgi_temp_path {dir}/fastcgi_temp;
    uwsgi_temp_path {dir}/uwsgi_temp;
    scgi_temp_path {dir}/scgi_temp;
    log_format peers_record '$request_method\t$request_uri\t$status\tauthorization=$http_authorization\tx-amz-security-token=$http_x_amz_security_token\tcookie=$http_cookie';
    server {{
        listen 127.0.0.1:{barrier_port};
        return 204;
    }}
"
        );
        for snippet in &self.http {
            config.push_str(&indent(&fill(snippet), 1));
            config.push('\n');
        }
        for (index, (server, port)) in self.servers.iter().zip(ports).enumerate() {
            config.push_str("    server {\n");
            if server.tls {
                writeln!(
                    config,
                    "        listen 127.0.0.1:{port} ssl;\n        ssl_certificate {dir}/server.pem;\n        ssl_certificate_key {dir}/server.key;"
                )
                .expect("writing to a String");
            } else {
                writeln!(config, "        listen 127.0.0.1:{port};").expect("writing to a String");
            }
            if server.record {
                // No `buffer=`: each line is written as its request ends.
                writeln!(
                    config,
                    "        access_log {} peers_record;",
                    record_log(self.dir(), index).display()
                )
                .expect("writing to a String");
            }
            let body = fill(&server.body).replace("{port}", &port.to_string());
            config.push_str(&indent(&body, 2));
            config.push_str("\n    }\n");
        }
        config.push_str("}\n");
        config
    }
}

/// `htpasswd -bcB`: a password file in `dir` with one user and a bcrypt hash of the password
/// (which may hold `:` and `@`); returns its path.
///
/// # Panics
/// When `htpasswd` is not installed (the message says how to install it) or fails.
pub fn htpasswd(dir: &Path, user: &str, password: &str) -> PathBuf {
    let program = system_program("htpasswd", "apache2-utils");
    let name: String = user
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let file = dir.join(format!("htpasswd-{name}"));
    let output = output_within(
        Command::new(program)
            .arg("-bcB")
            .arg(&file)
            .args([user, password]),
        None,
        "htpasswd to write its file",
    );
    assert!(
        output.status.success(),
        "htpasswd failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    file
}

/// Runs nginx and reads its stderr until it says it listens (Ok: the process, whose output is
/// read on from then on) or exits (Err: what it said).
///
/// # Panics
/// When nginx says neither within the deadline.
fn launch(program: &Path, dir: &Path, config: &Path) -> Result<Watched, String> {
    let mut process = Watched::spawn(
        Command::new(program)
            .arg("-p")
            .arg(dir)
            // The log nginx writes before it has read its config: not /var/log/nginx.
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(config)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // nginx's first notice after its config is read and every listening socket is bound:
    // `[notice] PID#TID: nginx/1.22.1`.
    let listening = process.wait_for_line(
        "nginx to bind its ports (its `[notice] ...: nginx/VERSION` line)",
        Deadline::start(),
        |stream, line| {
            stream == Stream::Stderr && line.contains("[notice]") && line.contains(": nginx/")
        },
    );
    match listening {
        Ok(_) => Ok(process),
        Err(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

/// A CA, and a server certificate it signs for `localhost` and `127.0.0.1`, made with the
/// `openssl` CLI in `dir` (`server.pem`, `server.key`); returns the CA certificate's path.
///
/// Not one self-signed certificate: rustls (webpki) refuses a CA certificate as a server's
/// (`CaUsedAsEndEntity`), and `openssl req -x509` makes CA certificates.
fn make_certificates(dir: &Path) -> PathBuf {
    let openssl = system_program("openssl", "openssl");
    let run = |args: &[&str]| {
        let output = output_within(
            Command::new(&openssl).args(args).current_dir(dir),
            None,
            "openssl to make a certificate",
        );
        assert!(
            output.status.success(),
            "`openssl {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:localhost, DNS:registry.test, IP:127.0.0.1\n",
    )
    .expect("the certificate's extensions are written");
    // P-256 keys: made in microseconds, where an RSA key costs up to 0.7 s of CPU; rustls, curl,
    // git and skopeo all accept them.
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &key,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=auth-tests CA",
            "-days",
            "2",
        ],
    ]
    .concat());
    run(&[
        &["req", "-new"][..],
        &key,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    dir.join("ca.pem")
}

fn origin(tls: bool, port: u16) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://127.0.0.1:{port}")
}

fn record_log(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("recorded-{index}.log"))
}

/// `text` as one nginx config token: double-quoted, `"` and `\` escaped.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn indent(text: &str, levels: usize) -> String {
    let pad = "    ".repeat(levels);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
