//! The `dkim` factor: a DKIM signature (RFC 6376) that mail-auth verifies
//! AND that passes our own stricter rules, by a domain aligned with the
//! single From address, which must be an address of the account.
//!
//! mail-auth answers "is this signature mathematically valid"; we must also
//! answer "does it prove who wrote what staff will read". So on top of it we
//! refuse: rsa-sha1, RSA keys under 1024 bits, keys in testing mode (t=y),
//! body text beyond l=, a From header that is not signed, and any header
//! that appears more often than it was signed (an unsigned copy added after
//! signing is what a mail client shows). ARC is reported, never counted.
//!
//! The work one message may cause is bounded (RFC 6376 sec 6.1 lets a
//! verifier limit the signatures it checks): mail-auth is handed a view of
//! the message with at most [`MAX_SIGNATURES`] DKIM signatures, those
//! aligned with the From domain first (no other can count), over at most
//! [`MAX_BODY_HASHES`] distinct bodies (`c=`, `a=`, `l=`), and at most
//! [`MAX_ARC_SETS`] ARC sets; the rest is left out, and the factor says so.

use std::borrow::Borrow;
use std::hash::Hash;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::proto::op::ResponseCode;
use mail_auth::common::crypto::Algorithm;
use mail_auth::common::headers::Writable;
use mail_auth::common::verify::{DomainKey, VerifySignature};
use mail_auth::dkim::Signature;
use mail_auth::{AuthenticatedMessage, DkimResult, DnsError, Error, MessageAuthenticator, Parameters, ResolverCache, Txt};

use super::Factor;
use super::factor::{Evidence, combine};
use super::accounts::Account;
use crate::config::DnsConfig;
use crate::message::{Message, sanitize_line};

/// RFC 8301 sec 3.2: verifiers must not consider keys under 1024 bits valid.
const MIN_RSA_BITS: usize = 1024;
/// `t=y` in the key record (RFC 6376 sec 3.6.1).
const FLAG_TESTING: u64 = 0x10;
/// Headers that change what staff read or where the reply goes: when
/// present they must be signed, else a replayed message can be re-dressed.
const MUST_SIGN_IF_PRESENT: [&str; 4] = [
    "subject",
    "reply-to",
    "content-type",
    "content-transfer-encoding",
];

/// DKIM signatures evaluated per message: each may cost a key query (and
/// a `_report` query when it fails with r=y). Mail with more than two or
/// three genuine signatures is rare; 1,000 is an attack.
pub const MAX_SIGNATURES: usize = 5;
/// Distinct body hashes computed per message for DKIM: a signature with
/// its own `l=` costs a pass over the whole body.
pub const MAX_BODY_HASHES: usize = 3;
/// ARC sets beyond which the chain is not checked at all (RFC 8617 allows
/// 50; each set costs a key query and its own body hash).
pub const MAX_ARC_SETS: usize = 5;

/// The resolver every DNS-based check uses: the configured nameservers, or
/// the system's when none are configured.
pub fn resolver(dns: &DnsConfig) -> std::io::Result<TokioResolver> {
    let (config, mut opts) = if dns.nameservers.is_empty() {
        hickory_resolver::system_conf::read_system_conf().map_err(|e| {
            std::io::Error::other(format!(
                "cannot read the system resolver configuration: {e}"
            ))
        })?
    } else {
        let mut servers = Vec::new();
        for ns in &dns.nameservers {
            let mut s = NameServerConfig::udp_and_tcp(ns.ip());
            for c in &mut s.connections {
                c.port = ns.port();
            }
            servers.push(s);
        }
        (
            ResolverConfig::from_name_servers(servers),
            ResolverOpts::default(),
        )
    };
    opts.timeout = dns.timeout;
    opts.attempts = 1;
    // Local files never answer for a signing domain.
    opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    TokioResolver::builder_with_config(
        config,
        hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
    )
    .with_options(opts)
    .build()
    .map_err(|e| std::io::Error::other(format!("cannot build the DNS resolver: {e}")))
}

/// The factor, and the ARC chain as advice for staff.
pub struct DkimVerdict {
    pub factor: Factor,
    pub arc: Option<String>,
    /// Header names (lowercase) covered by a passing, aligned signature:
    /// which of the headers nobody else signed this one vouches for.
    pub signed: Vec<String>,
    /// The From domain a signature that passed every rule here is aligned
    /// with, whether or not an account has the address: what the message
    /// proves of its sender without the directory.
    pub domain: Option<String>,
}

