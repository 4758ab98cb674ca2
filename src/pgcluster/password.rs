//! The cluster superuser's password, kept in a 0600 file beside the data.

use std::{
    fs,
    io::Write,
    os::unix::fs::{chown, OpenOptionsExt},
    path::Path,
};

use rand::{distributions::Alphanumeric, Rng};

use super::{datadir::Owner, io, ClusterError};

pub(super) fn read_or_create_password(
    path: &Path,
    owner: Option<Owner>,
) -> Result<String, ClusterError> {
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
