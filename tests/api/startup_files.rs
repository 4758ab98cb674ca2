//! What dompet reads and writes on disk at start (SPEC §7): `.env` from the
//! working directory only; the embedded cluster's files never through a
//! link; data of another OS user refused with one clear line; a stale
//! `postmaster.pid` no obstacle.

use std::{
    fs,
    os::unix::fs::{chown, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use dompet::pgcluster::{Cluster, Lifetime};
use nix::unistd::{geteuid, User};

use crate::helpers::spawn_app;

fn is_root() -> bool {
    geteuid().is_root()
}

fn postgres_user() -> User {
    User::from_name("postgres")
        .unwrap()
        .expect("a postgres user")
}

/// A cluster directory as dompet would make it: reachable by `postgres` and
/// given to it when the tests run as root (as in CI).
fn cluster_root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join("cluster");
    fs::create_dir(&root).unwrap();
    if is_root() {
        let postgres = postgres_user();
        chown(
            &root,
            Some(postgres.uid.as_raw()),
            Some(postgres.gid.as_raw()),
        )
        .unwrap();
    }
    (dir, root)
}

async fn start(root: &Path, lifetime: Lifetime) -> Result<Cluster, String> {
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || Cluster::start(&root, lifetime))
        .await
        .unwrap()
        .map_err(|e| e.to_string())
}

/// `dompet ledger verify` run from `cwd` with exactly `env` (and PATH), as
/// the OS user `uid` when given.
fn dompet_in(cwd: &Path, env: &[(&str, String)], uid: Option<u32>) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dompet"));
    command
        .args(["ledger", "verify"])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null());
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut command, uid);
    }
    let output = command.output().expect("run dompet");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn only_the_env_file_of_the_working_directory_is_read() {
    // Arrange: a .env in the parent directory that would break the start.
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("checkout");
    fs::create_dir(&cwd).unwrap();
    fs::write(dir.path().join(".env"), "DOMPET_TIMEZONE=Nowhere/Parent\n").unwrap();
    let env = app.db.env().to_vec();

    // Act and assert: the parent's file is ignored…
    let (code, stderr) = {
        let (cwd, env) = (cwd.clone(), env.clone());
        tokio::task::spawn_blocking(move || dompet_in(&cwd, &env, None))
            .await
            .unwrap()
    };
    assert_eq!(code, Some(0), "{stderr}");

    // …and the working directory's is read.
    fs::write(cwd.join(".env"), "DOMPET_TIMEZONE=Nowhere/Here\n").unwrap();
    let (code, stderr) = tokio::task::spawn_blocking(move || dompet_in(&cwd, &env, None))
        .await
        .unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(r#"error: invalid DOMPET_TIMEZONE="Nowhere/Here""#),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_password_file_that_is_a_link_or_no_plain_file_is_refused_and_nothing_is_written() {
    for (case, plant) in [
        ("a symbolic link", "symlink"),
        ("a symbolic link to a file", "symlink-existing"),
        ("a hard link", "hardlink"),
        ("a FIFO", "fifo"),
    ] {
        // Arrange: what a `postgres` user could put there for root to open.
        let (dir, root) = cluster_root();
        let victim = dir.path().join("victim");
        let password = root.join("password");
        match plant {
            "symlink" => std::os::unix::fs::symlink(&victim, &password).unwrap(),
            "symlink-existing" => {
                fs::write(&victim, "root's own file\n").unwrap();
                std::os::unix::fs::symlink(&victim, &password).unwrap();
            }
            "hardlink" => {
                fs::write(&victim, "root's own file\n").unwrap();
                fs::hard_link(&victim, &password).unwrap();
            }
            _ => assert!(Command::new("mkfifo")
                .arg(&password)
                .status()
                .unwrap()
                .success()),
        }

        // Act
        let started = start(&root, Lifetime::Throwaway).await;

        // Assert
        let err = started
            .err()
            .unwrap_or_else(|| panic!("{case} was followed"));
        assert!(
            err.starts_with(&format!("refusing to open {}: it ", password.display()))
                && err.contains("remove it and start again"),
            "{case}: {err}"
        );
        match plant {
            "symlink" => assert!(!victim.exists(), "{case}: the link's target was created"),
            "fifo" => {}
            _ => assert_eq!(fs::read_to_string(&victim).unwrap(), "root's own file\n"),
        }
        assert!(!root.join("data").exists(), "{case}: a cluster was made");
    }
}

#[tokio::test]
async fn a_postgres_log_that_is_a_symbolic_link_is_refused_and_its_target_untouched() {
    // Arrange
    let (dir, root) = cluster_root();
    let victim = dir.path().join("victim");
    fs::write(&victim, "root's own file\n").unwrap();
    std::os::unix::fs::symlink(&victim, root.join("postgres.log")).unwrap();

    // Act
    let started = start(&root, Lifetime::Throwaway).await;

    // Assert
    let err = started.expect_err("the link was followed");
    assert!(
        err.starts_with(&format!(
            "refusing to open {}: it is a symbolic link",
            root.join("postgres.log").display()
        )),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root's own file\n");
}

#[tokio::test]
async fn as_root_a_data_directory_of_another_os_user_is_refused_not_passed_over() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // Arrange: a checkout where the user `nobody` ran dompet before.
    let (_dir, root) = cluster_root();
    fs::create_dir(root.join("data")).unwrap();
    fs::write(root.join("data/PG_VERSION"), "15\n").unwrap();
    for path in [
        root.join("data/PG_VERSION"),
        root.join("data"),
        root.clone(),
    ] {
        chown(&path, Some(65534), Some(65534)).unwrap();
    }

    // Act
    let started = start(&root, Lifetime::Persistent).await;

    // Assert: one clear line, and no second cluster anywhere.
    let err = started.expect_err("started beside nobody's data");
    assert_eq!(
        err,
        format!(
            "{} belongs to the OS user nobody, not to root: dompet will not start a second, \
             empty ledger beside it; run dompet as nobody, or set DOMPET_DATA_DIR to another \
             directory",
            root.display()
        )
    );
    assert!(fs::symlink_metadata(root.join("data")).unwrap().is_dir());
    assert!(!root.join("password").exists());
}

#[tokio::test]
async fn as_another_user_data_made_by_dompet_running_as_root_is_refused_with_one_line() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // Arrange: a .dompet as dompet leaves it when run as root, then the
    // user `nobody` runs dompet in the same checkout.
    let (dir, root) = cluster_root();
    let data_dir = dir.path().join(".dompet");
    fs::rename(&root, &data_dir).unwrap();
    let env = [("DOMPET_DATA_DIR", data_dir.display().to_string())];
    let cwd = dir.path().to_owned();

    // Act
    let (code, stderr) = tokio::task::spawn_blocking(move || dompet_in(&cwd, &env, Some(65534)))
        .await
        .unwrap();

    // Assert
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: {} belongs to the OS user postgres, not to nobody: dompet will not start a \
             second, empty ledger beside it; it was made by dompet running as root: run dompet \
             as root again, or set DOMPET_DATA_DIR to another directory\n",
            data_dir.display()
        )
    );
}

