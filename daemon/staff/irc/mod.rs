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

mod authorise;
mod delivery;
mod dispatch;
mod flood;
mod session;
mod wire;

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use delivery::Queue;
use flood::{BURST, TokenBucket};
use session::session;
use super::{IRC, Notifier, StaffCommand};
use crate::backoff::Backoff;
use crate::config::IrcConfig;
use crate::store::Store;

/// Payload bytes per PRIVMSG: 512 minus the command, the channel and the
/// `:nick!user@host` prefix the server adds when relaying.
pub const LINE_BYTES: usize = 400;

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
    /// `irc.ca_file` cannot be read or holds no certificate; the problem
    /// names the config line.
    #[error("{0}")]
    CaFile(crate::config::Problem),
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