impl DkimVerdict {
    /// A verdict with no signature that vouches for anything.
    fn unsigned(factor: Factor, arc: Option<String>) -> DkimVerdict {
        DkimVerdict { factor, arc, signed: Vec::new(), domain: None }
    }
}

/// The key records fetched during one message's check, and nothing
/// longer: the key our rules judge (its size, `t=y`) is then the very key
/// mail-auth verified the signature with, not a second answer that may
/// differ, and each selector costs one query instead of two. Records live
/// only as long as the check (milliseconds), so a zone's TTL, even 0, is
/// never stretched across messages.
#[derive(Default)]
pub(crate) struct OneCheck(std::sync::Mutex<std::collections::HashMap<Box<str>, Txt>>);

impl ResolverCache<Box<str>, Txt> for OneCheck {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.remove(name)
    }

    fn insert(&self, key: Box<str>, value: Txt, _valid_until: std::time::Instant) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, value);
        }
    }
}

pub async fn check(
    auth: &MessageAuthenticator,
    msg: &Message,
    account: Option<&Account>,
    timeout: Duration,
) -> DkimVerdict {
    let Some(from) = msg.single_from() else {
        return DkimVerdict::unsigned(Factor::fail("the message does not have exactly one From address"), None);
    };
    let from_email = from.email.to_lowercase();
    let view = Bounded::of(msg.raw(), from_email.rsplit_once('@').map_or("", |(_, d)| d));
    let Some(parsed) = AuthenticatedMessage::parse_with_opts(&view.raw, None, false) else {
        return DkimVerdict::unsigned(Factor::fail("the header section cannot be parsed for DKIM"), None);
    };
    let keys = OneCheck::default();
    let arc = match &view.arc_left_out {
        Some(why) => Some(why.clone()),
        None => arc_summary(auth, &parsed, &keys, timeout).await,
    };
    // Two parsers must agree on who sent it; a difference is an attack on
    // one of them.
    if parsed.from != [from_email.clone()] {
        let why = format!(
            "the From header reads as {:?} to the DKIM parser but {:?} to the message parser",
            parsed.from, from_email
        );
        return DkimVerdict::unsigned(Factor::fail(why), arc);
    }
    let Some((_, from_domain)) = from_email.rsplit_once('@') else {
        return DkimVerdict::unsigned(Factor::fail("the From address has no domain"), arc);
    };
    if parsed.dkim_headers.is_empty() && !parsed.has_dkim_errors && view.not_aligned.is_empty() {
        return DkimVerdict::unsigned(Factor::none("no DKIM signature"), arc);
    }

    let outputs = match tokio::time::timeout(timeout * 3, auth.verify_dkim(Parameters::new(&parsed).with_txt_cache(&keys))).await {
        Ok(o) => o,
        Err(_) => {
            let why = format!("DKIM keys could not be fetched within {}s", (timeout * 3).as_secs());
            return DkimVerdict::unsigned(Factor::temporary(why), arc);
        }
    };
    let mut verdicts = Vec::new();
    let mut signed: Vec<String> = Vec::new();
    for out in &outputs {
        let v = match out.signature() {
            Some(sig) => {
                let v = judge(auth, &keys, &parsed, sig, out.result(), from_domain).await;
                if matches!(v, Evidence::Pass(_)) {
                    signed.extend(sig.h.iter().map(|h| h.to_ascii_lowercase()));
                }
                v
            }
            None => Evidence::Fail(format!("malformed DKIM-Signature: {}", out.result())),
        };
        verdicts.push(v);
    }
    signed.sort_unstable();
    signed.dedup();
    verdicts.extend(view.not_aligned.iter().map(|who| Evidence::Fail(not_aligned(who, from_domain))));
    let mut factor = combine(verdicts, "no DKIM signature");
    if let Some(note) = &view.left_out {
        factor.reason = format!("{}; {note}", factor.reason);
    }
    // Before the account is asked: the sender's own domain signed it.
    let domain = factor.passed().then(|| from_domain.to_string());
    let factor = match (factor.passed(), account) {
        (true, Some(a)) if a.has_address(&from.email) => factor,
        (true, Some(a)) => Factor::fail(format!(
            "{} is not an address of account {:?} ({})",
            sanitize_line(&from.email),
            a.username,
            factor.reason
        )),
        // A check that could not run stays one that could not run: the
        // reply of a sender without an account is held on it, and only a
        // re-check (`act::reverify`) can release it.
        (_, None) => Factor {
            temporary: factor.temporary,
            ..Factor::none(format!(
                "no account has the address {} ({}: {})",
                sanitize_line(&from.email),
                outcome_word(&factor),
                factor.reason
            ))
        },
        (false, Some(_)) => factor,
    };
    // Without an account the sender's signature still vouches for the
    // headers it covers (what ties a reply to its ticket); with one, only
    // a factor that passed for the account does.
    if domain.is_none() || (account.is_some() && !factor.passed()) {
        signed.clear();
    }
    DkimVerdict { factor, arc, signed, domain }
}

