//! A real Dovecot on 127.0.0.1 with free ports, a temporary maildir and one
//! passwd-file user; stopped when dropped. Mail goes in and comes out with
//! `doveadm`, an implementation independent of triaged's IMAP client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub const USER: &str = "support@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Dovecot {
    dir: tempfile::TempDir,
    pub port: u16,
    pub tls_port: u16,
    child: Option<Child>,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn whoami(flag: &str) -> String {
    let o = Command::new("id").arg(flag).output().expect("id");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

impl Dovecot {
    pub fn start() -> Dovecot {
        let dir = tempfile::Builder::new().prefix("triaged-dovecot-").tempdir().unwrap();
        let d = dir.path();
        // Dovecot's unprivileged processes must be able to reach the files.
        run(Command::new("chmod").arg("755").arg(d));
        super::make_certs(d, "DNS:localhost,IP:127.0.0.1");
        std::fs::write(d.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        std::fs::write(d.join("password"), format!("{PASSWORD}\n")).unwrap();
        for sub in ["mail", "home"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let (user, group, internal, login, igroup) = if is_root() {
            // Dovecot refuses uid 0 for mail and for its login processes.
            run(Command::new("chown").arg("-R").arg("dovecot:dovecot").arg(d.join("mail")).arg(d.join("home")));
            ("dovecot".into(), "dovecot".into(), "dovecot".into(), "dovenull".into(), "dovecot".into())
        } else {
            let u = whoami("-un");
            let g = whoami("-gn");
            (u.clone(), g.clone(), u.clone(), u, g)
        };
        let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dovecot.conf.in")).unwrap();
        let template = template
            .replace("@DIR@", &d.display().to_string())
            .replace("@USER@", &user)
            .replace("@GROUP@", &group)
            .replace("@INTERNALUSER@", &internal)
            .replace("@LOGINUSER@", &login)
            .replace("@INTERNALGROUP@", &igroup);
        // A port from `free_port` is free when chosen, not when Dovecot binds
        // it: a parallel test may take it in between. Such a start fails
        // fast (the master exits), so it is retried on fresh ports; any other
        // failure panics with Dovecot's own log.
        let mut last = String::new();
        for _ in 0..3 {
            let (port, tls_port) = (free_port(), free_port());
            let conf = template.replace("@PORT@", &port.to_string()).replace("@TLSPORT@", &tls_port.to_string());
            std::fs::write(d.join("dovecot.conf"), conf).unwrap();
            match launch(d, port, tls_port) {
                Ok(child) => return Dovecot { dir, port, tls_port, child: Some(child) },
                Err(why) => last = why,
            }
        }
        panic!("dovecot did not start on fresh ports three times: {last}");
    }

    fn spawn(&mut self) {
        match launch(self.dir.path(), self.port, self.tls_port) {
            Ok(child) => self.child = Some(child),
            Err(why) => panic!("{why}"),
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            // The master's children notice their parent is gone and exit;
            // wait for the ports to be released before a restart.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("password")
    }

    fn doveadm(&self) -> Command {
        let mut c = Command::new("doveadm");
        c.arg("-c").arg(self.conf());
        c
    }

    /// Delivers one message into `folder` (created when missing).
    pub fn deliver(&self, folder: &str, bytes: &[u8]) {
        use std::io::Write;
        let mut child = self
            .doveadm()
            .args(["save", "-u", USER, "-m", folder])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            // A missing folder: create it and try once more.
            self.create(folder);
            let mut child = self
                .doveadm()
                .args(["save", "-u", USER, "-m", folder])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(bytes).unwrap();
            assert!(child.wait().unwrap().success(), "doveadm save into {folder} failed");
        }
    }

    /// Delivers many messages into `folder` at once (one `doveadm import`
    /// of an mbox): a 500-message backlog in a fraction of a second.
    pub fn deliver_many(&self, folder: &str, messages: &[Vec<u8>]) {
        let dir = self.dir.path().join("import");
        std::fs::create_dir_all(&dir).unwrap();
        let mut mbox = Vec::new();
        for m in messages {
            mbox.extend_from_slice(b"From import@localhost Mon Nov 23 10:00:00 2026\n");
            for line in m.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                // mboxrd: a body line starting with "From " is quoted.
                if line.starts_with(b"From ") {
                    mbox.push(b'>');
                }
                mbox.extend_from_slice(line);
                mbox.push(b'\n');
            }
            mbox.push(b'\n');
        }
        std::fs::write(dir.join("in"), mbox).unwrap();
        // doveadm runs as the mail user, who keeps an index beside the mbox.
        run(Command::new("chmod").arg("-R").arg("a+rwX").arg(&dir));
        let location = format!("mbox:{}:INBOX={}", dir.display(), dir.join("in").display());
        let out = self.doveadm().args(["import", "-u", USER, &location, "", "all"]).output().unwrap();
        assert!(out.status.success(), "doveadm import: {}", String::from_utf8_lossy(&out.stderr));
        if folder != "INBOX" {
            panic!("deliver_many imports into INBOX only");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    pub fn create(&self, folder: &str) {
        let _ = self.doveadm().args(["mailbox", "create", "-u", USER, folder]).output();
    }

    /// UIDs in `folder`, empty when it does not exist.
    pub fn uids(&self, folder: &str) -> Vec<u32> {
        let out = self
            .doveadm()
            .args(["search", "-u", USER, "mailbox", folder, "ALL"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect()
    }

    /// The messages in `folder`, oldest first, as stored.
    pub fn messages(&self, folder: &str) -> Vec<Vec<u8>> {
        self.uids(folder)
            .into_iter()
            .map(|uid| {
                let out = self
                    .doveadm()
                    .args(["fetch", "-u", USER, "text", "mailbox", folder, "uid", &uid.to_string()])
                    .output()
                    .unwrap();
                let text = out.stdout;
                // "text:\n<message>\n"
                let start = text.iter().position(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
                text[start..].to_vec()
            })
            .collect()
    }

    /// Flags of every message in `folder`, one string per message.
    pub fn flags(&self, folder: &str) -> Vec<String> {
        let out = self
            .doveadm()
            .args(["fetch", "-u", USER, "flags", "mailbox", folder, "ALL"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("flags:").map(|f| f.trim().to_string()))
            .collect()
    }

    pub fn uidvalidity(&self, folder: &str) -> u32 {
        let out = self
            .doveadm()
            .args(["-f", "flow", "mailbox", "status", "-u", USER, "uidvalidity", folder])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout);
        s.split("uidvalidity=").nth(1).and_then(|v| v.trim().parse().ok()).expect("uidvalidity")
    }

    /// Gives `folder` a new UIDVALIDITY, as a server restore or migration
    /// does: every UID the client knew becomes meaningless.
    pub fn reset_uidvalidity(&self, folder: &str) {
        let new = self.uidvalidity(folder) + 1000;
        let out = self
            .doveadm()
            .args(["mailbox", "update", "-u", USER, "--uid-validity", &new.to_string(), folder])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(self.uidvalidity(folder), new);
    }

    /// A triaged config for this server: loopback plain text on `port`, or
    /// TLS with the test certificate when `tls` is "implicit"/"starttls".
    /// `port`: connect there instead (a fault-injecting proxy);
    /// `imap_extra`: more `[imap]` keys; `extra`: more sections.
    pub fn triaged_config(&self, store: &Path, tls: &str, port: Option<u16>, imap_extra: &str, extra: &str) -> String {
        let port = port.unwrap_or(if tls == "implicit" { self.tls_port } else { self.port });
        format!(
            r#"[imap]
host = "127.0.0.1"
port = {port}
tls = "{tls}"
username = "{USER}"
password_file = "{pw}"
ca_file = "{ca}"
folders = ["INBOX"]
drafts = "Drafts"
# Long, so that only IDLE can explain a prompt draft.
poll_interval_secs = 300
{imap_extra}

[store]
path = "{store}"

[procedures]
pack = "sourcehut"
templates = "{templates}"

[draft]
from = "Example Support <{USER}>"
signature = "-- \nThe support team"
{dns}
{extra}
"#,
            // Nothing in a test may ask a resolver off this machine: by
            // default a resolver that is down (refused at once).
            dns = if extra.contains("[dns]") {
                String::new()
            } else {
                format!("[dns]\nnameservers = [\"127.0.0.1:{}\"]\ntimeout_secs = 1\n", super::dns::closed_udp_port())
            },
            pw = self.password_file().display(),
            ca = self.ca_file().display(),
            store = store.display(),
            templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").display(),
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a master on `dir/dovecot.conf` and waits until both listeners
/// accept, or stops it and says why not (it exited, or nothing listens after
/// 30 s) with the end of Dovecot's log.
fn launch(dir: &Path, port: u16, tls_port: u16) -> Result<Child, String> {
    let _ = std::fs::remove_dir_all(dir.join("run"));
    let mut child = Command::new("dovecot")
        .arg("-F")
        .arg("-c")
        .arg(dir.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dovecot: install dovecot-imapd (the README test command does)");
    let deadline = Instant::now() + Duration::from_secs(30);
    for p in [port, tls_port] {
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(10)..].join("\n");
                let what = match exited {
                    Some(status) => format!("dovecot exited ({status})"),
                    None => "nothing listens after 30s".to_string(),
                };
                return Err(format!("{what} on 127.0.0.1:{p}; dovecot.log ends:\n{tail}"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
    // Another process that won the port race would also accept.
    if let Ok(Some(status)) = child.try_wait() {
        return Err(format!("dovecot exited ({status}) although 127.0.0.1:{port} accepts: another process holds the port"));
    }
    Ok(child)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

