//! A real DNS server for tests: dnsmasq on 127.0.0.1 with a free port,
//! authoritative for the records given (nothing is forwarded anywhere;
//! names it does not know get NXDOMAIN). `stop()` kills it to simulate an
//! outage; dropping the handle kills it too.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A UDP port on 127.0.0.1 that is closed and stays closed for the test
/// process: a datagram sent to it is refused at once (ICMP port
/// unreachable), as a resolver that is down, and no other test's server can
/// take it meanwhile. The port is held by a socket connected elsewhere: the
/// kernel delivers nothing from anyone else to it, and refuses instead.
/// (A port found free once and released was taken by another test's
/// dnsmasq, which answered NXDOMAIN where the test meant an outage.)
pub fn closed_udp_port() -> u16 {
    static HELD: std::sync::OnceLock<std::net::UdpSocket> = std::sync::OnceLock::new();
    HELD.get_or_init(|| {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on 127.0.0.1");
        // Port 9 (discard): the socket only ever accepts datagrams from there.
        socket.connect("127.0.0.1:9").expect("connect the held UDP socket");
        socket
    })
    .local_addr()
    .expect("held socket address")
    .port()
}

#[derive(Debug, Clone)]
pub enum Record {
    /// Any length: split into 255-byte character-strings as RFC 1035
    /// requires (DKIM keys are longer than one string).
    Txt(String, String),
    A(String, Ipv4Addr),
    /// Names under this zone are forwarded to a closed port (held closed
    /// for the test process: [`closed_udp_port`]), so they fail
    /// upstream (SERVFAIL/REFUSED) instead of being NXDOMAIN.
    Failing(String),
}

impl Record {
    pub fn txt(name: impl Into<String>, text: impl Into<String>) -> Record {
        Record::Txt(name.into(), text.into())
    }

    pub fn a(name: impl Into<String>, ip: Ipv4Addr) -> Record {
        Record::A(name.into(), ip)
    }
}

pub struct Dns {
    child: Option<Child>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Dns {
    pub fn start(records: &[Record]) -> Dns {
        Self::launch(records, false)
    }

    /// As `start`, with every query written to the log (`log_text`), so a
    /// test can count them; benchmarks use `start`, which does not pay
    /// for the logging.
    pub fn start_logging_queries(records: &[Record]) -> Dns {
        Self::launch(records, true)
    }

    fn launch(records: &[Record], log_queries: bool) -> Dns {
        // A port found free can be taken before dnsmasq binds it (tests run
        // in parallel, and one holds a silent UDP socket as a dead resolver):
        // then dnsmasq exits at once, and another port is tried.
        let mut tries = 0;
        loop {
            match Self::try_launch(records, log_queries) {
                Ok(dns) => return dns,
                Err(log) if tries < 4 && log.contains("in use") => tries += 1,
                Err(log) => panic!("dnsmasq did not start: {log}"),
            }
        }
    }

    fn try_launch(records: &[Record], log_queries: bool) -> Result<Dns, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = super::free_port();
        let mut conf = format!(
            "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\npid-file=\nlocal=/#/\n"
        );
        if log_queries {
            conf.push_str("log-queries\n");
        }
        for r in records {
            match r {
                Record::Txt(name, text) => {
                    let parts: Vec<String> = text
                        .as_bytes()
                        .chunks(255)
                        .map(|c| quoted(std::str::from_utf8(c).expect("ASCII TXT data")))
                        .collect();
                    let parts = if parts.is_empty() {
                        vec!["\"\"".to_string()]
                    } else {
                        parts
                    };
                    conf.push_str(&format!("txt-record={name},{}\n", parts.join(",")));
                }
                Record::A(name, ip) => conf.push_str(&format!("host-record={name},{ip}\n")),
                Record::Failing(zone) => conf.push_str(&format!("server=/{zone}/127.0.0.1#{}\n", closed_udp_port())),
            }
        }
        let conf_path = dir.path().join("dnsmasq.conf");
        std::fs::write(&conf_path, conf).expect("write dnsmasq.conf");
        let log = dir.path().join("dnsmasq.log");
        let child = Command::new("dnsmasq")
            .arg("--keep-in-foreground")
            .arg(format!("--conf-file={}", conf_path.display()))
            .arg("--log-facility=-")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("dnsmasq must be installed (Debian package dnsmasq-base)");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut dns = Dns {
            child: Some(child),
            addr,
            _dir: dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = dns.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("dnsmasq exited with {status}: {}", dns.log_text()));
            }
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not start: {}",
                dns.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(dns)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Kills the server: queries then time out or are refused.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A resolver that asks only `server`, with a short timeout and no cache,
/// so a test sees each change at once.
pub fn resolver(server: SocketAddr) -> hickory_resolver::TokioResolver {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for c in &mut ns.connections {
        c.port = server.port();
    }
    let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let mut builder = hickory_resolver::TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    let opts = builder.options_mut();
    opts.timeout = Duration::from_secs(1);
    opts.attempts = 1;
    opts.cache_size = 0;
    builder.build().expect("resolver config is valid")
}

/// A gate in front of a DNS server, on its own UDP port of 127.0.0.1: while
/// shut, queries are held unanswered (and counted), as a resolver that is
/// slow to answer; once open, the held ones and every later one go to the
/// server and its answers come back. Lets a test act while a lookup is
/// under way.
pub struct Gate {
    addr: SocketAddr,
    open: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Gate {
    /// Open, in front of `server`.
    pub fn start(server: SocketAddr) -> Gate {
        use std::sync::atomic::Ordering;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind the gate's UDP port");
        let addr = socket.local_addr().unwrap();
        let gate = Gate { addr, open: Default::default(), held: Default::default() };
        *gate.open.0.lock().unwrap() = true;
        let (open, held) = (gate.open.clone(), gate.held.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, client)) = socket.recv_from(&mut buf) {
                let query = buf[..n].to_vec();
                let (answer_to, open, held) = (socket.try_clone().unwrap(), open.clone(), held.clone());
                std::thread::spawn(move || {
                    let (lock, opened) = &*open;
                    let mut is_open = lock.lock().unwrap();
                    if !*is_open {
                        held.fetch_add(1, Ordering::SeqCst);
                        while !*is_open {
                            is_open = opened.wait(is_open).unwrap();
                        }
                    }
                    drop(is_open);
                    let upstream = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                    upstream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    upstream.send_to(&query, server).unwrap();
                    let mut answer = [0u8; 4096];
                    if let Ok(m) = upstream.recv(&mut answer) {
                        let _ = answer_to.send_to(&answer[..m], client);
                    }
                });
            }
        });
        gate
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on queries wait until `open`.
    pub fn shut(&self) {
        *self.open.0.lock().unwrap() = false;
    }

    pub fn open(&self) {
        *self.open.0.lock().unwrap() = true;
        self.open.1.notify_all();
    }

    /// How many queries have waited at the shut gate.
    pub fn held(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::SeqCst)
    }
}
