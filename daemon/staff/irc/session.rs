//! One connection's life: IRCv3 capability negotiation and SASL PLAIN,
//! registration, joining (and rejoining after a kick), keep-alive PINGs, and
//! the loop that interleaves reading, posting and WHOIS timeouts.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::authorise::{Auth, Pending, authorise, op_in};
use super::delivery::Queue;
use super::wire::{Line, Wire, same};
use super::{Ctx, IrcError, IrcState};
use crate::backoff::Backoff;
use crate::config::IrcConfig;
use crate::staff::sanitise;

const REGISTER_TIMEOUT: Duration = Duration::from_secs(60);
/// Silence after which we PING, and how long the PONG may take.
const IDLE_PING: Duration = Duration::from_secs(120);
const PONG_TIMEOUT: Duration = Duration::from_secs(30);
const REJOIN_DELAY: Duration = Duration::from_secs(10);

pub(super) struct Session<'a> {
    pub(super) ctx: &'a Ctx,
    pub(super) wire: Wire,
    pub(super) nick: String,
    pub(super) nick_tries: u32,
    pub(super) caps_offered: Vec<String>,
    pub(super) account_tag: bool,
    pub(super) sasl_done: bool,
    pub(super) registered: bool,
    pub(super) joined: bool,
    pub(super) rejoin_at: Option<Instant>,
    /// Until the channel is joined: when to give up on this connection.
    pub(super) join_by: Option<Instant>,
    pub(super) whois: HashMap<String, Pending>,
}

/// One connection, from connect to error or shutdown. `Ok` only on shutdown.
pub(super) async fn session(
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
    pub(super) fn cfg(&self) -> &IrcConfig {
        &self.ctx.cfg
    }

    pub(super) async fn join(&mut self) -> Result<(), IrcError> {
        let channel = self.cfg().channel.clone();
        match &self.cfg().channel_key {
            Some(key) => {
                let key = key.read().map_err(IrcError::Secret)?;
                self.wire.send("JOIN", &[&channel, key.expose()]).await
            }
            None => self.wire.send("JOIN", &[&channel]).await,
        }
    }

    pub(super) async fn cap_end(&mut self) -> Result<(), IrcError> {
        self.wire.send("CAP", &["END"]).await
    }

    pub(super) async fn handle(&mut self, l: Line, queue: &mut Queue, backoff: &mut Backoff) -> Result<(), IrcError> {
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

    pub(super) fn sasl_user(&self) -> String {
        self.cfg()
            .sasl_username
            .clone()
            .unwrap_or_else(|| self.cfg().nick.clone())
    }

    pub(super) async fn on_cap(&mut self, l: &Line) -> Result<(), IrcError> {
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

    pub(super) async fn sasl_payload(&mut self) -> Result<(), IrcError> {
        let Some(password) = self.cfg().password.clone() else {
            return self.wire.send("AUTHENTICATE", &["*"]).await;
        };
        let password = password.read().map_err(IrcError::Secret)?;
        for chunk in sasl_plain(&self.sasl_user(), password.expose()) {
            self.wire.send("AUTHENTICATE", &[&chunk]).await?;
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

