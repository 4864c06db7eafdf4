//! Whose service is it? A pack may list the services its team runs (the
//! `[own]` table: host names, names of the services and of the communities
//! they serve, the team's trackers), and a procedure may need a sign of one
//! of them (`needs_own = true`) before a message is routed to it. Words
//! such as "hub", "outage" or "spawn" say what kind of trouble a message
//! describes, never whose: a JupyterHub down at a university, on
//! mybinder.org or on the sender's laptop reads like one of ours. The sign
//! is a name or address of ours in what the writer wrote, or, in the
//! daemon, a sender the account directory knows (a team's accounts are the
//! people it serves). Without one, the procedure is no candidate: the next
//! best may still route (a code question goes to `out-of-scope`), else the
//! message is `unclassified` and a person looks.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Who sent the message, as far as classification may know it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sender {
    /// Only the text speaks (`triaged classify`, a sender the directory
    /// does not know, or no directory).
    #[default]
    Unknown,
    /// The account directory knows the sender's address. Routing only: the
    /// identity check still decides what the procedure may do for them.
    Account,
}

/// A pack's own services (`[own]`), compiled.
#[derive(Debug, Clone)]
pub struct OwnServices {
    /// Host names, exact or `*.suffix` (any host under the suffix).
    domains: Vec<Domain>,
    /// Names that are a sign wherever they are written.
    names: Option<Regex>,
    /// Names too common to count alone: a sign next to one of the kinds
    /// of service ("the leap hub", "[LEAP] JupyterHub", "hub for temple").
    short_names: Option<Regex>,
    /// Links into the team's trackers.
    trackers: Option<Regex>,
}

#[derive(Debug, Clone)]
enum Domain {
    Exact(String),
    /// Lowercase suffix with its leading dot: `.2i2c.cloud`.
    Under(String),
}

/// What `classify --json` says about the sign (`"own"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnVerdict {
    /// The sign found: its kind and the words (message text, for staff and
    /// `classify`), e.g. `hub address "leap.2i2c.cloud"`; `null` when none.
    pub sign: Option<String>,
    /// The procedures that need a sign and were no candidate without one,
    /// with their scores (`infrastructure 5`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gated: Vec<String>,
}

impl OwnVerdict {
    /// For staff notices: the kind of sign, never the words it was found
    /// in ("sign of ours: hub address"), or what its absence kept out.
    pub fn explain(&self) -> Option<String> {
        match (&self.sign, self.gated.is_empty()) {
            (Some(sign), _) => Some(format!("sign of ours: {}", sign.split(" \"").next().unwrap_or(sign))),
            (None, false) => {
                let kept: Vec<&str> = self.gated.iter().filter_map(|g| g.split(' ').next()).collect();
                Some(format!("no sign of ours, so not {}", kept.join(" or ")))
            }
            (None, true) => None,
        }
    }
}

/// A host name in running text (also inside URLs and mail addresses).
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\b").expect("static regex")
});

/// At most this much of the text that was the sign is shown.
const SHOWN: usize = 60;

