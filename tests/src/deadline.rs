//! Deadlines for every wait of the tests: a process to exit, a peer to say it is ready, a peer to
//! stop. Past its deadline a wait fails the test (panics) with the command line, what the process
//! printed so far and what the test was waiting for, instead of hanging the whole suite.
//!
//! The deadline is 60 seconds, generous on purpose: it only has to end a wait that would never
//! end. `AUTH_TEST_DEADLINE_SECS` changes it (a slow machine, a debugger).

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::process::{Child, ChildStdin, Command, Output};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The variable that replaces [`DEFAULT_DEADLINE`], in whole seconds.
pub const DEADLINE_VAR: &str = "AUTH_TEST_DEADLINE_SECS";

/// How long any one wait of the harness may take.
pub const DEFAULT_DEADLINE: Duration = Duration::from_mins(1);

/// The deadline of every wait: [`DEFAULT_DEADLINE`], or `AUTH_TEST_DEADLINE_SECS` seconds.
///
/// # Panics
/// When `AUTH_TEST_DEADLINE_SECS` is set to something that is not a number of seconds.
#[allow(
    clippy::disallowed_methods,
    reason = "the developer may give the tests more time than the default"
)]
pub fn deadline() -> Duration {
    static DEADLINE: OnceLock<Duration> = OnceLock::new();
    *DEADLINE.get_or_init(|| {
        let value = std::env::var_os(DEADLINE_VAR);
        let value = value.as_ref().map(|value| value.to_string_lossy());
        parse_deadline(value.as_deref()).unwrap_or_else(|message| panic!("{message}"))
    })
}

/// `AUTH_TEST_DEADLINE_SECS` as a duration: unset or empty is the default.
fn parse_deadline(value: Option<&str>) -> Result<Duration, String> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(DEFAULT_DEADLINE);
    };
    match text.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(format!(
            "{DEADLINE_VAR}={text:?} is not a whole number of seconds above 0; set it to one \
             (such as 120), or unset it for the default of {} s",
            DEFAULT_DEADLINE.as_secs()
        )),
    }
}

/// The moment a wait gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
    total: Duration,
}

impl Deadline {
    /// [`deadline()`] from now: what every wait of the harness uses.
    pub fn start() -> Self {
        Self::after(deadline())
    }

    /// `total` from now.
    pub fn after(total: Duration) -> Self {
        Self {
            end: Instant::now() + total,
            total,
        }
    }

    /// The time left, zero once it has passed.
    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The whole allowance, for messages: `60 s`.
    pub fn total(&self) -> Duration {
        self.total
    }
}

/// Which pipe of a process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

enum Event {
    Line(Stream, String),
    Closed,
}

/// A child process whose output is read as it comes, on threads, so that every wait on it can
/// give up at a deadline and still say what it printed. Dropping it kills the process if it is
/// still running.
///
/// Its piped stdout and stderr are read; a pipe that is not piped reads as empty.
#[derive(Debug)]
pub struct Watched {
    child: Child,
    command_line: String,
    stdout: Captured,
    stderr: Captured,
    /// In a mutex only so that a peer holding a `Watched` can be shared between threads.
    events: Mutex<mpsc::Receiver<Event>>,
    /// How many of the pipes have not reached their end yet.
    open: usize,
}

type Captured = Arc<Mutex<Vec<u8>>>;

impl Watched {
    /// Starts `command` (set its stdio first: piped stdout and stderr are read).
    ///
    /// # Panics
    /// When it cannot be started; the message has the command line.
    pub fn spawn(command: &mut Command) -> Self {
        Self::try_spawn(command)
            .unwrap_or_else(|err| panic!("cannot run `{}`: {err}", command_line(command)))
    }

    /// [`Watched::spawn`], handing back the error, for a caller that says what to install.
    pub fn try_spawn(command: &mut Command) -> std::io::Result<Self> {
        let line = command_line(command);
        Ok(Self::watch(command.spawn()?, line))
    }

