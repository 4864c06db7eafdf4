//! A real ngIRCd on 127.0.0.1 for the staff-channel tests, plus the people
//! in the channel: a small raw-socket IRC client that acts as a staff member
//! (`connect`, `join`, `say`, `wait_for`), and a services link that logs a
//! nick in to an account the way Anope does (`METADATA nick accountname`),
//! so WHOIS shows `330 ... is logged in as`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::free_port;

pub const SERVER_NAME: &str = "irc.test";
const SERVICES_NAME: &str = "services.test";
const SERVICES_PASSWORD: &str = "services-link-secret";

#[derive(Debug, Clone, Default)]
pub struct IrcdOptions {
    /// Also listen with TLS, with a certificate from a CA made for the test.
    pub tls: bool,
    /// A predefined channel protected by a key: (channel, key).
    pub keyed_channel: Option<(String, String)>,
    /// No flood penalties (ngIRCd reads about 1 KiB a second from a client
    /// otherwise): for tests that post a large backlog quickly.
    pub no_penalties: bool,
}

pub struct Ircd {
    dir: tempfile::TempDir,
    pub port: u16,
    pub tls_port: Option<u16>,
    /// The test CA that signed the server certificate (PEM), with `tls`.
    pub ca_file: Option<PathBuf>,
    child: Option<Child>,
}

impl Ircd {
    pub fn start() -> Ircd {
        Ircd::start_with(IrcdOptions::default())
    }

    pub fn start_with(opts: IrcdOptions) -> Ircd {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut conf = format!(
            "[Global]\nName = {SERVER_NAME}\nInfo = triaged test server\nListen = 127.0.0.1\nPorts = {port}\n\
             PidFile = {pid}\nMotdPhrase = test server\nAdminInfo1 = test\nAdminInfo2 = test\nAdminEMail = test@example.org\n\
             [Limits]\nMaxConnectionsIP = 0\nMaxNickLength = 30\nPingTimeout = 300\nPongTimeout = 60\nMaxPenaltyTime = {penalty}\n\
             [Options]\nPAM = no\nIdent = no\nDNS = no\n\
             [Server]\nName = {SERVICES_NAME}\nMyPassword = {SERVICES_PASSWORD}\nPeerPassword = {SERVICES_PASSWORD}\nServiceMask = *Serv\n",
            pid = dir.path().join("ngircd.pid").display(),
            penalty = if opts.no_penalties { 0 } else { -1 },
        );
        let (mut tls_port, mut ca_file) = (None, None);
        if opts.tls {
            let super::Certs { ca, cert, key } = super::make_certs(dir.path(), "IP:127.0.0.1,DNS:localhost");
            let p = free_port();
            conf.push_str(&format!(
                "[SSL]\nCertFile = {}\nKeyFile = {}\nPorts = {p}\n",
                cert.display(),
                key.display()
            ));
            tls_port = Some(p);
            ca_file = Some(ca);
        }
        if let Some((channel, key)) = &opts.keyed_channel {
            conf.push_str(&format!("[Channel]\nName = {channel}\nModes = +Pk {key}\n"));
        }
        std::fs::write(dir.path().join("ngircd.conf"), conf).unwrap();
        let mut ircd = Ircd {
            dir,
            port,
            tls_port,
            ca_file,
            child: None,
        };
        ircd.spawn();
        ircd
    }

