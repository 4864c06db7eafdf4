//! The daemon under test against a real Dovecot: a temporary config and
//! store, the `triaged` binary run as a user would run it, and the Drafts
//! folder read back with doveadm.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::dovecot::Dovecot;
use triaged::message::Message;

pub struct Setup {
    pub dovecot: Dovecot,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

pub fn setup_with(tls: &str, extra: &str) -> Setup {
    setup_custom(tls, None, "", extra)
}

/// `port`: connect through a proxy there; `imap_extra`: more `[imap]` keys.
pub fn setup_custom(tls: &str, port: Option<u16>, imap_extra: &str, extra: &str) -> Setup {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triaged.toml");
    std::fs::write(&config, dovecot.triaged_config(&dir.path().join("store"), tls, port, imap_extra, extra)).unwrap();
    Setup { dovecot, dir, config }
}

impl Setup {
    /// Delivers `raw` to INBOX and runs one pass over it.
    pub fn deliver_and_run(&self, raw: &str) {
        self.dovecot.deliver("INBOX", raw.as_bytes());
        run_once(self);
    }

    /// The tickets as `status --json` lists them.
    pub fn tickets(&self) -> Vec<serde_json::Value> {
        let out = triaged(&self.config, &["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["tickets"].as_array().unwrap().clone()
    }

    /// Ticket `n` as `status --json` shows it.
    pub fn ticket(&self, n: u64) -> serde_json::Value {
        self.tickets().into_iter().find(|t| t["ticket"] == n).unwrap_or_else(|| panic!("no ticket {n}"))
    }

    /// Rewrites the config, e.g. to go through a proxy started after Dovecot.
    pub fn reconfigure(&self, tls: &str, port: Option<u16>, imap_extra: &str, extra: &str) {
        let text = self.dovecot.triaged_config(&self.dir.path().join("store"), tls, port, imap_extra, extra);
        std::fs::write(&self.config, text).unwrap();
    }

    /// The pack without its shipped model ([`templates_without_pack_model`]).
    #[allow(dead_code)]
    pub fn without_pack_model(self, pack: &str) -> Setup {
        let templates = templates_without_pack_model(self.dir.path(), pack);
        let text = std::fs::read_to_string(&self.config).unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").display().to_string();
        let swapped = text.replacen(&format!("templates = \"{shipped}\""), &format!("templates = \"{}\"", templates.display()), 1);
        assert_ne!(text, swapped, "the test config names the shipped templates");
        std::fs::write(&self.config, swapped).unwrap();
        self
    }
}

/// Like [`setup_with`], with the procedure pack `pack` instead of sourcehut.
pub fn setup_pack(pack: &str, extra: &str) -> Setup {
    let s = setup_with("none", extra);
    let text = std::fs::read_to_string(&s.config).unwrap();
    let swapped = text.replacen("pack = \"sourcehut\"", &format!("pack = \"{pack}\""), 1);
    assert_ne!(text, swapped, "the test config names a pack");
    std::fs::write(&s.config, swapped).unwrap();
    s
}

pub fn setup() -> Setup {
    setup_with("none", "")
}

/// A copy of the shipped pack `pack` under `dir`/templates without the
/// model it ships (`pack-model.bin`), for tests of what the team's own
/// model learns from the rules alone; returns the templates folder.
#[allow(dead_code)]
pub fn templates_without_pack_model(dir: &Path, pack: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target)
            } else if path.file_name().is_some_and(|n| n != triaged::classify::pack_model::FILE) {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let templates = dir.join("templates");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join(pack), &templates.join(pack));
    templates
}

pub fn triaged(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("TRIAGED_LOG", "info")
        .output()
        .unwrap()
}

pub fn run_once(s: &Setup) -> Output {
    let out = triaged(&s.config, &["run", "--once"]);
    assert!(
        out.status.success(),
        "run --once failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn spawn_daemon(s: &Setup) -> Child {
    spawn_daemon_with_env(s, &[])
}

pub fn mail(n: usize, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: User {n} <user{n}@example.net>\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <m{n}@example.net>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub fn drafts(s: &Setup) -> Vec<Message> {
    s.dovecot
        .messages("Drafts")
        .into_iter()
        .map(|raw| Message::parse(raw).expect("draft parses"))
        .collect()
}

/// The Message-ID of our latest draft for ticket `n`: what a user's mail
/// client names in In-Reply-To when they reply to it.
pub fn our_latest_draft(s: &Setup, n: u64) -> String {
    let tag = format!("[#{n}]");
    drafts(s)
        .into_iter()
        .filter(|d| d.subject.contains(&tag))
        .last()
        .unwrap_or_else(|| panic!("no draft for #{n} to reply to"))
        .message_id
}

pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// Drafts per incoming Message-ID; every value must be 1.
pub fn drafts_per_message(s: &Setup) -> HashMap<String, usize> {
    let mut count = HashMap::new();
    for d in drafts(s) {
        *count.entry(d.in_reply_to.first().cloned().unwrap_or_default()).or_insert(0) += 1;
    }
    count
}


/// `triaged run` with extra environment, e.g. systemd's NOTIFY_SOCKET.
pub fn spawn_daemon_with_env(s: &Setup, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .arg("run")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Fails the test with the daemon's exit status and log when it is no
/// longer running, instead of letting a later step guess why.
pub fn assert_running(child: &mut Child) {
    if let Some(status) = child.try_wait().unwrap() {
        let mut log = String::new();
        if let Some(mut err) = child.stderr.take() {
            std::io::Read::read_to_string(&mut err, &mut log).ok();
        }
        panic!("the daemon exited ({status}): {log}");
    }
}

/// Stops the daemon as systemd does and expects a clean exit.
pub fn sigterm(child: Child) -> Output {
    let ok = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(ok.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    out
}

/// Until Drafts holds `n` messages (a running daemon appends them), at
/// most 30 s.
pub async fn wait_drafts(s: &Setup, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while s.dovecot.uids("Drafts").len() < n {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {n} drafts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Draft `raw` (as Drafts holds it) as a mail client files it in Sent
/// once staff send it unedited: a Message-ID and Date of its own, the body
/// as `rewrap` lays it out (clients re-wrap lines).
pub fn sent_copy(raw: &[u8], message_id: &str, date: &str, rewrap: impl Fn(&str) -> String) -> Vec<u8> {
    let drafted = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = drafted.split_once("\n\n").unwrap();
    let head: String = head
        .split('\n')
        .filter(|l| !l.starts_with("Message-ID:") && !l.starts_with("Date:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    format!("{head}Message-ID: {message_id}\r\nDate: {date}\r\n\r\n{}", rewrap(body)).into_bytes()
}

/// The first `name:` header of `raw`, unfolded.
pub fn first_header(raw: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ");
    head.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}