    /// Watches a child that was started elsewhere; `command_line` is what messages show of it.
    pub fn watch(mut child: Child, command_line: impl Into<String>) -> Self {
        let (send, events) = mpsc::channel();
        let stdout = Captured::default();
        let stderr = Captured::default();
        let mut open = 0;
        if let Some(pipe) = child.stdout.take() {
            read_pipe(pipe, Stream::Stdout, Arc::clone(&stdout), send.clone());
            open += 1;
        }
        if let Some(pipe) = child.stderr.take() {
            read_pipe(pipe, Stream::Stderr, Arc::clone(&stderr), send);
            open += 1;
        }
        Self {
            child,
            command_line: command_line.into(),
            stdout,
            stderr,
            events: Mutex::new(events),
            open,
        }
    }

    /// The process's ID.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The command line, shell-quoted, as messages show it.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// Writes `input` to the process's stdin on a thread of its own, then closes it, so that a
    /// process that does not read it cannot block the test. A process that exits without reading
    /// it is no error here: its exit status and output tell.
    ///
    /// # Panics
    /// When stdin is not piped, or was taken.
    pub fn write_stdin(&mut self, input: &[u8]) {
        let mut pipe = self
            .child
            .stdin
            .take()
            .expect("stdin is piped (`Stdio::piped()`) and not taken yet");
        let input = input.to_vec();
        std::thread::Builder::new()
            .name("watched-stdin".to_owned())
            .spawn(move || {
                let _ = pipe.write_all(&input);
            })
            .expect("a thread to write a process's stdin");
    }

