//! The account directory: who owns which address, keys, domains, 2FA and
//! billing digits. Looked up by the sender's From address only; a display
//! name, a key's user ID or anything else the sender wrote never selects an
//! account. Backends: the TOML file, an external command printing JSON, and
//! sourcehut's public key endpoints (which only add keys to an account one of
//! the other two found).

mod command;
mod file;
mod sourcehut;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use command::CommandDirectory;
pub use file::AccountFile;
pub(crate) use file::line_of;
pub use sourcehut::SourcehutKeys;

/// One account as the directory knows it.
/// Already validated; read raw input through the file or command backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub emails: Vec<String>,
    pub two_factor: bool,
    pub pgp_keys: Vec<String>,
    pub ssh_keys: Vec<String>,
    pub domains: Vec<String>,
    pub billing_last4: Option<String>,
}

/// The account as written in the TOML file or printed by the command:
/// `email = "..."` and/or `emails = [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccount {
    pub username: String,
    pub email: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    /// Missing: not known, which counts as enabled (fail safe).
    #[serde(default)]
    pub two_factor: Option<bool>,
    #[serde(default)]
    pub pgp_keys: Vec<String>,
    #[serde(default)]
    pub ssh_keys: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    pub billing_last4: Option<String>,
}

impl RawAccount {
    /// Checks what a lookup relies on; the message says what to fix.
    pub(crate) fn validate(self) -> Result<Account, String> {
        if self.username.trim().is_empty() {
            return Err("username must not be empty".into());
        }
        let mut emails: Vec<String> = self.email.into_iter().chain(self.emails).collect();
        if emails.is_empty() {
            return Err(format!(
                "account {:?} has no address: add email = \"user@example.org\" (or emails = [...])",
                self.username
            ));
        }
        for e in &mut emails {
            *e = normalize_address(e).ok_or_else(|| {
                format!(
                    "account {:?}: {e:?} is not a mail address (local@domain)",
                    self.username
                )
            })?;
        }
        emails.dedup();
        if let Some(d) = &self.billing_last4
            && !(d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "account {:?}: billing_last4 must be exactly four digits, e.g. \"4242\"",
                self.username
            ));
        }
        let mut domains = Vec::with_capacity(self.domains.len());
        for d in self.domains {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if d.is_empty() || !d.contains('.') || d.contains(['/', ':', '@', ' ']) {
                return Err(format!(
                    "account {:?}: {d:?} is not a domain name; write \"example.org\"",
                    self.username
                ));
            }
            domains.push(d);
        }
        Ok(Account {
            username: self.username,
            emails,
            // A directory that does not say is treated as "has 2FA":
            // asking for a second factor is an inconvenience, skipping it
            // is a takeover.
            two_factor: self.two_factor.unwrap_or(true),
            pgp_keys: self.pgp_keys,
            ssh_keys: self.ssh_keys,
            domains,
            billing_last4: self.billing_last4,
        })
    }
}

impl Account {
    /// Whether `address` is one of this account's addresses: the local part
    /// compared exactly, the domain without regard to case (RFC 5321 sec 2.4).
    pub fn has_address(&self, address: &str) -> bool {
        normalize_address(address).is_some_and(|a| self.emails.contains(&a))
    }
}

/// `Local@Example.ORG` → `Local@example.org`; `None` when it is not
/// `local@domain`.
pub fn normalize_address(address: &str) -> Option<String> {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains(char::is_whitespace) {
        return None;
    }
    Some(format!(
        "{local}@{}",
        domain.trim_end_matches('.').to_lowercase()
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    File(String),
    #[error("account command {program:?}: {problem}")]
    Command {
        program: String,
        problem: String,
        temporary: bool,
    },
    #[error("sourcehut base URL {0:?} must be https:// (http:// only for a loopback host)")]
    InsecureSourcehut(String),
    #[error("cannot build the HTTP client for sourcehut keys: {0}")]
    Http(String),
}

impl DirectoryError {
    /// Worth retrying later (a slow or crashed helper), as opposed to a
    /// configuration the operator must fix.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            DirectoryError::Command {
                temporary: true,
                ..
            }
        )
    }
}

/// The result of a lookup: the account, if any, and what went wrong on the
/// way that staff should know about (keys that could not be fetched).
#[derive(Debug, Default)]
pub struct Lookup {
    pub account: Option<Account>,
    /// Keys from sourcehut could not be fetched; PGP/SSH results that did
    /// not pass may change once they can.
    pub keys_unavailable: Option<String>,
}

/// All configured backends, asked in order: file, then command; sourcehut
/// adds keys to what they found.
pub struct Directory {
    file: Option<AccountFile>,
    command: Option<CommandDirectory>,
    sourcehut: Option<SourcehutKeys>,
}

