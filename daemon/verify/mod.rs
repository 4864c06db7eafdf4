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
    /// What the message's list headers prove (`Verifier::arrival`): a
    /// vouched author is checked with the list's word for their DKIM.
    pub list: list::ListVerdict,
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
    /// No account directory is configured, so no sender has an account
    /// ([`accounts::NO_DIRECTORY`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_directory: bool,
    /// Headers (lowercase names) that a passing, aligned DKIM signature
    /// covers: the only headers of the message a signature vouches for.
    #[serde(skip)]
    pub dkim_signed: Vec<String>,
    /// The From domain a passing, aligned DKIM signature vouches for,
    /// whether or not an account has the address (through a configured
    /// list: as its seal recorded it). What the message proves of its
    /// sender when the directory knows nothing of them.
    #[serde(skip)]
    pub dkim_domain: Option<String>,
}

impl Report {
    /// The account directory did not answer (`Verifier::check` then marks
    /// every factor temporary): whether the address is an account's is not
    /// known yet, which is not "no account has it".
    pub fn directory_unanswered(&self) -> bool {
        self.account.is_none() && self.temporary && self.factors.iter().all(|(_, f)| f.temporary)
    }

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
            no_directory: false,
            dkim_signed: Vec::new(),
            dkim_domain: None,
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

    /// Whether a passing DKIM signature covers header `name`: with an
    /// account, one that passed as the account's factor; without one, the
    /// sender's own aligned signature ([`Report::dkim_domain`]).
    pub fn signs_header(&self, name: &str) -> bool {
        let vouches = if self.account.is_some() { self.factors.dkim.passed() } else { self.dkim_domain.is_some() };
        vouches && self.dkim_signed.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// One line for a ticket's history: "identity 1/2 NOT verified
    /// (~alice): dkim pass, pgp FAIL". Staff lines show the verdict instead
    /// (`staff::lines::identity`).
    pub fn summary(&self) -> String {
        let who = match &self.account {
            Some(a) => format!("~{}", sanitize_line(a)),
            None if self.no_directory => "no account directory".into(),
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
    /// The HTTPS client for web challenges, or why there is none: only a
    /// web challenge reads `identity.web_ca_file`, so a missing one costs
    /// that check (`none`, temporary), not every command that verifies;
    /// `check-config` reports it, and `run` does not start without it.
    http: Result<reqwest::Client, crate::config::Problem>,
    dns_timeout: Duration,
    offline_challenges: BTreeMap<String, String>,
    /// `[[lists]]`: the lists whose seal may vouch for an author.
    lists: Vec<crate::config::ListConfig>,
    /// `[draft] from`: a list hands the replies staff send back to us.
    ours: Option<String>,
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
        let http = challenge::web_client_builder()
            .dns_resolver(std::sync::Arc::new(challenge::WebResolver(resolver.clone())));
        let roots = config.identity.web_ca_file.as_ref().map(|ca| {
            ca.certificates()?
                .iter()
                .map(|c| reqwest::Certificate::from_der(c).map_err(|e| ca.problem(format!("{}: {e}", ca.path.display()))))
                .collect::<Result<Vec<_>, _>>()
        });
        let http = match roots.transpose() {
            Err(problem) => Err(problem),
            Ok(roots) => Ok(roots
                .into_iter()
                .flatten()
                .fold(http, |http, cert| http.add_root_certificate(cert))
                .build()
                .map_err(|e| VerifyError::Http(e.to_string()))?),
        };
        Ok(Verifier {
            directory,
            auth: mail_auth::MessageAuthenticator(resolver.clone()),
            resolver,
            http,
            dns_timeout: config.dns.timeout,
            offline_challenges,
            lists: config.lists.clone(),
            ours: list::address_of(&config.draft.from),
        })
    }

    /// Whether a backend that finds accounts is configured: without one
    /// every sender is without an account ([`accounts::NO_DIRECTORY`]).
    pub fn has_directory(&self) -> bool {
        self.directory.configured()
    }

    /// Why a web challenge cannot be checked (an unreadable
    /// `identity.web_ca_file`), for `check-config`.
    pub fn web_problem(&self) -> Option<&crate::config::Problem> {
        self.http.as_ref().err()
    }

    /// How `msg` reached us: through a configured list that vouches for
    /// its author, or as it came (see `list::Arrival`). Decided once per
    /// message; every later stage reads [`list::Arrival::message`].
    pub async fn arrival<'m>(&self, msg: &'m Message) -> list::Arrival<'m> {
        let verdict = list::list_author(&self.auth, &self.lists, msg, self.dns_timeout).await;
        list::Arrival::new(msg, verdict, &self.lists).answering_as(self.ours.as_deref())
    }