impl OwnServices {
    /// Compiles the table. `word_list` turns a list of words into an
    /// alternation the way `[vocabulary]` does. Problems are returned as
    /// (key, message) for the pack loader to locate.
    pub(crate) fn new(
        domains: &[String],
        names: &[String],
        short_names: &[String],
        kinds: &[String],
        trackers: &[String],
        word_list: impl Fn(&[String]) -> String,
    ) -> Result<OwnServices, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let mut compiled = Vec::new();
        for d in domains {
            match parse_domain(d) {
                Ok(x) => compiled.push(x),
                Err(e) => problems.push(("domains", e)),
            }
        }
        for (key, list) in [("names", names), ("short_names", short_names), ("kinds", kinds), ("trackers", trackers)] {
            if list.iter().any(|w| w.trim().is_empty()) {
                problems.push((key, "no empty entries".to_string()));
            }
        }
        if !short_names.is_empty() && kinds.is_empty() {
            problems.push(("short_names", "these count only next to a kind of service: list the kinds under `kinds` (e.g. \"hub\", \"hubs\")".into()));
        }
        let trackers: Vec<String> = trackers.iter().map(|t| tracker_prefix(t)).collect();
        for t in &trackers {
            if !t.contains('/') || t.starts_with('/') {
                problems.push(("trackers", format!("{t:?}: write a tracker as host/path, e.g. \"github.com/2i2c-org/\"")));
            }
        }
        if domains.is_empty() && names.is_empty() && short_names.is_empty() && trackers.is_empty() {
            problems.push(("domains", "[own] lists nothing: give at least one of domains, names, short_names, trackers".into()));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let build = |src: String| Regex::new(&format!("(?i){src}")).expect("escaped words make a valid regex");
        let names = (!names.is_empty()).then(|| build(word_list(names)));
        let short_names = (!short_names.is_empty()).then(|| {
            let (n, k) = (word_list(short_names), word_list(kinds));
            // The name, at most two words, then the kind; the kind, an
            // optional preposition, then the name; or the name as a tag:
            // in brackets anywhere, alone or after a label ("[LEAP] More
            // RAM", "[Support:victor] …", "[2i2c, ohw]: …"), or opening the
            // subject before a colon ("victor: image bump"), as hub
            // communities title their requests; or the name of a hub's
            // configuration file ("climaterisk.values.yaml", "maap
            // staging.values.yaml"), where its changes are asked for.
            build(format!(r"{n}(?:\W+\w+){{0,2}}?\W+{k}|{k}\W+(?:(?:for|of|at|on|called|named)\W+)?{n}|\[(?:[^\[\]]{{0,30}}[:,/]\s*)?{n}\s*\]|\A\s*{n}\s*:\s|{n}(?:[\s._/-]+(?:staging|prod))?\.values\.ya?ml\b"))
        });
        let trackers = (!trackers.is_empty()).then(|| {
            let alts: Vec<String> = trackers.iter().map(|t| regex::escape(t)).collect();
            build(format!(r"\b(?:{})\S*", alts.join("|")))
        });
        Ok(OwnServices { domains: compiled, names, short_names, trackers })
    }

    /// The first sign of the team's own services in `text` (what the
    /// writer wrote: subject and unquoted body), or of a known sender.
    pub fn sign(&self, text: &str, sender: Sender) -> Option<String> {
        let shown = |kind: &str, words: &str| {
            let w: String = crate::message::sanitize_line(words).chars().take(SHOWN).collect();
            format!("{kind} {w:?}")
        };
        if let Some(host) = HOST.find_iter(text).map(|m| m.as_str()).find(|h| self.is_own_host(h)) {
            return Some(shown("hub address", host));
        }
        if let Some(m) = self.trackers.as_ref().and_then(|r| r.find(text)) {
            return Some(shown("tracker link", m.as_str()));
        }
        if let Some(m) = self.names.as_ref().and_then(|r| r.find(text)) {
            return Some(shown("name", m.as_str()));
        }
        if let Some(m) = self.short_names.as_ref().and_then(|r| r.find(text)) {
            return Some(shown("hub name", m.as_str()));
        }
        (sender == Sender::Account).then(|| "the sender is a known account".to_string())
    }

    fn is_own_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.domains.iter().any(|d| match d {
            Domain::Exact(e) => host == *e,
            Domain::Under(suffix) => host.ends_with(suffix.as_str()),
        })
    }
}

fn parse_domain(d: &str) -> Result<Domain, String> {
    let (wild, host) = match d.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, d),
    };
    let ok = host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if !ok {
        return Err(format!(
            "{d:?} is not a host name: lowercase labels with dots, \"hub.example.org\", or \"*.example.org\" for every host under example.org"
        ));
    }
    Ok(if wild { Domain::Under(format!(".{host}")) } else { Domain::Exact(host.to_string()) })
}

