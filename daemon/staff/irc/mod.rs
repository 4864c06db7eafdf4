//! The staff channel: one IRC connection (TLS, SASL PLAIN, channel key)
//! kept up through the shared backoff, notices queued while it is down, and
//! the staff commands typed in the channel.
//!
//! Lines go out through a token bucket and are split below the server's
//! line limit, so a burst of notices cannot get the bot kicked for flooding;
//! a backlog of new tickets goes out as digest lines. Notices come from the
//! store's outbox, one line at a time: the line's notices are marked in
//! flight (flushed), the line is sent, then a PING; the server answers the
//! PING only after it has taken the line (one connection is processed in
//! order), and only then are the notices deleted. A line in flight at a
//! crash or a lost connection is posted again, marked as a possible repeat.
//! A command runs only once its sender is authorised as configured: a nick
//! in `irc.staff`, or with `staff_require_account` a services account in
//! `irc.staff` (IRCv3 account-tag when the server has it, WHOIS otherwise),
//! or a channel operator when `allow_channel_operators` is set. A nick alone
//! proves nothing on a network without services, hence the account option.
//!
//! This is a small line client over tokio-rustls rather than the `irc`
//! crate: that crate ends the connection on the first line that is not
//! valid UTF-8, which would let anyone in the channel disconnect the bot
//! with one Latin-1 byte, and its registration sends `CAP END` before SASL
//! could start.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::rustls;
use tokio_util::sync::CancellationToken;

use super::commands::{self, Command};
use super::{IRC, Notifier, StaffCommand, next_post, read_queued, sanitise, split_line};
use crate::backoff::Backoff;
use crate::config::IrcConfig;
use crate::store::Store;

/// Payload bytes per PRIVMSG: 512 minus the command, the channel and the
/// `:nick!user@host` prefix the server adds when relaying.
pub const LINE_BYTES: usize = 400;
/// Flood control: bursts of four, then `irc.lines_per_second`.
const BURST: f64 = 4.0;
/// Queued notices read at once to choose the next line (a digest covers
/// at most this many).
const OUTBOX_WINDOW: usize = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const REGISTER_TIMEOUT: Duration = Duration::from_secs(60);
const WHOIS_TIMEOUT: Duration = Duration::from_secs(15);
/// Silence after which we PING, and how long the PONG may take.
const IDLE_PING: Duration = Duration::from_secs(120);
const PONG_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const REJOIN_DELAY: Duration = Duration::from_secs(10);
const MAX_LINE: usize = 16 * 1024;
/// Replies beyond this backlog are dropped (notices never are), so someone
/// spamming commands cannot grow the queue without bound.
const REPLY_BACKLOG: usize = 50;
/// Bounds on commands waiting for a WHOIS answer, per nick and nicks at once.
const MAX_WAITING_COMMANDS: usize = 5;
const MAX_WHOIS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum IrcError {
    #[error("cannot connect to {server}:{port}: {reason}; check irc.server, irc.port and irc.tls")]
    Connect { server: String, port: u16, reason: String },
    #[error("IRC connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the IRC server closed the connection{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    #[error("{0} timed out")]
    Timeout(&'static str),
    #[error(
        "the server does not offer SASL, and irc.password_file is set: triaged will not log in without it; remove the password or use a server with SASL"
    )]
    NoSasl,
    #[error("SASL login as {user:?} failed ({reply}); check irc.sasl_username and the password file")]
    SaslFailed { user: String, reply: String },
    #[error("no usable nick: {0:?} and the alternatives are taken; change irc.nick")]
    NickInUse(String),
    #[error("cannot join {channel}: {reply}; check irc.channel, irc.channel_key_file and the channel's modes")]
    JoinRefused { channel: String, reply: String },
    #[error("irc.ca_file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("{0}")]
    Secret(crate::config::Problem),
}

/// The staff channel's connection, as `triaged status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IrcHealth {
    pub state: IrcState,
    /// When the connection entered this state.
    pub since: jiff::Timestamp,
    /// The server, the channel once joined, or why it was lost.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IrcState {
    Connecting,
    /// Connected to the server, not (or no longer) in the channel.
    Connected,
    Joined,
    Disconnected,
}

impl std::fmt::Display for IrcHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            IrcState::Connecting => "connecting",
            IrcState::Connected => "connected, not in the channel",
            IrcState::Joined => "joined",
            IrcState::Disconnected => "disconnected",
        };
        write!(f, "{state} since {} ({})", self.since, self.detail)
    }
}

/// Starts the IRC task. It connects, joins `config.channel`, posts every
/// notice given to the returned [`Notifier`] and answers staff commands
/// until `cancel` fires; `!reclassify` goes to `commands`.
pub fn spawn_irc(
    config: IrcConfig,
    store: Store,
    cancel: CancellationToken,
    commands: mpsc::Sender<StaffCommand>,
) -> (Notifier, JoinHandle<()>) {
    let (notifier, handle, _) = spawn_irc_watched(config, store, cancel, commands);
    (notifier, handle)
}

