//! sourcehut's public key endpoints: `<base>/~user.keys` (SSH keys, one per
//! line) and `<base>/~user.pgp` (armored PGP keys). They only add keys to an
//! account the file or the command found, for that account's username; they
//! never decide who owns an address. Cached in memory for a while, since
//! every message from the user would otherwise fetch them again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::DirectoryError;

#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub ssh: Vec<String>,
    pub pgp: Vec<String>,
}

pub struct SourcehutKeys {
    base: String,
    client: reqwest::Client,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Keys)>>,
}

/// A sourcehut username: what `~user` may hold without changing the URL.
fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && !u.starts_with('.')
}

impl SourcehutKeys {
    pub fn new(base: &str, ttl: Duration) -> Result<SourcehutKeys, DirectoryError> {
        let base = base.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&base)
            .map_err(|_| DirectoryError::InsecureSourcehut(base.clone()))?;
        let loopback = url.host_str().is_some_and(crate::config::is_loopback);
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(DirectoryError::InsecureSourcehut(base));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DirectoryError::Http(e.to_string()))?;
        Ok(SourcehutKeys {
            base,
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The user's published keys; an error says what could not be fetched.
    pub async fn keys(&self, username: &str) -> Result<Keys, String> {
        if !valid_username(username) {
            return Err(format!(
                "{username:?} is not a sourcehut username; no keys fetched"
            ));
        }
        if let Some((at, keys)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(username)
            && at.elapsed() < self.ttl
        {
            return Ok(keys.clone());
        }
        let ssh = self.fetch(username, "keys").await?;
        let pgp = self.fetch(username, "pgp").await?;
        let keys = Keys {
            ssh: ssh
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect(),
            pgp: split_armored(&pgp),
        };
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(username.to_string(), (Instant::now(), keys.clone()));
        Ok(keys)
    }

    async fn fetch(&self, username: &str, what: &str) -> Result<String, String> {
        let url = format!("{}/~{username}.{what}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        // No such user there: no keys, not an outage.
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(String::new());
        }
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        response
            .text()
            .await
            .map_err(|e| format!("cannot read {url}: {e}"))
    }
}

/// One string per `BEGIN PGP PUBLIC KEY BLOCK` … `END` block.
fn split_armored(text: &str) -> Vec<String> {
    const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        keys.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_concatenated_keys() {
        let t = "-----BEGIN PGP PUBLIC KEY BLOCK-----\na\n-----END PGP PUBLIC KEY BLOCK-----\n\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nb\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let keys = split_armored(t);
        assert_eq!(keys.len(), 2);
        assert!(keys[1].contains("\nb\n"));
    }

    #[test]
    fn only_https_or_loopback_http() {
        assert!(SourcehutKeys::new("https://meta.sr.ht", Duration::ZERO).is_ok());
        assert!(SourcehutKeys::new("http://127.0.0.1:8080/", Duration::ZERO).is_ok());
        assert!(SourcehutKeys::new("http://meta.sr.ht", Duration::ZERO).is_err());
        assert!(!valid_username("../admin"));
        assert!(valid_username("alice"));
    }
}
