//! The IMAP side: one session, TLS by default, what the sync loop needs and
//! nothing more. Messages are fetched with `BODY.PEEK[]` so `\Seen` is never
//! touched; progress lives in the store as UIDVALIDITY + last UID, never in
//! flags on the server.

pub mod pinned;
pub mod plans;
pub mod tls;

use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use futures::TryStreamExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::config::{ImapConfig, TlsMode};

/// Largest piece of a message body one FETCH response carries.
const SLICE: usize = 1 << 20;
pub use tls::ImapStream;

type Session = async_imap::Session<ImapStream>;

/// The flags of an appended draft: a draft, and not unread mail.
const DRAFT_FLAGS: &str = "(\\Seen \\Draft)";

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("cannot connect to {addr}: {source} (is the server up and the host/port in [imap] right?)")]
    Connect { addr: String, source: std::io::Error },
    #[error("TLS with {host} failed: {source} (for a private CA, or the server's own self-signed certificate, set imap.ca_file; or pin it with imap.tls_fingerprint)")]
    Tls { host: String, source: std::io::Error },
    #[error(transparent)]
    TlsSetup(#[from] tls::TlsSetupError),
    #[error("imap: {host} refused the login for {user}: {said}; check imap.username and the password ({password_at})")]
    Login {
        host: String,
        user: String,
        /// What the server said, as it said it (`[AUTHENTICATIONFAILED] ...`).
        said: String,
        /// The config line that names the password.
        password_at: String,
    },
    #[error("{0}")]
    Password(crate::config::Problem),
    #[error("{host} does not offer STARTTLS; use tls = \"implicit\" on port 993")]
    NoStartTls { host: String },
    #[error("{0} timed out; the server is not answering")]
    Timeout(&'static str),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("folder {folder:?} has no UIDVALIDITY; the server is not RFC 3501 compliant")]
    NoUidValidity { folder: String },
}

impl MailboxError {
    /// Whether trying again cannot help until someone changes the password
    /// or the account: the server said the credentials are wrong, or the
    /// password file cannot be read. A refusal without such a code, or one
    /// saying the server is busy (`[UNAVAILABLE]`), may pass.
    pub fn needs_the_operator(&self) -> bool {
        match self {
            MailboxError::Login { said, .. } => refuses_the_credentials(said),
            MailboxError::Password(_) => true,
            _ => false,
        }
    }
}

/// RFC 5530 sec 3: AUTHENTICATIONFAILED (wrong user or password),
/// AUTHORIZATIONFAILED (right password, no access) and EXPIRED (the
/// password must be changed) stay so until someone acts; UNAVAILABLE,
/// INUSE and a NO without a code can be transient.
fn refuses_the_credentials(said: &str) -> bool {
    // Response codes are atoms, read in any case (RFC 3501, 9).
    let code = said.trim_start().strip_prefix('[').and_then(|s| s.split_once(']')).map(|(code, _)| code.to_ascii_uppercase());
    matches!(code.as_deref(), Some("AUTHENTICATIONFAILED" | "AUTHORIZATIONFAILED" | "EXPIRED"))
}

/// The server's words in an error async-imap formats as
/// `code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")`;
/// any other error as it displays.
fn server_said(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    let (Error::No(detail) | Error::Bad(detail)) = e else {
        return e.to_string();
    };
    let info = detail
        .split_once(", info: Some(\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .map(|quoted| quoted.replace("\\\"", "\"").replace("\\\\", "\\"));
    match info {
        Some(info) if !info.trim().is_empty() => info.trim().to_string(),
        _ if detail.contains("info: None") => "(no reason given)".to_string(),
        _ => detail.clone(),
    }
}

/// What SELECT told us about a folder.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    pub validity: u32,
    pub exists: u32,
}

/// A new message waiting in the selected folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub uid: u32,
    pub size: u64,
}

/// Why an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    Changed,
    Renew,
    Cancelled,
}

pub struct Connection {
    session: Session,
    idle: bool,
    /// MULTIAPPEND (RFC 3502) with LITERAL+ (RFC 7888): a batch of drafts
    /// in one command and one round trip.
    multiappend: bool,
    timeout: Duration,
}

struct Plain<'a> {
    user: &'a str,
    password: &'a str,
}

impl async_imap::Authenticator for Plain<'_> {
    type Response = Vec<u8>;
    // RFC 4616: authzid NUL authcid NUL passwd.
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.user, self.password).into_bytes()
    }
}