/// [`spawn_irc`], and the connection's state as it changes.
pub fn spawn_irc_watched(
    config: IrcConfig,
    store: Store,
    cancel: CancellationToken,
    commands: mpsc::Sender<StaffCommand>,
) -> (Notifier, JoinHandle<()>, watch::Receiver<IrcHealth>) {
    let (notifier, wake) = Notifier::sink(store.clone(), IRC);
    let (health, health_rx) = watch::channel(IrcHealth {
        state: IrcState::Connecting,
        since: jiff::Timestamp::now(),
        detail: format!("{}:{}", config.server, config.port),
    });
    if config.staff.is_empty() && !config.allow_channel_operators {
        tracing::warn!(
            "irc: irc.staff is empty and allow_channel_operators is off: nobody can use the channel commands"
        );
    }
    let ctx = Ctx {
        cfg: config,
        store,
        commands,
        health,
    };
    let mut queue = Queue {
        wake,
        wake_open: true,
        look: true,
        flight: None,
        outbox: VecDeque::new(),
        bucket: TokenBucket::new(ctx.cfg.lines_per_second, BURST),
    };
    let handle = tokio::spawn(async move {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        loop {
            // `run --once` with nothing to post: no need to connect.
            if queue.finished(&ctx) {
                ctx.set_health(IrcState::Disconnected, "stopped".into());
                return;
            }
            match session(&ctx, &mut queue, &mut backoff, &cancel).await {
                Ok(()) => {
                    ctx.set_health(IrcState::Disconnected, "stopped".into());
                    return;
                }
                Err(e) => {
                    ctx.set_health(IrcState::Disconnected, e.to_string());
                    let delay = backoff.next_delay();
                    tracing::warn!("irc: {e}; reconnecting in {:.1}s", delay.as_secs_f64());
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    });
    (notifier, handle, health_rx)
}

struct Ctx {
    cfg: IrcConfig,
    store: Store,
    commands: mpsc::Sender<StaffCommand>,
    health: watch::Sender<IrcHealth>,
}

impl Ctx {
    /// `since` moves only when the state does.
    fn set_health(&self, state: IrcState, detail: String) {
        self.health.send_if_modified(|h| {
            if h.state == state && h.detail == detail {
                return false;
            }
            *h = IrcHealth {
                state,
                since: if h.state == state { h.since } else { jiff::Timestamp::now() },
                detail,
            };
            true
        });
    }
}

/// What outlives a connection: replies not yet posted and the flood
/// budget. Notices wait in the store.
struct Queue {
    /// Woken when notices were queued; closed when every notifier is gone.
    wake: mpsc::Receiver<()>,
    wake_open: bool,
    /// The outbox may hold something to post.
    look: bool,
    /// The line being posted and the notices it covers.
    flight: Option<Flight>,
    /// Replies to staff commands (not kept across a restart).
    outbox: VecDeque<String>,
    bucket: TokenBucket,
}

/// Queued notices on their way: marked in flight in the store, sent as
/// `lines`, then confirmed by the PONG to `token`.
struct Flight {
    seqs: Vec<u64>,
    lines: VecDeque<String>,
    token: String,
    pinged: bool,
    /// The server refused a line (kicked meanwhile): post again.
    refused: bool,
}

impl Queue {
    /// The server answered the PING `token`: if it followed the line in
    /// flight, that line is posted and its notices leave the queue.
    fn pong(&mut self, ctx: &Ctx, token: &str) {
        let Some(f) = &self.flight else { return };
        if !f.pinged || f.token != token {
            return;
        }
        if f.refused {
            tracing::warn!("irc: the server refused a notice line; posting it again");
        } else if let Err(e) = ctx.store.notices_done(IRC, &f.seqs) {
            // They stay in flight: posted again, marked.
            tracing::error!("irc: posted notices not taken off the queue: {e}");
        }
        self.flight = None;
        self.look = true;
    }

    /// Every notifier is gone (`run --once` is finishing) and nothing is
    /// left to post.
    fn finished(&self, ctx: &Ctx) -> bool {
        (!self.wake_open || self.wake.is_closed())
            && self.flight.is_none()
            && self.outbox.is_empty()
            && ctx.store.ready_notices(IRC, 1).is_ok_and(|r| r.is_empty())
    }
}

impl Ctx {
    /// The next line from the outbox, its notices marked in flight
    /// (flushed) before anything is sent.
    fn next_flight(&self) -> Result<Option<Flight>, crate::store::StoreError> {
        let queued = self.store.ready_notices(IRC, OUTBOX_WINDOW)?;
        let mut waiting = Vec::with_capacity(queued.len());
        let mut unreadable = Vec::new();
        for (seq, q) in &queued {
            match read_queued(IRC, *seq, q) {
                Some(n) => waiting.push((*seq, n, q.in_flight)),
                None => unreadable.push(*seq),
            }
        }
        self.store.notices_done(IRC, &unreadable)?;
        let Some((seqs, line)) = next_post(&waiting, LINE_BYTES) else {
            return Ok(None);
        };
        self.store.notices_in_flight(IRC, &seqs)?;
        Ok(Some(Flight {
            token: format!("triaged-posted-{}", seqs[0]),
            seqs,
            lines: split_line(&sanitise(&line), LINE_BYTES).into(),
            pinged: false,
            refused: false,
        }))
    }
}

impl Queue {
    fn push(&mut self, line: &str) {
        self.outbox.extend(split_line(&sanitise(line), LINE_BYTES));
    }

    fn reply(&mut self, line: &str) {
        if self.outbox.len() < REPLY_BACKLOG {
            self.push(line);
        } else {
            tracing::warn!("irc: reply dropped, {} lines already waiting", self.outbox.len());
        }
    }
}

struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
    }

    /// When the next line may go.
    fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }

    fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
}