/// Whether `msg` carries a DKIM signature a later check could find valid
/// for its sender: one whose d= aligns with the From domain, by an
/// algorithm still counted. Only the signer's key (DNS) tells whether it is
/// genuine; anyone can write such a header.
pub fn claims_from_domain(msg: &Message) -> bool {
    let Some((_, from_domain)) = msg.single_from().and_then(|a| a.email.rsplit_once('@')) else {
        return false;
    };
    let from_domain = from_domain.trim_end_matches('.').to_ascii_lowercase();
    let raw = msg.raw();
    let Some(headers) = AuthenticatedMessage::parse_with_opts(&raw[..header_end(raw)], None, false) else {
        return false;
    };
    headers.dkim_headers.iter().any(|h| h.header.a != Algorithm::RsaSha1 && aligned(&h.header.d, &from_domain))
}

fn outcome_word(f: &Factor) -> &'static str {
    match f.result {
        super::Outcome::Pass => "signature valid",
        super::Outcome::Fail => "signature not valid",
        super::Outcome::None if f.temporary => "signature not checked",
        super::Outcome::None => "no usable signature",
    }
}

fn is_temporary(err: &Error) -> bool {
    match err {
        Error::Dns(DnsError::Resolver(_)) => true,
        // SERVFAIL, REFUSED…: the zone could not answer, which is not the
        // same as "there is no key".
        Error::Dns(DnsError::RecordNotFound(code)) => {
            !matches!(*code, ResponseCode::NXDomain | ResponseCode::NoError)
        }
        _ => false,
    }
}

/// Relaxed alignment without a public-suffix list: d= is the From domain or
/// one of its parents, and has at least two labels (RFC 7489 sec 3.1.1 in
/// spirit, stricter: a sibling subdomain does not align).
pub(crate) fn aligned(d: &str, from_domain: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    let from_domain = from_domain.trim_end_matches('.');
    d.contains('.')
        && !d.starts_with('.')
        && (from_domain == d || from_domain.ends_with(&format!(".{d}")))
}

/// How many bytes of `body` (canonicalized by `cb`) lie beyond a
/// signature's `l=`, if any: RFC 6376 sec 8.2, with l= anything may be
/// appended to the body and the signature still verifies.
pub(crate) fn beyond_length(cb: mail_auth::dkim::Canonicalization, l: u64, body: &[u8]) -> Option<u64> {
    if l == 0 {
        return None;
    }
    let mut canonical = Vec::new();
    cb.canonical_body(body, u64::MAX).write(&mut canonical);
    (canonical.len() as u64 > l).then(|| canonical.len() as u64 - l)
}

