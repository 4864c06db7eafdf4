//! Identity verification: who really sent a message, as factors checked
//! against the keys on file for the account. Never trusts a key's user ID
//! or a display name; only keys and addresses on file count. The account is
//! chosen by the single From address and nothing else; a message with more
//! than one From address has no identity at all.
//!
//! The report goes to staff (notice, `status`), never into a user-facing
//! draft.

pub mod accounts;
pub mod cli;
pub mod dkim;
pub mod factor;
pub mod list;
pub mod policy;

pub mod challenge;
pub mod conversation;
pub mod pgp;
pub mod ssh;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use accounts::{Account, Directory, DirectoryError};
pub use challenge::Challenge;
pub use factor::{Factor, Outcome};

use crate::config::Config;
use crate::message::{Message, sanitize_line};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("account directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("DNS: {0} (check [dns] nameservers in the config)")]
    Dns(std::io::Error),
    #[error("{}: {problem} (identity.challenges is a TOML table: alice = \"the exact challenge text\")", path.display())]
    Challenges {
        path: std::path::PathBuf,
        problem: String,
    },
    #[error("cannot build the HTTPS client for web challenges: {0}")]
    Http(String),
}

/// What the ticket's procedure asks of this check.
#[derive(Default)]
pub struct VerifyContext {
    /// The procedure is a billing matter: the last four card digits count.
    pub billing: bool,
    /// The challenge issued to this ticket, if any.
    pub challenge: Option<Challenge>,
}

/// The six factors, in the order DESIGN.md lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factors {
    pub dkim: Factor,
    pub pgp: Factor,
    pub ssh: Factor,
    pub dns: Factor,
    pub web: Factor,
    pub billing_last4: Factor,
}

impl Factors {
    fn all(reason: &str, make: fn(String) -> Factor) -> Factors {
        Factors {
            dkim: make(reason.to_string()),
            pgp: make(reason.to_string()),
            ssh: make(reason.to_string()),
            dns: make(reason.to_string()),
            web: make(reason.to_string()),
            billing_last4: make(reason.to_string()),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Factor)> {
        [
            ("dkim", &self.dkim),
            ("pgp", &self.pgp),
            ("ssh", &self.ssh),
            ("dns", &self.dns),
            ("web", &self.web),
            ("billing_last4", &self.billing_last4),
        ]
        .into_iter()
    }
}

/// The `verify --json` shape (DESIGN.md), plus advice for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub account: Option<String>,
    pub factors: Factors,
    pub required: u32,
    pub met: u32,
    pub verified: bool,
    /// ARC chain as seen; advice only, never counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arc: Option<String>,
    /// Some factor could not be checked now; verifying again later may
    /// change the result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub temporary: bool,
    /// Headers (lowercase names) that a passing, aligned DKIM signature
    /// covers: the only headers of the message a signature vouches for.
    #[serde(skip)]
    pub dkim_signed: Vec<String>,
}

impl Report {
    fn new(account: Option<&Account>, factors: Factors, arc: Option<String>) -> Report {
        let required = policy::required(account);
        let met = if account.is_some() {
            policy::met(factors.iter().map(|(_, f)| f))
        } else {
            0
        };
        let temporary = factors.iter().any(|(_, f)| f.temporary);
        Report {
            account: account.map(|a| a.username.clone()),
            factors,
            required,
            met,
            verified: account.is_some() && met >= required,
            arc,
            temporary,
            dkim_signed: Vec::new(),
        }
    }

    /// `dkim pass`, `pgp FAIL`, `dns retry`…: every factor that said
    /// something, and DKIM always.
    pub fn factor_words(&self) -> Vec<String> {
        self.factors
            .iter()
            .filter(|(name, f)| f.result != Outcome::None || f.temporary || *name == "dkim")
            .map(|(name, f)| {
                let word = match f.result {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "FAIL",
                    Outcome::None if f.temporary => "retry",
                    Outcome::None => "none",
                };
                format!("{name} {word}")
            })
            .collect()
    }

