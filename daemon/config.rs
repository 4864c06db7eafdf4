//! Configuration: the TOML file as written (`Raw*`, serde, unknown keys
//! rejected) turned into a validated [`Config`] (paths resolved against the
//! config file's folder). Every problem is reported with `file:line` and
//! what to do about it, all at once, the way a compiler would. Secrets are
//! never accepted inline.
//!
//! Loading is in two phases: [`Config::load`] parses and checks everything
//! but opens no secret; a secret is a [`SecretRef`], read where it is used
//! (the IMAP login, the IRC login, the webhook post), which only `run`
//! does. So `status`, `set` or `check-config` work from a shell where the
//! password file is unreadable or `$CREDENTIALS_DIRECTORY` unset, and `run`
//! checks every secret before it starts ([`Config::unreadable_secrets`]).
//! The TLS trust roots (`imap.ca_file`, `irc.ca_file`,
//! `identity.web_ca_file`) are the same: a [`FileRef`], read when
//! connecting, and checked by `run` before it starts and by `check-config`
//! ([`Config::missing_files`]), so a command that never connects works
//! without them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::locate::{Locator, Seg, keys};

pub use crate::locate::Problem;

/// The store's cache unless `[store] cache_mib` says otherwise
/// (docs/BENCHMARKS.md, "A store with a history").
pub const DEFAULT_STORE_CACHE_MIB: u64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source} (pass --config with the path of a readable file; config.example.toml is a working start)", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

// ---------------------------------------------------------------- raw file

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub imap: RawImap,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub dns: RawDns,
    #[serde(default)]
    pub identity: RawIdentity,
    #[serde(default)]
    pub procedures: RawProcedures,
    #[serde(default)]
    pub draft: RawDraft,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub learning: RawLearning,
    pub irc: Option<RawIrc>,
    pub webhook: Option<RawWebhook>,
    #[serde(default)]
    pub daemon: RawDaemon,
    #[serde(default)]
    pub intake: RawIntake,
    #[serde(default)]
    pub lists: Vec<RawList>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    pub workers: Option<usize>,
}

/// `[intake]`: what the daemon trusts about how a message reached it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIntake {
    /// The host (or domain) of the mail server that receives support mail
    /// and runs its spam filter; only its own headers are believed.
    pub receiving_server: Option<String>,
    /// The local time of the daily line that tells staff what was set
    /// aside ("09:00"), or "off".
    pub aside_digest: Option<String>,
    /// The addresses support mail is sent to (aliases, list addresses),
    /// besides the one drafts come from.
    pub addresses: Option<Vec<String>>,
}

