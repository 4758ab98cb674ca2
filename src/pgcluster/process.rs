//! The server process's helpers: its watchdog, ports, exits and log.

use std::{
    fs,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::signal::kill, unistd::Pid};

use super::{datadir::Owner, files, io, ClusterError, Lifetime};

/// Stops the server if this process disappears without calling `stop`
/// (a panic, SIGKILL, a test binary that never drops its statics).
pub(super) fn spawn_watchdog(
    dir: &Path,
    bin: &Path,
    pgdata: &Path,
    lifetime: Lifetime,
    owner: Option<Owner>,
) -> std::io::Result<Child> {
    let script = r#"while [ -d "/proc/$0" ]; do sleep 1; done
"$1/pg_ctl" stop -D "$2" -m fast -s >/dev/null 2>&1
[ "$3" = throwaway ] && rm -rf "$4""#;
    let mut command = Command::new("sh");
    command
        .current_dir(dir)
        .arg("-c")
        .arg(script)
        .arg(std::process::id().to_string())
        .arg(bin)
        .arg(pgdata)
        .arg(match lifetime {
            Lifetime::Throwaway => "throwaway",
            Lifetime::Persistent => "persistent",
        })
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(owner) = owner {
        command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
    }
    command.spawn()
}

pub(super) fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

pub(super) fn wait_for_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        sleep(Duration::from_millis(50));
    }
    false
}

pub(super) fn read_tail(path: &Path, from: u64) -> String {
    let text = files::read_to_string(path)
        .ok()
        .flatten()
        .unwrap_or_default();
    let text = text.get(from as usize..).unwrap_or(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Who has the pid a `postmaster.pid` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PidHolder {
    /// Nobody: the file is stale.
    Gone,
    /// A program that is certainly not PostgreSQL: the file is stale too.
    Stranger,
    /// A PostgreSQL process, or one we cannot see into: maybe a live server.
    Postgres,
}

pub(super) fn pid_holder(pid: i32) -> PidHolder {
    // 0 and negative pids name process groups (a standalone backend writes
    // its pid negated): leave those to PostgreSQL.
    if pid <= 0 {
        return PidHolder::Postgres;
    }
    // EPERM too means someone has the pid.
    if let Err(Errno::ESRCH) = kill(Pid::from_raw(pid), None) {
        return PidHolder::Gone;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return PidHolder::Postgres;
    };
    // The postmaster keeps its command line; its children say "postgres: …".
    let program = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let name = program.rsplit(|&b| b == b'/').next().unwrap_or_default();
    if name.starts_with(b"postgres") || name.starts_with(b"postmaster") {
        PidHolder::Postgres
    } else {
        PidHolder::Stranger
    }
}
