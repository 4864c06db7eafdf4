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

use crate::locate::Problem;

pub use command::CommandDirectory;
pub use file::AccountFile;
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

/// Which key of an account a problem is about: `emails[1]` is
/// `Field { key: "emails", index: Some(1) }`, so the file can point at its
/// line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub key: &'static str,
    pub index: Option<usize>,
}

impl Field {
    fn key(key: &'static str) -> Field {
        Field { key, index: None }
    }

    fn item(key: &'static str, index: usize) -> Field {
        Field {
            key,
            index: Some(index),
        }
    }
}

/// One thing wrong with an account, at the key it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountProblem {
    pub field: Field,
    pub message: String,
}

impl RawAccount {
    /// Each address as written, with the key it was written under.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = (Field, &str)> {
        let single = self.email.iter().map(|e| (Field::key("email"), e.as_str()));
        let listed = self.emails.iter().enumerate();
        let listed = listed.map(|(i, e)| (Field::item("emails", i), e.as_str()));
        single.chain(listed)
    }

    /// Checks what a lookup relies on and reports every problem, each at its
    /// key and saying what to write instead.
    pub(crate) fn validate(&self) -> Result<Account, Vec<AccountProblem>> {
        let mut problems = Vec::new();
        let mut problem =
            |field: Field, message: String| problems.push(AccountProblem { field, message });
        if self.username.trim().is_empty() {
            problem(
                Field::key("username"),
                "username must not be empty; write username = \"alice\"".into(),
            );
        }
        if self.email.is_none() && self.emails.is_empty() {
            // No key to point at: the line falls back to the account's.
            problem(
                Field::key("email"),
                format!(
                    "account {:?} has no address: add email = \"user@example.org\" (or emails = [...])",
                    self.username
                ),
            );
        }
        let mut emails = Vec::new();
        for (field, e) in self.addresses() {
            match normalize_address(e) {
                Some(e) => emails.push(e),
                None => problem(
                    field,
                    format!(
                        "account {:?}: {e:?} is not a mail address; write local@domain, e.g. \"user@example.org\"",
                        self.username
                    ),
                ),
            }
        }
        emails.dedup();
        if let Some(d) = &self.billing_last4
            && !(d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()))
        {
            problem(
                Field::key("billing_last4"),
                format!(
                    "account {:?}: billing_last4 must be exactly four digits, e.g. \"4242\"",
                    self.username
                ),
            );
        }
        let mut domains = Vec::with_capacity(self.domains.len());
        for (i, d) in self.domains.iter().enumerate() {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if d.is_empty() || !d.contains('.') || d.contains(['/', ':', '@', ' ']) {
                problem(
                    Field::item("domains", i),
                    format!(
                        "account {:?}: {d:?} is not a domain name; write \"example.org\"",
                        self.username
                    ),
                );
            }
            domains.push(d);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Account {
            username: self.username.clone(),
            emails,
            // A directory that does not say is treated as "has 2FA":
            // asking for a second factor is an inconvenience, skipping it
            // is a takeover.
            two_factor: self.two_factor.unwrap_or(true),
            pgp_keys: self.pgp_keys.clone(),
            ssh_keys: self.ssh_keys.clone(),
            domains,
            billing_last4: self.billing_last4.clone(),
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
    /// Every problem of the accounts file, each at its line.
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    File(Vec<Problem>),
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

    fn problems(r: &RawAccount) -> Vec<(Field, String)> {
        r.validate()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    }

    #[test]
    fn bad_fields_are_refused_with_a_reason() {
        let p = problems(&raw("not-an-address"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, Field::key("email"));
        assert!(p[0].1.contains("not a mail address"), "{p:?}");
        let mut r = raw("a@x.org");
        r.billing_last4 = Some("42".into());
        assert!(problems(&r)[0].1.contains("four digits"));
        let mut r = raw("a@x.org");
        r.domains = vec!["https://x.org/".into()];
        assert!(problems(&r)[0].1.contains("not a domain"));
        let mut r = raw("a@x.org");
        r.email = None;
        assert!(problems(&r)[0].1.contains("no address"));
    }

    #[test]
    fn every_problem_of_an_account_is_reported_at_its_key() {
        let mut r = raw("alice@example.org");
        r.emails = vec!["ok@example.org".into(), "not-an-address".into()];
        r.domains = vec!["example.org".into(), "https://x.org/".into()];
        r.billing_last4 = Some("42".into());
        let fields: Vec<Field> = problems(&r).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec![
                Field::item("emails", 1),
                Field::key("billing_last4"),
                Field::item("domains", 1)
            ]
        );
    }
}
