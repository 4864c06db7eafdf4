//! The accounts TOML file (`[[account]]` tables, DESIGN.md). Loaded whole and
//! validated at start; re-read when its modification time changes, keeping
//! the previous contents if the new version is broken, so a typo made while
//! editing never empties the directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Deserialize;

use super::{Account, DirectoryError, Field, RawAccount, normalize_address};
use crate::locate::{Locator, Problem, Seg};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    account: Vec<RawAccount>,
}

struct Loaded {
    modified: Option<SystemTime>,
    /// Normalised address → index into `accounts`.
    by_address: HashMap<String, usize>,
    accounts: Vec<Account>,
}

pub struct AccountFile {
    path: PathBuf,
    loaded: Mutex<Loaded>,
}

impl AccountFile {
    pub fn load(path: PathBuf) -> Result<AccountFile, DirectoryError> {
        let loaded = read(&path)?;
        Ok(AccountFile {
            path,
            loaded: Mutex::new(loaded),
        })
    }

    pub fn lookup(&self, address: &str) -> Result<Option<Account>, DirectoryError> {
        let Some(address) = normalize_address(address) else {
            return Ok(None);
        };
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified != loaded.modified {
            match read(&self.path) {
                Ok(fresh) => *loaded = fresh,
                Err(e) => {
                    tracing::error!("{e}; still using the accounts loaded before");
                    loaded.modified = modified;
                }
            }
        }
        Ok(loaded
            .by_address
            .get(&address)
            .map(|&i| loaded.accounts[i].clone()))
    }
}

fn read(path: &Path) -> Result<Loaded, DirectoryError> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read_to_string(path).map_err(|e| {
        DirectoryError::File(vec![Problem {
            file: path.to_path_buf(),
            line: None,
            message: format!(
                "cannot read the accounts file: {e} (fix identity.accounts in the config)"
            ),
        }])
    })?;
    parse(&text, path).map(|(accounts, by_address)| Loaded {
        modified,
        by_address,
        accounts,
    })
}

type Parsed = (Vec<Account>, HashMap<String, usize>);

/// Every problem at once, each at the line of the key it is about.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Parsed, DirectoryError> {
    let locator = Locator::new(text, path);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        DirectoryError::File(vec![Problem {
            file: path.to_path_buf(),
            line: Some(
                e.span()
                    .map(|s| locator.line_of_offset(s.start))
                    .unwrap_or(1),
            ),
            message: e.message().trim().to_string(),
        }])
    })?;
    let line = |i: usize, field: Field| {
        let mut at = vec![Seg::Key("account"), Seg::Index(i), Seg::Key(field.key)];
        at.extend(field.index.map(Seg::Index));
        locator.line_of(&at)
    };
    let mut problems = Vec::new();
    let mut problem = |line: Option<usize>, message: String| {
        problems.push(Problem {
            file: path.to_path_buf(),
            line,
            message,
        })
    };
    let mut accounts = Vec::new();
    let mut by_address = HashMap::new();
    // Username and address → the line that first claimed it. Checked on
    // accounts with other problems too, so one run lists them all.
    let mut usernames: HashMap<&str, Option<usize>> = HashMap::new();
    let mut owners: HashMap<String, usize> = HashMap::new();
    let raw_accounts = &raw.account;
    for (i, raw) in raw_accounts.iter().enumerate() {
        let username_line = line(i, Field::key("username"));
        if !raw.username.trim().is_empty()
            && let Some(&first) = usernames.get(raw.username.as_str())
        {
            let first = first.map(|l| format!(" on line {l}")).unwrap_or_default();
            problem(
                username_line,
                format!(
                    "username {:?} is already used{first}; give each account its own username",
                    raw.username
                ),
            );
        } else {
            usernames.insert(&raw.username, username_line);
        }
        for (field, email) in raw.addresses() {
            let Some(email) = normalize_address(email) else {
                continue;
            };
            // One address, one owner: an address on two accounts would let
            // whichever comes first answer for both.
            match owners.get(&email) {
                Some(&other) if other != i => problem(
                    line(i, field),
                    format!(
                        "{email} already belongs to account {:?}; list it on one account only",
                        raw_accounts[other].username
                    ),
                ),
                Some(_) => {}
                None => {
                    owners.insert(email, i);
                }
            }
        }
        match raw.validate() {
            Ok(account) => {
                for email in &account.emails {
                    by_address.entry(email.clone()).or_insert(accounts.len());
                }
                accounts.push(account);
            }
            Err(found) => {
                for p in found {
                    problem(line(i, p.field), p.message);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((accounts, by_address))
    } else {
        Err(DirectoryError::File(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Parsed, String> {
        parse(text, Path::new("accounts.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_design_format() {
        let (accounts, by) = parse_str(
            "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = true\nssh_keys = [\"ssh-ed25519 AAAA alice\"]\ndomains = [\"Example.org\"]\nbilling_last4 = \"4242\"\n\n[[account]]\nusername = \"bob\"\nemails = [\"bob@x.org\", \"Bob@Y.org\"]\n",
        )
        .unwrap();
        assert_eq!(accounts.len(), 2);
        assert!(accounts[0].two_factor);
        assert_eq!(accounts[0].domains, vec!["example.org"]);
        assert_eq!(by["Bob@y.org"], 1);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_str("[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\n\n[[account]]\nusername = \"bob\"\nemail = \"bob\"\n")
            .unwrap_err();
        assert!(err.starts_with("accounts.toml:7: "), "{err}");
        assert!(err.contains("not a mail address"), "{err}");

        // No address key to point at: the account's own line.
        let err = parse_str("[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\n\n[[account]]\nusername = \"bob\"\n")
            .unwrap_err();
        assert!(
            err.starts_with("accounts.toml:5: account \"bob\" has no address"),
            "{err}"
        );

        let err =
            parse_str("[[account]]\nusername = \"alice\"\nemial = \"a@x.org\"\n").unwrap_err();
        assert!(err.starts_with("accounts.toml:3: "), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }

    /// The review's file: four mistakes, four problems, each at the line
    /// of the key that is wrong rather than at `[[account]]`.
    #[test]
    fn every_problem_is_reported_at_its_key() {
        let text = "\
[[account]]
username = \"alice\"
email = \"alice@example.org\"

[[account]]
username = \"alice\"
emails = [
  \"alice2@example.org\",
  \"not-an-address\",
]
domains = [\"example.org\", \"https://bad.example/\"]
billing_last4 = \"42\"
";
        let Err(DirectoryError::File(problems)) = parse(text, Path::new("accounts.toml")) else {
            panic!("the file has four problems");
        };
        let found: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(found.len(), 4, "{found:#?}");
        let at = |line: usize, says: &str| {
            assert!(
                found
                    .iter()
                    .any(|p| p.starts_with(&format!("accounts.toml:{line}: ")) && p.contains(says)),
                "line {line}: {says}: {found:#?}"
            )
        };
        at(6, "username \"alice\" is already used on line 2");
        at(9, "\"not-an-address\" is not a mail address; write");
        at(
            11,
            "\"https://bad.example/\" is not a domain name; write \"example.org\"",
        );
        at(
            12,
            "billing_last4 must be exactly four digits, e.g. \"4242\"",
        );
    }

    #[test]
    fn an_address_on_two_accounts_is_refused() {
        let err = parse_str("[[account]]\nusername = \"a\"\nemail = \"x@x.org\"\n[[account]]\nusername = \"b\"\nemail = \"x@X.org\"\n")
            .unwrap_err();
        assert!(
            err.contains("accounts.toml:6: x@x.org already belongs to account \"a\""),
            "{err}"
        );
    }
}