/// How long sourcehut keys are reused before they are fetched again.
pub const SOURCEHUT_CACHE_TTL: Duration = Duration::from_secs(600);

/// Why no sender has an account when neither the file nor the command is
/// configured (sourcehut only adds keys to an account they found): said
/// instead of "no account has the address", which would hide the cause.
pub const NO_DIRECTORY: &str = "no account directory is configured";
/// What to do about [`NO_DIRECTORY`], where there is room to say it.
pub const DIRECTORY_FIX: &str =
    "set [identity] accounts = \"/etc/triaged/accounts.toml\" (or accounts_command); docs/ACCOUNTS.md describes the file";

impl Directory {
    pub fn new(
        file: Option<PathBuf>,
        command: Option<(Vec<String>, Duration)>,
        sourcehut: Option<(String, Duration)>,
    ) -> Result<Directory, DirectoryError> {
        Ok(Directory {
            file: file.map(AccountFile::load).transpose()?,
            command: command.map(|(argv, timeout)| CommandDirectory::new(argv, timeout)),
            sourcehut: sourcehut
                .map(|(base, ttl)| SourcehutKeys::new(&base, ttl))
                .transpose()?,
        })
    }

    pub fn from_config(
        identity: &crate::config::IdentityConfig,
    ) -> Result<Directory, DirectoryError> {
        Directory::new(
            identity.accounts.clone(),
            identity
                .accounts_command
                .clone()
                .map(|argv| (argv, identity.accounts_command_timeout)),
            identity
                .sourcehut_base
                .clone()
                .map(|base| (base, SOURCEHUT_CACHE_TTL)),
        )
    }

    /// Whether a backend that finds accounts (the file or the command) is
    /// configured; without one no sender ever has an account.
    pub fn configured(&self) -> bool {
        self.file.is_some() || self.command.is_some()
    }

    /// Whether an account owns `address`, asking the file and the command
    /// but fetching no keys: classification only needs to know whether
    /// the sender is one of the people the team serves.
    pub async fn has_account(&self, address: &str) -> Result<bool, DirectoryError> {
        if let Some(f) = &self.file
            && f.lookup(address)?.is_some()
        {
            return Ok(true);
        }
        match &self.command {
            Some(c) => Ok(c.lookup(address).await?.is_some()),
            None => Ok(false),
        }
    }

    /// The account owning `address`, with sourcehut keys added.
    pub async fn lookup(&self, address: &str) -> Result<Lookup, DirectoryError> {
        let mut account = match &self.file {
            Some(f) => f.lookup(address)?,
            None => None,
        };
        if account.is_none()
            && let Some(c) = &self.command
        {
            account = c.lookup(address).await?;
        }
        let mut lookup = Lookup {
            account,
            keys_unavailable: None,
        };
        if let (Some(account), Some(sh)) = (&mut lookup.account, &self.sourcehut) {
            match sh.keys(&account.username).await {
                Ok(keys) => {
                    extend_unique(&mut account.ssh_keys, keys.ssh);
                    extend_unique(&mut account.pgp_keys, keys.pgp);
                }
                Err(e) => lookup.keys_unavailable = Some(e),
            }
        }
        Ok(lookup)
    }
}

fn extend_unique(into: &mut Vec<String>, more: Vec<String>) {
    for k in more {
        if !into.iter().any(|have| have.trim() == k.trim()) {
            into.push(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(email: &str) -> RawAccount {
        RawAccount {
            username: "alice".into(),
            email: Some(email.into()),
            emails: vec![],
            two_factor: Some(false),
            pgp_keys: vec![],
            ssh_keys: vec![],
            domains: vec![],
            billing_last4: None,
        }
    }

    #[test]
    fn domain_is_case_insensitive_local_part_is_exact() {
        let a = raw("Alice@Example.ORG").validate().unwrap();
        assert!(a.has_address("Alice@example.org"));
        assert!(a.has_address("Alice@EXAMPLE.org"));
        assert!(!a.has_address("alice@example.org"));
        assert!(!a.has_address("Alice@example.org.evil.test"));
    }

    #[test]
    fn bad_fields_are_refused_with_a_reason() {
        assert!(
            raw("not-an-address")
                .validate()
                .unwrap_err()
                .contains("not a mail address")
        );
        let mut r = raw("a@x.org");
        r.billing_last4 = Some("42".into());
        assert!(r.validate().unwrap_err().contains("four digits"));
        let mut r = raw("a@x.org");
        r.domains = vec!["https://x.org/".into()];
        assert!(r.validate().unwrap_err().contains("not a domain"));
        let mut r = raw("a@x.org");
        r.email = None;
        assert!(r.validate().unwrap_err().contains("no address"));
    }
}
