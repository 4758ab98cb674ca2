//! Finding the machine's PostgreSQL server binaries.

use std::{
    fs,
    path::{Path, PathBuf},
};

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