    /// What classifying a new request with `pack` needs to know of its
    /// sender: whether the directory knows them, asked only when one of
    /// the pack's procedures needs a sign of the team's own services.
    pub async fn sender_for(&self, pack: &crate::procedures::Pack, msg: &Message) -> crate::classify::own::Sender {
        if pack.procedures.iter().any(|p| p.needs_own) {
            self.knows_sender(msg).await
        } else {
            crate::classify::own::Sender::Unknown
        }
    }

    /// Whether the account directory knows the sender of `msg` (one From
    /// address), for classification: a known sender is a sign that the
    /// service they write about is the team's (`classify::own`). It proves
    /// nothing about identity; `verify` decides that. A directory that
    /// cannot answer gives no sign, and the text still counts.
    pub async fn knows_sender(&self, msg: &Message) -> crate::classify::own::Sender {
        use crate::classify::own::Sender;
        let Some(from) = msg.single_from() else { return Sender::Unknown };
        match self.directory.has_account(&from.email).await {
            Ok(true) => Sender::Account,
            Ok(false) => Sender::Unknown,
            Err(e) => {
                tracing::warn!("account directory unavailable for classification: {e}");
                Sender::Unknown
            }
        }
    }

    /// Every factor for a message of a ticket; never panics, never errors:
    /// whatever cannot be checked is `none` with the reason.
    pub async fn verify(&self, msg: &Message, ctx: &VerifyContext) -> Report {
        self.verify_with(msg, ctx.billing, SshText::Issued, ctx.challenge.as_ref(), &ctx.list)
            .await
    }

    /// As `verify`, for `triaged verify FILE`: no ticket, so no DNS or web
    /// token; the SSH text comes from `[identity] challenges`. Mail through
    /// a configured list is read as its author sent it (`arrival`);
    /// `billing`: the procedure it was classified as counts card digits.
    pub async fn verify_offline(&self, arrival: &list::Arrival<'_>, billing: bool) -> Report {
        self.verify_with(arrival.message(), billing, SshText::Offline, None, &arrival.list).await
    }

    async fn verify_with(
        &self,
        msg: &Message,
        billing: bool,
        ssh_text: SshText,
        challenge: Option<&Challenge>,
        list: &list::ListVerdict,
    ) -> Report {
        let Some(from) = msg.single_from() else {
            let reason = format!(
                "{} From header(s) with {} address(es): exactly one sender is needed to establish identity",
                msg.from_header_count,
                msg.from.len()
            );
            return Report::new(None, Factors::all(&reason, Factor::fail), None);
        };
        // The list's word for the author, when `msg` is read as that author's.
        let vouched = list.author().filter(|a| a.author.email == from.email);
        if vouched.is_none()
            && let Some(id) = list::from_is_list(msg)
        {
            let reason = format!(
                "From is the address of the list <{}>, which is no account: only a configured list's seal tells who wrote it",
                sanitize_line(&id)
            );
            let mut factors = Factors::all(&reason, Factor::none);
            factors.dkim = Factor::none(reason);
            return Report::new(None, factors, list.advice().map(str::to_string));
        }
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
            let dkim = match vouched {
                Some(a) => list_dkim(a, None),
                None => dkim::check(&self.auth, msg, None, self.dns_timeout).await,
            };
            let reason = if self.directory.configured() {
                format!("no account has the address {}", sanitize_line(&from.email))
            } else {
                accounts::NO_DIRECTORY.to_string()
            };
            let mut factors = Factors::all(&reason, Factor::none);
            factors.dkim = dkim.factor;
            let mut report = Report::new(None, factors, with_advice(dkim.arc, list));
            report.no_directory = !self.directory.configured();
            report.dkim_signed = dkim.signed;
            report.dkim_domain = dkim.domain;
            return report;
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
        let dkim = async {
            match vouched {
                Some(a) => list_dkim(a, Some(account)),
                None => dkim::check(&self.auth, msg, Some(account), self.dns_timeout).await,
            }
        };
        let (dkim, dns, web) = tokio::join!(
            dkim,
            challenge::check_dns(&self.resolver, &dns_domains, challenge),
            async {
                match &self.http {
                    Ok(http) => challenge::check_web(http, &account.domains, challenge).await,
                    Err(problem) => challenge::web_unchecked(&account.domains, challenge, &problem.to_string()),
                }
            },
        );
        let mut pgp = match list {
            list::ListVerdict::NotListMail => pgp::check_pgp(msg, &account.pgp_keys),
            _ => list_pgp(msg, &account.pgp_keys),
        };
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
        let mut report = Report::new(Some(account), factors, with_advice(dkim.arc, list));
        report.dkim_signed = dkim.signed;
        report.dkim_domain = dkim.domain;
        report
    }
}

