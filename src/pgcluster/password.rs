//! The passwords of the cluster's two login roles, each kept in a 0600 file
//! beside the data: `password` (the superuser, which owns the schema and
//! migrates) and `runtime-password` (the runtime role the server uses).

use std::{io::Write, os::unix::fs::fchown, path::Path};

use rand::{distributions::Alphanumeric, Rng};

use super::{datadir::Owner, files, io, ClusterError};

/// The password in `path`, or a new random one written there (and given to
/// `owner`, for the files `postgres` itself must read).
pub(super) fn read_or_create_password(
    path: &Path,
    owner: Option<Owner>,
) -> Result<String, ClusterError> {
    // Twice at most: another dompet may create the file between our look
    // and our create.
    for _ in 0..2 {
        match files::read_to_string(path)? {
            Some(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_owned()),
            // An interrupted first run; start over.
            Some(_) => files::remove(path)?,
            None => {}
        }
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        // Created 0600 from the start: never readable by others, even briefly.
        let Some(mut file) = files::create_new(path, 0o600)? else {
            continue;
        };
        file.write_all(password.as_bytes())
            .map_err(io(format!("writing {}", path.display())))?;
        if let Some(owner) = owner {
            // The open file, not the name: the name may point elsewhere by now.
            fchown(&file, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
                .map_err(io(format!("giving {} to postgres", path.display())))?;
        }
        return Ok(password);
    }
    Err(ClusterError::Io {
        context: format!("creating {}", path.display()),
        source: std::io::ErrorKind::AlreadyExists.into(),
    })
}

/// Replaces the password in `path` with `password` (a standby takes its
/// primary's), under the same care as a new one.
pub(super) fn write_password(
    path: &Path,
    password: &str,
    owner: Option<Owner>,
) -> Result<(), ClusterError> {
    files::remove(path)?;
    let mut file = files::create_new(path, 0o600)?.ok_or_else(|| ClusterError::Io {
        context: format!("creating {}", path.display()),
        source: std::io::ErrorKind::AlreadyExists.into(),
    })?;
    file.write_all(password.as_bytes())
        .map_err(io(format!("writing {}", path.display())))?;
    if let Some(owner) = owner {
        fchown(&file, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .map_err(io(format!("giving {} to postgres", path.display())))?;
    }
    Ok(())
}