    /// The process's stdin, to hold open (a session that lasts until its stdin closes).
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// What the process has written to stdout so far (lossy UTF-8).
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stdout)).into_owned()
    }

    /// What the process has written to stderr so far (lossy UTF-8).
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stderr)).into_owned()
    }

    /// Waits for a line (as printed, with its newline) on which `ready` says yes: a peer saying
    /// it listens. `Err` with the whole output when the process closed its output
    /// (it ended) first.
    ///
    /// # Panics
    /// At the deadline: the process is killed and the message says what was awaited, the command
    /// line, and its output so far.
    pub fn wait_for_line(
        &mut self,
        what: &str,
        deadline: Deadline,
        mut ready: impl FnMut(Stream, &str) -> bool,
    ) -> Result<String, Output> {
        while self.open > 0 {
            match self.events_mut().recv_timeout(deadline.remaining()) {
                Ok(Event::Line(stream, line)) => {
                    if ready(stream, &line) {
                        return Ok(line);
                    }
                }
                Ok(Event::Closed) => self.open -= 1,
                Err(RecvTimeoutError::Disconnected) => self.open = 0,
                Err(RecvTimeoutError::Timeout) => {
                    let message = self.time_out(what, deadline);
                    panic!("{message}")
                }
            }
        }
        let what = format!("the process to exit after it closed its output (waiting for {what})");
        Err(self.finish_mut(&what, deadline))
    }

    /// Waits for the process to close its output and exit, and returns what it printed.
    ///
    /// # Panics
    /// At the deadline, as [`Watched::wait_for_line`].
    pub fn finish(mut self, what: &str, deadline: Deadline) -> Output {
        self.finish_mut(what, deadline)
    }

    /// [`Watched::finish`] with the message as an `Err` instead of a panic, for a `Drop` that
    /// must not panic while the test is already panicking.
    pub fn try_finish(mut self, what: &str, deadline: Deadline) -> Result<Output, String> {
        self.try_finish_mut(what, deadline)
    }

    fn finish_mut(&mut self, what: &str, deadline: Deadline) -> Output {
        self.try_finish_mut(what, deadline)
            .unwrap_or_else(|message| panic!("{message}"))
    }

    fn try_finish_mut(&mut self, what: &str, deadline: Deadline) -> Result<Output, String> {
        while self.open > 0 {
            match self.events_mut().recv_timeout(deadline.remaining()) {
                Ok(Event::Line(..)) => {}
                Ok(Event::Closed) => self.open -= 1,
                Err(RecvTimeoutError::Disconnected) => self.open = 0,
                Err(RecvTimeoutError::Timeout) => return Err(self.time_out(what, deadline)),
            }
        }
        // The output is closed, so the process is exiting (or has closed its pipes and lives
        // on): poll its status, briefly, until the deadline.
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if deadline.passed() => return Err(self.time_out(what, deadline)),
                Ok(None) => {
                    pause_briefly(pause.min(deadline.remaining()));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(err) => panic!("cannot wait for `{}`: {err}", self.command_line),
            }
        };
        Ok(Output {
            status,
            stdout: std::mem::take(&mut *lock(&self.stdout)),
            stderr: std::mem::take(&mut *lock(&self.stderr)),
        })
    }

    fn events_mut(&mut self) -> &mut mpsc::Receiver<Event> {
        self.events
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Kills the process (it is past its deadline) and says so, with all it is known by.
    fn time_out(&mut self, what: &str, deadline: Deadline) -> String {
        let state = process_state(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        format!(
            "gave up after {} waiting for {what}, and killed the process (a slow machine may \
             set {DEADLINE_VAR} to more seconds)\n--- command\n{}\n--- when it was killed\n\
             {state}\n--- stdout so far\n{}\n--- stderr so far\n{}",
            seconds(deadline.total()),
            self.command_line,
            self.stdout_so_far(),
            self.stderr_so_far(),
        )
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `command` to the end within [`deadline()`], with `stdin` (or nothing) on its standard
/// input, and returns what it printed. Sets its stdio (all three piped, stdin null without
/// input).
///
/// # Panics
/// When it cannot start, or at the deadline (see [`Watched::wait_for_line`]).
pub fn output_within(command: &mut Command, stdin: Option<&[u8]>, what: &str) -> Output {
    use std::process::Stdio;
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut process = Watched::spawn(command);
    if let Some(input) = stdin {
        process.write_stdin(input);
    }
    process.finish(what, Deadline::start())
}

/// Waits for a child started elsewhere (with piped stdout and stderr) within [`deadline()`].
///
/// # Panics
/// At the deadline (see [`Watched::wait_for_line`]).
pub fn wait_with_deadline(child: Child, command_line: &str, what: &str) -> Output {
    Watched::watch(child, command_line).finish(what, Deadline::start())
}

/// A command as a shell would read it back: program and arguments, quoted where needed.
pub fn command_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| quote(&word.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&byte));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a process (its main thread) was doing, from `/proc`, for the message of a wait that gave
/// up: `R (running)` with many seconds on a CPU is a process busy computing, `S (sleeping)` with
/// next to none is one blocked on something, and the kernel function (where `/proc` shows it)
/// says on what.
fn process_state(pid: u32) -> String {
    let read = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}"));
    let state = read("status").ok().and_then(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("State:"))
            .map(|state| state.trim().to_owned())
    });
    // The first field of `schedstat` is the time the thread has run, in nanoseconds.
    let on_cpu = read("schedstat").ok().and_then(|text| {
        let nanos = text.split_whitespace().next()?.parse::<u64>().ok()?;
        Some(Duration::from_nanos(nanos))
    });
    // The kernel function it sleeps in; many kernels show only `0` to a process that is not root.
    let wchan = read("wchan")
        .ok()
        .filter(|wchan| !wchan.is_empty() && wchan != "0");
    let Some(state) = state else {
        return format!("(no /proc/{pid}/status to say)");
    };
    let mut text = format!("state {state}");
    if let Some(time) = on_cpu {
        let _ = write!(text, ", {:.3} s on a CPU", time.as_secs_f64());
    }
    if let Some(wchan) = wchan {
        let _ = write!(text, ", sleeping in the kernel in {wchan}");
    }
    text
}