/// `[[lists]]`: a mailing list support mail arrives through.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawList {
    pub id: String,
    #[serde(default)]
    pub sealers: Vec<String>,
    #[serde(default)]
    pub reply_to_list: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: String,
    pub password_file: Option<String>,
    /// Name of a systemd credential (`LoadCredential=NAME:...`), read from
    /// `$CREDENTIALS_DIRECTORY/NAME`.
    pub password_credential: Option<String>,
    /// Rejected with a pointer to password_file: secrets never live in the
    /// config file, which is usually world-readable and often in git.
    pub password: Option<String>,
    pub ca_file: Option<String>,
    /// The server certificate's SHA-256, `sha256:AB:CD:...`: accepted
    /// whatever its issuer.
    pub tls_fingerprint: Option<String>,
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    #[serde(default = "default_drafts")]
    pub drafts: String,
    #[serde(default = "default_sent")]
    pub sent: String,
    pub poll_interval_secs: Option<u64>,
    pub idle_renew_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub backoff_max_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Implicit,
    Starttls,
    None,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<String>,
    pub retention_days: Option<u64>,
    pub cache_mib: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    #[serde(default)]
    pub nameservers: Vec<String>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIdentity {
    pub accounts: Option<String>,
    pub challenges: Option<String>,
    /// External directory: a command printing one account as JSON.
    pub accounts_command: Option<Vec<String>>,
    pub accounts_command_timeout_secs: Option<u64>,
    /// sourcehut-style public key endpoints (`<base>/~user.keys`).
    pub sourcehut_base: Option<String>,
    /// Extra trust root for web challenges (tests, private CAs).
    pub web_ca_file: Option<String>,
    pub web_path: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProcedures {
    pub pack: Option<String>,
    pub templates: Option<String>,
    pub threshold: Option<f64>,
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDraft {
    pub from: Option<String>,
    pub signature: Option<String>,
    pub quote: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLearning {
    pub enabled: Option<bool>,
    pub min_probability: Option<f64>,
    pub min_probability_sensitive: Option<f64>,
    pub min_examples: Option<u32>,
    pub sensitive_needs_rule_sign: Option<bool>,
    pub twin_similarity: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_message_bytes: Option<u64>,
    pub max_attempts: Option<u32>,
    pub max_mime_depth: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub max_attachments: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIrc {
    pub server: String,
    pub port: Option<u16>,
    #[serde(default = "yes")]
    pub tls: bool,
    pub nick: String,
    pub channel: String,
    pub channel_key_file: Option<String>,
    pub password_file: Option<String>,
    pub password_credential: Option<String>,
    pub sasl_username: Option<String>,
    pub ca_file: Option<String>,
    #[serde(default)]
    pub staff: Vec<String>,
    #[serde(default)]
    pub staff_require_account: bool,
    /// Staff nick → the address they send from, so a reply seen in Sent
    /// can be matched to the claim holder.
    #[serde(default)]
    pub staff_addresses: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub allow_channel_operators: bool,
    /// Flood control: lines a second on average (bursts of four).
    pub lines_per_second: Option<f64>,
}

/// A JSON POST of every notice (Slack, Mattermost, Matrix bridges).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: Option<String>,
    /// The URL read from a file: webhook URLs usually carry a token.
    pub url_file: Option<String>,
    pub timeout_secs: Option<u64>,
}

fn yes() -> bool {
    true
}
fn default_folders() -> Vec<String> {
    vec!["INBOX".into()]
}
fn default_drafts() -> String {
    "Drafts".into()
}
fn default_sent() -> String {
    "Sent".into()
}

// ---------------------------------------------------------------- validated

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from, for messages.
    pub source: PathBuf,
    pub imap: ImapConfig,
    pub store_path: PathBuf,
    /// How long a closed ticket keeps its message content (None: forever).
    pub store_retention: Option<Duration>,
    /// The store's cache (redb's read cache and write buffer), MiB.
    pub store_cache_mib: u64,
    pub dns: DnsConfig,
    pub identity: IdentityConfig,
    pub procedures: ProceduresConfig,
    pub draft: DraftConfig,
    pub limits: Limits,
    pub learning: LearningConfig,
    pub irc: Option<IrcConfig>,
    pub webhook: Option<WebhookConfig>,
    /// Threads of `run`'s async runtime (`[daemon] workers`).
    pub workers: usize,
    pub intake: IntakeConfig,
    /// Mailing lists support mail arrives through (`[[lists]]`).
    pub lists: Vec<ListConfig>,
}

/// The most worker threads `[daemon] workers` may ask for: the daemon is
/// I/O-bound, one thread per watched folder is more than it uses, and the
/// unit's TasksMax= counts every thread.
pub const MAX_WORKERS: usize = 16;

/// "09:00" or "9:05" as a time of day; nothing else (no seconds, no "am").
fn parse_time_of_day(s: &str) -> Option<jiff::civil::Time> {
    let (h, m) = s.split_once(':')?;
    let digits = |d: &str, most: usize| (1..=most).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || m.len() != 2 || !digits(m, 2) {
        return None;
    }
    jiff::civil::Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// One worker per core, at most four: a support mailbox's load fits in
/// two, and many cores must not mean many threads under TasksMax=.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Lowercase host or domain of the receiving mail server; `None`: no
    /// spam verdict in a header is believed.
    pub receiving_server: Option<String>,
    /// When, in `procedures.timezone`, staff are told once a day what was
    /// set aside since the last time; `None`: never (`"off"`).
    pub aside_digest: Option<jiff::civil::Time>,
    /// The team's own addresses, lowercase: `[draft] from`'s and those of
    /// `[intake] addresses`. A reply that names its ticket only by the
    /// subject tag counts as signed only when its signed To or Cc names
    /// one of them (`act::binding`).
    pub addresses: Vec<String>,
}

/// The default time of the daily set-aside line: the start of a working day.
pub const ASIDE_DIGEST_AT: jiff::civil::Time = jiff::civil::Time::constant(9, 0, 0, 0);

impl Default for IntakeConfig {
    fn default() -> IntakeConfig {
        IntakeConfig { receiving_server: None, aside_digest: Some(ASIDE_DIGEST_AT), addresses: Vec::new() }
    }
}

/// A mailing list support mail arrives through, and whom the team trusts
/// to vouch for what it passes on (see `verify::list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListConfig {
    /// The List-Id value without angle brackets, lower case.
    pub id: String,
    /// ARC sealer domains (d= of the ARC-Seal), lower case.
    pub sealers: Vec<String>,
    /// Also address drafts to the list.
    pub reply_to_list: bool,
}

#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: SecretRef,
    pub ca_file: Option<FileRef>,
    pub tls_fingerprint: Option<crate::mailbox::pinned::Fingerprint>,
    pub folders: Vec<String>,
    pub drafts: String,
    pub sent: String,
    pub poll_interval: Duration,
    pub idle_renew: Duration,
    pub timeout: Duration,
    pub backoff_max: Duration,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

/// A secret read from a file; never printed.
#[derive(Clone)]
pub struct Secret(String);

/// Where a secret is, and the config line that says so: read at each use,
/// so only the commands that use it need to be able to read it, and a
/// rotated password is picked up at the next login.
#[derive(Clone)]
pub struct SecretRef {
    source: SecretSource,
    /// Where the key is written, for the problem a failed read reports.
    at: Problem,
    /// What to do when a `*_file` cannot be read: each key has its own
    /// ways (only the passwords have a `*_credential`).
    fix: &'static str,
}

#[derive(Clone)]
enum SecretSource {
    File(PathBuf),
    /// A systemd credential, `$CREDENTIALS_DIRECTORY/NAME`.
    Credential(String),
    /// Written in the config itself (a webhook `url`, not a password).
    Inline(String),
    /// Not configured: only `run` (and `check-config`) need it; `classify`,
    /// `verify`, `learn` and the staff commands never connect.
    Missing,
}

impl SecretRef {
    /// A value that was written in the config (for tests and the webhook's
    /// inline `url`).
    pub fn inline(value: &str) -> SecretRef {
        SecretRef {
            source: SecretSource::Inline(value.to_string()),
            at: Problem { file: PathBuf::new(), line: None, message: String::new() },
            fix: "",
        }
    }

    /// Reads the secret now; the problem names the config line and the fix.
    pub fn read(&self) -> Result<Secret, Problem> {
        let problem = |what: String| at_key(&self.at, what);
        let read = |p: &Path| -> Result<Secret, std::io::Error> {
            let s = std::fs::read_to_string(p)?;
            Ok(Secret(s.trim_end_matches(['\r', '\n']).to_string()))
        };
        match &self.source {
            SecretSource::Inline(v) => Ok(Secret(v.clone())),
            SecretSource::Missing => Err(problem(
                "missing: `triaged run` needs it: set password_file = \"/path/to/file\" (or password_credential under systemd)".into(),
            )),
            SecretSource::File(p) => read(p).map_err(|e| {
                problem(format!("cannot read {}: {e}; `triaged run` needs it: {}", p.display(), self.fix))
            }),
            SecretSource::Credential(name) => {
                let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                    return Err(problem(format!(
                        "CREDENTIALS_DIRECTORY is not set, so credential {name:?} cannot be read here; `triaged run` needs it: run it under systemd with LoadCredential={name}:/path/to/file, or use password_file"
                    )));
                };
                let p = Path::new(&dir).join(name);
                read(&p).map_err(|e| {
                    problem(format!(
                        "cannot read credential {}: {e}; `triaged run` needs it: check LoadCredential={name}:... in the unit",
                        p.display()
                    ))
                })
            }
        }
    }

    /// The key that names it and where (`imap.password_file,
    /// /etc/triaged/config.toml:6`), for a problem with what it holds.
    pub fn configured_at(&self) -> String {
        match self.at.line {
            Some(line) => format!("{}, {}:{line}", self.at.message, self.at.file.display()),
            None if self.at.message.is_empty() => "given inline".to_string(),
            None => format!("{}, {}", self.at.message, self.at.file.display()),
        }
    }

    /// A systemd credential, readable only inside the service: a shell
    /// (`check-config`) cannot tell whether it will be there.
    pub fn is_credential(&self) -> bool {
        matches!(self.source, SecretSource::Credential(_))
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretRef(..)")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `at`'s key followed by `what`, at `at`'s file and line.
fn at_key(at: &Problem, what: impl fmt::Display) -> Problem {
    Problem { file: at.file.clone(), line: at.line, message: format!("{}: {what}", at.message) }
}

/// A file the config names that only connecting reads (a TLS trust root),
/// and the config line that names it: checked where it is read, so the
/// commands that never connect work without it, and every problem with it
/// still says where it is configured.
#[derive(Clone, Debug)]
pub struct FileRef {
    pub path: PathBuf,
    /// Where the key is written (`message` is the key).
    at: Problem,
}

impl FileRef {
    /// A file no config line names (tests); `key` stands for the line.
    pub fn unlocated(path: PathBuf, key: &str) -> FileRef {
        FileRef { path, at: Problem { file: PathBuf::from("(no config)"), line: None, message: key.into() } }
    }

    /// Why it cannot be read, when it is not there: the same problem
    /// `check-config`, `run`'s start and [`FileRef::read`] report.
    pub fn missing(&self) -> Option<Problem> {
        (!self.path.is_file()).then(|| {
            self.problem(format!("{} does not exist or is not a file; fix the path or remove the key", self.path.display()))
        })
    }

    /// Reads it now; the problem names the config line and the fix.
    pub fn read(&self) -> Result<Vec<u8>, Problem> {
        if let Some(missing) = self.missing() {
            return Err(missing);
        }
        std::fs::read(&self.path).map_err(|e| {
            self.problem(format!("cannot read {}: {e}; make it readable by the service's user, or remove the key", self.path.display()))
        })
    }

    /// The certificates of a trust root (PEM), at least one.
    pub fn certificates(&self) -> Result<Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>, Problem> {
        let pem = self.read()?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..]).flatten().collect();
        if certs.is_empty() {
            return Err(self.problem(format!(
                "{} holds no usable certificate; it must be PEM (-----BEGIN CERTIFICATE-----)",
                self.path.display()
            )));
        }
        Ok(certs)
    }

    /// A problem with what the file holds, at the line that names it.
    pub fn problem(&self, what: impl fmt::Display) -> Problem {
        at_key(&self.at, what)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Clone)]