async fn judge(
    auth: &MessageAuthenticator,
    keys: &OneCheck,
    parsed: &AuthenticatedMessage<'_>,
    sig: &Signature,
    result: &DkimResult,
    from_domain: &str,
) -> Evidence {
    let who = signer(sig);
    // ATPS (RFC 6541) lets a third party sign for a domain; mail-auth may
    // pass it, we never do: only d= itself counts for alignment.
    if !aligned(&sig.d, from_domain) {
        return Evidence::Fail(not_aligned(&who, from_domain));
    }
    // RFC 8301 sec 3.1: rsa-sha1 must not be considered valid.
    if sig.a == Algorithm::RsaSha1 {
        return Evidence::Fail(format!("{who} uses rsa-sha1, which is broken (RFC 8301)"));
    }
    match result {
        DkimResult::Pass => {}
        DkimResult::TempError(e) => return Evidence::Temporary(format!("{who}: {e}")),
        DkimResult::Neutral(e) | DkimResult::Fail(e) | DkimResult::PermError(e) => {
            if is_temporary(e) {
                return Evidence::Temporary(format!("{who}: {e}"));
            }
            // A short key is rejected by the crypto library before we see
            // it; say so rather than "verification failed".
            if let Error::Crypto(_) = e
                && let Ok(key) = domain_key(auth, keys, sig).await
                && key.p.public_key_bits() < MIN_RSA_BITS
            {
                return Evidence::Fail(format!(
                    "{who}: the key is {} bits, under {MIN_RSA_BITS}",
                    key.p.public_key_bits()
                ));
            }
            return Evidence::Fail(format!("{who}: {}", describe(e)));
        }
        DkimResult::None => return Evidence::Fail(format!("{who}: no result")),
    }
    // RFC 6376 sec 5.4: the From header field MUST be signed.
    if !sig.h.iter().any(|h| h.eq_ignore_ascii_case("from")) {
        return Evidence::Fail(format!("{who} does not sign the From header"));
    }
    if let Some(problem) = unsigned_copies(parsed, sig) {
        return Evidence::Fail(format!("{who}: {problem}"));
    }
    if let Some(added) = beyond_length(sig.cb, sig.l, parsed.raw_body()) {
        return Evidence::Fail(format!(
            "{who} covers only the first {} bytes of the body (l=); {added} bytes were added after signing",
            sig.l
        ));
    }
    let key = match domain_key(auth, keys, sig).await {
        Ok(k) => k,
        Err(e) if is_temporary(&e) => return Evidence::Temporary(format!("{who}: {e}")),
        Err(e) => return Evidence::Fail(format!("{who}: {}", describe(&e))),
    };
    if key.p.public_key_bits() < MIN_RSA_BITS {
        return Evidence::Fail(format!(
            "{who}: the key is {} bits, under {MIN_RSA_BITS}",
            key.p.public_key_bits()
        ));
    }
    if key.f & FLAG_TESTING != 0 {
        return Evidence::None(format!(
            "{who}: the key is marked t=y (testing), which counts as unsigned (RFC 6376 sec 3.6.1)"
        ));
    }
    Evidence::Pass(format!(
        "valid signature by {who}, aligned with the From domain {from_domain}"
    ))
}

fn signer(sig: &Signature) -> String {
    format!("d={} s={}", sanitize_line(&sig.d), sanitize_line(&sig.s))
}

fn not_aligned(who: &str, from_domain: &str) -> String {
    format!("signed by {who}, which does not align with the From domain {from_domain}")
}

/// The message as mail-auth gets to see it: the original bytes when they
/// are within the limits, else a copy without the DKIM-Signature and ARC
/// headers that are over them. Leaving a header out can make a signature
/// that covers it fail; it cannot make one pass over bytes its signer did
/// not sign.
pub(crate) struct Bounded<'a> {
    pub(crate) raw: std::borrow::Cow<'a, [u8]>,
    /// Signers left out because they do not align with the From domain
    /// (at most three, for the reason staff read): they could never count,
    /// so they cost no DNS query.
    not_aligned: Vec<String>,
    /// What was left out over the limits, for the factor's reason.
    left_out: Option<String>,
    /// Why ARC was not checked, when its headers were left out.
    pub(crate) arc_left_out: Option<String>,
}

