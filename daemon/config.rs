//! Configuration: the TOML file as written (`Raw*`, serde, unknown keys
//! rejected) turned into a validated [`Config`] (paths resolved against the
//! config file's folder, secrets read from files). Every problem is reported
//! with `file:line` and what to do about it, all at once, the way a compiler
//! would. Secrets are never accepted inline.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::locate::{Locator, Seg, keys};

/// One problem in the config file, located.
#[derive(Debug, Clone)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

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
    pub irc: Option<RawIrc>,
    pub webhook: Option<RawWebhook>,
    #[serde(default)]
    pub lists: Vec<RawList>,
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
    pub dns: DnsConfig,
    pub identity: IdentityConfig,
    pub procedures: ProceduresConfig,
    pub draft: DraftConfig,
    pub limits: Limits,
    pub irc: Option<IrcConfig>,
    pub webhook: Option<WebhookConfig>,
    /// Mailing lists whose ARC seal the team trusts (`[[lists]]`).
    pub lists: Vec<ListConfig>,
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
    pub password: Secret,
    pub ca_file: Option<PathBuf>,
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

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
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
    pub web_ca_file: Option<PathBuf>,
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

#[derive(Clone)]
pub struct IrcConfig {
    pub server: String,
    pub port: u16,
    pub tls: bool,
    pub nick: String,
    pub channel: String,
    pub channel_key: Option<Secret>,
    pub password: Option<Secret>,
    pub sasl_username: Option<String>,
    pub ca_file: Option<PathBuf>,
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
    pub url: Secret,
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
        let locator = Locator::new(text, path);
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            problems: vec![locator.toml_error(&e)],
        })?;
        let mut v = Validator {
            locator: &locator,
            base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            problems: Vec::new(),
        };
        let config = v.validate(raw);
        if v.problems.is_empty() {
            Ok(config.expect("validated config without problems"))
        } else {
            Err(ConfigError::Invalid {
                problems: v.problems,
            })
        }
    }
}

struct Validator<'a> {
    locator: &'a Locator<'a>,
    base: PathBuf,
    problems: Vec<Problem>,
}

impl Validator<'_> {
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

    fn existing_file(&mut self, path: &[&str], value: &Option<String>) -> Option<PathBuf> {
        let value = value.as_ref()?;
        let resolved = self.resolve(value);
        if !resolved.is_file() {
            self.bad(
                path,
                format!("{} does not exist or is not a file; fix the path or remove the key", resolved.display()),
            );
        }
        Some(resolved)
    }

    /// A secret from `*_file` or from a systemd credential.
    fn secret(
        &mut self,
        section: &str,
        file: &Option<String>,
        credential: &Option<String>,
    ) -> Option<Secret> {
        let read = |p: &Path| -> Result<Secret, std::io::Error> {
            let s = std::fs::read_to_string(p)?;
            Ok(Secret(s.trim_end_matches(['\r', '\n']).to_string()))
        };
        if let Some(f) = file {
            let p = self.resolve(f);
            return match read(&p) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.bad(
                        &[section, "password_file"],
                        format!("cannot read {}: {e}; create it with the password on one line, readable only by triaged's user", p.display()),
                    );
                    None
                }
            };
        }
        if let Some(name) = credential {
            let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                self.bad(
                    &[section, "password_credential"],
                    "CREDENTIALS_DIRECTORY is not set: run under systemd with LoadCredential=, or use password_file",
                );
                return None;
            };
            let p = Path::new(&dir).join(name);
            return match read(&p) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.bad(
                        &[section, "password_credential"],
                        format!("cannot read credential {}: {e}", p.display()),
                    );
                    None
                }
            };
        }
        None
    }

    fn validate(&mut self, raw: RawConfig) -> Option<Config> {
        let imap = self.imap(&raw.imap);
        let store_path = self.resolve(raw.store.path.as_deref().unwrap_or("/var/lib/triaged"));

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
            web_ca_file: self.existing_file(&["identity", "web_ca_file"], &raw.identity.web_ca_file),
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
            self.bad(
                &["procedures", "pack"],
                format!(
                    "no pack folder {}; set procedures.templates to the folder holding sourcehut/, 2i2c/ and cacert/",
                    templates.join(&pack).display()
                ),
            );
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

        let irc = raw.irc.as_ref().and_then(|r| self.irc(r));
        let webhook = raw.webhook.as_ref().and_then(|r| self.webhook(r));
        let lists = self.lists(&raw.lists);

        Some(Config {
            source: self.locator.file.clone(),
            imap: imap?,
            store_path,
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
            irc,
            webhook,
            lists,
        })
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
        let password = self.secret("imap", &r.password_file, &r.password_credential);
        if r.password_file.is_none() && r.password_credential.is_none() {
            self.bad(
                &["imap", "password_file"],
                "missing: set password_file = \"/path/to/file\" (or password_credential under systemd)",
            );
        }
        let ca_file = self.existing_file(&["imap", "ca_file"], &r.ca_file);
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
        let channel_key = match &r.channel_key_file {
            Some(f) => {
                let p = self.resolve(f);
                match std::fs::read_to_string(&p) {
                    Ok(s) => Some(Secret(s.trim().to_string())),
                    Err(e) => {
                        self.bad(&["irc", "channel_key_file"], format!("cannot read {}: {e}", p.display()));
                        None
                    }
                }
            }
            None => None,
        };
        Some(IrcConfig {
            server: r.server.clone(),
            port: r.port.unwrap_or(if r.tls { 6697 } else { 6667 }),
            tls: r.tls,
            nick: r.nick.clone(),
            channel: r.channel.clone(),
            channel_key,
            password,
            sasl_username: r.sasl_username.clone(),
            ca_file: self.existing_file(&["irc", "ca_file"], &r.ca_file),
            staff: r.staff.clone(),
            staff_require_account: r.staff_require_account,
            staff_addresses: r.staff_addresses.clone(),
            allow_channel_operators: r.allow_channel_operators,
            lines_per_second,
        })
    }
}

