//! Choosing and preparing the directory a cluster lives in, and who owns it.

use std::{
    fs,
    os::unix::{fs::chown, process::CommandExt},
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
pub(super) fn prepare_dir(root: &Path, owner: Option<Owner>) -> Result<PathBuf, ClusterError> {
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