pub struct DnsConfig {
    pub nameservers: Vec<SocketAddr>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct IdentityConfig {
    pub accounts: Option<PathBuf>,
    pub challenges: Option<PathBuf>,
    pub accounts_command: Option<Vec<String>>,
    pub accounts_command_timeout: Duration,
    pub sourcehut_base: Option<String>,
    pub web_ca_file: Option<FileRef>,
    pub web_path: String,
}

#[derive(Debug, Clone)]
pub struct ProceduresConfig {
    pub pack: String,
    /// The folder holding one sub-folder per pack.
    pub templates: PathBuf,
    pub threshold: f64,
    pub timezone: jiff::tz::TimeZone,
}

impl ProceduresConfig {
    pub fn pack_dir(&self) -> PathBuf {
        self.templates.join(&self.pack)
    }
}

#[derive(Debug, Clone)]
pub struct DraftConfig {
    /// The From of drafted replies: the support address staff send as.
    pub from: String,
    pub signature: String,
    /// The customer's text quoted below the reply.
    pub quote: bool,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: u64,
    pub max_attempts: u32,
    /// Multipart or attached-message containers around the deepest part.
    pub max_mime_depth: usize,
    /// The longest header section, the message's or any part's.
    pub max_header_bytes: usize,
    /// Attachments in the whole message, attached messages' included.
    pub max_attachments: usize,
}

/// How alike a message must be to an example taught of a sensitive
/// procedure for the model to route it there without a sign of the rules
/// (docs/CLASSIFICATION.md, "Learning from the team").
pub const TWIN_SIMILARITY: f64 = 0.6;

/// The local model trained from staff decisions (`daemon/learn/`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearningConfig {
    pub enabled: bool,
    /// The model routes a message the rules left unclassified only with at
    /// least this probability...
    pub min_probability: f64,
    /// ...or this one for a sensitive procedure, where a wrong guess harms...
    pub min_probability_sensitive: f64,
    /// ...and when its procedure has at least this many examples.
    pub min_examples: u32,
    /// A sensitive procedure also needs a sign of it that its own rules
    /// saw: the model confirms a near miss, it never routes into deletion,
    /// 2FA, money or credentials on learned words alone.
    pub sensitive_needs_rule_sign: bool,
    /// ...unless the message is this alike (the share of features in
    /// common) to an example staff taught of that procedure, and nearer to
    /// it than to any example of anything else: the team answered this
    /// very request before. 1.0: only the very message taught.
    pub twin_similarity: f64,
    /// What the model reads of a message. Not a config-file setting: the
    /// shipped set, unless a measurement compares another
    /// (tests/classify/real.rs, `model_trials_within_the_tune_half`).
    pub features: crate::learn::features::FeatureSet,
}

impl Default for LearningConfig {
    fn default() -> LearningConfig {
        LearningConfig {
            enabled: true,
            min_probability: 0.9,
            min_probability_sensitive: 0.99,
            min_examples: 3,
            sensitive_needs_rule_sign: true,
            twin_similarity: TWIN_SIMILARITY,
            features: crate::learn::features::FeatureSet::default(),
        }
    }
}

#[derive(Clone)]
pub struct IrcConfig {
    pub server: String,
    pub port: u16,
    pub tls: bool,
    pub nick: String,
    pub channel: String,
    pub channel_key: Option<SecretRef>,
    pub password: Option<SecretRef>,
    pub sasl_username: Option<String>,
    pub ca_file: Option<FileRef>,
    pub staff: Vec<String>,
    pub staff_require_account: bool,
    pub staff_addresses: std::collections::BTreeMap<String, String>,
    pub allow_channel_operators: bool,
    /// Flood control: lines a second on average, after a burst of four.
    pub lines_per_second: f64,
}

impl fmt::Debug for IrcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrcConfig")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("nick", &self.nick)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct WebhookConfig {
    pub url: SecretRef,
    pub timeout: Duration,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------- loading

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_str_at(&text, path)
    }

    /// Parse `text` as if it were the file at `path` (used for messages and
    /// to resolve relative paths).
    pub fn from_str_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let (config, problems) = Self::checked_str_at(text, path);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid { problems }),
        }
    }

    /// For `check-config`: every problem of the file, and the config as far
    /// as it could be made (None when the file does not parse or lacks
    /// [imap]), so that what it names (packs, accounts) can be checked too.
    pub fn load_checked(path: &Path) -> Result<(Option<Config>, Vec<Problem>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::checked_str_at(&text, path))
    }

    fn checked_str_at(text: &str, path: &Path) -> (Option<Config>, Vec<Problem>) {
        let locator = Locator::new(text, path);
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => return (None, vec![locator.toml_error(&e)]),
        };
        let mut v = ConfigCheck {
            locator: &locator,
            base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            problems: Vec::new(),
        };
        let config = v.validate(raw);
        (config, v.problems)
    }
}

/// A secret `run` could not read now.
#[derive(Debug)]
pub struct UnreadableSecret {
    pub problem: Problem,
    /// A systemd credential: only the service can tell whether it is there.
    pub credential: bool,
}

impl Config {
    /// Reads every secret `run` will use, as `run` does before it starts;
    /// each one that cannot be read (or, for a webhook `url_file`, is not a
    /// URL we post to) says where it is configured and what to do.
    pub fn unreadable_secrets(&self) -> Vec<UnreadableSecret> {
        let mut refs: Vec<&SecretRef> = vec![&self.imap.password];
        if let Some(irc) = &self.irc {
            refs.extend(irc.password.iter().chain(irc.channel_key.iter()));
        }
        let mut out = Vec::new();
        for r in refs {
            if let Err(problem) = r.read() {
                out.push(UnreadableSecret { problem, credential: r.is_credential() });
            }
        }
        if let Some(w) = &self.webhook {
            let checked = w.url.read().and_then(|url| {
                check_webhook_url(url.expose()).map_err(|m| Problem {
                    file: w.url.at.file.clone(),
                    line: w.url.at.line,
                    message: format!("{}: the file holds no usable URL: {m}", w.url.at.message),
                })
            });
            if let Err(problem) = checked {
                out.push(UnreadableSecret { problem, credential: false });
            }
        }
        out
    }

    /// The files `run` reads when it connects (the TLS trust roots) that
    /// are not there: `run` refuses to start on any, `check-config` lists
    /// them; no other command needs them.
    pub fn missing_files(&self) -> Vec<Problem> {
        let irc = self.irc.as_ref().and_then(|i| i.ca_file.as_ref());
        self.imap.ca_file.iter().chain(irc).chain(&self.identity.web_ca_file).filter_map(FileRef::missing).collect()
    }
}

/// What to do when a password file cannot be read.
const PASSWORD_FIX: &str = "write the password on one line into that file, readable by the service's user (docs/ACCOUNTS.md), or use password_credential under systemd";

struct ConfigCheck<'a> {
    locator: &'a Locator<'a>,
    base: PathBuf,
    problems: Vec<Problem>,
}

