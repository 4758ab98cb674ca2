//! A primary with a streaming standby, from the same server binaries: what
//! the replication and failover tests run on (SPEC §8). The pair replicates
//! synchronously (`synchronous_standby_names = '*'`, `synchronous_commit =
//! on`): a commit is acknowledged only once the standby has it on disk, so a
//! promotion loses no acknowledged money move.

use std::{path::Path, process::Stdio};

use super::{io, password::write_password, Cluster, ClusterError, Lifetime, SUPERUSER};

impl Cluster {
    /// A throwaway primary that waits for a standby at every commit.
    pub fn start_replicated_primary(root: &Path) -> Result<Self, ClusterError> {
        let mut primary = Self::prepare(root, Lifetime::Throwaway)?;
        primary.initdb()?;
        primary.settings = vec![
            "synchronous_commit=on".into(),
            "synchronous_standby_names=*".into(),
            "wal_level=replica".into(),
            "max_wal_senders=10".into(),
        ];
        primary.spawn_server()?;
        Ok(primary)
    }

    /// A throwaway hot standby of this cluster under `root`, made with
    /// `pg_basebackup -R` and streaming from it through its own slot.
    pub fn start_standby(&self, root: &Path, slot: &str) -> Result<Self, ClusterError> {
        let mut standby = Self::prepare(root, Lifetime::Throwaway)?;
        // The standby holds the primary's roles, so the primary's passwords.
        standby.password = self.password.clone();
        write_password(&standby.dir.join("password"), &self.password, self.owner)?;
        standby.runtime_password = self.runtime_password.clone();
        write_password(
            &standby.dir.join("runtime-password"),
            &self.runtime_password,
            None,
        )?;
        let conninfo = format!(
            "host=127.0.0.1 port={} user={SUPERUSER} password={} application_name={slot}",
            self.port, self.password
        );
        let output = standby
            .command("pg_basebackup")
            .arg("-D")
            .arg(&standby.pgdata)
            .args(["-R", "-X", "stream", "-C", "-S", slot, "-d", &conninfo])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(io("running pg_basebackup"))?;
        if !output.status.success() {
            return Err(ClusterError::Initdb(format!(
                "pg_basebackup: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        standby.settings = vec!["hot_standby=on".into()];
        standby.spawn_server()?;
        Ok(standby)
    }

    /// Makes this standby the primary (`pg_ctl promote`), waiting until it
    /// accepts writes.
    pub fn promote(&self) -> Result<(), ClusterError> {
        let output = self
            .command("pg_ctl")
            .args(["promote", "-w", "-t", "30", "-D"])
            .arg(&self.pgdata)
            .output()
            .map_err(io("running pg_ctl promote"))?;
        if !output.status.success() {
            return Err(ClusterError::Start {
                log: "pg_ctl promote".into(),
                tail: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(())
    }

    /// Stops the server (fast shutdown) but keeps its files, so that
    /// `restart` brings it back on the same port.
    pub fn pause_server(&mut self) {
        self.stop_server();
    }

    pub fn restart(&mut self) -> Result<(), ClusterError> {
        self.spawn_server()
    }
}
