//! Command dispatch: a line in the channel that is a command is authorised
//! (at once, or after a WHOIS), run against the store, answered, and handed
//! to the daemon when only the daemon can carry it out.

use tokio::time::Instant;

use super::authorise::{Auth, MAX_WAITING_COMMANDS, MAX_WHOIS, Pending, WHOIS_TIMEOUT, Whois, authorise, refusal};
use super::delivery::Queue;
use super::session::Session;
use super::wire::Line;
use crate::staff::commands::{self, Command};
use crate::staff::lines;

impl Session<'_> {
    pub(super) async fn on_message(&mut self, nick: &str, l: &Line, queue: &mut Queue) {
        let cmd = match commands::parse(l.param(1)) {
            None => return,
            Some(Err(usage)) => return queue.reply(&lines::malformed(nick, &usage)),
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
                    return queue.reply(&lines::too_many_asking(nick));
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

    pub(super) fn expire_whois(&mut self, queue: &mut Queue) {
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
                    queue.reply(&lines::unchecked(&nick, cmd.name()));
                }
            }
        }
    }

    pub(super) async fn decided(&mut self, nick: &str, cmd: Command, allowed: bool, queue: &mut Queue) {
        if !allowed {
            tracing::info!("irc: refused {} from {nick}", cmd.name());
            return queue.reply(&refusal(self.cfg(), nick, cmd.name()));
        }
        let reply = match commands::run(&self.ctx.store, &cmd, nick, jiff::Timestamp::now()) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("irc: {} from {nick}: {e}", cmd.name());
                return queue.reply(&lines::store_failed(nick, cmd.name()));
            }
        };
        for line in &reply.lines {
            queue.reply(line);
        }
        if let Some(fwd) = reply.forward
            && let Err(e) = self.ctx.commands.try_send(fwd)
        {
            tracing::warn!("irc: cannot hand {} to the daemon: {e}", cmd.name());
            queue.reply(&lines::daemon_busy(nick, cmd.name()));
        }
    }
}

