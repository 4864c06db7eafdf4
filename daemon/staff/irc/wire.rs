//! The IRC wire: one connection (TCP, or TLS with the system's roots and
//! `irc.ca_file`), lines read leniently (bytes that are not UTF-8 never end
//! the connection) and written so that no parameter can break a line open.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::rustls;

use super::IrcError;
use crate::config::IrcConfig;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_LINE: usize = 16 * 1024;

pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

pub(super) struct Wire {
    pub(super) reader: BufReader<ReadHalf<Box<dyn Io>>>,
    pub(super) writer: WriteHalf<Box<dyn Io>>,
    pub(super) buf: Vec<u8>,
}

impl Wire {
    pub(super) async fn connect(cfg: &IrcConfig) -> Result<Wire, IrcError> {
        let fail = |reason: String| IrcError::Connect {
            server: cfg.server.clone(),
            port: cfg.port,
            reason,
        };
        let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect((cfg.server.as_str(), cfg.port)))
            .await
            .map_err(|_| fail("no answer within 30s".into()))?
            .map_err(|e| fail(e.to_string()))?;
        // A line and the PING that confirms it go out at once, not after
        // the server's delayed ACK of the line.
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if cfg.tls {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(cfg)?));
            let name = rustls::pki_types::ServerName::try_from(cfg.server.clone())
                .map_err(|e| fail(format!("{:?} is not a valid TLS server name: {e}", cfg.server)))?;
            let tls = timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
                .await
                .map_err(|_| fail("TLS handshake timed out".into()))?
                .map_err(|e| fail(format!("TLS: {e}")))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (r, w) = tokio::io::split(io);
        Ok(Wire {
            reader: BufReader::new(r),
            writer: w,
            buf: Vec::new(),
        })
    }

    /// The next line, decoded leniently: bytes that are not UTF-8 become
    /// U+FFFD instead of ending the connection. Cancel-safe: a partly read
    /// line stays in `buf`.
    pub(super) async fn read_line(&mut self) -> Result<String, IrcError> {
        loop {
            let n = self.reader.read_until(b'\n', &mut self.buf).await?;
            if n == 0 {
                return Err(IrcError::Closed(None));
            }
            if self.buf.len() > MAX_LINE {
                return Err(IrcError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "server sent a line over 16 KiB",
                )));
            }
            if self.buf.ends_with(b"\n") {
                let line = String::from_utf8_lossy(&self.buf)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                self.buf.clear();
                if !line.is_empty() {
                    return Ok(line);
                }
            }
        }
    }

    pub(super) async fn send(&mut self, verb: &str, params: &[&str]) -> Result<(), IrcError> {
        let line = format_line(verb, params);
        tracing::trace!(
            "irc >> {}",
            if verb == "AUTHENTICATE" {
                "AUTHENTICATE ***"
            } else {
                &line
            }
        );
        let line = line + "\r\n";
        // A server that stops reading must not stall the bot forever.
        timeout(WRITE_TIMEOUT, async {
            self.writer.write_all(line.as_bytes()).await?;
            self.writer.flush().await
        })
        .await
        .map_err(|_| IrcError::Timeout("writing to the server"))??;
        Ok(())
    }
}

pub(super) fn tls_config(cfg: &IrcConfig) -> Result<rustls::ClientConfig, IrcError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(file) = &cfg.ca_file {
        for c in file.certificates().map_err(IrcError::CaFile)? {
            roots
                .add(c)
                .map_err(|e| IrcError::CaFile(file.problem(format!("{}: {e}", file.path.display()))))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| IrcError::Io(std::io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// One IRC line; every parameter is stripped of CR, LF and NUL so no value
/// can end the line early, and only the last may contain spaces.
pub(super) fn format_line(verb: &str, params: &[&str]) -> String {
    let mut line = verb.to_string();
    for (i, p) in params.iter().enumerate() {
        let p: String = p.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')).collect();
        line.push(' ');
        if i + 1 == params.len() && (p.is_empty() || p.contains(' ') || p.starts_with(':')) {
            line.push(':');
            line.push_str(&p);
        } else {
            line.push_str(&p.replace(' ', "_"));
        }
    }
    line
}

/// An incoming line: IRCv3 tags, the sender's nick, the verb, parameters.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Line {
    pub(super) tags: Vec<(String, String)>,
    pub(super) nick: Option<String>,
    pub(super) verb: String,
    pub(super) params: Vec<String>,
}

impl Line {
    pub(super) fn parse(s: &str) -> Option<Line> {
        let mut line = Line::default();
        let mut rest = s;
        if let Some(r) = rest.strip_prefix('@') {
            let (tags, r) = r.split_once(' ')?;
            for tag in tags.split(';') {
                let (k, v) = tag.split_once('=').unwrap_or((tag, ""));
                line.tags.push((k.to_string(), unescape_tag(v)));
            }
            rest = r.trim_start();
        }
        if let Some(r) = rest.strip_prefix(':') {
            let (prefix, r) = r.split_once(' ')?;
            line.nick = Some(prefix.split(['!', '@']).next().unwrap_or(prefix).to_string());
            rest = r.trim_start();
        }
        let (head, trailing) = match rest.split_once(" :") {
            Some((h, t)) => (h, Some(t)),
            None => (rest, None),
        };
        let mut words = head.split(' ').filter(|w| !w.is_empty());
        line.verb = words.next()?.to_ascii_uppercase();
        line.params = words.map(str::to_string).collect();
        if let Some(t) = trailing {
            line.params.push(t.to_string());
        }
        Some(line)
    }

    pub(super) fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or("")
    }

    pub(super) fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// IRCv3 message-tags escaping.
pub(super) fn unescape_tag(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// IRC names compare case-insensitively; ASCII folding is what
/// ngIRCd and most servers announce (CASEMAPPING=ascii).
pub(super) fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_prefix_and_trailing() {
        let l = Line::parse("@account=alice\\sb;time=x :alice!a@h PRIVMSG #staff :!claim 12").unwrap();
        assert_eq!(l.tag("account"), Some("alice b"));
        assert_eq!(l.nick.as_deref(), Some("alice"));
        assert_eq!(l.verb, "PRIVMSG");
        assert_eq!(l.params, vec!["#staff", "!claim 12"]);
        let l = Line::parse(":irc.test 319 me alice :@#staff +#other").unwrap();
        assert_eq!(l.params, vec!["me", "alice", "@#staff +#other"]);
        assert_eq!(Line::parse("PING :x").unwrap().params, vec!["x"]);
        assert_eq!(Line::parse(":only-prefix"), None);
    }

    #[test]
    fn outgoing_lines_cannot_be_broken_open() {
        assert_eq!(
            format_line("PRIVMSG", &["#c", "hi\r\nQUIT :x"]),
            "PRIVMSG #c :hiQUIT :x"
        );
        assert_eq!(format_line("JOIN", &["#c", "key"]), "JOIN #c key");
        assert_eq!(format_line("PONG", &[""]), "PONG :");
    }
}

