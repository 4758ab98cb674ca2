//! Opening files inside the cluster's directory. When dompet runs as root
//! that directory belongs to `postgres`, who could put a symbolic link, a
//! hard link or a FIFO where dompet expects its own file and so make root
//! read, truncate or append to any file on the machine (or hang). So these
//! files are opened without following links, without blocking, and must be
//! plain files with a single name; anything else stops dompet.

use std::{
    fs::{self, File, OpenOptions},
    io::{ErrorKind, Read},
    os::unix::fs::{MetadataExt, OpenOptionsExt},
    path::Path,
};

use super::ClusterError;

/// `O_NOFOLLOW`: a symbolic link as the last component fails with ELOOP.
/// `O_NONBLOCK`: a FIFO neither blocks the open nor passes as a file.
const SAFE_FLAGS: i32 = nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK;

/// The file's text, or `None` when there is no file.
pub(super) fn read_to_string(path: &Path) -> Result<Option<String>, ClusterError> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(SAFE_FLAGS)
        .open(path)
    {
        Ok(file) => checked(file, path)?,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(path, e)),
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|source| ClusterError::Io {
            context: format!("reading {}", path.display()),
            source,
        })?;
    Ok(Some(text))
}

/// A new file that did not exist under any form (`O_EXCL`), with `mode`.
/// `Ok(None)` when something by that name appeared first.
pub(super) fn create_new(path: &Path, mode: u32) -> Result<Option<File>, ClusterError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(SAFE_FLAGS)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(refused(path, e)),
    }
}

/// The file opened for appending, created (with `mode`) if missing.
pub(super) fn open_append(path: &Path, mode: u32) -> Result<File, ClusterError> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(mode)
        .custom_flags(SAFE_FLAGS)
        .open(path)
        .map_err(|e| refused(path, e))?;
    checked(file, path)
}

/// Removes the file by that name (never what a link points at).
pub(super) fn remove(path: &Path) -> Result<(), ClusterError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ClusterError::Io {
            context: format!("removing {}", path.display()),
            source,
        }),
    }
}

/// Only a plain file with one name: a hard link to another file (root may
/// open what `postgres` may not) is as dangerous as a symbolic one.
fn checked(file: File, path: &Path) -> Result<File, ClusterError> {
    let meta = file.metadata().map_err(|source| ClusterError::Io {
        context: format!("inspecting {}", path.display()),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(unsafe_file(path, "it is not a regular file"));
    }
    if meta.nlink() > 1 {
        return Err(unsafe_file(path, "it has other hard links"));
    }
    Ok(file)
}

fn refused(path: &Path, err: std::io::Error) -> ClusterError {
    match err.raw_os_error() {
        Some(nix::libc::ELOOP) => unsafe_file(path, "it is a symbolic link"),
        // A FIFO opened for writing without a reader.
        Some(nix::libc::ENXIO) => unsafe_file(path, "it is not a regular file"),
        _ => ClusterError::Io {
            context: format!("opening {}", path.display()),
            source: err,
        },
    }
}

fn unsafe_file(path: &Path, why: &'static str) -> ClusterError {
    ClusterError::UnsafeFile {
        path: path.display().to_string(),
        why,
    }
}
