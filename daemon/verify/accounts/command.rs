//! An external lookup program: `argv... ADDRESS` prints one account as JSON,
//! or nothing / `null` when the address is unknown. It is killed when it
//! runs past its timeout. Its answer is checked like the file's, and must
//! list the address asked about: a helper that answers for the wrong
//! account must not hand out an identity.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::{Account, DirectoryError, RawAccount};

/// Enough for a handful of keys; more is a misbehaving helper.
const MAX_OUTPUT: u64 = 1024 * 1024;

pub struct CommandDirectory {
    argv: Vec<String>,
    timeout: Duration,
}

impl CommandDirectory {
    pub fn new(argv: Vec<String>, timeout: Duration) -> CommandDirectory {
        CommandDirectory { argv, timeout }
    }

    fn error(&self, problem: impl Into<String>, temporary: bool) -> DirectoryError {
        DirectoryError::Command {
            program: self.argv.first().cloned().unwrap_or_default(),
            problem: problem.into(),
            temporary,
        }
    }

    pub async fn lookup(&self, address: &str) -> Result<Option<Account>, DirectoryError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(self.error("no program configured", false));
        };
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .arg(address)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                self.error(
                    format!("cannot start it: {e} (check identity.accounts_command)"),
                    false,
                )
            })?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let run = async {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let mut stdout = (&mut stdout).take(MAX_OUTPUT);
            let mut stderr = (&mut stderr).take(MAX_OUTPUT);
            let (r1, r2, status) = tokio::join!(
                stdout.read_to_end(&mut out),
                stderr.read_to_end(&mut err),
                child.wait()
            );
            r1.and(r2)?;
            Ok::<_, std::io::Error>((status?, out, err))
        };
        let (status, out, err) = match tokio::time::timeout(self.timeout, run).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(self.error(format!("reading its output failed: {e}"), true)),
            // Dropping the future drops the child, and kill_on_drop kills it.
            Err(_) => {
                return Err(self.error(
                    format!(
                        "no answer within {}s; it was killed",
                        self.timeout.as_secs_f32()
                    ),
                    true,
                ));
            }
        };
        if !status.success() {
            let stderr = String::from_utf8_lossy(&err);
            return Err(self.error(
                format!(
                    "exited with {status}: {}",
                    crate::message::sanitize_line(&stderr)
                ),
                true,
            ));
        }
        let text = String::from_utf8_lossy(&out);
        let text = text.trim();
        if text.is_empty() || text == "null" {
            return Ok(None);
        }
        let raw: RawAccount = serde_json::from_str(text).map_err(|e| {
            self.error(
                format!("printed something that is not one account as JSON: {e}"),
                false,
            )
        })?;
        let account = raw.validate().map_err(|problems| {
            let said: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            self.error(said.join("; "), false)
        })?;
        if !account.has_address(address) {
            return Err(self.error(
                format!(
                    "answered {address} with account {:?}, which does not list that address",
                    account.username
                ),
                false,
            ));
        }
        Ok(Some(account))
    }
}