impl ConfigCheck<'_> {
    fn bad(&mut self, path: &[&str], message: impl Into<String>) {
        let p = self.locator.problem(&keys(path), message);
        self.problems.push(p);
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// A file that `classify` and `verify` read as much as `run` (the
    /// account directory, the offline challenges): checked at load, unlike
    /// a [`FileRef`].
    fn existing_file(&mut self, path: &[&str], value: &Option<String>) -> Option<PathBuf> {
        let file = self.file_ref(path, value)?;
        self.problems.extend(file.missing());
        Some(file.path)
    }

    /// Where `path` is written, for a problem found later.
    fn located(&self, path: &[&str]) -> Problem {
        Problem {
            file: self.locator.file.clone(),
            line: self.locator.line_of(&keys(path)),
            message: path.join("."),
        }
    }

    /// A file that only connecting reads, named by `path`, not read yet:
    /// see [`FileRef`].
    fn file_ref(&self, path: &[&str], value: &Option<String>) -> Option<FileRef> {
        Some(FileRef { path: self.resolve(value.as_ref()?), at: self.located(path) })
    }

    /// A secret file named by `path`, not read yet; `fix` says what to do
    /// when it cannot be read.
    fn secret_file(&self, path: &[&str], file: &str, fix: &'static str) -> SecretRef {
        SecretRef {
            source: SecretSource::File(self.resolve(file)),
            at: self.located(path),
            fix,
        }
    }

    /// A secret from `*_file` or from a systemd credential, not read yet.
    fn secret(&mut self, section: &str, file: &Option<String>, credential: &Option<String>) -> Option<SecretRef> {
        match (file, credential) {
            (Some(f), _) => Some(self.secret_file(&[section, "password_file"], f, PASSWORD_FIX)),
            (None, Some(name)) => {
                if name.is_empty() || name.contains('/') {
                    self.bad(&[section, "password_credential"], "must be a credential name (the NAME of LoadCredential=NAME:path), without '/'");
                }
                Some(SecretRef {
                    source: SecretSource::Credential(name.clone()),
                    at: self.located(&[section, "password_credential"]),
                    fix: PASSWORD_FIX,
                })
            }
            (None, None) => None,
        }
    }

    fn validate(&mut self, raw: RawConfig) -> Option<Config> {
        let imap = self.imap(&raw.imap);
        let store_path = self.resolve(raw.store.path.as_deref().unwrap_or("/var/lib/triaged"));
        let store_retention = match raw.store.retention_days {
            Some(0) => {
                self.bad(&["store", "retention_days"], "must be at least 1 (days after a ticket is closed); leave it out to keep content forever");
                None
            }
            Some(d) => Some(Duration::from_secs(d.saturating_mul(86_400))),
            None => None,
        };
        let store_cache_mib = raw.store.cache_mib.unwrap_or(DEFAULT_STORE_CACHE_MIB);
        if !(1..=1024).contains(&store_cache_mib) {
            self.bad(&["store", "cache_mib"], "must be between 1 and 1024 (MiB of the store's cache; 4 unless set)");
        }

        let mut nameservers = Vec::new();
        for ns in &raw.dns.nameservers {
            match parse_nameserver(ns) {
                Some(a) => nameservers.push(a),
                None => self.bad(
                    &["dns", "nameservers"],
                    format!("{ns:?} is not an address; write \"127.0.0.1:53\" or \"127.0.0.1\""),
                ),
            }
        }
        let dns = DnsConfig {
            nameservers,
            timeout: Duration::from_secs(raw.dns.timeout_secs.unwrap_or(5).max(1)),
        };

        let identity = IdentityConfig {
            accounts: self.existing_file(&["identity", "accounts"], &raw.identity.accounts),
            challenges: self.existing_file(&["identity", "challenges"], &raw.identity.challenges),
            accounts_command: raw.identity.accounts_command.clone(),
            accounts_command_timeout: Duration::from_secs(
                raw.identity.accounts_command_timeout_secs.unwrap_or(10),
            ),
            sourcehut_base: raw.identity.sourcehut_base.clone(),
            web_ca_file: self.file_ref(&["identity", "web_ca_file"], &raw.identity.web_ca_file),
            web_path: raw
                .identity
                .web_path
                .clone()
                .unwrap_or_else(|| ".well-known/triaged-challenge.txt".into()),
        };
        if let Some(cmd) = &identity.accounts_command
            && cmd.is_empty()
        {
            self.bad(&["identity", "accounts_command"], "must name a program: [\"/usr/lib/triaged/lookup\", \"--json\"]");
        }

        let pack = raw.procedures.pack.clone().unwrap_or_else(|| "sourcehut".into());
        let templates = self.resolve(raw.procedures.templates.as_deref().unwrap_or("/usr/share/triaged/templates"));
        if !templates.join(&pack).is_dir() {
            let message = no_pack_message(&templates, &pack);
            self.bad(&["procedures", "pack"], message);
        }
        let threshold = raw.procedures.threshold.unwrap_or(3.0);
        if !(threshold.is_finite() && threshold >= 0.0) {
            self.bad(&["procedures", "threshold"], "must be a number ≥ 0, e.g. 3.0");
        }
        let tz_name = raw.procedures.timezone.clone().unwrap_or_else(|| "UTC".into());
        let timezone = match jiff::tz::TimeZone::get(&tz_name) {
            Ok(tz) => tz,
            Err(e) => {
                self.bad(
                    &["procedures", "timezone"],
                    format!("unknown time zone {tz_name:?} ({e}); use an IANA name such as \"Europe/Berlin\" or \"UTC\""),
                );
                jiff::tz::TimeZone::UTC
            }
        };

        let from = raw.draft.from.clone().unwrap_or_else(|| raw.imap.username.clone());
        if from.parse::<lettre::message::Mailbox>().is_err() {
            self.bad(
                &["draft", "from"],
                format!("{from:?} is not a mail address; set draft.from = \"Support <support@example.org>\""),
            );
        }
        let draft = DraftConfig {
            from,
            signature: raw.draft.signature.clone().unwrap_or_default(),
            quote: raw.draft.quote.unwrap_or(true),
        };

        let limits = Limits {
            max_message_bytes: raw.limits.max_message_bytes.unwrap_or(25 * 1024 * 1024),
            max_attempts: raw.limits.max_attempts.unwrap_or(3).max(1),
            max_mime_depth: raw.limits.max_mime_depth.unwrap_or(20),
            max_header_bytes: raw.limits.max_header_bytes.unwrap_or(256 * 1024),
            max_attachments: raw.limits.max_attachments.unwrap_or(100),
        };
        if limits.max_message_bytes < 1024 {
            self.bad(&["limits", "max_message_bytes"], "must be at least 1024");
        }
        if limits.max_header_bytes < 1024 {
            self.bad(&["limits", "max_header_bytes"], "must be at least 1024");
        }
        if limits.max_mime_depth < 1 {
            self.bad(&["limits", "max_mime_depth"], "must be at least 1 (a multipart message has depth 1)");
        }

        let defaults = LearningConfig::default();
        let learning = LearningConfig {
            enabled: raw.learning.enabled.unwrap_or(defaults.enabled),
            min_probability: raw.learning.min_probability.unwrap_or(defaults.min_probability),
            min_probability_sensitive: raw.learning.min_probability_sensitive.unwrap_or(defaults.min_probability_sensitive),
            min_examples: raw.learning.min_examples.unwrap_or(defaults.min_examples),
            sensitive_needs_rule_sign: raw.learning.sensitive_needs_rule_sign.unwrap_or(defaults.sensitive_needs_rule_sign),
            twin_similarity: raw.learning.twin_similarity.unwrap_or(defaults.twin_similarity),
            ..defaults
        };
        if !(0.5..=1.0).contains(&learning.twin_similarity) {
            self.bad(&["learning", "twin_similarity"], "must be between 0.5 and 1.0 (1.0: only the very message taught)");
        }
        if !(0.5..=1.0).contains(&learning.min_probability) {
            self.bad(&["learning", "min_probability"], "must be between 0.5 and 1.0 (0.9 is a good start)");
        }
        if !(0.5..=1.0).contains(&learning.min_probability_sensitive) {
            self.bad(&["learning", "min_probability_sensitive"], "must be between 0.5 and 1.0 (0.99 is a good start)");
        }
        if learning.min_examples < 1 {
            self.bad(&["learning", "min_examples"], "must be at least 1 (3 is a good start)");
        }

        let irc = raw.irc.as_ref().and_then(|r| self.irc(r));
        let webhook = raw.webhook.as_ref().and_then(|r| self.webhook(r));
        let workers = raw.daemon.workers.unwrap_or_else(default_workers);
        if !(1..=MAX_WORKERS).contains(&workers) {
            self.bad(&["daemon", "workers"], format!("must be 1 to {MAX_WORKERS}; leave it out for one per core, at most 4"));
        }
        let intake = self.intake(&raw.intake, &draft.from);
        let lists = self.lists(&raw.lists);

        Some(Config {
            source: self.locator.file.clone(),
            imap: imap?,
            store_path,
            store_retention,
            store_cache_mib,
            dns,
            identity,
            procedures: ProceduresConfig {
                pack,
                templates,
                threshold,
                timezone,
            },
            draft,
            limits,
            learning,
            irc,
            webhook,
            workers: workers.clamp(1, MAX_WORKERS),
            intake,
            lists,
        })
    }

    fn intake(&mut self, r: &RawIntake, draft_from: &str) -> IntakeConfig {
        let receiving_server = r.receiving_server.as_ref().map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase());
        if let Some(h) = &receiving_server
            && (h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        {
            self.bad(
                &["intake", "receiving_server"],
                format!("{h:?} is not a host name; write the name your mail server puts after \"by\" in its Received: lines, e.g. \"mx.example.org\""),
            );
        }
        let aside_digest = match r.aside_digest.as_deref().map(str::trim) {
            None => Some(ASIDE_DIGEST_AT),
            Some("off") => None,
            Some(t) => match parse_time_of_day(t) {
                Some(t) => Some(t),
                None => {
                    self.bad(
                        &["intake", "aside_digest"],
                        format!("{t:?} is not a time of day; write it as \"HH:MM\" in procedures.timezone (e.g. \"09:00\"), or \"off\" for no daily line"),
                    );
                    None
                }
            },
        };
        let mut addresses: Vec<String> = draft_from.parse::<lettre::message::Mailbox>().map(|m| m.email.to_string().to_ascii_lowercase()).into_iter().collect();
        for a in r.addresses.iter().flatten() {
            match a.trim().parse::<lettre::Address>() {
                Ok(a) => addresses.push(a.to_string().to_ascii_lowercase()),
                Err(_) => self.bad(
                    &["intake", "addresses"],
                    format!("{a:?} is not a mail address; write the bare address support mail is sent to, e.g. \"help@example.org\""),
                ),
            }
        }
        addresses.sort_unstable();
        addresses.dedup();
        IntakeConfig { receiving_server, aside_digest, addresses }
    }

    fn lists(&mut self, raw: &[RawList]) -> Vec<ListConfig> {
        let mut out: Vec<ListConfig> = Vec::new();
        for (n, r) in raw.iter().enumerate() {
            let at = |key: &'static str| vec![Seg::Key("lists"), Seg::Index(n), Seg::Key(key)];
            let id = r.id.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
            if id.is_empty() || !id.contains('.') || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                let p = self.locator.problem(&at("id"), format!("{:?} is not a List-Id; write the value of the list's List-Id header between < and >, e.g. \"sr.ht-support.lists.example.org\"", r.id));
                self.problems.push(p);
            } else if out.iter().any(|l| l.id == id) {
                let p = self.locator.problem(&at("id"), format!("list {id:?} is configured twice; keep one [[lists]] entry per list"));
                self.problems.push(p);
            }
            if r.sealers.is_empty() {
                let p = self.locator.problem(&at("sealers"), "no sealer: name the domain(s) that ARC-seal this list's mail (the d= of its ARC-Seal header), or remove the list");
                self.problems.push(p);
            }
            let sealers: Vec<String> = r.sealers.iter().map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
            for (i, d) in sealers.iter().enumerate() {
                if !d.contains('.') || d.starts_with('.') || d.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
                    let p = self.locator.problem(
                        &[Seg::Key("lists"), Seg::Index(n), Seg::Key("sealers"), Seg::Index(i)],
                        format!("{d:?} is not a domain name; write the sealer's domain, e.g. \"lists.example.org\""),
                    );
                    self.problems.push(p);
                }
            }
            out.push(ListConfig { id, sealers, reply_to_list: r.reply_to_list });
        }
        out
    }

    fn imap(&mut self, r: &RawImap) -> Option<ImapConfig> {
        if r.password.is_some() {
            self.bad(
                &["imap", "password"],
                "passwords are never written in the config; put it in a file and set password_file, or use password_credential under systemd",
            );
        }
        if r.host.trim().is_empty() {
            self.bad(&["imap", "host"], "must not be empty");
        }
        if r.tls == TlsMode::None && !is_loopback(&r.host) {
            self.bad(
                &["imap", "tls"],
                format!("\"none\" sends the password in clear text and is allowed only for a loopback host, not {:?}; use \"implicit\" (port 993) or \"starttls\" (port 143)", r.host),
            );
        }
        for (key, name) in r.folders.iter().map(|f| ("folders", f)).chain([("drafts", &r.drafts), ("sent", &r.sent)]) {
            if name.chars().any(|c| c.is_control()) {
                self.bad(&["imap", key], format!("{name:?} holds a control character; IMAP folder names cannot"));
            }
        }
        if r.folders.is_empty() {
            self.bad(&["imap", "folders"], "list at least one folder to watch, e.g. [\"INBOX\"]");
        }
        // Only `run` logs in: a config without a password still serves
        // the commands that never connect; `run` and `check-config` say
        // it is missing (`Config::unreadable_secrets`).
        let password = self
            .secret("imap", &r.password_file, &r.password_credential)
            .or_else(|| Some(SecretRef { source: SecretSource::Missing, at: self.located(&["imap", "password_file"]), fix: PASSWORD_FIX }));
        let ca_file = self.file_ref(&["imap", "ca_file"], &r.ca_file);
        let tls_fingerprint = r.tls_fingerprint.as_ref().and_then(|f| match crate::mailbox::pinned::parse_fingerprint(f) {
            Ok(f) => Some(f),
            Err(e) => {
                self.bad(
                    &["imap", "tls_fingerprint"],
                    format!("{e}; write what `openssl x509 -noout -fingerprint -sha256 -in cert.pem` prints, after \"sha256:\""),
                );
                None
            }
        });
        let port = r.port.unwrap_or(match r.tls {
            TlsMode::Implicit => 993,
            _ => 143,
        });
        if port == 0 {
            self.bad(&["imap", "port"], "expected an integer 1–65535");
        }
        Some(ImapConfig {
            host: r.host.clone(),
            port,
            tls: r.tls,
            username: r.username.clone(),
            password: password?,
            ca_file,
            tls_fingerprint,
            folders: r.folders.clone(),
            drafts: r.drafts.clone(),
            sent: r.sent.clone(),
            poll_interval: Duration::from_secs(r.poll_interval_secs.unwrap_or(60).max(1)),
            // RFC 2177: clients must re-issue IDLE at least every 29 minutes.
            idle_renew: Duration::from_secs(r.idle_renew_secs.unwrap_or(25 * 60).clamp(1, 29 * 60)),
            timeout: Duration::from_secs(r.timeout_secs.unwrap_or(60).max(1)),
            backoff_max: Duration::from_secs(r.backoff_max_secs.unwrap_or(300).max(1)),
        })
    }

    fn irc(&mut self, r: &RawIrc) -> Option<IrcConfig> {
        if !r.channel.starts_with('#') && !r.channel.starts_with('&') {
            self.bad(&["irc", "channel"], format!("{:?} is not a channel name; write \"#support-staff\"", r.channel));
        }
        if !r.tls && !is_loopback(&r.server) {
            self.bad(&["irc", "tls"], "plain-text IRC is allowed only to a loopback server; set tls = true");
        }
        let lines_per_second = r.lines_per_second.unwrap_or(1.0);
        if !(lines_per_second > 0.0 && lines_per_second <= 100.0) {
            self.bad(
                &["irc", "lines_per_second"],
                "must be a number above 0 and at most 100; 1 keeps the bot below most servers' flood limits",
            );
        }
        let password = self.secret("irc", &r.password_file, &r.password_credential);
        let channel_key = r.channel_key_file.as_ref().map(|f| {
            self.secret_file(&["irc", "channel_key_file"], f, "write the channel key on one line into that file, readable by the service's user, or remove the key for a channel without one")
        });
        Some(IrcConfig {
            server: r.server.clone(),
            port: r.port.unwrap_or(if r.tls { 6697 } else { 6667 }),
            tls: r.tls,
            nick: r.nick.clone(),
            channel: r.channel.clone(),
            channel_key,
            password,
            sasl_username: r.sasl_username.clone(),
            ca_file: self.file_ref(&["irc", "ca_file"], &r.ca_file),
            staff: r.staff.clone(),
            staff_require_account: r.staff_require_account,
            staff_addresses: r.staff_addresses.clone(),
            allow_channel_operators: r.allow_channel_operators,
            lines_per_second,
        })
    }
}

