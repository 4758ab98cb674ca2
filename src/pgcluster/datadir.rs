//! Choosing and preparing the directory a cluster lives in, and who owns it.

use std::{
    fs,
    os::unix::{
        fs::{lchown, MetadataExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use sha2::Digest as _;

use super::{io, ClusterError};

/// The OS user the cluster's files and processes belong to when dompet runs
/// as root (PostgreSQL refuses to run as root).
#[derive(Debug, Clone, Copy)]
pub(super) struct Owner {
    pub uid: nix::unistd::Uid,
    pub gid: nix::unistd::Gid,
}

/// Creates `root` and returns the directory the cluster will live in: `root`
/// itself, or — when dompet is root and `postgres` cannot reach `root` (a
/// checkout under /root, say) — a directory under /var/lib/dompet that `root/data`
/// links to, so the data still shows under `root`.
///
/// Data that belongs to another OS user stops dompet with a clear line rather
/// than being passed over: starting an empty cluster beside it would look to
/// a user like lost money (a run as root after runs as oneself, or back).
pub(super) fn prepare_dir(root: &Path, owner: Option<Owner>) -> Result<PathBuf, ClusterError> {
    let existed = root.exists();
    fs::create_dir_all(root).map_err(io(format!("creating {}", root.display())))?;
    let root = fs::canonicalize(root).map_err(io(format!("resolving {}", root.display())))?;
    if existed {
        check_dir_owner(&root, owner)?;
    }
    let link = root.join("data");
    let Some(owner) = owner else {
        check_data(&root, &link, nix::unistd::geteuid())?;
        return Ok(root);
    };
    let own = |path: &Path| {
        lchown(path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .map_err(io(format!("giving {} to postgres", path.display())))
    };
    // Only a directory made here is handed to postgres: DOMPET_DATA_DIR may
    // name one that belongs to someone (a home directory, /var/lib).
    if !existed {
        own(&root)?;
    }
    let elsewhere = fallback_dir(&root);
    let linked = fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink());
    if !linked && reachable_by(&root, owner) {
        check_data(&root, &link, owner.uid)?;
        return Ok(root);
    }
    if linked {
        let target = fs::read_link(&link).map_err(io(format!("reading {}", link.display())))?;
        if target != elsewhere.join("data") {
            return Err(ClusterError::ForeignData(format!(
                "{} is a symbolic link to {} that dompet did not make: remove it, or set \
                 DOMPET_DATA_DIR to another directory",
                link.display(),
                target.display()
            )));
        }
    } else if fs::symlink_metadata(&link).is_ok() {
        return Err(ClusterError::ForeignData(format!(
            "{} holds data that the postgres user cannot reach: move the checkout where \
             postgres can read it, or set DOMPET_DATA_DIR to another directory",
            link.display()
        )));
    }
    create_private_dir(&elsewhere)?;
    own(&elsewhere)?;
    check_data(&elsewhere, &elsewhere.join("data"), owner.uid)?;
    if !linked {
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

/// Where root keeps the cluster of a `root` that postgres cannot reach.
fn fallback_dir(root: &Path) -> PathBuf {
    let digest = hex::encode(&sha2::Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
    Path::new(FALLBACK_PARENT).join(format!("dompet-{digest}"))
}

/// An existing `root` must be this user's own; as root, root's or postgres's.
fn check_dir_owner(root: &Path, owner: Option<Owner>) -> Result<(), ClusterError> {
    let uid = fs::metadata(root)
        .map_err(io(format!("inspecting {}", root.display())))?
        .uid();
    let me = nix::unistd::geteuid();
    let fine = match owner {
        None => uid == me.as_raw(),
        Some(owner) => uid == me.as_raw() || uid == owner.uid.as_raw(),
    };
    if fine {
        return Ok(());
    }
    Err(ClusterError::ForeignData(format!(
        "{} belongs to the OS user {}, not to {}: dompet will not start a second, empty \
         ledger beside it; {}, or set DOMPET_DATA_DIR to another directory",
        root.display(),
        user_name(uid),
        user_name(me.as_raw()),
        run_as_hint(uid)
    )))
}

/// The cluster directory `data` under `dir`: absent (a first run), or a real
/// directory of `expected`'s. A link made by dompet running as root, seen by
/// dompet running as someone else, names its maker.
fn check_data(dir: &Path, data: &Path, expected: nix::unistd::Uid) -> Result<(), ClusterError> {
    let meta = match fs::symlink_metadata(data) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(format!("inspecting {}", data.display()))(e)),
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(data).unwrap_or_default();
        return Err(ClusterError::ForeignData(format!(
            "{} links to {}, a cluster made by dompet running as root: run dompet as root \
             again, or set DOMPET_DATA_DIR to another directory",
            data.display(),
            target.display()
        )));
    }
    if !meta.file_type().is_dir() {
        return Err(ClusterError::ForeignData(format!(
            "{} is not a directory: move it away, or set DOMPET_DATA_DIR to another directory",
            data.display()
        )));
    }
    if meta.uid() != expected.as_raw() {
        return Err(ClusterError::ForeignData(format!(
            "the cluster in {} belongs to the OS user {}, not to {}: dompet will not start a \
             second, empty ledger beside it; {}, or set DOMPET_DATA_DIR to another directory",
            dir.display(),
            user_name(meta.uid()),
            user_name(expected.as_raw()),
            run_as_hint(meta.uid())
        )));
    }
    Ok(())
}

/// What to do about data of user `uid`: run dompet as its maker.
fn run_as_hint(uid: u32) -> String {
    match nix::unistd::User::from_uid(uid.into()).ok().flatten() {
        Some(user) if user.name == "postgres" || uid == 0 => {
            "it was made by dompet running as root: run dompet as root again".to_owned()
        }
        Some(user) => format!("run dompet as {}", user.name),
        None => format!("run dompet as the user with uid {uid}"),
    }
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or_else(|| format!("uid {uid}"), |user| user.name)
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
