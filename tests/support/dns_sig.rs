//! A real dnsmasq on 127.0.0.1 serving fixed TXT records for the challenge
//! tests, and a hickory resolver pointed at it. Declared only by the test
//! files that use it (`#[path = "support/dns_sig.rs"] mod dns_sig;`).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

pub struct Dnsmasq {
    child: Option<Child>,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Serve `zone` from local data only (unknown names are NXDOMAIN), with
    /// the given `(name, value)` TXT records; names under `broken_zone` are
    /// forwarded to a closed port, so they fail upstream (SERVFAIL/REFUSED).
    pub fn start(zone: &str, broken_zone: &str, txt: &[(&str, &str)]) -> Dnsmasq {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::support::free_port();
        let dead = crate::support::free_port();
        let mut cmd = Command::new("dnsmasq");
        cmd.args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--pid-file",
            "--cache-size=0",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--local=/{zone}/"))
        .arg(format!("--server=/{broken_zone}/127.0.0.1#{dead}"))
        .arg(format!(
            "--log-facility={}",
            dir.path().join("dnsmasq.log").display()
        ));
        // dnsmasq drops privileges to an account that may not exist here.
        if running_as_root() {
            cmd.args(["--user=root", "--group=root"]);
        }
        for (name, value) in txt {
            cmd.arg(format!("--txt-record={name},{value}"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq is installed (Debian: dnsmasq-base)");
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        let mut server = Dnsmasq {
            child: Some(child),
            addr,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("dnsmasq exited with {status}: {}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not start: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dnsmasq.log")).unwrap_or_default()
    }

    /// Stop the server; later queries go unanswered.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        self.stop();
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A resolver that asks only `server`, with a short timeout and no cache,
/// so a test sees each change at once.
pub fn resolver(server: SocketAddr) -> TokioResolver {
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for c in &mut ns.connections {
        c.port = server.port();
    }
    let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    let opts = builder.options_mut();
    opts.timeout = Duration::from_secs(1);
    opts.attempts = 1;
    opts.cache_size = 0;
    builder.build().expect("resolver config is valid")
}