impl ConfigCheck<'_> {
    fn webhook(&mut self, r: &RawWebhook) -> Option<WebhookConfig> {
        let url = match (&r.url, &r.url_file) {
            (Some(u), None) => SecretRef::inline(u.trim()),
            (None, Some(f)) => self.secret_file(
                &["webhook", "url_file"],
                f,
                "write the webhook URL on one line into that file, readable by the service's user, or set url instead of url_file",
            ),
            _ => {
                self.bad(&["webhook"], "set exactly one of url or url_file");
                return None;
            }
        };
        // A URL in a file is checked when it is read, by `run` and
        // `check-config`; a URL written here is checked now.
        if let Some(u) = &r.url
            && let Err(message) = check_webhook_url(u.trim())
        {
            self.bad(&["webhook", "url"], message);
            return None;
        }
        Some(WebhookConfig {
            url,
            timeout: Duration::from_secs(r.timeout_secs.unwrap_or(10).clamp(1, 300)),
        })
    }
}

/// Why `templates` has no folder `pack`: a name that is not one of the
/// packs there (a slip of the keyboard, most often), or a templates folder
/// that holds no pack at all.
fn no_pack_message(templates: &Path, pack: &str) -> String {
    let mut packs: Vec<String> = std::fs::read_dir(templates)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("procedures.toml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    if packs.is_empty() {
        return format!(
            "no pack folder {}; set procedures.templates to the folder holding sourcehut/, 2i2c/ and cacert/",
            templates.join(pack).display()
        );
    }
    packs.sort();
    let nearest = packs
        .iter()
        .map(|p| (edit_distance(&p.to_lowercase(), &pack.to_lowercase()), p))
        .min()
        .filter(|(d, p)| *d <= 2.max(p.chars().count() / 3))
        .map_or_else(|| "; set procedures.pack to one of them".to_string(), |(_, p)| format!("; did you mean {p:?}?"));
    format!("{pack:?} is not one of the packs in {}: {}{nearest}", templates.display(), packs.join(", "))
}

