//! A private PostgreSQL cluster run from the machine's server binaries: the
//! embedded default of `cargo run` and the throwaway database of `cargo test`.
//!
//! PostgreSQL refuses to run as root, so when dompet is root the cluster's
//! files and processes belong to the `postgres` user. The server runs in its
//! own process group (a terminal's Ctrl-C reaches dompet, which then stops it
//! in order) and is watched by a tiny shell loop that stops it should dompet
//! die without cleaning up, so no postgres outlives its dompet.

mod binaries;
mod datadir;
mod files;
mod password;
mod process;
mod standby;

use std::{
    fs,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{kill, Signal},
    unistd::{Pid, User},
};

pub use self::binaries::find_bin_dir;
use self::{
    datadir::{prepare_dir, Owner},
    password::read_or_create_password,
    process::{free_port, pid_holder, read_tail, wait_for_exit, PidHolder},
};

const SUPERUSER: &str = "dompet";
/// The server's role; created by `database`, its password kept here.
const RUNTIME_ROLE: &str = crate::database::roles::EMBEDDED_RUNTIME_ROLE;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found in DOMPET_PG_BIN, on PATH \
         or under /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) \
         or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    #[error("dompet runs as root, so PostgreSQL must run as the `postgres` user, which does not exist: create it (apt-get install postgresql does) or set DATABASE_URL")]
    NoPostgresUser,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// Data of another OS user, or a data directory dompet cannot use; the
    /// text says whose and what to do.
    #[error("{0}")]
    ForeignData(String),
    #[error(
        "refusing to open {path}: {why}; another user may be trying to make dompet write \
         elsewhere: remove it and start again"
    )]
    UnsafeFile { path: String, why: &'static str },
    #[error("initdb failed:\n{0}")]
    Initdb(String),
    #[error("PostgreSQL did not start; the end of its log ({log}):\n{tail}")]
    Start { log: String, tail: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// Whether the cluster outlives this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Data kept between runs; tuned for safety (fsync on).
    Persistent,
    /// A scratch cluster whose directory is deleted when it stops; tuned for
    /// speed (fsync off), for tests.
    Throwaway,
}

pub struct Cluster {
    dir: PathBuf,
    pgdata: PathBuf,
    bin: PathBuf,
    port: u16,
    password: String,
    runtime_password: String,
    owner: Option<Owner>,
    lifetime: Lifetime,
    server: Option<Child>,
    watchdog: Option<Child>,
    /// Extra `-c name=value` server settings (a replicated pair's).
    settings: Vec<String>,
}

impl Cluster {
    /// Starts the cluster kept under `root` (initialising it on first use), or
    /// attaches to it when another dompet process already runs it.
    pub fn start(root: &Path, lifetime: Lifetime) -> Result<Self, ClusterError> {
        let mut cluster = Self::prepare(root, lifetime)?;
        if !cluster.initialised()? {
            cluster.initdb()?;
        }
        if let Some(port) = cluster.running_port()? {
            tracing::info!(port, "attaching to the embedded PostgreSQL already running");
            cluster.port = port;
            return Ok(cluster);
        }
        cluster.spawn_server()?;
        Ok(cluster)
    }

    /// The cluster's directory and settings, nothing started or created.
    fn prepare(root: &Path, lifetime: Lifetime) -> Result<Self, ClusterError> {
        let bin = find_bin_dir().ok_or(ClusterError::BinariesNotFound)?;
        let owner = if nix::unistd::geteuid().is_root() {
            let user = User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or(ClusterError::NoPostgresUser)?;
            Some(Owner {
                uid: user.uid,
                gid: user.gid,
            })
        } else {
            None
        };
        let dir = prepare_dir(root, owner)?;
        let cluster = Self {
            pgdata: dir.join("data"),
            // initdb, run as postgres, reads the superuser's.
            password: read_or_create_password(&dir.join("password"), owner)?,
            runtime_password: read_or_create_password(&dir.join("runtime-password"), None)?,
            dir,
            bin,
            port: 0,
            owner,
            lifetime,
            server: None,
            watchdog: None,
            settings: Vec::new(),
        };
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the cluster's data, password and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A connection URL for `database` as the cluster's superuser, which
    /// owns the schema and runs the migrations.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// A connection URL for `database` as the runtime role, which the
    /// database module creates with [`Cluster::runtime_password`].
    pub fn runtime_url(&self, database: &str) -> String {
        format!(
            "postgres://{RUNTIME_ROLE}:{}@127.0.0.1:{}/{database}",
            self.runtime_password, self.port
        )
    }

    /// The runtime role's password, kept beside the superuser's.
    pub fn runtime_password(&self) -> &str {
        &self.runtime_password
    }

    /// The postmaster's pid, when this process started it.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Fast shutdown (open sessions are ended, data is safe), then waits for
    /// the server to exit. A cluster this process only attached to is left
    /// running for its owner.
    pub fn stop(&mut self) {
        if !self.stop_server() {
            return;
        }
        if self.lifetime == Lifetime::Throwaway {
            let _ = fs::remove_dir_all(&self.dir);
        }
        tracing::info!("embedded PostgreSQL stopped");
    }

    /// Stops the server this process started, keeping its files; false if
    /// there was none.
    fn stop_server(&mut self) -> bool {
        let Some(mut server) = self.server.take() else {
            return false;
        };
        let pid = Pid::from_raw(server.id() as i32);
        let _ = kill(pid, Signal::SIGINT);
        if !wait_for_exit(&mut server, STOP_TIMEOUT) {
            tracing::warn!("PostgreSQL did not stop in time; forcing an immediate shutdown");
            let _ = kill(pid, Signal::SIGQUIT);
            if !wait_for_exit(&mut server, STOP_TIMEOUT) {
                let _ = server.kill();
                let _ = server.wait();
            }
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        true
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        if let Some(owner) = self.owner {
            command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
        }
        command
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        if self.pgdata.exists() {
            // A half-made cluster from an interrupted first run.
            fs::remove_dir_all(&self.pgdata).map_err(io("removing a partial cluster"))?;
        }
        tracing::info!(dir = %self.pgdata.display(), "creating the embedded PostgreSQL cluster");
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
            .args(["--locale=C", "--pwfile"])
            .arg(self.dir.join("password"))
            .output()
            .map_err(io("running initdb"))?;
        if !output.status.success() {
            return Err(ClusterError::Initdb(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// Whether `initdb` ran to the end here. Only a missing `PG_VERSION`
    /// says no: a directory we cannot read must not look empty.
    fn initialised(&self) -> Result<bool, ClusterError> {
        let version = self.pgdata.join("PG_VERSION");
        match fs::symlink_metadata(&version) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(format!("inspecting {}", version.display()))(e)),
        }
    }

    /// The port of a live postmaster already serving this data directory.
    ///
    /// A `postmaster.pid` left by a crash names a pid that is gone (PostgreSQL
    /// replaces such a file itself) or, after a reboot, one that another
    /// program now has; PostgreSQL cannot tell the latter from a live server
    /// of its own user and refuses to start, so that file is removed here.
    fn running_port(&self) -> Result<Option<u16>, ClusterError> {
        let path = self.pgdata.join("postmaster.pid");
        let Some(pidfile) = files::read_to_string(&path)? else {
            return Ok(None);
        };
        let mut lines = pidfile.lines();
        let Some(pid) = lines.next().and_then(|l| l.trim().parse::<i32>().ok()) else {
            return Ok(None);
        };
        let port = lines.nth(2).and_then(|l| l.trim().parse::<u16>().ok());
        match pid_holder(pid) {
            PidHolder::Gone => {
                tracing::info!(
                    pid,
                    "postmaster.pid is left from a crash; PostgreSQL replaces it"
                );
                Ok(None)
            }
            PidHolder::Stranger => {
                tracing::warn!(
                    pid,
                    "postmaster.pid is left from a crash and its pid is now another program's; \
                     removing it"
                );
                files::remove(&path)?;
                Ok(None)
            }
            PidHolder::Postgres => Ok(port.filter(|&port| self.is_ready(port))),
        }
    }

    fn spawn_server(&mut self) -> Result<(), ClusterError> {
        if self.port == 0 {
            self.port = free_port()?;
        }
        let log_path = self.dir.join("postgres.log");
        // 0600: a failed statement is logged whole.
        let log = files::open_append(&log_path, 0o600)?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "max_connections=200"])
            .stdout(log.try_clone().map_err(io("opening the PostgreSQL log"))?)
            .stderr(log)
            .process_group(0);
        if self.lifetime == Lifetime::Throwaway {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off"]);
            command.args(["-c", "full_page_writes=off"]);
        }
        for setting in &self.settings {
            command.args(["-c", setting]);
        }
        let server = command.spawn().map_err(io("starting postgres"))?;
        self.server = Some(server);
        self.watchdog = match process::spawn_watchdog(
            &self.dir,
            &self.bin,
            &self.pgdata,
            self.lifetime,
            self.owner,
        ) {
            Ok(watchdog) => Some(watchdog),
            Err(e) => {
                tracing::warn!(error = %e, "no watchdog: PostgreSQL may outlive a killed dompet");
                None
            }
        };

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.is_ready(self.port) {
                tracing::info!(port = self.port, "embedded PostgreSQL is ready");
                return Ok(());
            }
            let exited = self
                .server
                .as_mut()
                .is_none_or(|s| matches!(s.try_wait(), Ok(Some(_))));
            if exited || Instant::now() > deadline {
                self.stop();
                return Err(ClusterError::Start {
                    log: log_path.display().to_string(),
                    tail: read_tail(&log_path, log_start),
                });
            }
            sleep(Duration::from_millis(100));
        }
    }

    fn is_ready(&self, port: u16) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
