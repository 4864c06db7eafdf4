//! The accounts TOML file (`[[account]]` tables, DESIGN.md). Loaded whole and
//! validated at start; re-read when its modification time changes, keeping
//! the previous contents if the new version is broken, so a typo made while
//! editing never empties the directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Deserialize;

use super::{Account, DirectoryError, RawAccount, normalize_address};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    account: Vec<toml::Spanned<RawAccount>>,
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
        DirectoryError::File(format!(
            "{}: cannot read the accounts file: {e} (fix identity.accounts in the config)",
            path.display()
        ))
    })?;
    parse(&text, path).map(|(accounts, by_address)| Loaded {
        modified,
        by_address,
        accounts,
    })
}

/// 1-based line of a byte offset (counted on bytes: an offset inside a
/// multi-byte character must not panic).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

type Parsed = (Vec<Account>, HashMap<String, usize>);

/// Every problem at once, each as `file:line: what to do`.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Parsed, DirectoryError> {
    let at =
        |offset: usize, msg: &str| format!("{}:{}: {msg}", path.display(), line_of(text, offset));
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        DirectoryError::File(at(offset, e.message().trim()))
    })?;
    let mut problems = Vec::new();
    let mut accounts = Vec::new();
    let mut by_address = HashMap::new();
    let mut usernames: HashMap<String, usize> = HashMap::new();
    for spanned in raw.account {
        let start = spanned.span().start;
        let account = match spanned.into_inner().validate() {
            Ok(a) => a,
            Err(msg) => {
                problems.push(at(start, &msg));
                continue;
            }
        };
        if let Some(line) = usernames.insert(account.username.clone(), line_of(text, start)) {
            problems.push(at(
                start,
                &format!(
                    "username {:?} is already used on line {line}",
                    account.username
                ),
            ));
            continue;
        }
        for email in &account.emails {
            // One address, one owner: an address on two accounts would let
            // whichever comes first answer for both.
            if let Some(&other) = by_address.get(email) {
                let other: &Account = &accounts[other];
                problems.push(at(
                    start,
                    &format!("{email} already belongs to account {:?}", other.username),
                ));
            }
        }
        for email in &account.emails {
            by_address.entry(email.clone()).or_insert(accounts.len());
        }
        accounts.push(account);
    }
    if problems.is_empty() {
        Ok((accounts, by_address))
    } else {
        Err(DirectoryError::File(problems.join("\n")))
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
        assert!(err.starts_with("accounts.toml:5: "), "{err}");
        assert!(err.contains("not a mail address"), "{err}");

        let err =
            parse_str("[[account]]\nusername = \"alice\"\nemial = \"a@x.org\"\n").unwrap_err();
        assert!(err.starts_with("accounts.toml:3: "), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn an_address_on_two_accounts_is_refused() {
        let err = parse_str("[[account]]\nusername = \"a\"\nemail = \"x@x.org\"\n[[account]]\nusername = \"b\"\nemail = \"x@X.org\"\n")
            .unwrap_err();
        assert!(
            err.contains("accounts.toml:4: x@x.org already belongs to account \"a\""),
            "{err}"
        );
    }
}