impl<'a> Bounded<'a> {
    pub(crate) fn of(raw: &'a [u8], from_domain: &str) -> Bounded<'a> {
        let mut view = Bounded {
            raw: raw.into(),
            not_aligned: Vec::new(),
            left_out: None,
            arc_left_out: None,
        };
        // The header section alone: parsing it hashes an empty body, so it
        // costs next to nothing however many signatures it holds.
        let Some(headers) = AuthenticatedMessage::parse_with_opts(&raw[..header_end(raw)], None, false) else {
            return view;
        };
        let span = |name: &[u8], value: &[u8]| {
            let start = name.as_ptr() as usize - raw.as_ptr() as usize;
            start..(value.as_ptr() as usize - raw.as_ptr() as usize + value.len())
        };
        let body = |sig: &Signature| (sig.cb, sig.a == Algorithm::RsaSha1, sig.l);
        let mut bodies: Vec<(mail_auth::dkim::Canonicalization, bool, u64)> = Vec::new();
        for h in &headers.dkim_headers {
            if !bodies.contains(&body(&h.header)) {
                bodies.push(body(&h.header));
            }
        }
        let malformed: Vec<_> = headers.errors.iter().filter(|e| matches!(e.header, Error::Dkim(_))).collect();
        // Within the limits every signature is checked as it is: leaving
        // any out would break an ARC seal that covers it.
        let dkim_fits = headers.dkim_headers.len() + malformed.len() <= MAX_SIGNATURES && bodies.len() <= MAX_BODY_HASHES;
        bodies.clear();
        let mut drop = Vec::new();
        let (mut kept, mut over, mut foreign) = (0, 0, 0);
        for h in headers.dkim_headers.iter().filter(|_| !dkim_fits) {
            let sig = &h.header;
            if !aligned(&sig.d, from_domain) {
                foreign += 1;
                if view.not_aligned.len() < 3 {
                    view.not_aligned.push(signer(sig));
                }
                drop.push(span(h.name, h.value));
                continue;
            }
            let new_body = !bodies.contains(&body(sig));
            if kept == MAX_SIGNATURES || (new_body && bodies.len() == MAX_BODY_HASHES) {
                over += 1;
                drop.push(span(h.name, h.value));
                continue;
            }
            kept += 1;
            if new_body {
                bodies.push(body(sig));
            }
        }
        // Malformed signatures cost no query, but each is a line of reason.
        for e in malformed.iter().skip(MAX_SIGNATURES) {
            drop.push(span(e.name, e.value));
        }
        over += malformed.len().saturating_sub(MAX_SIGNATURES);
        let arc_sets = headers.as_headers.len().max(headers.ams_headers.len()).max(headers.aar_headers.len());
        if arc_sets > MAX_ARC_SETS {
            view.arc_left_out = Some(format!(
                "ARC not checked: {arc_sets} sets, more than the {MAX_ARC_SETS} checked per message"
            ));
            let arc = headers.as_headers.iter().map(|h| span(h.name, h.value));
            let arc = arc.chain(headers.ams_headers.iter().map(|h| span(h.name, h.value)));
            drop.extend(arc.chain(headers.aar_headers.iter().map(|h| span(h.name, h.value))));
        }
        let mut why = Vec::new();
        if foreign > view.not_aligned.len() {
            why.push(format!("{} more not aligned with {from_domain}", foreign - view.not_aligned.len()));
        }
        if over > 0 {
            why.push(format!(
                "{over} over the limit of {MAX_SIGNATURES} signatures and {MAX_BODY_HASHES} body hashes checked per message (RFC 6376 sec 6.1)"
            ));
        }
        if !why.is_empty() {
            view.left_out = Some(format!("DKIM signatures not checked: {}", why.join(", ")));
        }
        if !drop.is_empty() {
            drop.sort_by_key(|r| r.start);
            let mut out = Vec::with_capacity(raw.len());
            let mut at = 0;
            for r in drop {
                out.extend_from_slice(&raw[at..r.start.max(at)]);
                at = at.max(r.end);
            }
            out.extend_from_slice(&raw[at..]);
            view.raw = out.into();
        }
        view
    }
}

/// Where the header section ends: after the first empty line, or at the
/// end of a message that has no body.
pub(crate) fn header_end(raw: &[u8]) -> usize {
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = raw.windows(3).position(|w| w == b"\n\r\n").map(|p| p + 3);
    match (lf, crlf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    }
}

async fn domain_key(
    auth: &MessageAuthenticator,
    keys: &OneCheck,
    sig: &Signature,
) -> mail_auth::Result<std::sync::Arc<DomainKey>> {
    auth.txt_lookup::<DomainKey>(sig.domain_key(), Some(keys))
        .await
}

/// mail-auth's error, in words staff can act on.
fn describe(e: &Error) -> String {
    use mail_auth::dkim::DkimError as D;
    match e {
        Error::Dkim(D::FailedBodyHashMatch) => "the body was changed after signing".into(),
        Error::Dkim(D::SignatureExpired) => "the signature has expired (x=)".into(),
        Error::Dkim(D::RevokedPublicKey) => "the key has been revoked (empty p= in DNS)".into(),
        Error::Crypto(_) => {
            "the signature does not match the signed headers (changed after signing, or a forgery)"
                .into()
        }
        Error::Dns(DnsError::RecordNotFound(_)) => {
            "no DKIM key is published for this selector".into()
        }
        other => other.to_string(),
    }
}

/// RFC 6376 sec 5.4.2 and 8.15: a header listed k times in h= protects
/// only its k bottom-most instances; an extra instance is unsigned and is
/// usually the one a mail client shows.
fn unsigned_copies(parsed: &AuthenticatedMessage<'_>, sig: &Signature) -> Option<String> {
    let count_in_message = |name: &str| {
        parsed
            .raw_parsed_headers()
            .iter()
            .filter(|(n, _)| trim_name(n).eq_ignore_ascii_case(name.as_bytes()))
            .count()
    };
    let count_signed = |name: &str| {
        sig.h
            .iter()
            .filter(|h| h.trim().eq_ignore_ascii_case(name))
            .count()
    };
    for name in &sig.h {
        let name = name.trim();
        // Trace headers (Received, Authentication-Results, …) are added by
        // every hop; only what a person reads or the reply uses matters.
        if !is_content_header(name) {
            continue;
        }
        let present = count_in_message(name);
        let signed = count_signed(name);
        if present > signed {
            return Some(format!(
                "the message has {present} {name} headers but only {signed} signed; one was added after signing"
            ));
        }
    }
    for name in MUST_SIGN_IF_PRESENT {
        if count_in_message(name) > 0 && count_signed(name) == 0 {
            return Some(format!(
                "the {name} header is not signed, so it may have been changed"
            ));
        }
    }
    None
}

/// Headers that change what staff read, who it is from, or where the
/// reply goes.
fn is_content_header(name: &str) -> bool {
    const NAMES: [&str; 11] = [
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
    ];
    let name = name.to_ascii_lowercase();
    NAMES.contains(&name.as_str()) || name.starts_with("content-")
}

fn trim_name(n: &[u8]) -> &[u8] {
    let end = n
        .iter()
        .rposition(|b| !b.is_ascii_whitespace() && *b != b':')
        .map_or(0, |p| p + 1);
    &n[..end]
}

/// ARC (RFC 8617) as one line for staff: whether the chain validates, who
/// sealed last, and what that hop claims to have seen. Never a factor: any
/// intermediary can seal whatever it likes.
async fn arc_summary(
    auth: &MessageAuthenticator,
    parsed: &AuthenticatedMessage<'_>,
    keys: &OneCheck,
    timeout: Duration,
) -> Option<String> {
    if parsed.as_headers.is_empty() && parsed.ams_headers.is_empty() && !parsed.has_arc_errors {
        return None;
    }
    let out = match tokio::time::timeout(timeout * 3, auth.verify_arc(Parameters::new(parsed).with_txt_cache(keys))).await {
        Ok(o) => o,
        Err(_) => return Some("ARC not checked: DNS did not answer in time".into()),
    };
    let hops = out.sets().len();
    let mut line = format!("ARC {} ({hops} {})", out.result(), if hops == 1 { "hop" } else { "hops" });
    if let Some(last) = out.sets().last() {
        let claims = parsed
            .aar_headers
            .iter()
            .find(|h| h.header.i == last.results.header.i)
            .map(|h| sanitize_line(&String::from_utf8_lossy(h.value)))
            .unwrap_or_default();
        let claims: String = claims.chars().take(300).collect();
        line.push_str(&format!(
            "; last sealed by {}, which says: {}",
            sanitize_line(&last.seal.header.d),
            claims
        ));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_is_the_domain_or_a_parent() {
        assert!(aligned("example.org", "example.org"));
        assert!(aligned("Example.ORG", "mail.example.org"));
        assert!(!aligned("mail.example.org", "example.org"));
        assert!(!aligned("ample.org", "example.org"));
        assert!(!aligned("org", "example.org"));
        assert!(!aligned("attacker.test", "example.org"));
    }

    #[test]
    fn only_content_headers_must_not_gain_copies() {
        assert!(is_content_header("Subject"));
        assert!(is_content_header("Content-Disposition"));
        assert!(!is_content_header("Received"));
        assert!(!is_content_header("Authentication-Results"));
    }

    #[test]
    fn temporary_dns_is_told_apart_from_missing_keys() {
        assert!(is_temporary(&Error::Dns(DnsError::Resolver(
            "timeout".into()
        ))));
        assert!(is_temporary(&Error::Dns(DnsError::RecordNotFound(
            ResponseCode::ServFail
        ))));
        assert!(!is_temporary(&Error::Dns(DnsError::RecordNotFound(
            ResponseCode::NXDomain
        ))));
        assert!(!is_temporary(&Error::Dkim(
            mail_auth::dkim::DkimError::FailedBodyHashMatch
        )));
    }

    #[test]
    fn a_pass_wins_and_dns_trouble_beats_failure() {
        assert!(combine(vec![Evidence::Fail("x".into()), Evidence::Pass("ok".into())], "no DKIM signature").passed());
        let f = combine(vec![
            Evidence::Fail("x".into()),
            Evidence::Temporary("t".into()),
        ], "no DKIM signature");
        assert!(f.temporary);
        let f = combine(vec![Evidence::None("t=y".into())], "no DKIM signature");
        assert_eq!(f.result, super::super::Outcome::None);
        assert!(!f.temporary);
    }
}
