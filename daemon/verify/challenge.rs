//! Challenges: a random token issued per ticket, which the user proves
//! control of a key or domain with — by signing the SSH text, publishing a
//! DNS TXT record, or publishing a file over HTTPS.
//!
//! DNS: `TXT _triaged-challenge.<domain>` must hold exactly
//! `triaged-challenge=<token>` (the record's strings are joined first, as a
//! long value may be split). Web: `https://<domain>/<web_path>` must answer
//! 200 with the token in the first 4 KiB. Plain HTTP is never spoken, and a
//! redirect is only followed to HTTPS on the same host. A lookup or fetch that
//! could not complete is `none (temporary)`, never `fail`.

use std::time::Duration;

use futures::future::join_all;
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::Factor;
use super::factor::{Evidence, combine};

/// Relative DNS label under which the TXT record is published.
pub const DNS_LABEL: &str = "_triaged-challenge";
/// Prefix of the TXT value: `triaged-challenge=<token>`.
pub const TXT_PREFIX: &str = "triaged-challenge=";
/// What the draft tells the user to run, with `ssh_text` saved as
/// `challenge.txt` (byte for byte, final newline included); it writes
/// `challenge.txt.sig`, to be attached or pasted into the reply.
pub const SSH_SIGN_COMMAND: &str = "ssh-keygen -Y sign -n file -f ~/.ssh/<key> challenge.txt";
/// Random bytes per token (160 bits).
const TOKEN_BYTES: usize = 20;
/// At most this much of the web file is read.
const WEB_BODY_LIMIT: usize = 4096;
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(20);
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Challenge {
    /// Lowercase hex, 160 bits from the OS random source.
    pub token: String,
    /// The exact text to sign with `ssh-keygen -Y sign -n file`.
    pub ssh_text: String,
    /// Relative label, e.g. `_triaged-challenge`.
    pub dns_name: String,
    /// Path on the account's domain, without a leading `/`.
    pub web_path: String,
}

impl Challenge {
    /// The TXT value the user must publish.
    pub fn txt_value(&self) -> String {
        format!("{TXT_PREFIX}{}", self.token)
    }

    /// The fully qualified record name for one domain.
    pub fn txt_name(&self, domain: &str) -> String {
        format!("{}.{}", self.dns_name, domain.trim_end_matches('.'))
    }

    /// Where the web token must be published for one domain.
    pub fn web_url(&self, domain: &str) -> String {
        format!(
            "https://{}/{}",
            domain.trim_end_matches('.'),
            self.web_path.trim_start_matches('/')
        )
    }
}

/// A new challenge for `ticket`, to be stored with the ticket and put into
/// the draft's instructions.
pub fn issue(ticket: u64, account: &str, web_path: &str) -> Challenge {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let account = crate::message::sanitize_line(account);
    Challenge {
        ssh_text: format!("triaged identity challenge for {account}, ticket #{ticket}: {token}\n"),
        token,
        dns_name: DNS_LABEL.to_string(),
        web_path: web_path.trim_start_matches('/').to_string(),
    }
}

/// A hostname safe to put into a DNS query or URL: letters, digits, `-`,
/// `_`, dots between non-empty labels.
fn valid_domain(domain: &str) -> bool {
    let d = domain.trim_end_matches('.');
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn valid_web_path(path: &str) -> bool {
    !path.is_empty()
        && !path.split('/').any(|s| s == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~/-".contains(&b))
}

/// Look up `TXT <dns_name>.<domain>` for each of the account's domains.
pub async fn check_dns(
    resolver: &TokioResolver,
    domains: &[String],
    challenge: Option<&Challenge>,
) -> Factor {
    let challenge = match wanted("DNS", domains, challenge) {
        Ok(c) => c,
        Err(none) => return none,
    };
    combine(join_all(domains.iter().map(|d| probe_dns(resolver, d, challenge))).await, "the account lists no domain")
}

/// The challenge to check, or `none` when nothing was issued or the account
/// has no domain.
fn wanted<'c>(
    what: &str,
    domains: &[String],
    challenge: Option<&'c Challenge>,
) -> Result<&'c Challenge, Factor> {
    match challenge {
        None => Err(Factor::none(format!("no {what} challenge issued"))),
        Some(_) if domains.is_empty() => Err(Factor::none("the account has no domain on file")),
        Some(c) => Ok(c),
    }
}

