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
    process::{free_port, read_tail, wait_for_exit},
};

const SUPERUSER: &str = "dompet";
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
        if !cluster.pgdata.join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        if let Some(port) = cluster.running_port() {
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
            password: read_or_create_password(&dir.join("password"), owner)?,
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

    /// A connection URL for `database` as the cluster's superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
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

    /// The port of a live postmaster already serving this data directory.
    fn running_port(&self) -> Option<u16> {
        let pidfile = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        let mut lines = pidfile.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let alive = match kill(Pid::from_raw(pid), None) {
            Ok(()) | Err(nix::errno::Errno::EPERM) => true,
            Err(_) => false,
        };
        let port = lines.nth(2)?.trim().parse().ok()?;
        (alive && self.is_ready(port)).then_some(port)
    }

    fn spawn_server(&mut self) -> Result<(), ClusterError> {
        if self.port == 0 {
            self.port = free_port()?;
        }
        let log_path = self.dir.join("postgres.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("opening the PostgreSQL log"))?;
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