/// Letters to insert, delete or change to turn `a` into `b` (Levenshtein):
/// how far a misspelt name is from the one meant.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let changed = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = changed.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// A webhook URL we will post to: https, or http to a loopback host.
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => Ok(()),
        Ok(u) if u.scheme() == "http" && u.host_str().is_some_and(is_loopback) => Ok(()),
        Ok(_) => Err("must be an https:// URL (http:// only to a loopback host)".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

fn parse_nameserver(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

/// Loopback by name or address; used to allow plain text only where nothing
/// leaves the machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
        std::fs::create_dir_all(dir.path().join("templates/sourcehut")).unwrap();
        let path = dir.path().join("triaged.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    }

    const OK: &str = r#"
[imap]
host = "127.0.0.1"
port = 1143
tls = "none"
username = "support@example.org"
password_file = "pw"

[procedures]
templates = "templates"
"#;

    #[test]
    fn minimal_config_loads_with_defaults() {
        let c = load(OK).unwrap();
        assert_eq!(c.imap.folders, vec!["INBOX"]);
        assert_eq!(c.imap.drafts, "Drafts");
        assert_eq!(c.procedures.pack, "sourcehut");
        assert_eq!(c.limits.max_attempts, 3);
        assert_eq!((c.limits.max_mime_depth, c.limits.max_header_bytes, c.limits.max_attachments), (20, 256 * 1024, 100));
    }

    #[test]
    fn retention_is_off_unless_set_and_counts_days() {
        assert_eq!(load(OK).unwrap().store_retention, None);
        let kept = load(&format!("{OK}\n[store]\nretention_days = 90\n")).unwrap();
        assert_eq!(kept.store_retention, Some(Duration::from_secs(90 * 86_400)));
        let err = load(&format!("{OK}\n[store]\nretention_days = 0\n")).unwrap_err().to_string();
        assert!(err.contains("store.retention_days: must be at least 1"), "{err}");
    }

    #[test]
    fn the_store_cache_is_small_unless_set_and_bounded() {
        assert_eq!(load(OK).unwrap().store_cache_mib, DEFAULT_STORE_CACHE_MIB);
        assert_eq!(load(&format!("{OK}\n[store]\ncache_mib = 16\n")).unwrap().store_cache_mib, 16);
        let err = load(&format!("{OK}\n[store]\ncache_mib = 0\n")).unwrap_err().to_string();
        assert!(err.contains("store.cache_mib: must be between 1 and 1024"), "{err}");
    }

    #[test]
    fn the_teams_addresses_are_drafts_from_and_those_listed() {
        assert_eq!(load(OK).unwrap().intake.addresses, ["support@example.org"]);
        let c = load(&format!("{OK}\n[intake]\naddresses = [\"Help@Example.org\", \"support@example.org\"]\n")).unwrap();
        assert_eq!(c.intake.addresses, ["help@example.org", "support@example.org"]);
        let err = load(&format!("{OK}\n[intake]\naddresses = [\"Help <help@example.org>\"]\n")).unwrap_err().to_string();
        assert!(err.contains(":13: intake.addresses: \"Help <help@example.org>\" is not a mail address; write the bare address"), "{err}");
    }

    #[test]
    fn intake_server_and_support_lists() {
        let c = load(OK).unwrap();
        assert_eq!((c.intake.receiving_server, c.lists.len()), (None, 0));
        let text = format!(
            "{OK}\n[intake]\nreceiving_server = \"MX.Example.org.\"\n\n[[lists]]\nid = \"<Support.Lists.Example.org>\"\nsealers = [\"lists.example.org\"]\n"
        );
        let c = load(&text).unwrap();
        assert_eq!(c.intake.receiving_server.as_deref(), Some("mx.example.org"));
        assert_eq!(c.lists[0].id, "support.lists.example.org");
        assert_eq!((c.lists[0].sealers.as_slice(), c.lists[0].reply_to_list), (&["lists.example.org".to_string()][..], false));
        let err = load(&format!("{OK}\n[intake]\nreceiving_server = \"mx example\"\n")).unwrap_err().to_string();
        assert!(err.contains(":13: intake.receiving_server: \"mx example\" is not a host name"), "{err}");
    }

    #[test]
    fn set_aside_mail_is_told_to_staff_daily_at_nine_unless_configured() {
        assert_eq!(load(OK).unwrap().intake.aside_digest, Some(jiff::civil::time(9, 0, 0, 0)));
        let at = |v: &str| load(&format!("{OK}\n[intake]\naside_digest = \"{v}\"\n"));
        assert_eq!(at("17:30").unwrap().intake.aside_digest, Some(jiff::civil::time(17, 30, 0, 0)));
        assert_eq!(at("7:05").unwrap().intake.aside_digest, Some(jiff::civil::time(7, 5, 0, 0)));
        assert_eq!(at("off").unwrap().intake.aside_digest, None);
        for bad in ["9", "24:00", "09:60", "9am", "09:00:00", ":30", "09:5"] {
            let err = at(bad).unwrap_err().to_string();
            assert!(err.contains(&format!(":13: intake.aside_digest: {bad:?} is not a time of day; write it as \"HH:MM\"")), "{bad}: {err}");
        }
    }

    #[test]
    fn irc_flood_rate_defaults_to_one_line_a_second_and_must_be_positive() {
        let irc = "\n[irc]\nserver = \"127.0.0.1\"\ntls = false\nnick = \"triaged\"\nchannel = \"#staff\"\n";
        assert_eq!(load(&format!("{OK}{irc}")).unwrap().irc.unwrap().lines_per_second, 1.0);
        let fast = load(&format!("{OK}{irc}lines_per_second = 20\n")).unwrap();
        assert_eq!(fast.irc.unwrap().lines_per_second, 20.0);
        let err = load(&format!("{OK}{irc}lines_per_second = 0\n")).unwrap_err().to_string();
        assert!(err.contains("irc.lines_per_second: must be a number above 0"), "{err}");
    }

    /// Was `invalid type: string "60", expected u64`: no key, no fix.
    #[test]
    fn a_quoted_number_names_its_key_and_what_to_write() {
        let err = load(&OK.replace("port = 1143", "port = 1143\npoll_interval_secs = \"60\"")).unwrap_err().to_string();
        assert!(
            err.ends_with("/triaged.toml:5: imap.poll_interval_secs: expected a whole number, found string \"60\": write a whole number, e.g. poll_interval_secs = 60 (no quotes)"),
            "{err}"
        );
        let err = load(&format!("{OK}\n[irc]\nserver = \"127.0.0.1\"\ntls = \"no\"\n")).unwrap_err().to_string();
        assert!(err.contains("irc.tls: expected true or false, found string \"no\": write true or false, e.g. tls = true (no quotes)"), "{err}");
    }

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let err = load(&OK.replace("port = 1143", "port = 1143\nprot = 3")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:5:"), "{err}");
        assert!(err.contains("unknown field `prot`"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported_with_its_line() {
        let err = load(&OK.replace("port = 1143", "port = \"imaps\"")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:4: imap.port: expected a whole number, found string \"imaps\": write a whole number, without quotes"), "{err}");
    }

    #[test]
    fn plaintext_to_a_remote_host_is_refused() {
        let err = load(&OK.replace("127.0.0.1", "imap.example.org")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:5: imap.tls"), "{err}");
    }

    #[test]
    fn inline_password_is_refused_and_all_problems_are_listed() {
        let text = OK.replace("password_file = \"pw\"", "password = \"hunter2\"");
        let err = load(&text).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:7: imap.password: passwords are never written"), "{err}");
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn a_config_without_a_password_serves_the_commands_that_never_connect() {
        let c = load(&OK.replace("password_file = \"pw\"\n", "")).unwrap();
        let missing: Vec<String> = c.unreadable_secrets().into_iter().map(|u| u.problem.to_string()).collect();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].contains("imap.password_file: missing: `triaged run` needs it"), "{missing:?}");
    }

    #[test]
    fn password_file_is_read_at_each_use() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates/sourcehut")).unwrap();
        let path = dir.path().join("triaged.toml");
        std::fs::write(&path, OK).unwrap();
        let c = Config::load(&path).unwrap();
        std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
        assert_eq!(c.imap.password.read().unwrap().expose(), "secret");
        std::fs::write(dir.path().join("pw"), "rotated\n").unwrap();
        assert_eq!(c.imap.password.read().unwrap().expose(), "rotated");
    }

    #[test]
    fn missing_password_file_is_reported_only_when_read() {
        let c = load(&OK.replace("\"pw\"", "\"nope\"")).unwrap();
        let err = c.imap.password.read().unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        assert!(err.contains(":7: imap.password_file: cannot read"), "{err}");
        assert!(err.contains("`triaged run` needs it"), "{err}");
        let unreadable = c.unreadable_secrets();
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        assert!(!unreadable[0].credential);
    }

    #[test]
    fn a_missing_trust_root_loads_and_is_told_by_run_check_config_and_where_it_is_read() {
        let irc = "\n[irc]\nserver = \"127.0.0.1\"\ntls = false\nnick = \"triaged\"\nchannel = \"#staff\"\nca_file = \"irc-ca.pem\"\n";
        let text = OK.replace("password_file = \"pw\"", "password_file = \"pw\"\nca_file = \"ca.pem\"")
            + "[identity]\nweb_ca_file = \"web-ca.pem\"\n"
            + irc;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
        std::fs::create_dir_all(dir.path().join("templates/sourcehut")).unwrap();
        let c = Config::from_str_at(&text, &dir.path().join("triaged.toml")).unwrap();
        let missing: Vec<String> = c.missing_files().iter().map(|p| p.to_string()).collect();
        let fix = "does not exist or is not a file; fix the path or remove the key";
        assert_eq!(missing.len(), 3, "{missing:?}");
        assert!(missing[0].contains(":8: imap.ca_file: ") && missing[0].contains(&format!("ca.pem {fix}")), "{missing:?}");
        assert!(missing[1].contains(":20: irc.ca_file: ") && missing[1].contains(&format!("irc-ca.pem {fix}")), "{missing:?}");
        assert!(missing[2].contains(":13: identity.web_ca_file: ") && missing[2].contains(&format!("web-ca.pem {fix}")), "{missing:?}");
        // Connecting says the same, not a bare I/O error.
        let err = crate::mailbox::tls::client_config(c.imap.ca_file.as_ref(), None).unwrap_err().to_string();
        assert_eq!(err, missing[0]);
        assert_eq!(c.irc.as_ref().unwrap().ca_file.as_ref().unwrap().read().unwrap_err().to_string(), missing[1]);
        // A file there but not PEM is told at the same line.
        std::fs::write(dir.path().join("ca.pem"), "not a certificate\n").unwrap();
        let err = crate::mailbox::tls::client_config(c.imap.ca_file.as_ref(), None).unwrap_err().to_string();
        assert!(err.contains(":8: imap.ca_file: ") && err.contains("holds no usable certificate"), "{err}");
    }

    #[test]
    fn the_account_directory_is_still_checked_at_load() {
        let err = load(&format!("{OK}[identity]\naccounts = \"accounts.toml\"\n")).unwrap_err().to_string();
        assert!(err.contains(":12: identity.accounts: ") && err.contains("accounts.toml does not exist or is not a file"), "{err}");
    }

    #[test]
    fn an_unreadable_secret_file_says_what_fits_its_key() {
        let irc = "\n[irc]\nserver = \"127.0.0.1\"\ntls = false\nnick = \"triaged\"\nchannel = \"#staff\"\nchannel_key_file = \"no-key\"\n";
        let text = OK.replace("\"pw\"", "\"no-pw\"") + irc + "[webhook]\nurl_file = \"no-hook\"\n";
        let c = load(&text).unwrap();
        let said: Vec<String> = c.unreadable_secrets().iter().map(|u| u.problem.to_string()).collect();
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(said[0].contains("imap.password_file: cannot read") && said[0].contains("or use password_credential under systemd"), "{said:?}");
        assert!(said[1].contains("irc.channel_key_file: cannot read") && said[1].contains("write the channel key on one line"), "{said:?}");
        assert!(said[2].contains("webhook.url_file: cannot read") && said[2].contains("or set url instead of url_file"), "{said:?}");
        for s in &said[1..] {
            assert!(!s.contains("password_credential"), "{s}");
        }
    }

    #[test]
    fn a_pack_name_not_in_the_templates_folder_is_named_with_the_packs_there() {
        let dir = tempfile::tempdir().unwrap();
        for pack in ["sourcehut", "cacert", "2i2c"] {
            std::fs::create_dir_all(dir.path().join("templates").join(pack)).unwrap();
            std::fs::write(dir.path().join("templates").join(pack).join("procedures.toml"), "").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let path = dir.path().join("triaged.toml");
        let at = |text: &str| Config::from_str_at(text, &path).unwrap_err().to_string();
        let templates = dir.path().join("templates").display().to_string();
        let err = at(&format!("{OK}pack = \"sorucehut\"\n"));
        assert!(
            err.contains(&format!(":11: procedures.pack: \"sorucehut\" is not one of the packs in {templates}: 2i2c, cacert, sourcehut; did you mean \"sourcehut\"?")),
            "{err}"
        );
        let err = at(&format!("{OK}pack = \"billing\"\n"));
        assert!(err.contains("\"billing\" is not one of the packs in") && err.ends_with("2i2c, cacert, sourcehut; set procedures.pack to one of them"), "{err}");
        // A templates folder with no pack in it is the folder to fix.
        let err = at(&OK.replace("templates = \"templates\"", "templates = \"empty\""));
        assert!(err.contains("no pack folder") && err.contains("set procedures.templates to the folder holding sourcehut/"), "{err}");
        assert_eq!((edit_distance("sorucehut", "sourcehut"), edit_distance("", "abc"), edit_distance("2i2c", "2i2c")), (2, 3, 0));
    }

    #[test]
    fn credential_outside_systemd_loads_and_says_where_it_is_read() {
        let text = OK.replace("password_file = \"pw\"", "password_credential = \"imap\"");
        let c = load(&text).unwrap();
        let unreadable = c.unreadable_secrets();
        if std::env::var_os("CREDENTIALS_DIRECTORY").is_none() {
            assert_eq!(unreadable.len(), 1);
            assert!(unreadable[0].credential);
            let msg = unreadable[0].problem.to_string();
            assert!(msg.contains(":7: imap.password_credential: CREDENTIALS_DIRECTORY is not set"), "{msg}");
            assert!(msg.contains("LoadCredential=imap:"), "{msg}");
        }
    }

    #[test]
    fn workers_default_to_cores_up_to_four_and_are_bounded() {
        let c = load(OK).unwrap();
        assert_eq!(c.workers, default_workers());
        assert!((1..=4).contains(&c.workers));
        assert_eq!(load(&format!("{OK}[daemon]\nworkers = 2\n")).unwrap().workers, 2);
        let err = load(&format!("{OK}[daemon]\nworkers = 0\n")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:12: daemon.workers: must be 1 to 16"), "{err}");
    }

    #[test]
    fn learning_is_on_by_default_and_checked() {
        assert_eq!(load(OK).unwrap().learning, LearningConfig::default());
        let err = load(&format!("{OK}[learning]\nenabled = false\nmin_probability = 0.3\nmin_examples = 0\n")).unwrap_err().to_string();
        assert!(err.contains("learning.min_probability") && err.contains("learning.min_examples"), "{err}");
    }

    #[test]
    fn bad_timezone_and_nameserver() {
        let text = format!("{OK}timezone = \"Mars/Olympus\"\n[dns]\nnameservers = [\"nope\"]\n");
        let err = load(&text).unwrap_err().to_string();
        assert!(err.contains("procedures.timezone"), "{err}");
        assert!(err.contains("dns.nameservers"), "{err}");
    }

    #[test]
    fn lists_are_read_and_bad_ones_named_with_their_line() {
        let text = format!(
            "{OK}\n[[lists]]\nid = \"<SR.HT-support.lists.example.org>\"\nsealers = [\"Lists.Example.org.\"]\nreply_to_list = true\n"
        );
        let c = load(&text).unwrap();
        assert_eq!(
            c.lists,
            vec![ListConfig { id: "sr.ht-support.lists.example.org".into(), sealers: vec!["lists.example.org".into()], reply_to_list: true }]
        );
        assert!(load(OK).unwrap().lists.is_empty());
        let bad = format!("{OK}\n[[lists]]\nid = \"support\"\nsealers = []\n[[lists]]\nid = \"a.b\"\nsealers = [\"not a domain\"]\n");
        let err = load(&bad).unwrap_err().to_string();
        assert!(err.contains("lists[0].id: \"support\" is not a List-Id"), "{err}");
        assert!(err.contains("lists[0].sealers: no sealer"), "{err}");
        assert!(err.contains("lists[1].sealers[0]: \"not a domain\" is not a domain name"), "{err}");
        assert!(err.contains("triaged.toml:"), "{err}");
    }
}