async fn probe_dns(resolver: &TokioResolver, domain: &str, challenge: &Challenge) -> Evidence {
    if !valid_domain(domain) || !valid_domain(&challenge.dns_name) {
        return Evidence::None(format!("{domain:?} is not a valid domain name"));
    }
    let name = challenge.txt_name(domain);
    let fqdn = format!("{name}.");
    let lookup =
        match tokio::time::timeout(LOOKUP_TIMEOUT, resolver.txt_lookup(fqdn.as_str())).await {
            Err(_) => return Evidence::Temporary(format!("TXT {name}: lookup timed out")),
            Ok(Err(e)) if e.is_nx_domain() || e.is_no_records_found() => {
                return Evidence::None(format!("TXT {name}: no record"));
            }
            // Timeouts, SERVFAIL, refused, unreachable server: ask again later.
            Ok(Err(e)) => return Evidence::Temporary(format!("TXT {name}: {e}")),
            Ok(Ok(lookup)) => lookup,
        };
    let expected = challenge.txt_value();
    let values: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect();
    if values.iter().any(|v| v.trim() == expected) {
        return Evidence::Pass(format!("TXT {name} holds the issued token"));
    }
    if values.is_empty() {
        return Evidence::None(format!("TXT {name}: no record"));
    }
    Evidence::Fail(format!("TXT {name} does not hold the issued token"))
}

/// A `reqwest` client fit for web challenges: HTTPS only, redirects followed
/// only to HTTPS on the same host, bounded time. Callers may add trust roots
/// or resolve overrides before `build()`.
pub fn web_client_builder() -> reqwest::ClientBuilder {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt
            .previous()
            .first()
            .is_some_and(|first| first.host_str() == attempt.url().host_str());
        if attempt.url().scheme() == "https"
            && same_host
            && attempt.previous().len() <= MAX_REDIRECTS
        {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::Client::builder()
        .https_only(true)
        .redirect(policy)
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!(
            "triaged/",
            env!("CARGO_PKG_VERSION"),
            " (identity challenge)"
        ))
}

/// Name resolution for web challenges through the resolver the rest of
/// verification uses (`[dns] nameservers`), not the system's: one source of
/// truth for an account's domains, and nothing looked up elsewhere.
pub struct WebResolver(pub TokioResolver);