async fn timed<T, E: Into<MailboxError>>(
    limit: Duration,
    what: &'static str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, MailboxError> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(MailboxError::Timeout(what)),
    }
}

impl Connection {
    pub async fn open(cfg: &ImapConfig) -> Result<Connection, MailboxError> {
        let addr = format!("{}:{}", cfg.host, cfg.port);
        let tcp = tokio::time::timeout(cfg.timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| MailboxError::Timeout("TCP connect"))?
            .map_err(|source| MailboxError::Connect {
                addr: addr.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let tls_err = |source| MailboxError::Tls {
            host: cfg.host.clone(),
            source,
        };
        let stream = match cfg.tls {
            TlsMode::Implicit => {
                let tc = tls::client_config(cfg.ca_file.as_ref(), cfg.tls_fingerprint)?;
                timed(cfg.timeout, "TLS handshake", async {
                    tls::wrap(tc, &cfg.host, tcp).await.map_err(tls_err)
                })
                .await?
            }
            TlsMode::None | TlsMode::Starttls => ImapStream::Plain(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        timed(cfg.timeout, "server greeting", async {
            client
                .read_response()
                .await
                .map_err(|e| MailboxError::Imap(e.into()))
        })
        .await?;
        if cfg.tls == TlsMode::Starttls {
            timed(cfg.timeout, "STARTTLS", client.run_command_and_check_ok("STARTTLS", None))
                .await
                .map_err(|_| MailboxError::NoStartTls {
                    host: cfg.host.clone(),
                })?;
            let ImapStream::Plain(tcp) = client.into_inner() else {
                unreachable!("STARTTLS starts from a plain stream")
            };
            let tc = tls::client_config(cfg.ca_file.as_ref(), cfg.tls_fingerprint)?;
            let stream = timed(cfg.timeout, "TLS handshake", async {
                tls::wrap(tc, &cfg.host, tcp).await.map_err(tls_err)
            })
            .await?;
            client = async_imap::Client::new(stream);
        }
        let login_err = |e: &async_imap::error::Error| MailboxError::Login {
            host: cfg.host.clone(),
            user: cfg.username.clone(),
            said: server_said(e),
            password_at: cfg.password.configured_at(),
        };
        // Read at each login: a rotated password is used from the next one.
        let password = cfg.password.read().map_err(MailboxError::Password)?;
        let auth = Plain {
            user: &cfg.username,
            password: password.expose(),
        };
        let mut session = match tokio::time::timeout(cfg.timeout, client.authenticate("PLAIN", auth)).await {
            Err(_) => return Err(MailboxError::Timeout("login")),
            Ok(Ok(s)) => s,
            // The same password would be refused again by LOGIN, after
            // another of the server's failure delays.
            Ok(Err((e, _))) if refuses_the_credentials(&server_said(&e)) => return Err(login_err(&e)),
            // Servers without SASL PLAIN still speak LOGIN (RFC 3501 6.2.3).
            Ok(Err((_, client))) => timed(cfg.timeout, "login", async {
                client
                    .login(&cfg.username, password.expose())
                    .await
                    .map_err(|(e, _)| login_err(&e))
            })
            .await?,
        };
        let caps = timed(cfg.timeout, "CAPABILITY", session.capabilities()).await?;
        let idle = caps.has_str("IDLE");
        let multiappend = caps.has_str("MULTIAPPEND") && caps.has_str("LITERAL+");
        Ok(Connection {
            session,
            idle,
            multiappend,
            timeout: cfg.timeout,
        })
    }

    pub fn supports_idle(&self) -> bool {
        self.idle
    }

    /// Whether the server reported more messages in the selected folder
    /// (an EXISTS or RECENT among the responses to our own commands) since
    /// it was selected. Mail that arrives during a sync pass is reported
    /// that way, and IDLE would not report it again: without a look here
    /// it waited for the next arrival or the IDLE renewal, up to 29 min.
    pub fn more_mail_reported(&mut self) -> bool {
        let mut more = false;
        while let Ok(r) = self.session.unsolicited_responses.try_recv() {
            more |= matches!(r, async_imap::types::UnsolicitedResponse::Exists(_) | async_imap::types::UnsolicitedResponse::Recent(_));
        }
        more
    }

    pub async fn select(&mut self, folder: &str) -> Result<Selected, MailboxError> {
        // What was reported about the folder before is about to be read.
        self.more_mail_reported();
        let mb = timed(self.timeout, "SELECT", self.session.select(folder)).await?;
        let validity = mb.uid_validity.ok_or_else(|| MailboxError::NoUidValidity {
            folder: folder.into(),
        })?;
        Ok(Selected {
            validity,
            exists: mb.exists,
        })
    }

    /// Creates `folder`; an error when the server refuses (it may exist).
    pub async fn create(&mut self, folder: &str) -> Result<(), MailboxError> {
        timed(self.timeout, "CREATE", self.session.create(folder)).await
    }

    /// UIDs and sizes of the messages after `last_uid`, oldest first.
    pub async fn waiting(&mut self, last_uid: u32) -> Result<Vec<Waiting>, MailboxError> {
        let set = format!("{}:*", last_uid.saturating_add(1));
        let timeout = self.timeout;
        let mut out: Vec<Waiting> = timed(timeout, "UID FETCH sizes", async {
            // Each response keeps its own read buffer alive: collected
            // whole, 10,000 of them held 60 MiB for a few bytes of data.
            let stream = self.session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
            stream
                .try_filter_map(|f| async move {
                    Ok(f.uid.map(|uid| Waiting {
                        uid,
                        size: u64::from(f.size.unwrap_or(0)),
                    }))
                })
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        // "N:*" always includes the highest UID, even when it is below N
        // (RFC 3501 6.4.8).
        out.retain(|w| w.uid > last_uid);
        out.sort_by_key(|w| w.uid);
        out.dedup_by_key(|w| w.uid);
        Ok(out)
    }

    /// The exact bytes of one message, without setting `\Seen`. `None` when
    /// it was expunged meanwhile.
    pub async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, MailboxError> {
        Ok(self.bodies(&uid.to_string()).await?.into_iter().find(|(u, _)| *u == uid).map(|(_, b)| b))
    }

    /// The exact bytes of several messages in one UID FETCH, without
    /// setting `\Seen`; expunged ones are simply absent.
    pub async fn fetch_many(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, MailboxError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        self.bodies(&set).await
    }

    /// Bodies come in slices of at most `SLICE` bytes, each copied into one
    /// buffer sized from RFC822.SIZE and freed at once: a message is held
    /// whole only once. Fetched in one piece, the IMAP reader's buffer and
    /// our copy of it were both alive, so a 27 MB message cost 55 MB.
    async fn bodies(&mut self, set: &str) -> Result<Vec<(u32, Vec<u8>)>, MailboxError> {
        let timeout = self.timeout;
        let first = timed(timeout, "UID FETCH bodies", async {
            let query = format!("(UID RFC822.SIZE BODY.PEEK[]<0.{SLICE}>)");
            let stream = self.session.uid_fetch(set, &query).await?;
            stream
                .try_filter_map(|f| async move {
                    Ok(f.uid.zip(f.body()).map(|(uid, b)| {
                        let size = f.size.map_or(0, |s| s as usize).max(b.len());
                        let mut body = Vec::with_capacity(size);
                        body.extend_from_slice(b);
                        (uid, body, size)
                    }))
                })
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        let mut out = Vec::with_capacity(first.len());
        'messages: for (uid, mut body, size) in first {
            while body.len() < size {
                let query = format!("(UID BODY.PEEK[]<{}.{SLICE}>)", body.len());
                // Each slice goes straight from the response onto the body,
                // not through a copy of its own: one SLICE less on the heap
                // beside the largest message, though not less resident
                // memory at the peak (docs/BENCHMARKS.md, "Where the
                // realistic backlog's base is now").
                let appended = timed(timeout, "UID FETCH body slice", async {
                    let mut stream = std::pin::pin!(self.session.uid_fetch(uid.to_string(), &query).await?);
                    let mut appended = None;
                    // Read to the end: the session is usable again only
                    // once the command's last response has been read.
                    while let Some(f) = stream.try_next().await? {
                        if appended.is_none() && f.uid == Some(uid) && let Some(b) = f.body() {
                            body.extend_from_slice(b);
                            appended = Some(b.len());
                        }
                    }
                    Ok::<_, async_imap::error::Error>(appended)
                })
                .await?;
                match appended {
                    // Expunged between slices: a truncated message must
                    // never be handled as if it were the whole one.
                    None => continue 'messages,
                    // The server has no more than this after all.
                    Some(0) => break,
                    Some(_) => {}
                }
            }
            out.push((uid, body));
        }
        Ok(out)
    }

    /// Adds keywords to a message of the selected folder, for mail clients
    /// to show (Thunderbird shows them as tags). Best effort: a server that
    /// does not allow keywords just refuses, and that is logged, not fatal.
    pub async fn add_keywords(&mut self, uids: &[u32], keywords: &[String]) -> Result<(), MailboxError> {
        self.store_keywords(uids, '+', keywords).await
    }

    pub async fn remove_keywords(&mut self, uids: &[u32], keywords: &[String]) -> Result<(), MailboxError> {
        self.store_keywords(uids, '-', keywords).await
    }

    /// One UID STORE for many messages: keywords cost a round trip per
    /// batch, not per message.
    async fn store_keywords(&mut self, uids: &[u32], sign: char, keywords: &[String]) -> Result<(), MailboxError> {
        let atoms: Vec<&str> = keywords
            .iter()
            .map(String::as_str)
            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
            .collect();
        if atoms.is_empty() || uids.is_empty() {
            return Ok(());
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let query = format!("{sign}FLAGS.SILENT ({})", atoms.join(" "));
        let timeout = self.timeout;
        let r = timed(timeout, "UID STORE", async {
            let stream = self.session.uid_store(&set, &query).await?;
            stream.try_for_each(|_| async { Ok(()) }).await
        })
        .await;
        match r {
            Err(MailboxError::Imap(async_imap::error::Error::No(e) | async_imap::error::Error::Bad(e))) => {
                tracing::debug!(set, "keywords not stored: {e}");
                Ok(())
            }
            other => other,
        }
    }

    /// Appends drafts, flagged \\Draft and \\Seen (a draft is not new
    /// mail to the staff reading the folder): in one MULTIAPPEND command
    /// when the server offers it (one round trip and, on Dovecot, one index
    /// update for the batch), else one APPEND each. Creates the folder when
    /// it is missing.
    pub async fn append_drafts(&mut self, mailbox: &str, drafts: &[&[u8]]) -> Result<(), MailboxError> {
        // Literals go into the command text, which must be UTF-8; lettre's
        // output is 7-bit, but check rather than assume.
        let batchable = self.multiappend && drafts.len() > 1 && drafts.iter().all(|d| d.is_ascii() && !d.contains(&0));
        if !batchable {
            for d in drafts {
                self.append_draft(mailbox, d).await?;
            }
            return Ok(());
        }
        let mut cmd = format!("APPEND {}", quote(mailbox));
        for d in drafts {
            cmd.push_str(&format!(" {DRAFT_FLAGS} {{{}+}}\r\n", d.len()));
            cmd.push_str(std::str::from_utf8(d).expect("checked ASCII"));
        }
        let bytes: usize = drafts.iter().map(|d| d.len()).sum();
        // Big batches take longer to write; allow for a slow 1 MB/s.
        let limit = self.timeout + Duration::from_secs((bytes / 1_000_000) as u64);
        match timed(limit, "MULTIAPPEND", self.session.run_command_and_check_ok(&cmd)).await {
            Err(MailboxError::Imap(async_imap::error::Error::No(_))) => {
                if timed(self.timeout, "CREATE", self.session.create(mailbox)).await.is_ok() {
                    tracing::info!(mailbox, "created the drafts folder");
                }
                timed(limit, "MULTIAPPEND", self.session.run_command_and_check_ok(&cmd)).await
            }
            other => other,
        }
    }

    /// Appends a draft, creating the folder when the append fails and the
    /// folder is missing (RFC 3501 6.3.11, TRYCREATE).
    pub async fn append_draft(&mut self, mailbox: &str, bytes: &[u8]) -> Result<(), MailboxError> {
        let flags = Some(DRAFT_FLAGS);
        match timed(self.timeout, "APPEND", self.session.append(mailbox, flags, None, bytes)).await {
            Err(MailboxError::Imap(async_imap::error::Error::Append | async_imap::error::Error::No(_))) => {
                // CREATE fails harmlessly when the folder exists; then the
                // second APPEND reports the real problem.
                if timed(self.timeout, "CREATE", self.session.create(mailbox)).await.is_ok() {
                    tracing::info!(mailbox, "created the drafts folder");
                }
                timed(self.timeout, "APPEND", self.session.append(mailbox, flags, None, bytes)).await
            }
            other => other,
        }
    }

    /// Whether `mailbox` already holds a message with this Message-ID; a
    /// missing mailbox holds nothing. Leaves `mailbox` examined (read-only).
    pub async fn contains_message_id(&mut self, mailbox: &str, message_id: &str) -> Result<bool, MailboxError> {
        match timed(self.timeout, "EXAMINE", self.session.examine(mailbox)).await {
            Ok(_) => {}
            Err(MailboxError::Imap(async_imap::error::Error::No(_))) => return Ok(false),
            Err(e) => return Err(e),
        }
        // Message-IDs we make hold no quote or backslash, so the quoted
        // string needs no escaping.
        let query = format!("HEADER Message-ID \"<{message_id}>\"");
        let found = timed(self.timeout, "UID SEARCH", self.session.uid_search(query)).await?;
        Ok(!found.is_empty())
    }

    /// Removes from `mailbox` the messages with this Message-ID whose bytes
    /// hash to `sha256` (a draft of ours, untouched); a copy with other
    /// bytes (staff edited it) is left where it is. Leaves `mailbox`
    /// selected: the caller selects its own folder again before reading it.
    pub async fn withdraw_draft(&mut self, mailbox: &str, message_id: &str, sha256: &str) -> Result<Withdrawal, MailboxError> {
        use sha2::Digest;
        match timed(self.timeout, "SELECT", self.session.select(mailbox)).await {
            Ok(_) => {}
            Err(MailboxError::Imap(async_imap::error::Error::No(_))) => return Ok(Withdrawal::Absent),
            Err(e) => return Err(e),
        }
        let query = format!("HEADER Message-ID \"<{message_id}>\"");
        let found: Vec<u32> = timed(self.timeout, "UID SEARCH", self.session.uid_search(query)).await?.into_iter().collect();
        let bodies = self.fetch_many(&found).await?;
        let ours: Vec<u32> = bodies
            .iter()
            .filter(|(_, b)| hex(&sha2::Sha256::digest(b)) == sha256)
            .map(|(uid, _)| *uid)
            .collect();
        if !ours.is_empty() {
            let set = ours.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let timeout = self.timeout;
            timed(timeout, "UID STORE \\Deleted", async {
                let stream = self.session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?;
                stream.try_for_each(|_| async { Ok(()) }).await
            })
            .await?;
            timed(timeout, "UID EXPUNGE", async {
                let stream = self.session.uid_expunge(&set).await?;
                stream.try_for_each(|_| async { Ok(()) }).await
            })
            .await?;
        }
        Ok(match (ours.is_empty(), ours.len() < bodies.len()) {
            (_, true) => Withdrawal::Edited,
            (true, false) => Withdrawal::Absent,
            (false, false) => Withdrawal::Removed,
        })
    }

    /// Waits in IDLE (RFC 2177) until the folder changes, `renew` passes,
    /// `wake` is notified (work planned elsewhere), or `cancel` fires. Consumes and returns the connection, since IDLE owns
    /// the session while it runs.
    pub async fn idle(
        self,
        renew: Duration,
        cancel: &CancellationToken,
        wake: impl Future<Output = ()>,
    ) -> Result<(Connection, Woke), MailboxError> {
        let Connection {
            session,
            idle,
            multiappend,
            timeout,
        } = self;
        let mut handle = session.idle();
        timed(timeout, "IDLE", handle.init()).await?;
        let woke = {
            let (wait, stop) = handle.wait_with_timeout(renew);
            tokio::select! {
                r = wait => match r? {
                    IdleResponse::NewData(_) => Woke::Changed,
                    IdleResponse::Timeout => Woke::Renew,
                    IdleResponse::ManualInterrupt => Woke::Cancelled,
                },
                _ = wake => {
                    drop(stop);
                    Woke::Changed
                }
                _ = cancel.cancelled() => {
                    drop(stop);
                    Woke::Cancelled
                }
            }
        };
        let session = timed(timeout, "IDLE DONE", handle.done()).await?;
        Ok((
            Connection {
                session,
                idle,
                multiappend,
                timeout,
            },
            woke,
        ))
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

/// An IMAP quoted string (RFC 3501 4.3). Config validation keeps CR and LF
/// out of folder names.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What became of a draft to withdraw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// Removed: it was ours, byte for byte.
    Removed,
    /// A copy with other bytes is there (staff edited it): left alone.
    Edited,
    /// Not there (sent, deleted, or saved under another Message-ID).
    Absent,
}

/// Lowercase hex, as the withdrawal's hash is stored.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_of_the_credentials_is_told_by_its_code_in_any_case() {
        for said in ["[AUTHENTICATIONFAILED] Authentication failed.", "[authenticationfailed] no", " [Expired] change it", "[AUTHORIZATIONFAILED] x"] {
            assert!(refuses_the_credentials(said), "{said}");
        }
        for said in ["[UNAVAILABLE] try later", "[INUSE] busy", "Authentication failed.", ""] {
            assert!(!refuses_the_credentials(said), "{said}");
        }
    }
}