impl Validator<'_> {
    fn webhook(&mut self, r: &RawWebhook) -> Option<WebhookConfig> {
        let url = match (&r.url, &r.url_file) {
            (Some(u), None) => u.trim().to_string(),
            (None, Some(f)) => {
                let p = self.resolve(f);
                match std::fs::read_to_string(&p) {
                    Ok(s) => s.trim().to_string(),
                    Err(e) => {
                        self.bad(&["webhook", "url_file"], format!("cannot read {}: {e}", p.display()));
                        return None;
                    }
                }
            }
            _ => {
                self.bad(&["webhook"], "set exactly one of url or url_file");
                return None;
            }
        };
        let key = if r.url.is_some() { "url" } else { "url_file" };
        match reqwest::Url::parse(&url) {
            Ok(u) if u.scheme() == "https" => {}
            Ok(u) if u.scheme() == "http" && u.host_str().is_some_and(is_loopback) => {}
            Ok(_) => {
                self.bad(&["webhook", key], "must be an https:// URL (http:// only to a loopback host)");
                return None;
            }
            Err(e) => {
                self.bad(&["webhook", key], format!("not a URL: {e}"));
                return None;
            }
        }
        Some(WebhookConfig {
            url: Secret(url),
            timeout: Duration::from_secs(r.timeout_secs.unwrap_or(10).clamp(1, 300)),
        })
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
        assert_eq!(c.imap.password.expose(), "secret");
        assert_eq!(c.imap.folders, vec!["INBOX"]);
        assert_eq!(c.imap.drafts, "Drafts");
        assert_eq!(c.procedures.pack, "sourcehut");
        assert_eq!(c.limits.max_attempts, 3);
        assert_eq!((c.limits.max_mime_depth, c.limits.max_header_bytes, c.limits.max_attachments), (20, 256 * 1024, 100));
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

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let err = load(&OK.replace("port = 1143", "port = 1143\nprot = 3")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:5:"), "{err}");
        assert!(err.contains("unknown field `prot`"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported_with_its_line() {
        let err = load(&OK.replace("port = 1143", "port = \"imaps\"")).unwrap_err().to_string();
        assert!(err.contains("triaged.toml:4:"), "{err}");
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
        assert!(err.contains("imap.password_file: missing"), "{err}");
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn missing_password_file_names_the_path() {
        let err = load(&OK.replace("\"pw\"", "\"nope\"")).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        assert!(err.contains(":7: imap.password_file"), "{err}");
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