/// A tracker as it is matched: without its scheme, lowercase.
fn tracker_prefix(t: &str) -> String {
    let t = t.trim();
    let t = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://")).unwrap_or(t);
    t.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[String]) -> String {
        let alts: Vec<String> = w.iter().map(|x| x.split_whitespace().map(regex::escape).collect::<Vec<_>>().join(r"\s+")).collect();
        format!(r"\b(?:{})\b", alts.join("|"))
    }

    fn own() -> OwnServices {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        OwnServices::new(
            &s(&["*.2i2c.cloud", "jupyter.utoronto.ca"]),
            &s(&["University of Toronto"]),
            &s(&["leap", "temple"]),
            &s(&["hub", "hubs", "jupyterhub"]),
            &s(&["https://github.com/2i2c-org/"]),
            words,
        )
        .unwrap()
    }

    #[test]
    fn addresses_names_and_trackers_are_signs() {
        let o = own();
        let sign = |t: &str| o.sign(t, Sender::Unknown);
        assert_eq!(sign("https://staging.leap.2i2c.cloud/hub/home is down").as_deref(), Some(r#"hub address "staging.leap.2i2c.cloud""#));
        assert!(sign("jupyter.utoronto.ca times out").is_some());
        assert_eq!(sign("see github.com/2i2c-org/infrastructure/issues/12").as_deref(), Some(r#"tracker link "github.com/2i2c-org/infrastructure/issues/12""#));
        assert!(sign("Students at the University  of Toronto cannot log in").is_some());
        assert!(sign("The LEAP hub is slow").is_some());
        assert!(sign("[Temple] JupyterHub spawn fails").is_some());
        assert!(sign("our hub for temple is down").is_some());
        // A short name tagging the subject, as hub communities title
        // their requests.
        assert_eq!(sign("LEAP: image bump and spawn screen details").as_deref(), Some(r#"hub name "LEAP:""#));
        // Or as the last item of a bracketed label.
        assert!(sign("[Support:temple] Investigate workshop issues").is_some());
        assert!(sign("[2i2c, leap]: update access as soon as possible").is_some());
        // Or a hub's configuration file.
        assert!(sign("Update defaulturl in temple.values.yaml").is_some());
        assert!(sign("Point leap staging.values.yaml to the new realm").is_some());
    }

    #[test]
    fn lookalikes_are_not_signs() {
        let o = own();
        for t in [
            "our JupyterHub on 2i2c.cloud.example.net is down",
            "2i2c.cloud is a nice site",
            "a leap forward for our hub users: the kernel died",
            "datahub.berkeley.edu is down, the hub does not spawn",
            "github.com/jupyterhub/jupyterhub/issues/1",
            "utoronto.ca mail is slow",
            // Only opening the subject: a colon after the word elsewhere
            // is a sentence, not a tag.
            "Notes from the meeting\ntemple: the image is old",
            // A bracketed label that only holds the word inside a phrase.
            "[temple run] the image is old",
            "[leap year bug] dates are off",
            // Any other project's values file.
            "values.yaml of my own chart: the image is old",
        ] {
            assert_eq!(o.sign(t, Sender::Unknown), None, "{t}");
        }
        assert_eq!(o.sign("our hub is down", Sender::Account).as_deref(), Some("the sender is a known account"));
    }

    #[test]
    fn notices_name_the_kind_of_sign_never_its_words() {
        let v = |sign: Option<&str>, gated: &[&str]| OwnVerdict { sign: sign.map(str::to_string), gated: gated.iter().map(|g| g.to_string()).collect() };
        assert_eq!(v(Some(r#"hub address "leap.2i2c.cloud""#), &[]).explain().as_deref(), Some("sign of ours: hub address"));
        assert_eq!(v(Some("the sender is a known account"), &[]).explain().as_deref(), Some("sign of ours: the sender is a known account"));
        assert_eq!(v(None, &["infrastructure 3.5"]).explain().as_deref(), Some("no sign of ours, so not infrastructure"));
        assert_eq!(v(None, &[]).explain(), None);
    }

    #[test]
    fn bad_entries_are_named() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let errs = OwnServices::new(&s(&["*.Hub..org", "localhost"]), &[], &s(&["leap"]), &[], &s(&["/x"]), words).unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["domains", "domains", "short_names", "trackers"], "{errs:?}");
        assert!(errs[0].1.contains("is not a host name"), "{errs:?}");
    }
}