fn write_pidfile(pgdata: &Path, pid: u32) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = pgdata.join("postmaster.pid");
    fs::write(
        &path,
        format!("{pid}\n{}\n1700000000\n{port}\n", pgdata.display()),
    )
    .unwrap();
    if is_root() {
        let postgres = postgres_user();
        chown(
            &path,
            Some(postgres.uid.as_raw()),
            Some(postgres.gid.as_raw()),
        )
        .unwrap();
    }
}

#[tokio::test]
async fn a_postmaster_pid_left_by_a_crash_does_not_stop_the_next_start() {
    // Arrange: a cluster made and stopped.
    let (_dir, root) = cluster_root();
    let cluster = start(&root, Lifetime::Persistent).await.unwrap();
    let pgdata = cluster.dir().join("data");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();

    // Act 1: its pid is gone.
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    write_pidfile(&pgdata, gone_pid);
    let started = start(&root, Lifetime::Persistent).await;

    // Assert 1
    let cluster = started.expect("start over a pid file of a dead process");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();

    // Act 2: after a reboot, its pid belongs to another program of the
    // same user, which PostgreSQL alone takes for a live server.
    let mut stranger = Command::new("sleep");
    stranger.arg("120");
    if is_root() {
        let postgres = postgres_user();
        std::os::unix::process::CommandExt::uid(&mut stranger, postgres.uid.as_raw());
    }
    let mut stranger = stranger.spawn().unwrap();
    write_pidfile(&pgdata, stranger.id());
    let started = start(&root, Lifetime::Persistent).await;

    // Assert 2
    let alive = stranger.try_wait().unwrap().is_none();
    stranger.kill().ok();
    stranger.wait().ok();
    let cluster = started.expect("start over a pid file naming another program");
    assert!(alive, "the other program was left alone");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
}