/// The DKIM factor of mail a trusted list vouches for: the author's result
/// as the list's seal recorded it, for an address of `account`; the
/// headers it vouches for are those both the seal and the author signed.
fn list_dkim(a: &list::ListAuthor, account: Option<&Account>) -> dkim::DkimVerdict {
    let arc = Some(format!("via the list's ARC seal ({}), list <{}>", sanitize_line(&a.sealer), sanitize_line(&a.list_id)));
    let factor = match account {
        Some(acc) if !acc.has_address(&a.author.email) && a.dkim.passed() => Factor::fail(format!(
            "{} is not an address of account {:?} ({})",
            sanitize_line(&a.author.email),
            acc.username,
            a.dkim.reason
        )),
        Some(_) => a.dkim.clone(),
        None if a.dkim.passed() => Factor::none(format!("no account has the address {} ({})", sanitize_line(&a.author.email), a.dkim.reason)),
        None => a.dkim.clone(),
    };
    // The author's own signature, as the seal recorded it, whatever the
    // directory says of the address (as `dkim::check` reads direct mail).
    let domain = a.author.email.rsplit_once('@').filter(|_| a.dkim.passed()).map(|(_, d)| d.to_ascii_lowercase());
    let signed = if domain.is_some() && (account.is_none() || factor.passed()) { a.signed.clone() } else { Vec::new() };
    dkim::DkimVerdict { factor, arc, signed, domain }
}

/// PGP of list mail, judged on the text as it came (`msg` is read as its
/// author sent it, without the list's footer: a signature must not pass
/// over a cut a heuristic made). A PGP/MIME message the list wrapped with
/// a footer part is verified without that part; an inline signature the
/// list appended its footer to fails, and the reason says why.
fn list_pgp(msg: &Message, keys: &[String]) -> Factor {
    let Ok(came) = Message::parse(msg.raw().to_vec()) else {
        return pgp::check_pgp(msg, keys);
    };
    if let Some(signed) = list::without_footer_part(&came) {
        return pgp::check_pgp(&signed, keys);
    }
    let mut pgp = pgp::check_pgp(&came, keys);
    if came.text != msg.text && !pgp.passed() && came.text.contains("-----BEGIN PGP SIGNED MESSAGE-----") {
        pgp.reason = format!(
            "{}; the list appended its footer to the inline-signed text, which no inline signature survives: \
             ask the author for a PGP/MIME signature, or to write to us directly",
            pgp.reason
        );
    }
    pgp
}

/// The ARC line for staff, with what the list headers proved when they
/// proved nothing.
fn with_advice(arc: Option<String>, list: &list::ListVerdict) -> Option<String> {
    match (arc, list.advice()) {
        (Some(arc), Some(why)) => Some(format!("{arc}; list mail: {why}")),
        (None, Some(why)) => Some(format!("list mail: {why}")),
        (arc, None) => arc,
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
            .map(|s| crate::locate::Locator::new(&text, path).line_of_offset(s.start))
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

    /// `identity.web_ca_file` not there: every command that verifies
    /// still works; a web challenge, the only reader, is told why it was
    /// not checked, at the config line.
    #[tokio::test]
    async fn a_missing_web_ca_file_costs_only_the_web_challenge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates/sourcehut")).unwrap();
        let text = "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"support@example.org\"\n\
                    [procedures]\ntemplates = \"templates\"\n[dns]\nnameservers = [\"127.0.0.1:9\"]\n\
                    [identity]\nweb_ca_file = \"web-ca.pem\"\n";
        let config = Config::from_str_at(text, &dir.path().join("triaged.toml")).unwrap();
        let verifier = Verifier::new(&config).await.unwrap();
        let problem = verifier.web_problem().expect("the missing file is told").to_string();
        assert!(problem.contains("triaged.toml:10: identity.web_ca_file: ") && problem.contains("web-ca.pem does not exist"), "{problem}");
        let domains = vec!["example.org".to_string()];
        let asked = challenge::issue(1, "alice", "/.well-known/triaged.txt");
        let web = challenge::web_unchecked(&domains, Some(&asked), &problem);
        assert!(web.temporary && web.reason.contains("identity.web_ca_file"), "{web:?}");
        assert_eq!(challenge::web_unchecked(&domains, None, &problem), Factor::none("no web challenge issued"));
    }

    /// The daemon verifies inside spawned tasks: the future must be Send.
    #[test]
    fn verification_can_run_in_a_spawned_task() {
        fn send<T: Send>(_: T) {}
        fn check(v: &Verifier, m: &Message, c: &VerifyContext) {
            send(v.verify(m, c));
            send(async {
                let arrival = v.arrival(m).await;
                v.verify_offline(&arrival, false).await
            });
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