/// `1 s`, `1.5 s`.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// Reads a pipe to its end on a thread: every byte into `captured` at once (so a message can show
/// a prompt that has no newline yet), every whole line as an event.
fn read_pipe(
    mut pipe: impl Read + Send + 'static,
    stream: Stream,
    captured: Captured,
    send: mpsc::Sender<Event>,
) {
    std::thread::Builder::new()
        .name(format!("watched-{stream:?}").to_lowercase())
        .spawn(move || {
            let mut buffer = [0; 8192];
            let mut line = Vec::new();
            loop {
                let read = match pipe.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                lock(&captured).extend_from_slice(&buffer[..read]);
                for &byte in &buffer[..read] {
                    line.push(byte);
                    if byte == b'\n' {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        let _ = send.send(Event::Line(stream, text));
                        line.clear();
                    }
                }
            }
            if !line.is_empty() {
                let _ = send.send(Event::Line(stream, String::from_utf8_lossy(&line).into()));
            }
            let _ = send.send(Event::Closed);
        })
        .expect("a thread to read a process's output");
}

/// A poisoned buffer only means a reader thread panicked mid-append; the bytes are still good.
fn lock(captured: &Captured) -> std::sync::MutexGuard<'_, Vec<u8>> {
    captured
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[allow(
    clippy::disallowed_methods,
    reason = "a pause between two polls of a process that has closed its output; the deadline, \
              not the pause, ends the wait"
)]
fn pause_briefly(pause: Duration) {
    std::thread::sleep(pause);
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::{Deadline, Stream, Watched, parse_deadline};

    /// The panic message of `f`, which must panic.
    fn panic_message(f: impl FnOnce()) -> String {
        let payload = std::panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it panics");
        match payload.downcast::<String>() {
            Ok(message) => *message,
            Err(payload) => (*payload.downcast::<&str>().expect("a text panic")).to_owned(),
        }
    }

    /// The message with the line under `--- when it was killed` replaced by `[STATE]`, and that
    /// line: how long a process ran and where it sleeps differ from run to run.
    fn without_state(message: &str) -> (String, String) {
        let mut state = String::new();
        let mut lines = Vec::new();
        let mut next_is_state = false;
        for line in message.split('\n') {
            if next_is_state {
                state = line.to_owned();
                lines.push("[STATE]");
                next_is_state = false;
            } else {
                next_is_state = line == "--- when it was killed";
                lines.push(line);
            }
        }
        (lines.join("\n"), state)
    }

    fn piped(program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// A hung process fails the test after its deadline, naming the command, instead of
    /// hanging the suite.
    #[test]
    fn a_process_past_its_deadline_fails_the_test_and_names_the_command() {
        let started = Instant::now();
        let message = panic_message(|| {
            Watched::spawn(&mut piped("sleep", &["1000"]))
                .finish("sleep to exit", Deadline::after(Duration::from_secs(1)));
        });
        let took = started.elapsed();
        let (message, state) = without_state(&message);
        assert!(state.starts_with("state S (sleeping), "), "{state}");
        insta::assert_snapshot!(message, @r"
        gave up after 1 s waiting for sleep to exit, and killed the process (a slow machine may set AUTH_TEST_DEADLINE_SECS to more seconds)
        --- command
        sleep 1000
        --- when it was killed
        [STATE]
        --- stdout so far

        --- stderr so far
        ");
        assert!(took >= Duration::from_secs(1), "gave up early: {took:?}");
        // Slack for a loaded machine; a wait that ignored the deadline would take 1000 s.
        assert!(took < Duration::from_secs(6), "took {took:?}");
    }

    #[test]
    fn a_peer_that_never_gets_ready_is_killed_and_its_output_shown() {
        // `$$` is the shell's PID, which `exec` hands on to `sleep`.
        let mut command = piped(
            "sh",
            &[
                "-c",
                "echo booting $$; printf 'no newline' >&2; exec sleep 1000",
            ],
        );
        let mut process = Watched::spawn(&mut command);
        let pid = process.id();
        let message = panic_message(|| {
            let _ = process.wait_for_line(
                "the peer to say `ready`",
                Deadline::after(Duration::from_secs(1)),
                |stream, line| stream == Stream::Stdout && line.starts_with("ready"),
            );
        });
        let (message, _) = without_state(&message.replace(&pid.to_string(), "[PID]"));
        insta::assert_snapshot!(message, @r"
        gave up after 1 s waiting for the peer to say `ready`, and killed the process (a slow machine may set AUTH_TEST_DEADLINE_SECS to more seconds)
        --- command
        sh -c 'echo booting $$; printf '\''no newline'\'' >&2; exec sleep 1000'
        --- when it was killed
        [STATE]
        --- stdout so far
        booting [PID]

        --- stderr so far
        no newline
        ");
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the process was killed and reaped"
        );
    }

    /// The message tells a process busy computing from one blocked on something: what a hung
    /// peer was doing is the first thing to know about it, and it is gone once it is killed.
    #[test]
    fn the_message_says_whether_the_process_was_computing_or_blocked() {
        let state_of = |script: &str| {
            let message = panic_message(|| {
                Watched::spawn(&mut piped("sh", &["-c", script]))
                    .finish("sh to exit", Deadline::after(Duration::from_secs(1)));
            });
            without_state(&message).1
        };
        let busy = state_of("while :; do :; done");
        assert!(busy.starts_with("state R (running), "), "{busy}");
        assert!(busy.contains(" s on a CPU"), "{busy}");
        assert!(!busy.contains(" 0.000 s on a CPU"), "{busy}");
        let blocked = state_of("exec sleep 1000");
        assert!(blocked.starts_with("state S (sleeping), "), "{blocked}");
    }

    #[test]
    fn a_line_ends_the_wait_and_the_rest_is_read_to_the_end() {
        let mut process = Watched::spawn(&mut piped(
            "sh",
            &["-c", "echo starting; echo 'listening on 1' >&2; echo done"],
        ));
        let line = process
            .wait_for_line("the listening line", Deadline::start(), |stream, line| {
                stream == Stream::Stderr && line.starts_with("listening")
            })
            .expect("the line comes before the end");
        assert_eq!(line, "listening on 1\n");
        let output = process.finish("sh to exit", Deadline::start());
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            "starting\ndone\n"
        );
        assert_eq!(
            String::from_utf8(output.stderr).unwrap(),
            "listening on 1\n"
        );
    }

    #[test]
    fn a_process_that_ends_before_its_line_is_an_err_with_its_output() {
        let mut process = Watched::spawn(&mut piped("sh", &["-c", "echo bind failed >&2; exit 3"]));
        let output = process
            .wait_for_line("a line that never comes", Deadline::start(), |_, _| false)
            .expect_err("it exits first");
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(String::from_utf8(output.stderr).unwrap(), "bind failed\n");
    }

    #[test]
    fn stdin_is_written_and_closed() {
        let mut command = piped("cat", &[]);
        command.stdin(Stdio::piped());
        let mut process = Watched::spawn(&mut command);
        process.write_stdin(b"hello\n");
        let output = process.finish("cat to exit", Deadline::start());
        assert_eq!(output.stdout, b"hello\n");
    }

    #[test]
    fn the_deadline_comes_from_the_environment() {
        let check = |value: Option<&str>| match parse_deadline(value) {
            Ok(deadline) => format!("{deadline:?}"),
            Err(message) => message,
        };
        insta::assert_snapshot!(
            [None, Some(""), Some("120"), Some(" 5 "), Some("0"), Some("1.5"), Some("soon")]
                .map(check)
                .join("\n"),
            @r#"
        60s
        60s
        120s
        5s
        AUTH_TEST_DEADLINE_SECS="0" is not a whole number of seconds above 0; set it to one (such as 120), or unset it for the default of 60 s
        AUTH_TEST_DEADLINE_SECS="1.5" is not a whole number of seconds above 0; set it to one (such as 120), or unset it for the default of 60 s
        AUTH_TEST_DEADLINE_SECS="soon" is not a whole number of seconds above 0; set it to one (such as 120), or unset it for the default of 60 s
        "#
        );
    }
}