// ---------------------------------------------------------------- the wire

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

struct Wire {
    reader: BufReader<ReadHalf<Box<dyn Io>>>,
    writer: WriteHalf<Box<dyn Io>>,
    buf: Vec<u8>,
}

impl Wire {
    async fn connect(cfg: &IrcConfig) -> Result<Wire, IrcError> {
        let fail = |reason: String| IrcError::Connect {
            server: cfg.server.clone(),
            port: cfg.port,
            reason,
        };
        let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect((cfg.server.as_str(), cfg.port)))
            .await
            .map_err(|_| fail("no answer within 30s".into()))?
            .map_err(|e| fail(e.to_string()))?;
        // A line and the PING that confirms it go out at once, not after
        // the server's delayed ACK of the line.
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if cfg.tls {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(cfg)?));
            let name = rustls::pki_types::ServerName::try_from(cfg.server.clone())
                .map_err(|e| fail(format!("{:?} is not a valid TLS server name: {e}", cfg.server)))?;
            let tls = timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
                .await
                .map_err(|_| fail("TLS handshake timed out".into()))?
                .map_err(|e| fail(format!("TLS: {e}")))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (r, w) = tokio::io::split(io);
        Ok(Wire {
            reader: BufReader::new(r),
            writer: w,
            buf: Vec::new(),
        })
    }

    /// The next line, decoded leniently: bytes that are not UTF-8 become
    /// U+FFFD instead of ending the connection. Cancel-safe: a partly read
    /// line stays in `buf`.
    async fn read_line(&mut self) -> Result<String, IrcError> {
        loop {
            let n = self.reader.read_until(b'\n', &mut self.buf).await?;
            if n == 0 {
                return Err(IrcError::Closed(None));
            }
            if self.buf.len() > MAX_LINE {
                return Err(IrcError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "server sent a line over 16 KiB",
                )));
            }
            if self.buf.ends_with(b"\n") {
                let line = String::from_utf8_lossy(&self.buf)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                self.buf.clear();
                if !line.is_empty() {
                    return Ok(line);
                }
            }
        }
    }

    async fn send(&mut self, verb: &str, params: &[&str]) -> Result<(), IrcError> {
        let line = format_line(verb, params);
        tracing::trace!(
            "irc >> {}",
            if verb == "AUTHENTICATE" {
                "AUTHENTICATE ***"
            } else {
                &line
            }
        );
        let line = line + "\r\n";
        // A server that stops reading must not stall the bot forever.
        timeout(WRITE_TIMEOUT, async {
            self.writer.write_all(line.as_bytes()).await?;
            self.writer.flush().await
        })
        .await
        .map_err(|_| IrcError::Timeout("writing to the server"))??;
        Ok(())
    }
}

