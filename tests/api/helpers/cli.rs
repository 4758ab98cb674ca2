//! The `dompet` binary run as a child process, for the command-line tests.

use std::process::Command;

use super::{TestApp, TestDb};

/// How a `dompet` run ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit 0, and stdout (pretty JSON) equal to `compact` once its layout
    /// whitespace is gone; key order counts.
    #[track_caller]
    pub fn assert_json(&self, compact: &str) {
        assert_eq!(
            (self.code, without_layout(&self.stdout).as_str()),
            (Some(0), compact),
            "stderr: {}",
            self.stderr
        );
    }

    /// An operator error: `code`, nothing on stdout and exactly this
    /// `error: …` line on stderr.
    #[track_caller]
    pub fn assert_error(&self, code: i32, line: &str) {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        assert!(
            self.stderr.lines().any(|l| l == line),
            "no line {line:?} in stderr:\n{}",
            self.stderr
        );
    }
}

/// JSON text with the whitespace outside strings removed.
pub fn without_layout(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Runs `dompet args…` in an empty directory (no stray .env) with only
/// PATH, `env` and — given a database — its URLs in its environment: the
/// runtime role's as `DATABASE_URL`, the owner's for migrations.
pub async fn dompet_with(db: Option<&TestDb>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(db) = db {
        env.extend(db.env().map(|(k, v)| (k.to_owned(), v)));
    }
    run_dompet(args, env).await
}

/// Runs `dompet args…` in an empty directory with only PATH and `env`.
pub async fn run_dompet(args: &[&str], env: Vec<(String, String)>) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_dompet"));
        command
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(env);
        let output = command.output().expect("run dompet");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    })
    .await
    .expect("dompet thread")
}

pub async fn dompet(app: &TestApp, args: &[&str]) -> Run {
    dompet_with(Some(&app.db), args, &[]).await
}

pub fn json_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"))
}