    /// Whether a passing DKIM signature covers header `name`.
    pub fn signs_header(&self, name: &str) -> bool {
        self.factors.dkim.passed() && self.dkim_signed.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// One line for a ticket's history: "identity 1/2 NOT verified
    /// (~alice): dkim pass, pgp FAIL". Staff lines show the verdict instead
    /// (`staff::lines::identity`).
    pub fn summary(&self) -> String {
        let who = match &self.account {
            Some(a) => format!("~{}", sanitize_line(a)),
            None => "no account".into(),
        };
        let factors = self.factor_words();
        let verdict = if self.verified {
            "verified"
        } else {
            "NOT verified"
        };
        format!(
            "identity {}/{} {verdict} ({who}): {}",
            self.met,
            self.required,
            factors.join(", ")
        )
    }
}

/// Where the SSH check takes its challenge text from.
enum SshText {
    /// The challenge issued to the ticket, if any (daemon).
    Issued,
    /// `[identity] challenges`, by username (offline `verify`).
    Offline,
}

pub struct Verifier {
    directory: Directory,
    auth: mail_auth::MessageAuthenticator,
    resolver: hickory_resolver::TokioResolver,
    http: reqwest::Client,
    dns_timeout: Duration,
    offline_challenges: BTreeMap<String, String>,
}

impl Verifier {
    pub async fn new(config: &Config) -> Result<Verifier, VerifyError> {
        let directory = Directory::from_config(&config.identity)?;
        let resolver = dkim::resolver(&config.dns).map_err(VerifyError::Dns)?;
        let offline_challenges = match &config.identity.challenges {
            Some(p) => load_challenges(p)?,
            None => BTreeMap::new(),
        };
        // HTTPS only, same-host HTTPS redirects only, bounded time.
        let mut http = challenge::web_client_builder()
            .dns_resolver(std::sync::Arc::new(challenge::WebResolver(resolver.clone())));
        if let Some(ca) = &config.identity.web_ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| VerifyError::Http(format!("{}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| VerifyError::Http(format!("{}: {e}", ca.display())))?;
            http = http.add_root_certificate(cert);
        }
        let http = http.build().map_err(|e| VerifyError::Http(e.to_string()))?;
        Ok(Verifier {
            directory,
            auth: mail_auth::MessageAuthenticator(resolver.clone()),
            resolver,
            http,
            dns_timeout: config.dns.timeout,
            offline_challenges,
        })
    }

    /// Every factor for a message of a ticket; never panics, never errors:
    /// whatever cannot be checked is `none` with the reason.
    pub async fn verify(&self, msg: &Message, ctx: &VerifyContext) -> Report {
        self.verify_with(msg, ctx.billing, SshText::Issued, ctx.challenge.as_ref())
            .await
    }

    /// As `verify`, for `triaged verify FILE`: no ticket, so no DNS or web
    /// token; the SSH text comes from `[identity] challenges`.
    pub async fn verify_offline(&self, msg: &Message) -> Report {
        self.verify_with(msg, false, SshText::Offline, None).await
    }

    async fn verify_with(
        &self,
        msg: &Message,
        billing: bool,
        ssh_text: SshText,
        challenge: Option<&Challenge>,
    ) -> Report {
        let Some(from) = msg.single_from() else {
            let reason = format!(
                "{} From header(s) with {} address(es): exactly one sender is needed to establish identity",
                msg.from_header_count,
                msg.from.len()
            );
            return Report::new(None, Factors::all(&reason, Factor::fail), None);
        };
        let lookup = match self.directory.lookup(&from.email).await {
            Ok(l) => l,
            Err(e) => {
                let reason = format!("account directory unavailable: {e}");
                let make: fn(String) -> Factor = if e.is_temporary() {
                    Factor::temporary
                } else {
                    Factor::none
                };
                return Report::new(None, Factors::all(&reason, make), None);
            }
        };
        let Some(account) = lookup.account.as_ref() else {
            let dkim = dkim::check(&self.auth, msg, None, self.dns_timeout).await;
            let reason = format!("no account has the address {}", sanitize_line(&from.email));
            let mut factors = Factors::all(&reason, Factor::none);
            factors.dkim = dkim.factor;
            return Report::new(None, factors, dkim.arc);
        };

        let ssh_text: Option<&str> = match ssh_text {
            SshText::Issued => challenge.map(|c| c.ssh_text.as_str()),
            SshText::Offline => self
                .offline_challenges
                .get(&account.username)
                .map(String::as_str),
        };
        // Seed: DNS challenges "on their mail server address or the domain
        // in their profile"; the draft offers both, so both are read. (The
        // From address is the account's, or there would be no account.)
        let mut dns_domains = account.domains.clone();
        if let Some((_, d)) = from.email.rsplit_once('@') {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !dns_domains.contains(&d) {
                dns_domains.push(d);
            }
        }
        let (dkim, dns, web) = tokio::join!(
            dkim::check(&self.auth, msg, Some(account), self.dns_timeout),
            challenge::check_dns(&self.resolver, &dns_domains, challenge),
            challenge::check_web(&self.http, &account.domains, challenge),
        );
        let mut pgp = pgp::check_pgp(msg, &account.pgp_keys);
        let mut ssh = ssh::check_ssh(msg, ssh_text, &account.ssh_keys);
        if let Some(problem) = &lookup.keys_unavailable {
            for f in [&mut pgp, &mut ssh] {
                if !f.passed() {
                    *f = Factor::temporary(format!("{problem}; {}", f.reason));
                }
            }
        }
        let factors = Factors {
            dkim: dkim.factor,
            pgp,
            ssh,
            dns,
            web,
            billing_last4: policy::check_billing_last4(&msg.text, Some(account), billing),
        };
        let mut report = Report::new(Some(account), factors, dkim.arc);
        report.dkim_signed = dkim.signed;
        report
    }
}

/// `[identity] challenges`: username → the exact text issued to it.
fn load_challenges(path: &Path) -> Result<BTreeMap<String, String>, VerifyError> {
    let err = |problem: String| VerifyError::Challenges {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| accounts::line_of(&text, s.start))
            .unwrap_or(1);
        err(format!("line {line}: {}", e.message().trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Account {
        Account {
            username: "alice".into(),
            emails: vec!["alice@example.org".into()],
            two_factor: true,
            pgp_keys: vec![],
            ssh_keys: vec![],
            domains: vec![],
            billing_last4: None,
        }
    }

    #[test]
    fn report_has_the_design_shape() {
        let mut factors = Factors::all("nothing", Factor::none);
        factors.dkim = Factor::pass("valid signature");
        let r = Report::new(Some(&alice()), factors, None);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["account"], "alice");
        assert_eq!(v["factors"]["dkim"]["result"], "pass");
        assert_eq!(v["factors"]["billing_last4"]["result"], "none");
        assert_eq!(v["required"], 2);
        assert_eq!(v["met"], 1);
        assert_eq!(v["verified"], false);
        assert!(v.get("arc").is_none() && v.get("temporary").is_none());
        assert_eq!(r.summary(), "identity 1/2 NOT verified (~alice): dkim pass");
        // The ticket keeps it as JSON and reads it back for `status`.
        assert_eq!(serde_json::from_value::<Report>(v).unwrap(), r);
    }

    /// The daemon verifies inside spawned tasks: the future must be Send.
    #[test]
    fn verification_can_run_in_a_spawned_task() {
        fn send<T: Send>(_: T) {}
        fn check(v: &Verifier, m: &Message, c: &VerifyContext) {
            send(v.verify(m, c));
            send(v.verify_offline(m));
        }
        fn shared<T: Send + Sync>() {}
        shared::<Verifier>();
        let _ = check;
    }

    #[test]
    fn no_account_is_never_verified() {
        let factors = Factors::all("x", Factor::pass);
        let r = Report::new(None, factors, None);
        assert_eq!((r.met, r.verified), (0, false));
        assert_eq!(
            serde_json::to_value(&r).unwrap()["account"],
            serde_json::Value::Null
        );
    }
}
