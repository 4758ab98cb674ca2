//! A private PostgreSQL cluster run from the machine's server binaries: the
//! embedded default of `cargo run` and the throwaway database of `cargo test`.
//!
//! PostgreSQL refuses to run as root, so when dompet is root the cluster's
//! files and processes belong to the `postgres` user. The server runs in its
//! own process group (a terminal's Ctrl-C reaches dompet, which then stops it
//! in order) and is watched by a tiny shell loop that stops it should dompet
//! die without cleaning up, so no postgres outlives its dompet.

use std::{
    fs,
    io::{Read, Seek, SeekFrom, Write},
    net::TcpListener,
    os::unix::{
        fs::{chown, OpenOptionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{kill, Signal},
    unistd::{Pid, User},
};
use rand::{distributions::Alphanumeric, Rng};
use sha2::Digest as _;

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

#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
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
}

impl Cluster {
    /// Starts the cluster kept under `root` (initialising it on first use), or
    /// attaches to it when another dompet process already runs it.
    pub fn start(root: &Path, lifetime: Lifetime) -> Result<Self, ClusterError> {
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
        let mut cluster = Self {
            pgdata: dir.join("data"),
            password: read_or_create_password(&dir.join("password"), owner)?,
            dir,
            bin,
            port: 0,
            owner,
            lifetime,
            server: None,
            watchdog: None,
        };
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
        let Some(mut server) = self.server.take() else {
            return;
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
        if self.lifetime == Lifetime::Throwaway {
            let _ = fs::remove_dir_all(&self.dir);
        }
        tracing::info!("embedded PostgreSQL stopped");
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
        self.port = free_port()?;
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
        let server = command.spawn().map_err(io("starting postgres"))?;
        self.server = Some(server);
        self.watchdog = match self.spawn_watchdog() {
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

    /// Stops the server if this process disappears without calling `stop`
    /// (a panic, SIGKILL, a test binary that never drops its statics).
    fn spawn_watchdog(&self) -> std::io::Result<Child> {
        let script = r#"while [ -d "/proc/$0" ]; do sleep 1; done
"$1/pg_ctl" stop -D "$2" -m fast -s >/dev/null 2>&1
[ "$3" = throwaway ] && rm -rf "$4""#;
        let mut command = Command::new("sh");
        command
            .current_dir(&self.dir)
            .arg("-c")
            .arg(script)
            .arg(std::process::id().to_string())
            .arg(&self.bin)
            .arg(&self.pgdata)
            .arg(match self.lifetime {
                Lifetime::Throwaway => "throwaway",
                Lifetime::Persistent => "persistent",
            })
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(owner) = self.owner {
            command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
        }
        command.spawn()
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

/// Where `initdb` and `postgres` live: `DOMPET_PG_BIN` when set, else a
/// PATH directory holding both, else the newest
/// `/usr/lib/postgresql/<major>/bin` (Debian keeps them off PATH).
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "postgres", "pg_ctl", "pg_isready"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("DOMPET_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return has_server(&dir).then_some(dir);
    }
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| has_server(dir));
    if from_path.is_some() {
        return from_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Creates `root` and returns the directory the cluster will live in: `root`
/// itself, or — when dompet is root and `postgres` cannot reach `root` (a
/// checkout under /root, say) — a directory under /var/lib/dompet that `root/data`
/// links to, so the data still shows under `root`.
fn prepare_dir(root: &Path, owner: Option<Owner>) -> Result<PathBuf, ClusterError> {
    let existed = root.exists();
    fs::create_dir_all(root).map_err(io(format!("creating {}", root.display())))?;
    let root = fs::canonicalize(root).map_err(io(format!("resolving {}", root.display())))?;
    let Some(owner) = owner else {
        return Ok(root);
    };
    let own = |path: &Path| {
        chown(path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .map_err(io(format!("giving {} to postgres", path.display())))
    };
    // Only a directory made here is handed to postgres: DOMPET_DATA_DIR may
    // name one that belongs to someone (a home directory, /var/lib).
    if !existed {
        own(&root)?;
    }
    if reachable_by(&root, owner) {
        return Ok(root);
    }
    let digest = hex::encode(&sha2::Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
    let elsewhere = Path::new(FALLBACK_PARENT).join(format!("dompet-{digest}"));
    create_private_dir(&elsewhere)?;
    own(&elsewhere)?;
    let link = root.join("data");
    if fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(elsewhere.join("data"), &link)
            .map_err(io("linking the cluster data"))?;
    }
    tracing::info!(
        dir = %elsewhere.display(),
        "postgres cannot reach {}; keeping the cluster in {} (linked from {})",
        root.display(),
        elsewhere.display(),
        link.display()
    );
    Ok(elsewhere)
}

/// Where root keeps clusters that `postgres` could not reach in place: not a
/// world-writable directory, so no other user can plant a link there first.
const FALLBACK_PARENT: &str = "/var/lib/dompet";

/// Creates `dir` (mode 0700) or accepts it if it is already a real directory
/// — never a symbolic link, which could point chmod and chown elsewhere.
fn create_private_dir(dir: &Path) -> Result<(), ClusterError> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(parent) = dir.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
            .map_err(io(format!("creating {}", parent.display())))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta =
                fs::symlink_metadata(dir).map_err(io(format!("inspecting {}", dir.display())))?;
            if meta.file_type().is_dir() {
                Ok(())
            } else {
                Err(ClusterError::Io {
                    context: format!("{} exists and is not a directory", dir.display()),
                    source: e,
                })
            }
        }
        Err(e) => Err(ClusterError::Io {
            context: format!("creating {}", dir.display()),
            source: e,
        }),
    }
}

fn reachable_by(dir: &Path, owner: Owner) -> bool {
    Command::new("sh")
        .args(["-c", r#"cd "$0" && test -w ."#])
        .arg(dir)
        .current_dir("/")
        .uid(owner.uid.as_raw())
        .gid(owner.gid.as_raw())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn read_or_create_password(path: &Path, owner: Option<Owner>) -> Result<String, ClusterError> {
    if let Ok(existing) = fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    // Created 0600 from the start: never readable by others, even briefly.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io("writing the cluster password"))?;
    file.write_all(password.as_bytes())
        .map_err(io("writing the cluster password"))?;
    if let Some(owner) = owner {
        chown(path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .map_err(io("giving the cluster password to postgres"))?;
    }
    Ok(password)
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

fn wait_for_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        sleep(Duration::from_millis(50));
    }
    false
}

fn read_tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.seek(SeekFrom::Start(from));
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