impl reqwest::dns::Resolve for WebResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        Box::pin(async move {
            let ips = resolver
                .lookup_ip(name.as_str())
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            let addrs: Vec<std::net::SocketAddr> = ips.iter().map(|ip| std::net::SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Fetch `https://<domain>/<web_path>` for each of the account's domains.
pub async fn check_web(
    client: &reqwest::Client,
    domains: &[String],
    challenge: Option<&Challenge>,
) -> Factor {
    let challenge = match wanted("web", domains, challenge) {
        Ok(c) => c,
        Err(none) => return none,
    };
    combine(join_all(domains.iter().map(|d| probe_web(client, d, challenge))).await, "the account lists no domain")
}

/// The web factor when there is no client to fetch with (`why`): `none`,
/// temporary, if a web challenge is wanted at all.
pub fn web_unchecked(domains: &[String], challenge: Option<&Challenge>, why: &str) -> Factor {
    match wanted("web", domains, challenge) {
        Ok(_) => Factor::temporary(why),
        Err(none) => none,
    }
}

async fn probe_web(client: &reqwest::Client, domain: &str, challenge: &Challenge) -> Evidence {
    let path = challenge.web_path.trim_start_matches('/');
    if !valid_domain(domain) || !valid_web_path(path) {
        return Evidence::None(format!(
            "cannot build an HTTPS address from {domain:?} and {path:?}"
        ));
    }
    let url_text = challenge.web_url(domain);
    let url = match reqwest::Url::parse(&url_text) {
        Ok(u) if u.scheme() == "https" && u.host_str() == Some(domain.trim_end_matches('.')) => u,
        _ => return Evidence::None(format!("cannot build an HTTPS address from {domain:?}")),
    };
    match tokio::time::timeout(FETCH_TIMEOUT, fetch(client, url, &challenge.token)).await {
        Err(_) => Evidence::Temporary(format!("{url_text}: timed out")),
        Ok(p) => p,
    }
}

async fn fetch(client: &reqwest::Client, url: reqwest::Url, token: &str) -> Evidence {
    let shown = url.to_string();
    let mut response = match client.get(url.clone()).send().await {
        Ok(r) => r,
        Err(e) => return Evidence::Temporary(format!("{shown}: {}", error_chain(&e))),
    };
    // Whatever the caller's client does with redirects, only an HTTPS answer
    // from the domain itself counts.
    let final_url = response.url();
    if final_url.scheme() != "https" || final_url.host_str() != url.host_str() {
        return Evidence::Fail(format!(
            "{shown}: answered from {final_url}, not the domain over HTTPS"
        ));
    }
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(crate::message::sanitize_line)
            .unwrap_or_default();
        return Evidence::Fail(format!(
            "{shown}: redirects to {to:?}; only HTTPS on the same host is followed"
        ));
    }
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        return Evidence::None(format!("{shown}: nothing published ({status})"));
    }
    if status.is_server_error() {
        return Evidence::Temporary(format!("{shown}: server error {status}"));
    }
    if !status.is_success() {
        return Evidence::Fail(format!("{shown}: answered {status}"));
    }
    let mut body = Vec::new();
    while body.len() < WEB_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Evidence::Temporary(format!("{shown}: {}", error_chain(&e))),
        }
    }
    body.truncate(WEB_BODY_LIMIT);
    if String::from_utf8_lossy(&body).contains(token) {
        Evidence::Pass(format!("{shown} holds the issued token"))
    } else {
        Evidence::Fail(format!(
            "{shown} does not hold the issued token in its first {WEB_BODY_LIMIT} bytes"
        ))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_in_the_ssh_text() {
        let a = issue(7, "alice", "/.well-known/triaged.txt");
        let b = issue(7, "alice", "/.well-known/triaged.txt");
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), TOKEN_BYTES * 2);
        assert!(a.token.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            a.ssh_text,
            format!(
                "triaged identity challenge for alice, ticket #7: {}\n",
                a.token
            )
        );
        assert_eq!(a.dns_name, "_triaged-challenge");
        assert_eq!(a.web_path, ".well-known/triaged.txt");
        assert_eq!(
            a.web_url("example.org"),
            "https://example.org/.well-known/triaged.txt"
        );
        assert_eq!(a.txt_value(), format!("triaged-challenge={}", a.token));
    }

    #[test]
    fn account_names_cannot_break_the_text() {
        let c = issue(1, "eve\nfake line", "x");
        assert_eq!(c.ssh_text.matches('\n').count(), 1);
    }

    #[test]
    fn domain_and_path_validation() {
        assert!(valid_domain("example.org"));
        assert!(valid_domain("example.org."));
        for bad in [
            "",
            "a..b",
            "evil.org/x",
            "user@evil.org",
            "evil.org:8080",
            "-x.org",
            "a b.org",
        ] {
            assert!(!valid_domain(bad), "{bad}");
        }
        assert!(valid_web_path(".well-known/triaged.txt"));
        for bad in ["", "../etc/passwd", "a?b", "a#b", "a b", "%2e%2e"] {
            assert!(!valid_web_path(bad), "{bad}");
        }
    }

    #[test]
    fn temporary_outranks_fail_but_not_pass() {
        let f = combine(vec![Evidence::Fail("f".into()), Evidence::Temporary("t".into())], "-");
        assert!(f.temporary);
        let f = combine(vec![Evidence::Temporary("t".into()), Evidence::Pass("p".into())], "-");
        assert!(f.passed());
        let f = combine(vec![Evidence::None("n".into()), Evidence::Fail("f".into())], "-");
        assert_eq!(f.result, crate::verify::Outcome::Fail);
    }
}
