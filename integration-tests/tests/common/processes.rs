//! vegalake's own server processes in the tests: the binary cargo built, started on
//! loopback, waited on through the lines they print (never through time), and
//! killed when dropped. Shared by the suite and the fault tests (included with
//! `#[path]`, as each test binary is its own crate).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;
use vegalake_executors::engine::{connect, EngineOptions, EngineUrl, QueryEngine};

/// How long a wait for a line may last before the test fails as hung. A bound on
/// a hang, not a measure: a line that comes at all comes well within it.
const HANG: Duration = Duration::from_secs(180);

/// The `vegalake` binary cargo built beside this test (`VEGALAKE_BIN` overrides).
pub fn vegalake_bin() -> PathBuf {
    let bin = std::env::var_os("VEGALAKE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("the test's path");
        exe.parent().and_then(|deps| deps.parent()).expect("target/debug/deps").join("vegalake")
    });
    assert!(bin.is_file(), "{} is missing: build it first (cargo build -p vegalake) or set VEGALAKE_BIN", bin.display());
    bin
}

/// A child process that is killed when dropped.
pub struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines a child prints on one pipe, read as they come by a thread that
/// drains the pipe to its end (so the child never blocks on a full pipe).
pub struct Lines {
    name: String,
    lines: Receiver<String>,
}

impl Lines {
    pub fn of(name: &str, pipe: impl Read + Send + 'static) -> Lines {
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        Lines { name: name.to_string(), lines }
    }

    /// The first line from here on for which `found` gives a value. Fails when the
    /// pipe closes first (the process ended) or when nothing comes for `HANG`.
    pub fn wait_for<T>(&self, what: &str, mut found: impl FnMut(&str) -> Option<T>) -> T {
        loop {
            match self.lines.recv_timeout(HANG) {
                Ok(line) => {
                    if let Some(value) = found(&line) {
                        return value;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => panic!("{} ended before {what}", self.name),
                Err(RecvTimeoutError::Timeout) => panic!("{} is hung: no {what}", self.name),
            }
        }
    }

    /// The lines printed so far and not yet read, without waiting.
    pub fn so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

/// Where a started process's log (stderr) goes.
pub enum Log<'a> {
    Discard,
    /// At info level (Ballista's own lines included), into this file.
    File(&'a Path),
    /// At info level, as [`Lines`] to wait on.
    Lines,
}

/// A `vegalake` server process and the address it printed once listening.
pub struct Listening {
    pub addr: String,
    pub stdout: Lines,
    pub log: Option<Lines>,
    // Last: dropped (killed) after the readers' handles.
    _process: Process,
}

/// Starts `vegalake ARGS` and waits for its "listening on ADDRESS" line.
pub fn start_listening(args: &[&str], log: Log) -> Listening {
    let mut command = Command::new(vegalake_bin());
    command.args(args).stdout(Stdio::piped());
    match log {
        Log::Discard => command.stderr(Stdio::null()),
        Log::File(path) => command.env("VEGALAKE_LOG", "info").stderr(std::fs::File::create(path).expect("a log file")),
        Log::Lines => command.env("VEGALAKE_LOG", "info").stderr(Stdio::piped()),
    };
    let mut child = command.spawn().expect("vegalake starts");
    let name = format!("vegalake {}", args.join(" "));
    let stdout = Lines::of(&name, child.stdout.take().expect("piped stdout"));
    let log = child.stderr.take().map(|pipe| Lines::of(&format!("{name} (log)"), pipe));
    let process = Process(child);
    let addr = stdout.wait_for("\"listening on\" line", |line| line.strip_prefix("listening on ").map(str::to_string));
    Listening { addr, stdout, log, _process: process }
}

/// A scheduler and executors on loopback, each a `vegalake` process.
pub struct Cluster {
    pub url: EngineUrl,
    pub executors: Vec<Listening>,
    pub scheduler: Listening,
}

impl Cluster {
    pub fn start(executors: usize) -> Cluster {
        Cluster::start_with(executors, Log::Discard, || Log::Discard)
    }

    /// A cluster whose scheduler logs at info level to `scheduler_log`: its own
    /// record of the jobs it ran.
    pub fn start_logged(executors: usize, scheduler_log: &Path) -> Cluster {
        Cluster::start_with(executors, Log::File(scheduler_log), || Log::Discard)
    }

    /// Started, and returned once the scheduler reports every executor registered.
    pub fn start_with<'a>(executors: usize, scheduler_log: Log, executor_log: impl Fn() -> Log<'a>) -> Cluster {
        let scheduler = start_listening(&["scheduler", "--bind", "127.0.0.1:0"], scheduler_log);
        let executors =
            (0..executors).map(|_| start_listening(&["executor", "--scheduler", &scheduler.addr, "--slots", "2"], executor_log())).collect::<Vec<_>>();
        let url: EngineUrl = format!("ballista://{}", scheduler.addr).parse().expect("a ballista URL");
        let cluster = Cluster { url, executors, scheduler };
        cluster.wait_for_executors(cluster.executors.len());
        cluster
    }

    /// Waits for the scheduler's "executors: N (...)" line with `registered`
    /// executors (a query before the first registers waits for one).
    pub fn wait_for_executors(&self, registered: usize) {
        self.scheduler.stdout.wait_for(&format!("\"executors: {registered}\" line"), |line| (executors_in(line) == Some(registered)).then_some(()));
    }

    pub async fn engine(&self, opts: EngineOptions) -> Arc<dyn QueryEngine> {
        connect(&self.url, opts).await.unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The count of a scheduler's "executors: N (ID joined|left)" line.
pub fn executors_in(line: &str) -> Option<usize> {
    line.strip_prefix("executors: ")?.split(' ').next()?.parse().ok()
}

/// The Spark Connect server of this test run.
pub fn spark_url() -> EngineUrl {
    let url = std::env::var("VEGALAKE_SPARK_CONNECT")
        .expect("VEGALAKE_SPARK_CONNECT is not set: scripts/test.sh starts a Spark Connect server and sets it (sc://HOST:PORT)");
    url.parse().unwrap_or_else(|e| panic!("VEGALAKE_SPARK_CONNECT: {e}"))
}