    fn spawn(&mut self) {
        self.spawn_process();
        let ports = [Some(self.port), self.tls_port];
        let deadline = Instant::now() + Duration::from_secs(20);
        for p in ports.into_iter().flatten() {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                if Instant::now() > deadline {
                    panic!("ngircd did not listen on {p}:\n{}", self.log());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn spawn_process(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("ngircd.log")).unwrap();
        let child = Command::new("/usr/sbin/ngircd")
            .arg("--nodaemon")
            .arg("--config")
            .arg(self.dir.path().join("ngircd.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("ngircd runs (Debian package ngircd)");
        self.child = Some(child);
    }

    /// Kills the server (every connection drops) and starts it again on
    /// the same ports.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Starts a stopped server again on the same ports and returns at
    /// once, without waiting for it to listen: `connect` waits. A test uses
    /// this to be first in the server's accept queue.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        self.spawn_process();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ngircd.log")).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A registered plain-text client with this nick.
    pub async fn connect(&self, nick: &str) -> IrcClient {
        IrcClient::connect(self.port, nick).await
    }

    /// A server link acting as the network's services.
    pub async fn services(&self) -> Services {
        let mut link = IrcClient::open(self.port, SERVICES_NAME).await;
        link.send_raw(&format!("PASS {SERVICES_PASSWORD} 0210-IRC+ ngircd|26.1:CLMSX P"))
            .await;
        link.send_raw(&format!("SERVER {SERVICES_NAME} 1 :test services")).await;
        link.wait_for(
            |l| l.contains(&format!("SERVER {SERVER_NAME}")),
            Duration::from_secs(10),
        )
        .await;
        Services { link }
    }
}

impl Drop for Ircd {
    fn drop(&mut self) {
        self.stop();
    }
}


/// One person (or server link) on the IRC server, speaking raw lines.
pub struct IrcClient {
    pub nick: String,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// A line partly read when a wait timed out.
    buf: Vec<u8>,
    /// Every line received so far.
    pub log: Vec<String>,
}

impl IrcClient {
    /// Connects, retrying every 2 ms for up to 20 s while the server is
    /// still starting.
    async fn open(port: u16, nick: &str) -> IrcClient {
        let deadline = Instant::now() + Duration::from_secs(20);
        let tcp = loop {
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(t) => break t,
                Err(e) if Instant::now() > deadline => panic!("{nick}: cannot connect to 127.0.0.1:{port}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        };
        let (r, w) = tcp.into_split();
        IrcClient {
            nick: nick.to_string(),
            reader: BufReader::new(r),
            writer: w,
            buf: Vec::new(),
            log: Vec::new(),
        }
    }

    pub async fn connect(port: u16, nick: &str) -> IrcClient {
        let mut c = IrcClient::open(port, nick).await;
        c.send_raw(&format!("NICK {nick}")).await;
        c.send_raw(&format!("USER {nick} 0 * :test staff {nick}")).await;
        // 30 s, not 10: a server started again a moment ago, on a 2-core
        // machine running the rest of the suite, once took longer than 10 s
        // to welcome its first client (fresh-clone CI, 2026-12-04).
        c.wait_for(|l| l.split(' ').nth(1) == Some("001"), Duration::from_secs(30))
            .await;
        c
    }

    pub async fn send_raw(&mut self, line: &str) {
        self.send_bytes(line.as_bytes()).await;
    }

    /// Sends bytes as they are (for lines that are not UTF-8).
    pub async fn send_bytes(&mut self, line: &[u8]) {
        self.writer.write_all(line).await.unwrap();
        self.writer.write_all(b"\r\n").await.unwrap();
        self.writer.flush().await.unwrap();
    }

    pub async fn join(&mut self, channel: &str) {
        self.join_with_key(channel, None).await;
    }

    pub async fn join_with_key(&mut self, channel: &str, key: Option<&str>) {
        match key {
            Some(k) => self.send_raw(&format!("JOIN {channel} {k}")).await,
            None => self.send_raw(&format!("JOIN {channel}")).await,
        }
        let end = format!(" 366 {} {channel} ", self.nick);
        self.wait_for(|l| l.contains(&end), Duration::from_secs(10)).await;
    }

    pub async fn say(&mut self, channel: &str, text: &str) {
        self.send_raw(&format!("PRIVMSG {channel} :{text}")).await;
    }

    /// The next line (answering PINGs on the way), or `None` at `deadline`.
    pub async fn next_line(&mut self, deadline: tokio::time::Instant) -> Option<String> {
        loop {
            let n = tokio::time::timeout_at(deadline, self.reader.read_until(b'\n', &mut self.buf))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            if !self.buf.ends_with(b"\n") {
                continue;
            }
            let line = String::from_utf8_lossy(&self.buf)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            self.buf.clear();
            self.log.push(line.clone());
            let ping = line.split(' ').position(|w| w == "PING");
            if let Some(i) = ping
                && i <= 1
            {
                let arg = line.split(' ').nth(i + 1).unwrap_or(":x").to_string();
                self.send_raw(&format!("PONG {arg}")).await;
                continue;
            }
            return Some(line);
        }
    }

    /// Reads until a line matches; panics with what was seen if none does
    /// within `timeout`.
    pub async fn wait_for(&mut self, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        let start = self.log.len();
        while let Some(line) = self.next_line(deadline).await {
            if pred(&line) {
                return line;
            }
        }
        panic!(
            "{}: nothing matched within {timeout:?}; received:\n{}",
            self.nick,
            self.log[start..].join("\n")
        );
    }

    /// The text of the next PRIVMSG from `from` to `channel` that matches.
    pub async fn said_by(
        &mut self,
        from: &str,
        channel: &str,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> String {
        let line = self
            .wait_for(|l| privmsg_from(l, from, channel).is_some_and(&pred), timeout)
            .await;
        privmsg_from(&line, from, channel).unwrap().to_string()
    }

    /// Every line until `quiet` passes without one.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = self.next_line(tokio::time::Instant::now() + quiet).await {
            out.push(l);
        }
        out
    }
}

/// The text of `line` if it is a PRIVMSG from `from` to `channel`.
pub fn privmsg_from<'a>(line: &'a str, from: &str, channel: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(':')?;
    let (prefix, rest) = rest.split_once(' ')?;
    let nick = prefix.split('!').next()?;
    let rest = rest.strip_prefix("PRIVMSG ")?;
    let (target, text) = rest.split_once(" :")?;
    (nick.eq_ignore_ascii_case(from) && target.eq_ignore_ascii_case(channel)).then_some(text)
}

/// The network's services, linked as a server.
pub struct Services {
    link: IrcClient,
}

impl Services {
    /// Logs `nick` in to `account`, as services do after SASL or NickServ.
    pub async fn log_in(&mut self, nick: &str, account: &str) {
        self.link
            .send_raw(&format!(":{SERVICES_NAME} METADATA {nick} accountname :{account}"))
            .await;
        // Anything queued for us (PINGs) is answered meanwhile.
        self.link.drain(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------- the triaged side

/// The `[irc]` section of a daemon config for this server: plain text, the
/// given channel, staff nick alice (who sends from alice@example.org).
pub fn daemon_irc_section(ircd: &Ircd, channel: &str) -> String {
    format!(
        "[irc]\nserver = \"127.0.0.1\"\nport = {}\ntls = false\nnick = \"triaged\"\nchannel = \"{channel}\"\nstaff = [\"alice\"]\nstaff_addresses = {{ alice = \"alice@example.org\" }}\n",
        ircd.port
    )
}

/// triaged's IRC settings for this server: plain text, the given channel
/// and staff nicks, nothing else required.
pub fn irc_config(ircd: &Ircd, channel: &str, staff: &[&str]) -> triaged::config::IrcConfig {
    triaged::config::IrcConfig {
        server: "127.0.0.1".into(),
        port: ircd.port,
        tls: false,
        nick: "triaged".into(),
        channel: channel.into(),
        channel_key: None,
        password: None,
        sasl_username: None,
        ca_file: None,
        staff: staff.iter().map(|s| s.to_string()).collect(),
        staff_require_account: false,
        staff_addresses: Default::default(),
        allow_channel_operators: false,
        lines_per_second: 1.0,
    }
}

/// triaged's IRC settings loaded from an `[irc]` section the way the daemon
/// loads them (for secrets read from files: password, channel key). Files
/// named in the section are relative to `dir`.
pub fn irc_config_from_toml(dir: &Path, irc_section: &str) -> triaged::config::IrcConfig {
    load_config(dir, &format!("[irc]\n{irc_section}\n"))
        .irc
        .expect("[irc] section")
}

/// A whole config: a minimal `[imap]` and `[procedures]` plus `sections`.
pub fn load_config(dir: &Path, sections: &str) -> triaged::config::Config {
    std::fs::create_dir_all(dir.join("templates/sourcehut")).unwrap();
    std::fs::write(dir.join("imap-password"), "x\n").unwrap();
    let text = format!(
        "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"support@example.org\"\npassword_file = \"imap-password\"\n\
         [procedures]\ntemplates = \"templates\"\n{sections}"
    );
    let path = dir.join("triaged.toml");
    std::fs::write(&path, &text).unwrap();
    triaged::config::Config::load(&path).unwrap_or_else(|e| panic!("test config does not load: {e}"))
}

/// A store holding `n` new tickets, numbered 1..=n.
pub fn store_with_tickets(n: u32) -> (tempfile::TempDir, triaged::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = triaged::store::Store::open(dir.path()).unwrap();
    add_tickets(&store, n);
    (dir, store)
}

pub fn add_tickets(store: &triaged::store::Store, n: u32) {
    let first = store.tickets().unwrap().len() as u32 + 1;
    for uid in first..first + n {
        let intake = triaged::store::Intake {
            folder: "INBOX".into(),
            uid: triaged::store::Uid { validity: 1, uid },
            message_id: format!("<m{uid}@example.org>"),
        };
        let id = store.next_ticket_id().unwrap();
        let t = triaged::store::Ticket::new(id, &intake, &format!("user{uid}@example.org"), &format!("Please delete my account ({uid})"), "account-deletion");
        store.open_ticket(&t, &intake, &[], None).unwrap();
    }
}

/// triaged's IRC task, started for a test.
pub struct Bot {
    pub notifier: triaged::staff::Notifier,
    pub commands: tokio::sync::mpsc::Receiver<triaged::staff::StaffCommand>,
    cancel: tokio_util::sync::CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

impl Bot {
    pub fn start(config: triaged::config::IrcConfig, store: triaged::store::Store) -> Bot {
        let cancel = tokio_util::sync::CancellationToken::new();
        let (tx, commands) = tokio::sync::mpsc::channel(8);
        let (notifier, handle) = triaged::staff::spawn_irc(config, store, cancel.clone(), tx);
        Bot {
            notifier,
            commands,
            cancel,
            handle,
        }
    }

    /// Shuts the task down and waits for it (it sends QUIT).
    pub async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the IRC task stops on cancel")
            .unwrap();
    }
}

/// Is this line the bot (nick `triaged`) joining?
pub fn bot_joined(line: &str) -> bool {
    line.starts_with(":triaged!") && line.contains(" JOIN ")
}

/// What a channel test keeps alive: the server and the store.
pub struct Scene {
    pub ircd: Ircd,
    pub store_dir: tempfile::TempDir,
    pub store: triaged::store::Store,
}

/// The usual start of a channel test: a server, a store with `tickets`
/// tickets, `first` in the channel (its operator, being first), and the bot
/// joined with `staff` and whatever `tweak` changes in its config.
pub async fn scene(
    channel: &str,
    first: &str,
    tickets: u32,
    staff: &[&str],
    tweak: impl FnOnce(&mut triaged::config::IrcConfig),
) -> (Scene, IrcClient, Bot) {
    let ircd = Ircd::start();
    let (store_dir, store) = store_with_tickets(tickets);
    let mut client = ircd.connect(first).await;
    client.join(channel).await;
    let mut cfg = irc_config(&ircd, channel, staff);
    tweak(&mut cfg);
    let bot = Bot::start(cfg, store.clone());
    client.wait_for(bot_joined, Duration::from_secs(20)).await;
    (Scene { ircd, store_dir, store }, client, bot)
}

/// `c` tries `!claim ticket` in `channel` and must be told who holds it
/// since when.
/// The channel's answer to a successful `!claim ticket` by `nick`, as the
/// daemon renders it.
pub fn claimed(nick: &str, ticket: u64) -> String {
    triaged::staff::lines::claim(nick, triaged::store::TicketId(ticket), &triaged::store::claims::ClaimOutcome::Claimed, jiff::Timestamp::now())
}

pub async fn claim_is_refused(c: &mut IrcClient, channel: &str, ticket: u64, holder: &str, since: jiff::Timestamp) {
    c.say(channel, &format!("!claim {ticket}")).await;
    let prefix = format!("{}: ", c.nick);
    let refused = c
        .said_by("triaged", channel, |t| t.starts_with(&prefix), Duration::from_secs(15))
        .await;
    let held = triaged::store::claims::Claim { nick: holder.to_string(), since };
    let outcome = triaged::store::claims::ClaimOutcome::HeldBy(held);
    assert_eq!(refused, triaged::staff::lines::claim(&c.nick, triaged::store::TicketId(ticket), &outcome, jiff::Timestamp::now()));
}