fn tls_config(cfg: &IrcConfig) -> Result<rustls::ClientConfig, IrcError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = &cfg.ca_file {
        let bad = |reason: String| IrcError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(bad("holds no certificate".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| IrcError::Io(std::io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// One IRC line; every parameter is stripped of CR, LF and NUL so no value
/// can end the line early, and only the last may contain spaces.
fn format_line(verb: &str, params: &[&str]) -> String {
    let mut line = verb.to_string();
    for (i, p) in params.iter().enumerate() {
        let p: String = p.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')).collect();
        line.push(' ');
        if i + 1 == params.len() && (p.is_empty() || p.contains(' ') || p.starts_with(':')) {
            line.push(':');
            line.push_str(&p);
        } else {
            line.push_str(&p.replace(' ', "_"));
        }
    }
    line
}

/// An incoming line: IRCv3 tags, the sender's nick, the verb, parameters.
#[derive(Debug, Default, PartialEq)]
struct Line {
    tags: Vec<(String, String)>,
    nick: Option<String>,
    verb: String,
    params: Vec<String>,
}

impl Line {
    fn parse(s: &str) -> Option<Line> {
        let mut line = Line::default();
        let mut rest = s;
        if let Some(r) = rest.strip_prefix('@') {
            let (tags, r) = r.split_once(' ')?;
            for tag in tags.split(';') {
                let (k, v) = tag.split_once('=').unwrap_or((tag, ""));
                line.tags.push((k.to_string(), unescape_tag(v)));
            }
            rest = r.trim_start();
        }
        if let Some(r) = rest.strip_prefix(':') {
            let (prefix, r) = r.split_once(' ')?;
            line.nick = Some(prefix.split(['!', '@']).next().unwrap_or(prefix).to_string());
            rest = r.trim_start();
        }
        let (head, trailing) = match rest.split_once(" :") {
            Some((h, t)) => (h, Some(t)),
            None => (rest, None),
        };
        let mut words = head.split(' ').filter(|w| !w.is_empty());
        line.verb = words.next()?.to_ascii_uppercase();
        line.params = words.map(str::to_string).collect();
        if let Some(t) = trailing {
            line.params.push(t.to_string());
        }
        Some(line)
    }

    fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or("")
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// IRCv3 message-tags escaping.
fn unescape_tag(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// IRC names compare case-insensitively; ASCII folding is what
/// ngIRCd and most servers announce (CASEMAPPING=ascii).
fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The AUTHENTICATE arguments for SASL PLAIN (RFC 4616: empty authzid,
/// authcid, password), base64 in chunks of 400 with a closing `+` when the
/// last chunk is exactly 400 long (IRCv3 sasl-3.1).
fn sasl_plain(user: &str, password: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    let mut out: Vec<String> = b64
        .as_bytes()
        .chunks(400)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    if b64.len() % 400 == 0 {
        out.push("+".into());
    }
    out
}

// ---------------------------------------------------------------- authorisation

#[derive(Debug, Default, Clone)]
struct Whois {
    account: Option<String>,
    op: bool,
}

#[derive(Debug, PartialEq)]
enum Auth {
    Allow,
    Deny,
    /// Not decidable from the message alone: WHOIS first.
    Ask,
}

/// `tag_account`: `Some(..)` when the server sends account-tags (then
/// `Some(None)` means not logged in). `whois`: the WHOIS answer, if asked.
fn authorise(cfg: &IrcConfig, nick: &str, tag_account: Option<Option<&str>>, whois: Option<&Whois>) -> Auth {
    let listed = |name: &str| cfg.staff.iter().any(|s| same(s, name));
    let by_name = if cfg.staff_require_account {
        match (whois, tag_account) {
            (Some(w), _) => Some(w.account.as_deref().is_some_and(listed)),
            (None, Some(acc)) => Some(acc.is_some_and(listed)),
            (None, None) => None,
        }
    } else {
        Some(listed(nick))
    };
    match (by_name, whois) {
        (Some(true), _) => Auth::Allow,
        (_, Some(w)) if cfg.allow_channel_operators && w.op => Auth::Allow,
        (_, None) if cfg.allow_channel_operators => Auth::Ask,
        (None, None) => Auth::Ask,
        _ => Auth::Deny,
    }
}

fn refusal(cfg: &IrcConfig, nick: &str, cmd: &str) -> String {
    let who = match (cfg.staff_require_account, cfg.allow_channel_operators) {
        (false, false) => "a nick listed in irc.staff",
        (true, false) => "logged in to a services account listed in irc.staff",
        (false, true) => "a nick listed in irc.staff or a channel operator",
        (true, true) => "logged in to a services account listed in irc.staff, or a channel operator",
    };
    format!("{nick}: sorry, {cmd} is for support staff only ({who})")
}

/// Does a WHOIS channel list (`@#chan +#other`) show operator status in
/// `channel`? Owner and admin prefixes count too.
fn op_in(channels: &str, channel: &str) -> bool {
    channels.split(' ').any(|entry| {
        let name = entry.trim_start_matches(['~', '&', '@', '%', '+']);
        let prefixes = &entry[..entry.len() - name.len()];
        same(name, channel) && prefixes.contains(['~', '&', '@'])
    })
}

// ---------------------------------------------------------------- a session

struct Pending {
    commands: Vec<Command>,
    info: Whois,
    deadline: Instant,
}

struct Session<'a> {
    ctx: &'a Ctx,
    wire: Wire,
    nick: String,
    nick_tries: u32,
    caps_offered: Vec<String>,
    account_tag: bool,
    sasl_done: bool,
    registered: bool,
    joined: bool,
    rejoin_at: Option<Instant>,
    /// Until the channel is joined: when to give up on this connection.
    join_by: Option<Instant>,
    whois: HashMap<String, Pending>,
}

/// One connection, from connect to error or shutdown. `Ok` only on shutdown.
async fn session(
    ctx: &Ctx,
    queue: &mut Queue,
    backoff: &mut Backoff,
    cancel: &CancellationToken,
) -> Result<(), IrcError> {
    let wire = tokio::select! {
        _ = cancel.cancelled() => return Ok(()),
        w = Wire::connect(&ctx.cfg) => w?,
    };
    ctx.set_health(IrcState::Connected, format!("{}:{}", ctx.cfg.server, ctx.cfg.port));
    let mut s = Session {
        ctx,
        wire,
        nick: ctx.cfg.nick.clone(),
        nick_tries: 0,
        caps_offered: Vec::new(),
        account_tag: false,
        sasl_done: false,
        registered: false,
        joined: false,
        rejoin_at: None,
        join_by: Some(Instant::now() + REGISTER_TIMEOUT),
        whois: HashMap::new(),
    };
    // IRCv3 capability negotiation, then the classic registration; the
    // server holds registration until CAP END.
    s.wire.send("CAP", &["LS", "302"]).await?;
    let nick = s.nick.clone();
    s.wire.send("NICK", &[&nick]).await?;
    s.wire
        .send("USER", &[&nick, "0", "*", "triaged support notices"])
        .await?;

    let mut check_at = Instant::now() + IDLE_PING;
    let mut awaiting_pong = false;
    // A line in flight on the last connection stays marked in the store
    // and goes out again, marked, on this one.
    queue.flight = None;
    queue.look = true;
    loop {
        if s.joined && queue.flight.is_none() && queue.look {
            match ctx.next_flight() {
                Ok(f) => {
                    queue.look = f.is_some();
                    queue.flight = f;
                }
                Err(e) => {
                    tracing::error!("irc: cannot read the queued notices: {e}");
                    queue.look = false;
                }
            }
        }
        if queue.finished(ctx) {
            let _ = timeout(Duration::from_secs(2), s.wire.send("QUIT", &["triaged: pass complete"])).await;
            return Ok(());
        }
        let now = Instant::now();
        let line_waiting = !queue.outbox.is_empty() || queue.flight.as_ref().is_some_and(|f| !f.lines.is_empty());
        let send_at = (s.joined && line_waiting).then(|| queue.bucket.ready_at(now));
        let whois_at = s.whois.values().map(|p| p.deadline).min();
        let far = now + Duration::from_secs(3600);
        tokio::select! {
            _ = cancel.cancelled() => {
                // A line just sent: its PONG is a moment away, and without
                // it the next start would post the line again, marked.
                let _ = timeout(Duration::from_secs(2), async {
                    while queue.flight.as_ref().is_some_and(|f| f.pinged) {
                        let Some(l) = Line::parse(&s.wire.read_line().await?) else { continue };
                        if l.verb == "PONG" {
                            queue.pong(ctx, l.params.last().map(String::as_str).unwrap_or(""));
                        }
                    }
                    Ok::<_, IrcError>(())
                })
                .await;
                let _ = timeout(Duration::from_secs(2), s.wire.send("QUIT", &["triaged shutting down"])).await;
                return Ok(());
            }
            line = s.wire.read_line() => {
                let line = line?;
                check_at = Instant::now() + IDLE_PING;
                awaiting_pong = false;
                if let Some(line) = Line::parse(&line) {
                    s.handle(line, queue, backoff).await?;
                }
            }
            w = queue.wake.recv(), if queue.wake_open => {
                queue.look = true;
                queue.wake_open = w.is_some();
            }
            _ = sleep_until(send_at.unwrap_or(far)), if send_at.is_some() => {
                queue.bucket.take(Instant::now());
                let channel = ctx.cfg.channel.clone();
                // Replies first: someone is waiting for them.
                if let Some(line) = queue.outbox.pop_front() {
                    if let Err(e) = s.wire.send("PRIVMSG", &[&channel, &line]).await {
                        // Not sent: it goes out first on the next connection.
                        queue.outbox.push_front(line);
                        return Err(e);
                    }
                } else if let Some(f) = &mut queue.flight
                    && let Some(line) = f.lines.pop_front()
                {
                    s.wire.send("PRIVMSG", &[&channel, &line]).await?;
                    if f.lines.is_empty() {
                        // Answered only once the server has taken the line.
                        s.wire.send("PING", &[&f.token]).await?;
                        f.pinged = true;
                    }
                }
            }
            _ = sleep_until(whois_at.unwrap_or(far)), if whois_at.is_some() => s.expire_whois(queue),
            _ = sleep_until(s.rejoin_at.unwrap_or(far)), if s.rejoin_at.is_some() => {
                s.rejoin_at = None;
                s.join_by = Some(Instant::now() + REGISTER_TIMEOUT);
                s.join().await?;
            }
            _ = sleep_until(s.join_by.unwrap_or(far)), if s.join_by.is_some() => {
                return Err(IrcError::Timeout(if s.registered { "joining the channel" } else { "registering with the server" }));
            }
            _ = sleep_until(check_at) => {
                if awaiting_pong {
                    return Err(IrcError::Timeout("waiting for the server's PONG"));
                }
                s.wire.send("PING", &["triaged"]).await?;
                awaiting_pong = true;
                check_at = Instant::now() + PONG_TIMEOUT;
            }
        }
    }
}

impl Session<'_> {
    fn cfg(&self) -> &IrcConfig {
        &self.ctx.cfg
    }

    async fn join(&mut self) -> Result<(), IrcError> {
        let channel = self.cfg().channel.clone();
        match &self.cfg().channel_key {
            Some(key) => {
                let key = key.read().map_err(IrcError::Secret)?;
                self.wire.send("JOIN", &[&channel, key.expose()]).await
            }
            None => self.wire.send("JOIN", &[&channel]).await,
        }
    }

    async fn cap_end(&mut self) -> Result<(), IrcError> {
        self.wire.send("CAP", &["END"]).await
    }

    async fn handle(&mut self, l: Line, queue: &mut Queue, backoff: &mut Backoff) -> Result<(), IrcError> {
        let me = |n: &Option<String>, nick: &str| n.as_deref().is_some_and(|n| same(n, nick));
        match l.verb.as_str() {
            "PING" => self.wire.send("PONG", &[l.param(0)]).await?,
            "PONG" => {
                queue.pong(self.ctx, l.params.last().map(String::as_str).unwrap_or(""));
            }
            // Cannot send to the channel (kicked before we knew).
            "404" if same(l.param(1), &self.cfg().channel) => {
                if let Some(f) = &mut queue.flight {
                    f.refused = true;
                }
            }
            "ERROR" => return Err(IrcError::Closed(Some(sanitise(l.param(0))))),
            "CAP" => self.on_cap(&l).await?,
            "AUTHENTICATE" if l.param(0) == "+" => self.sasl_payload().await?,
            // RFC 6120-style SASL numerics (IRCv3 sasl-3.1).
            "903" => {
                self.sasl_done = true;
                self.cap_end().await?;
            }
            "902" | "904" | "905" | "906" | "908" => {
                return Err(IrcError::SaslFailed {
                    user: self.sasl_user(),
                    reply: sanitise(l.params.last().map(String::as_str).unwrap_or(&l.verb)),
                });
            }
            // A server without CAP: fine unless we must log in.
            "421" if same(l.param(1), "CAP") && self.cfg().password.is_some() => return Err(IrcError::NoSasl),
            "433" | "432" if !self.registered => {
                self.nick_tries += 1;
                if self.nick_tries > 3 {
                    return Err(IrcError::NickInUse(self.cfg().nick.clone()));
                }
                self.nick = format!("{}{}", self.cfg().nick, "_".repeat(self.nick_tries as usize));
                let nick = self.nick.clone();
                self.wire.send("NICK", &[&nick]).await?;
            }
            "001" => {
                if self.cfg().password.is_some() && !self.sasl_done {
                    return Err(IrcError::NoSasl);
                }
                self.registered = true;
                self.nick = l.param(0).to_string();
                self.join().await?;
            }
            "NICK" if me(&l.nick, &self.nick) => self.nick = l.param(0).to_string(),
            "JOIN" if me(&l.nick, &self.nick) && same(l.param(0), &self.cfg().channel) => {
                self.joined = true;
                self.join_by = None;
                backoff.reset();
                self.ctx.set_health(IrcState::Joined, self.cfg().channel.clone());
                tracing::info!("irc: joined {} as {}", self.cfg().channel, self.nick);
            }
            "KICK" if same(l.param(0), &self.cfg().channel) && same(l.param(1), &self.nick) => {
                tracing::warn!(
                    "irc: kicked from {} by {:?}: {}",
                    l.param(0),
                    l.nick,
                    sanitise(l.param(2))
                );
                self.joined = false;
                self.rejoin_at = Some(Instant::now() + REJOIN_DELAY);
                self.ctx.set_health(IrcState::Connected, format!("kicked from {}", self.cfg().channel));
            }
            "403" | "405" | "471" | "473" | "474" | "475" | "477" if same(l.param(1), &self.cfg().channel) => {
                return Err(IrcError::JoinRefused {
                    channel: self.cfg().channel.clone(),
                    reply: format!("{} {}", l.verb, sanitise(l.param(2))),
                });
            }
            "PRIVMSG" if same(l.param(0), &self.cfg().channel) && !me(&l.nick, &self.nick) => {
                if let Some(nick) = &l.nick {
                    self.on_message(nick, &l, queue).await;
                }
            }
            "330" => {
                if let Some(p) = self.whois.get_mut(&l.param(1).to_ascii_lowercase()) {
                    p.info.account = Some(l.param(2).to_string());
                }
            }
            "319" => {
                let channel = self.cfg().channel.clone();
                if let Some(p) = self.whois.get_mut(&l.param(1).to_ascii_lowercase()) {
                    p.info.op |= op_in(l.param(2), &channel);
                }
            }
            "318" | "401" => {
                if let Some(p) = self.whois.remove(&l.param(1).to_ascii_lowercase()) {
                    let nick = l.param(1).to_string();
                    for cmd in p.commands {
                        let auth = authorise(self.cfg(), &nick, None, Some(&p.info));
                        self.decided(&nick, cmd, auth == Auth::Allow, queue).await;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn sasl_user(&self) -> String {
        self.cfg()
            .sasl_username
            .clone()
            .unwrap_or_else(|| self.cfg().nick.clone())
    }

    async fn on_cap(&mut self, l: &Line) -> Result<(), IrcError> {
        let password = self.cfg().password.is_some();
        match l.param(1).to_ascii_uppercase().as_str() {
            "LS" => {
                // Multi-line LS (302): "CAP * LS * :caps" until a line without "*".
                let (more, list) = if l.param(2) == "*" {
                    (true, l.param(3))
                } else {
                    (false, l.param(2))
                };
                self.caps_offered.extend(
                    list.split(' ')
                        .filter(|c| !c.is_empty())
                        .map(|c| c.split('=').next().unwrap_or(c).to_string()),
                );
                if more {
                    return Ok(());
                }
                let offered = |c: &str| self.caps_offered.iter().any(|o| o == c);
                let mut want = Vec::new();
                if offered("account-tag") {
                    want.push("account-tag");
                }
                if password {
                    if !offered("sasl") {
                        return Err(IrcError::NoSasl);
                    }
                    want.push("sasl");
                }
                if want.is_empty() {
                    self.cap_end().await?;
                } else {
                    let want = want.join(" ");
                    self.wire.send("CAP", &["REQ", &want]).await?;
                }
            }
            "ACK" => {
                let acked: Vec<&str> = l.param(2).split(' ').collect();
                self.account_tag |= acked.contains(&"account-tag");
                if acked.contains(&"sasl") {
                    self.wire.send("AUTHENTICATE", &["PLAIN"]).await?;
                } else {
                    self.cap_end().await?;
                }
            }
            "NAK" if password => return Err(IrcError::NoSasl),
            "NAK" => self.cap_end().await?,
            _ => {}
        }
        Ok(())
    }

    async fn sasl_payload(&mut self) -> Result<(), IrcError> {
        let Some(password) = self.cfg().password.clone() else {
            return self.wire.send("AUTHENTICATE", &["*"]).await;
        };
        let password = password.read().map_err(IrcError::Secret)?;
        for chunk in sasl_plain(&self.sasl_user(), password.expose()) {
            self.wire.send("AUTHENTICATE", &[&chunk]).await?;
        }
        Ok(())
    }

    async fn on_message(&mut self, nick: &str, l: &Line, queue: &mut Queue) {
        let cmd = match commands::parse(l.param(1)) {
            None => return,
            Some(Err(usage)) => return queue.reply(&format!("{nick}: {usage}")),
            Some(Ok(cmd)) => cmd,
        };
        let tag_account = self.account_tag.then(|| l.tag("account"));
        match authorise(self.cfg(), nick, tag_account, None) {
            Auth::Allow => self.decided(nick, cmd, true, queue).await,
            Auth::Deny => self.decided(nick, cmd, false, queue).await,
            Auth::Ask => {
                let key = nick.to_ascii_lowercase();
                if let Some(p) = self.whois.get_mut(&key) {
                    if p.commands.len() < MAX_WAITING_COMMANDS {
                        p.commands.push(cmd);
                    }
                    return;
                }
                if self.whois.len() >= MAX_WHOIS {
                    return queue.reply(&format!(
                        "{nick}: too many people asking at once; try again in a moment"
                    ));
                }
                self.whois.insert(
                    key,
                    Pending {
                        commands: vec![cmd],
                        info: Whois::default(),
                        deadline: Instant::now() + WHOIS_TIMEOUT,
                    },
                );
                if let Err(e) = self.wire.send("WHOIS", &[nick]).await {
                    tracing::warn!("irc: WHOIS {nick}: {e}");
                }
            }
        }
    }

    fn expire_whois(&mut self, queue: &mut Queue) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .whois
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for nick in expired {
            if let Some(p) = self.whois.remove(&nick) {
                for cmd in p.commands {
                    queue.reply(&format!(
                        "{nick}: could not check who you are (no WHOIS answer); {} not run, try again",
                        cmd.name()
                    ));
                }
            }
        }
    }

    async fn decided(&mut self, nick: &str, cmd: Command, allowed: bool, queue: &mut Queue) {
        if !allowed {
            tracing::info!("irc: refused {} from {nick}", cmd.name());
            return queue.reply(&refusal(self.cfg(), nick, cmd.name()));
        }
        let reply = match commands::run(&self.ctx.store, &cmd, nick, jiff::Timestamp::now()) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("irc: {} from {nick}: {e}", cmd.name());
                return queue.reply(&format!(
                    "{nick}: {} failed: the store did not answer; see the daemon's log",
                    cmd.name()
                ));
            }
        };
        for line in &reply.lines {
            queue.reply(line);
        }
        if let Some(fwd) = reply.forward
            && let Err(e) = self.ctx.commands.try_send(fwd)
        {
            tracing::warn!("irc: cannot hand {} to the daemon: {e}", cmd.name());
            queue.reply(&format!(
                "{nick}: the daemon is busy or stopping; {} was not done, try again",
                cmd.name()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(staff: &[&str], require_account: bool, ops: bool) -> IrcConfig {
        IrcConfig {
            server: "127.0.0.1".into(),
            port: 6667,
            tls: false,
            nick: "triaged".into(),
            channel: "#staff".into(),
            channel_key: None,
            password: None,
            sasl_username: None,
            ca_file: None,
            staff: staff.iter().map(|s| s.to_string()).collect(),
            staff_require_account: require_account,
            staff_addresses: Default::default(),
            allow_channel_operators: ops,
            lines_per_second: 1.0,
        }
    }

    #[test]
    fn parses_tags_prefix_and_trailing() {
        let l = Line::parse("@account=alice\\sb;time=x :alice!a@h PRIVMSG #staff :!claim 12").unwrap();
        assert_eq!(l.tag("account"), Some("alice b"));
        assert_eq!(l.nick.as_deref(), Some("alice"));
        assert_eq!(l.verb, "PRIVMSG");
        assert_eq!(l.params, vec!["#staff", "!claim 12"]);
        let l = Line::parse(":irc.test 319 me alice :@#staff +#other").unwrap();
        assert_eq!(l.params, vec!["me", "alice", "@#staff +#other"]);
        assert_eq!(Line::parse("PING :x").unwrap().params, vec!["x"]);
        assert_eq!(Line::parse(":only-prefix"), None);
    }

    #[test]
    fn outgoing_lines_cannot_be_broken_open() {
        assert_eq!(
            format_line("PRIVMSG", &["#c", "hi\r\nQUIT :x"]),
            "PRIVMSG #c :hiQUIT :x"
        );
        assert_eq!(format_line("JOIN", &["#c", "key"]), "JOIN #c key");
        assert_eq!(format_line("PONG", &[""]), "PONG :");
    }

    #[test]
    fn sasl_plain_payload_and_chunking() {
        let decode = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        let short = sasl_plain("triaged", "hunter2");
        assert_eq!(short.len(), 1);
        assert_eq!(decode(&short[0]), b"\0triaged\0hunter2");
        // 300 raw bytes are exactly 400 base64 characters: a closing "+".
        let exact = sasl_plain("u", &"p".repeat(297));
        assert_eq!(exact.iter().map(String::len).collect::<Vec<_>>(), [400, 1]);
        assert_eq!(exact[1], "+");
        let long = sasl_plain("u", &"p".repeat(400));
        assert_eq!(long.len(), 2);
        assert_eq!(decode(&long.concat()).len(), 403);
    }

    #[test]
    fn operator_prefixes() {
        assert!(op_in("@#staff +#x", "#STAFF"));
        assert!(op_in("~#staff", "#staff"));
        assert!(!op_in("+#staff @#other", "#staff"));
        assert!(!op_in("", "#staff"));
    }

    #[test]
    fn authorisation_rules() {
        let plain = cfg(&["alice"], false, false);
        assert_eq!(authorise(&plain, "Alice", None, None), Auth::Allow);
        assert_eq!(authorise(&plain, "mallory", None, None), Auth::Deny);

        let acct = cfg(&["alice"], true, false);
        assert_eq!(authorise(&acct, "alice", None, None), Auth::Ask);
        assert_eq!(authorise(&acct, "alice", Some(None), None), Auth::Deny);
        assert_eq!(authorise(&acct, "anything", Some(Some("alice")), None), Auth::Allow);
        let w = |account: Option<&str>, op| Whois {
            account: account.map(str::to_string),
            op,
        };
        assert_eq!(authorise(&acct, "alice", None, Some(&w(None, true))), Auth::Deny);
        assert_eq!(
            authorise(&acct, "alice", None, Some(&w(Some("mallory"), false))),
            Auth::Deny
        );
        assert_eq!(
            authorise(&acct, "alias", None, Some(&w(Some("alice"), false))),
            Auth::Allow
        );

        let ops = cfg(&["alice"], false, true);
        assert_eq!(authorise(&ops, "alice", None, None), Auth::Allow);
        assert_eq!(authorise(&ops, "carol", None, None), Auth::Ask);
        assert_eq!(authorise(&ops, "carol", None, Some(&w(None, true))), Auth::Allow);
        assert_eq!(authorise(&ops, "carol", None, Some(&w(None, false))), Auth::Deny);
    }

    #[test]
    fn token_bucket_allows_a_burst_then_one_a_second() {
        let mut b = TokenBucket::new(1.0, 4.0);
        let t0 = b.last;
        for _ in 0..4 {
            assert_eq!(b.ready_at(t0), t0);
            b.take(t0);
        }
        let next = b.ready_at(t0);
        assert!(next >= t0 + Duration::from_millis(999) && next <= t0 + Duration::from_millis(1001));
    }
}
