//! Who may give the channel commands: a nick in `irc.staff`, or with
//! `staff_require_account` a services account in `irc.staff` (IRCv3
//! account-tag when the server has it, WHOIS otherwise), or a channel
//! operator when `allow_channel_operators` is set.

use std::time::Duration;

use tokio::time::Instant;

use super::wire::same;
use crate::config::IrcConfig;
use crate::staff::commands::Command;

pub(super) const WHOIS_TIMEOUT: Duration = Duration::from_secs(15);
/// Bounds on commands waiting for a WHOIS answer, per nick and nicks at once.
pub(super) const MAX_WAITING_COMMANDS: usize = 5;
pub(super) const MAX_WHOIS: usize = 20;

#[derive(Debug, Default, Clone)]
pub(super) struct Whois {
    pub(super) account: Option<String>,
    pub(super) op: bool,
}

#[derive(Debug, PartialEq)]
pub(super) enum Auth {
    Allow,
    Deny,
    /// Not decidable from the message alone: WHOIS first.
    Ask,
}

/// `tag_account`: `Some(..)` when the server sends account-tags (then
/// `Some(None)` means not logged in). `whois`: the WHOIS answer, if asked.
pub(super) fn authorise(cfg: &IrcConfig, nick: &str, tag_account: Option<Option<&str>>, whois: Option<&Whois>) -> Auth {
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

pub(super) fn refusal(cfg: &IrcConfig, nick: &str, cmd: &str) -> String {
    let who = match (cfg.staff_require_account, cfg.allow_channel_operators) {
        (false, false) => "a nick listed in irc.staff",
        (true, false) => "logged in to a services account listed in irc.staff",
        (false, true) => "a nick listed in irc.staff or a channel operator",
        (true, true) => "logged in to a services account listed in irc.staff, or a channel operator",
    };
    crate::staff::lines::refused(nick, cmd, who)
}

/// Does a WHOIS channel list (`@#chan +#other`) show operator status in
/// `channel`? Owner and admin prefixes count too.
pub(super) fn op_in(channels: &str, channel: &str) -> bool {
    channels.split(' ').any(|entry| {
        let name = entry.trim_start_matches(['~', '&', '@', '%', '+']);
        let prefixes = &entry[..entry.len() - name.len()];
        same(name, channel) && prefixes.contains(['~', '&', '@'])
    })
}

pub(super) struct Pending {
    pub(super) commands: Vec<Command>,
    pub(super) info: Whois,
    pub(super) deadline: Instant,
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
}

