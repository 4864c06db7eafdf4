//! `triaged check-config`: loads what `run` loads — the config, the secrets
//! and TLS trust roots it names, the procedure pack with its templates, the
//! account directory and the offline challenges — and reports every
//! problem in one run, each with `file:line` and what to do, so that three
//! mistakes take one run.
//!
//! A systemd credential cannot be read from a shell (only the service gets
//! `$CREDENTIALS_DIRECTORY`): when it is missing here it is a note, not a
//! problem. A password file the caller cannot read is a problem: `run`, as
//! the same user, would refuse to start.

use std::path::Path;

use crate::config::{Config, ConfigError};
use crate::verify::accounts::{DIRECTORY_FIX, NO_DIRECTORY};
use crate::verify::{DirectoryError, VerifyError};

/// What `check-config` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// What `run` would refuse, each line `file:line: key: problem; fix`.
    pub problems: Vec<String>,
    /// Worth knowing, not a reason to refuse (a credential read only under
    /// systemd, no account directory).
    pub notes: Vec<String>,
    /// One line about the config when nothing is wrong.
    pub summary: String,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the config at `path` and everything it names.
pub async fn check(path: &Path) -> CheckReport {
    let mut report = CheckReport::default();
    let (config, problems) = match Config::load_checked(path) {
        Ok(checked) => checked,
        Err(e @ ConfigError::Read { .. }) => {
            report.problems.push(e.to_string());
            return report;
        }
        Err(ConfigError::Invalid { problems }) => (None, problems),
    };
    // The parts a later check would only report again.
    let pack_named = !problems.iter().any(|p| p.message.starts_with("procedures.pack:") || p.message.starts_with("procedures.templates:"));
    let identity_named = !problems.iter().any(|p| p.message.starts_with("identity."));
    report.problems.extend(problems.iter().map(|p| p.to_string()));
    let Some(config) = config else {
        return report;
    };
    for secret in config.unreadable_secrets() {
        if secret.credential {
            report.notes.push(format!("note: {} (not a problem if the unit loads it)", secret.problem));
        } else {
            report.problems.push(secret.problem.to_string());
        }
    }
    report.problems.extend(config.missing_files().iter().map(|p| p.to_string()));
    if pack_named && let Err(problems) = crate::classify::cli::check_pack(&config) {
        report.problems.extend(problems.iter().map(|p| p.to_string()));
    }
    if identity_named {
        match crate::verify::Verifier::new(&config).await {
            // Each problem of the accounts file on its own line, so that
            // four mistakes count as four.
            Err(VerifyError::Directory(DirectoryError::File(problems))) => {
                report.problems.extend(problems.iter().map(|p| p.to_string()))
            }
            Err(e) => report.problems.push(e.to_string()),
            // A web_ca_file that is not there is listed already.
            Ok(v) => {
                if let Some(p) = v.web_problem().map(|p| p.to_string())
                    && !report.problems.contains(&p)
                {
                    report.problems.push(p);
                }
                // A team may verify nobody; said, so that "no account has
                // the address" in every report is not a surprise.
                if !v.has_directory() {
                    report.notes.push(format!("note: identity: {NO_DIRECTORY}, so no sender can be verified: {DIRECTORY_FIX}"));
                }
            }
        }
    }
    report.summary = format!(
        "{}: ok (imap {}:{}, pack {}, {} worker thread{})",
        config.source.display(),
        config.imap.host,
        config.imap.port,
        config.procedures.pack,
        config.workers,
        if config.workers == 1 { "" } else { "s" }
    );
    report
}
