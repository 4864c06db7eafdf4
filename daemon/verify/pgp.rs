//! The `pgp` factor: an OpenPGP signature over the whole text the user
//! wrote, made by a key on file for the account.
//!
//! Two forms are accepted: PGP/MIME (RFC 3156 `multipart/signed` as the
//! top-level body) and an inline cleartext block (RFC 9580 sec. 7) that is the
//! entire body. Anything else that carries a signature — a signed part wrapped
//! in an unsigned multipart, text around an inline block, a signed attachment
//! beside an unsigned body — is refused, because the unsigned text is what a
//! forger would write. A key's user ID proves nothing and is never read; only
//! the key material registered to the account counts, matched by issuer key
//! ID / fingerprint and then verified cryptographically.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{SystemTime, UNIX_EPOCH};

use mail_parser::{MessageParser, MimeHeaders, PartType};
use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey, StandaloneSignature};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{self, Signature, SignatureType, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, PublicKeyTrait, PublicParams, Tag};

use super::Factor;
use crate::message::Message;

const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";
const BEGIN_MESSAGE: &str = "-----BEGIN PGP MESSAGE-----";
/// RSA moduli below this are refused (NIST SP 800-131A).
const MIN_RSA_BITS: u16 = 2048;
/// Clock skew tolerated for a signature dated in the future.
const FUTURE_SKEW_SECS: i64 = 600;
/// A signed mail is replayable (list archives keep them forever); a request
/// signed longer ago than this is not taken as the sender speaking now.
pub const MAX_SIGNATURE_AGE_DAYS: i64 = 30;

/// Check the message's OpenPGP signature against the account's registered
/// keys (armored public key blocks).
pub fn check_pgp(msg: &Message, registered_keys: &[String]) -> Factor {
    let signed = match locate(msg) {
        Located::Nothing => return Factor::none("no PGP signature in the message"),
        Located::Unsupported(reason) => return Factor::none(reason),
        Located::Refused(reason) => return Factor::fail(reason),
        Located::Signed(s) => s,
    };
    if registered_keys.is_empty() {
        return Factor::none(format!(
            "{} signature found, but the account has no PGP key on file",
            signed.form
        ));
    }
    let ring = Keyring::load(registered_keys);
    if ring.candidates.is_empty() {
        return Factor::none(format!(
            "none of the account's PGP keys could be read: {}",
            ring.problems.join("; ")
        ));
    }
    let now = now_secs();
    let mut refusals = Vec::new();
    for sig in &signed.signatures {
        match check_signature(sig, &signed.data, &ring, now) {
            Ok(by) => {
                return Factor::pass(format!(
                    "{} signature covering the whole text, {by}",
                    signed.form
                ));
            }
            Err(reason) => refusals.push(reason),
        }
    }
    let mut reason = format!("{} signature refused: {}", signed.form, refusals.join("; "));
    if !ring.problems.is_empty() {
        reason.push_str(&format!(
            " (unreadable registered keys: {})",
            ring.problems.join("; ")
        ));
    }
    Factor::fail(reason)
}

/// Whether `msg` carries a PGP signature in a form that can vouch for its
/// text: what a later check, with the account's keys at hand, could pass.
pub fn is_signed(msg: &Message) -> bool {
    matches!(locate(msg), Located::Signed(_))
}

/// The exact bytes a signature must cover, and the signatures found.
struct Signed {
    form: &'static str,
    data: Vec<u8>,
    signatures: Vec<Signature>,
}

enum Located {
    Nothing,
    /// A PGP object we do not verify (S/MIME, PGP MESSAGE blocks).
    Unsupported(String),
    /// A signature is present but the message's shape means it cannot vouch
    /// for what the user wrote.
    Refused(String),
    Signed(Signed),
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn locate(msg: &Message) -> Located {
    let Some(parsed) = MessageParser::default().parse(msg.outline()) else {
        return Located::Nothing;
    };
    let Some(root) = parsed.parts.first() else {
        return Located::Nothing;
    };
    if root.is_content_type("multipart", "signed") {
        return pgp_mime(msg, &parsed);
    }
    for part in parsed.parts.iter().skip(1) {
        if part.is_content_type("multipart", "signed") {
            return Located::Refused(
                "the PGP/MIME signed part is nested inside an unsigned multipart: \
                 the text beside it is not covered by the signature"
                    .into(),
            );
        }
        if part.is_content_type("application", "pgp-signature") {
            return Located::Refused(
                "a detached PGP signature is attached, but the body is not PGP/MIME signed: \
                 the signature does not cover the text"
                    .into(),
            );
        }
    }
    for id in &parsed.attachments {
        let Some(part) = parsed.parts.get(*id as usize) else {
            continue;
        };
        // Only the start of a large attachment is in the outline; a marker
        // further in is missed, which costs a clearer reason, never a pass:
        // the body is then either unsigned or, with attachments beside it,
        // refused by `inline`.
        let contents = part.contents();
        if contains(contents, BEGIN_SIGNED.as_bytes()) || contains(contents, BEGIN_SIGNATURE.as_bytes()) {
            return Located::Refused(
                "an attachment carries a PGP signature, but the message body is not signed: \
                 a signed attachment does not vouch for the unsigned body"
                    .into(),
            );
        }
    }
    inline(msg, &parsed)
}

/// RFC 3156 sec. 5: `multipart/signed; protocol="application/pgp-signature"`
/// with exactly two parts, the first signed over its exact bytes (headers
/// included) with CRLF line ends, the second the armored signature.
fn pgp_mime(msg: &Message, parsed: &mail_parser::Message<'_>) -> Located {
    let root = &parsed.parts[0];
    let content_types = root
        .headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case("content-type"))
        .count();
    if content_types != 1 {
        return Located::Refused(format!(
            "the message has {content_types} Content-Type headers: its structure is ambiguous"
        ));
    }
    let Some(ct) = root.content_type() else {
        return Located::Refused("multipart/signed without a readable Content-Type".into());
    };
    let protocol = ct.attribute("protocol").unwrap_or("");
    if !protocol.eq_ignore_ascii_case("application/pgp-signature") {
        return Located::Unsupported(format!(
            "multipart/signed with protocol {protocol:?} is not OpenPGP (S/MIME is not checked)"
        ));
    }
    let Some(boundary) = ct.attribute("boundary").filter(|b| !b.is_empty()) else {
        return Located::Refused("multipart/signed without a boundary".into());
    };
    // The signed bytes come from the exact message, not its outline; the
    // root header, hence offset_body, is the same in both.
    let raw = msg.raw();
    let body = raw.get(root.offset_body as usize..).unwrap_or_default();
    let parts = match split_multipart(body, boundary) {
        Ok(p) => p,
        Err(e) => return Located::Refused(e),
    };
    if parts.len() != 2 {
        return Located::Refused(format!(
            "multipart/signed must have exactly two parts (signed content, signature), found {}",
            parts.len()
        ));
    }
    let signatures = match pgp_mime_signatures(parts[1]) {
        Ok(s) => s,
        Err(e) => return Located::Refused(e),
    };
    if let Err(e) = signed_part_is_the_body(msg, parsed, parts[0]) {
        return Located::Refused(e);
    }
    Located::Signed(Signed {
        form: "PGP/MIME",
        data: canonical_crlf(parts[0]),
        signatures,
    })
}

/// The signed part must hold everything a reader sees: the same body text the
/// rest of triaged reads, the same text and attachment parts (plus only the
/// signature itself), and it must not itself be an attachment.
fn signed_part_is_the_body(
    msg: &Message,
    whole: &mail_parser::Message<'_>,
    signed: &[u8],
) -> Result<(), String> {
    let inner = MessageParser::default()
        .parse(signed)
        .ok_or("the signed part cannot be parsed as a MIME entity")?;
    let first = inner.parts.first().ok_or("the signed part is empty")?;
    if first
        .content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
    {
        return Err("the signed part is an attachment, not the message body".into());
    }
    let inner_text = crate::message::read_text(&inner);
    if inner_text.trim().is_empty() {
        return Err("the signed part contains no text".into());
    }
    if inner_text != msg.text {
        return Err("the text shown to staff differs from the signed text".into());
    }
    if inner.text_body.len() != whole.text_body.len()
        || inner.html_body.len() != whole.html_body.len()
        || inner.attachments.len() + 1 != whole.attachments.len()
    {
        return Err("the message has parts outside the signed part".into());
    }
    Ok(())
}

fn pgp_mime_signatures(part: &[u8]) -> Result<Vec<Signature>, String> {
    let entity = MessageParser::default()
        .parse(part)
        .ok_or("the signature part cannot be parsed")?;
    let first = entity.parts.first().ok_or("the signature part is empty")?;
    if !first.is_content_type("application", "pgp-signature") {
        return Err("the second part of multipart/signed is not application/pgp-signature".into());
    }
    let armored = match &first.body {
        PartType::Text(t) => t.as_bytes().to_vec(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
        _ => return Err("the signature part has no content".into()),
    };
    let sigs = guarded(|| {
        let (iter, _) = StandaloneSignature::from_armor_many(&armored[..])?;
        iter.map(|s| s.map(|s| s.signature))
            .collect::<pgp::errors::Result<Vec<_>>>()
    })
    .map_err(|e| format!("malformed PGP signature: {e}"))?;
    if sigs.is_empty() {
        return Err("the signature part holds no signature".into());
    }
    Ok(sigs)
}

/// RFC 9580 sec. 7: the cleartext block must be the entire body, so nothing
/// unsigned (quoted text, a `-- ` signature, a forwarded request) rides along.
fn inline(msg: &Message, parsed: &mail_parser::Message<'_>) -> Located {
    let text = &msg.text;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Only a marker at the start of its own line counts: one inside a quoted
    // earlier message ("> -----BEGIN ...") is not the user signing this one.
    let marker_line = |marker: &str| lines.iter().position(|l| l.trim_end() == marker);
    let Some(begin) = marker_line(BEGIN_SIGNED) else {
        if marker_line(BEGIN_SIGNATURE).is_some() {
            return Located::Refused(
                "a detached PGP signature is pasted into the body: it does not sign the text"
                    .into(),
            );
        }
        if marker_line(BEGIN_MESSAGE).is_some() {
            return Located::Unsupported(
                "an armored PGP MESSAGE is not checked: sign with --clearsign or PGP/MIME".into(),
            );
        }
        return Located::Nothing;
    };
    let single_text_part = parsed.parts.len() == 1
        && parsed.parts[0].content_type().is_none_or(|ct| {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("plain"))
        });
    if !single_text_part {
        return Located::Refused(format!(
            "an inline-signed block must be the whole message, but the message has {} MIME parts \
             and only one block is signed",
            parsed.parts.len()
        ));
    }
    let Some(end) = lines.iter().rposition(|l| l.trim_end() == END_SIGNATURE) else {
        return Located::Refused("the inline PGP block has no END PGP SIGNATURE line".into());
    };
    if end < begin {
        return Located::Refused("the inline PGP block is out of order".into());
    }
    if let Some(extra) = lines[..begin].iter().find(|l| !l.trim().is_empty()) {
        return Located::Refused(format!(
            "unsigned text before the signed block: {:?}",
            excerpt(extra)
        ));
    }
    if let Some(extra) = lines[end + 1..].iter().find(|l| !l.trim().is_empty()) {
        return Located::Refused(format!(
            "unsigned text after the signed block: {:?}",
            excerpt(extra)
        ));
    }
    let block: String = lines[begin..=end].concat();
    let parsed_block = guarded(|| CleartextSignedMessage::from_string(&block));
    let (cleartext, headers) = match parsed_block {
        Ok(v) => v,
        Err(e) => return Located::Refused(format!("malformed inline PGP block: {e}")),
    };
    // Armor headers are displayed text that no signature covers; a Comment:
    // could carry a request of its own.
    if let Some(name) = headers
        .keys()
        .find(|k| !k.eq_ignore_ascii_case("Version") && !k.eq_ignore_ascii_case("Charset"))
    {
        return Located::Refused(format!(
            "the signature armor carries an unsigned {name:?} header"
        ));
    }
    Located::Signed(Signed {
        form: "inline PGP",
        data: cleartext.signed_text().into_bytes(),
        signatures: cleartext
            .signatures()
            .iter()
            .map(|s| s.signature.clone())
            .collect(),
    })
}

fn excerpt(line: &str) -> String {
    crate::message::sanitize_line(line)
        .chars()
        .take(60)
        .collect()
}

/// Split a multipart body at its delimiter lines (RFC 2046 sec. 5.1.1). The
/// line break before a delimiter belongs to the delimiter, not the part.
fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, String> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos < body.len() {
        let line_end = body[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |i| pos + i);
        let next = (line_end + 1).min(body.len());
        let line = body[pos..line_end]
            .strip_suffix(b"\r")
            .unwrap_or(&body[pos..line_end]);
        if let Some(rest) = line.strip_prefix(delimiter) {
            let (closing, rest) = match rest.strip_prefix(b"--") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            if rest.iter().all(|&b| b == b' ' || b == b'\t') {
                if let Some(s) = start {
                    let mut end = pos;
                    if end > s && body[end - 1] == b'\n' {
                        end -= 1;
                        if end > s && body[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    parts.push(&body[s..end]);
                }
                if closing {
                    return Ok(parts);
                }
                start = Some(next);
            }
        }
        pos = next;
    }
    Err("the multipart/signed body has no closing boundary".into())
}

/// RFC 3156 sec. 5: the signed data is hashed with CRLF line ends.
fn canonical_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// One registered key or signing subkey, with whether it may sign now.
struct Candidate {
    key: CandidateKey,
    fingerprint: pgp::types::Fingerprint,
    key_id: pgp::types::KeyId,
    created: i64,
    label: String,
    unusable: Option<String>,
}

enum CandidateKey {
    Primary(packet::PublicKey),
    Subkey(packet::PublicSubkey),
}

struct Keyring {
    candidates: Vec<Candidate>,
    problems: Vec<String>,
}

impl Keyring {
    fn load(blocks: &[String]) -> Keyring {
        let now = now_secs();
        let mut ring = Keyring {
            candidates: Vec::new(),
            problems: Vec::new(),
        };
        for (i, block) in blocks.iter().enumerate() {
            let keys = guarded(|| {
                let (iter, _) = SignedPublicKey::from_string_many(block)?;
                iter.collect::<pgp::errors::Result<Vec<_>>>()
            });
            match keys {
                Ok(keys) if keys.is_empty() => ring
                    .problems
                    .push(format!("key #{}: no key in the block", i + 1)),
                Ok(keys) => {
                    for key in &keys {
                        ring.add(key, now);
                    }
                }
                Err(e) => ring.problems.push(format!("key #{}: {e}", i + 1)),
            }
        }
        ring
    }

    fn add(&mut self, key: &SignedPublicKey, now: i64) {
        let primary = &key.primary_key;
        let primary_fpr = fpr_hex(&primary.fingerprint());
        let primary_state = primary_state(key, now);
        self.candidates.push(Candidate {
            key: CandidateKey::Primary(primary.clone()),
            fingerprint: primary.fingerprint(),
            key_id: primary.key_id(),
            created: primary.created_at().timestamp(),
            label: format!("key {primary_fpr}"),
            unusable: primary_state.clone(),
        });
        for sub in &key.public_subkeys {
            let unusable = match &primary_state {
                Some(why) => Some(format!("its primary key {primary_fpr} {why}")),
                None => subkey_state(primary, sub, now),
            };
            self.candidates.push(Candidate {
                key: CandidateKey::Subkey(sub.key.clone()),
                fingerprint: sub.key.fingerprint(),
                key_id: sub.key.key_id(),
                created: sub.key.created_at().timestamp(),
                label: format!(
                    "subkey {} of key {primary_fpr}",
                    fpr_hex(&sub.key.fingerprint())
                ),
                unusable,
            });
        }
    }
}

/// `None` when the primary key may sign now, else why not.
fn primary_state(key: &SignedPublicKey, now: i64) -> Option<String> {
    let primary = &key.primary_key;
    if let Some(weak) = weak_algorithm(primary.public_params()) {
        return Some(weak);
    }
    let user_sigs = key.details.users.iter().flat_map(|u| &u.signatures);
    let any_revocation = key
        .details
        .revocation_signatures
        .iter()
        .chain(key.details.direct_signatures.iter())
        .chain(user_sigs)
        .filter(|s| s.typ() == Some(SignatureType::KeyRevocation))
        .map(|s| guarded(|| s.verify_key(primary)).is_ok())
        .reduce(|a, b| a || b);
    match any_revocation {
        Some(true) => return Some("is revoked".into()),
        // Could come from a designated revoker we cannot check: stay safe.
        Some(false) => {
            return Some("carries a revocation we cannot verify, so counts as revoked".into());
        }
        None => {}
    }
    let direct = key
        .details
        .direct_signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::Key))
        .filter(|s| guarded(|| s.verify_key(primary)).is_ok());
    let certs = key.details.users.iter().flat_map(|u| {
        u.signatures.iter().filter(move |s| {
            // A user ID revocation (0x30) is a certification too, but it
            // carries no key expiry or flags and must not become "newest".
            s.is_certification()
                && s.typ() != Some(SignatureType::CertRevocation)
                && guarded(|| s.verify_certification(primary, Tag::UserId, &u.id)).is_ok()
        })
    });
    let Some(newest) = direct.chain(certs).max_by_key(|s| created(s)) else {
        return Some("has no valid self-signature".into());
    };
    if has_key_flags(newest) && !newest.key_flags().sign() {
        return Some("is not marked for signing".into());
    }
    expired(primary.created_at().timestamp(), newest, now)
}

fn subkey_state(
    primary: &packet::PublicKey,
    sub: &pgp::composed::SignedPublicSubKey,
    now: i64,
) -> Option<String> {
    if let Some(weak) = weak_algorithm(sub.key.public_params()) {
        return Some(weak);
    }
    if sub
        .signatures
        .iter()
        .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
    {
        return Some("is revoked".into());
    }
    let Some(binding) = sub
        .signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
        .filter(|s| guarded(|| s.verify_subkey_binding(primary, &sub.key)).is_ok())
        .max_by_key(|s| created(s))
    else {
        return Some("has no valid binding signature".into());
    };
    if !has_key_flags(binding) || !binding.key_flags().sign() {
        return Some("is not a signing subkey".into());
    }
    // RFC 9580 sec. 5.2.1.8: a signing subkey must cross-certify its primary.
    let backsig_ok = binding.embedded_signature().is_some_and(|b| {
        b.typ() == Some(SignatureType::KeyBinding)
            && guarded(|| b.verify_primary_key_binding(&sub.key, primary)).is_ok()
    });
    if !backsig_ok {
        return Some("has no valid back-signature to its primary key".into());
    }
    expired(sub.key.created_at().timestamp(), binding, now)
}

fn has_key_flags(sig: &Signature) -> bool {
    sig.config().is_some_and(|c| {
        c.hashed_subpackets()
            .any(|p| matches!(p.data, SubpacketData::KeyFlags(_)))
    })
}

fn expired(key_created: i64, self_sig: &Signature, now: i64) -> Option<String> {
    let secs = self_sig.key_expiration_time()?.num_seconds();
    if secs <= 0 {
        return None;
    }
    let at = key_created.saturating_add(secs);
    (at <= now).then(|| format!("expired on {}", date(at)))
}

fn weak_algorithm(params: &PublicParams) -> Option<String> {
    match params {
        PublicParams::RSA(rsa) => {
            // An MPI starts with its length in bits (RFC 9580 sec. 3.2).
            let bits = rsa
                .to_bytes()
                .ok()
                .and_then(|b| Some(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
                .unwrap_or(0);
            (bits < MIN_RSA_BITS).then(|| format!("is a weak {bits}-bit RSA key"))
        }
        PublicParams::DSA(_) => Some("is a DSA key, which is no longer accepted".into()),
        PublicParams::Elgamal(_)
        | PublicParams::ECDH(_)
        | PublicParams::X25519(_)
        | PublicParams::X448(_) => Some("is an encryption-only key".into()),
        PublicParams::Unknown { .. } => Some("uses an unknown algorithm".into()),
        _ => None,
    }
}

/// Checks one signature over `data`: a registered, usable key named as
/// issuer, a strong digest, a sane date, and a valid cryptographic check.
fn check_signature(
    sig: &Signature,
    data: &[u8],
    ring: &Keyring,
    now: i64,
) -> Result<String, String> {
    match sig.typ() {
        Some(SignatureType::Binary | SignatureType::Text) => {}
        other => {
            return Err(format!(
                "signature of type {other:?} does not sign a document"
            ));
        }
    }
    let hash = sig
        .hash_alg()
        .ok_or("signature of an unsupported version")?;
    if !matches!(
        hash,
        HashAlgorithm::Sha256
            | HashAlgorithm::Sha384
            | HashAlgorithm::Sha512
            | HashAlgorithm::Sha224
            | HashAlgorithm::Sha3_256
            | HashAlgorithm::Sha3_512
    ) {
        return Err(format!(
            "digest {hash} is too weak (SHA-256 or stronger is required)"
        ));
    }
    let ids = sig.issuer();
    let fprs = sig.issuer_fingerprint();
    if ids.is_empty() && fprs.is_empty() {
        return Err("the signature names no issuer key".into());
    }
    let named: Vec<&Candidate> = ring
        .candidates
        .iter()
        .filter(|c| ids.contains(&&c.key_id) || fprs.contains(&&c.fingerprint))
        .collect();
    if named.is_empty() {
        let who = fprs
            .first()
            .map(|f| fpr_hex(f))
            .or_else(|| ids.first().map(|id| hex::encode_upper(id.as_ref())))
            .unwrap_or_default();
        return Err(format!(
            "made by key {who}, which is not registered to this account"
        ));
    }
    let created = sig
        .created()
        .map(|t| t.timestamp())
        .ok_or("the signature has no creation time")?;
    let mut reasons = Vec::new();
    for c in named {
        let verified = guarded(|| match &c.key {
            CandidateKey::Primary(k) => sig.verify(k, data),
            CandidateKey::Subkey(k) => sig.verify(k, data),
        });
        if let Err(e) = verified {
            reasons.push(format!(
                "does not verify with registered {} (the text was changed after signing?): {e}",
                c.label
            ));
            continue;
        }
        if let Some(why) = &c.unusable {
            reasons.push(format!("registered {} {why}", c.label));
            continue;
        }
        if created > now + FUTURE_SKEW_SECS {
            reasons.push(format!("dated in the future ({})", date(created)));
            continue;
        }
        if created < c.created {
            reasons.push(format!("dated before its key {} was created", c.label));
            continue;
        }
        if created < now - MAX_SIGNATURE_AGE_DAYS * 86_400 {
            reasons.push(format!(
                "signed on {}, more than {MAX_SIGNATURE_AGE_DAYS} days ago: an old signed mail may be replayed",
                date(created)
            ));
            continue;
        }
        let lifetime = sig
            .signature_expiration_time()
            .map_or(0, |d| d.num_seconds());
        if lifetime > 0 && created.saturating_add(lifetime) <= now {
            reasons.push(format!(
                "the signature expired on {}",
                date(created + lifetime)
            ));
            continue;
        }
        return Ok(format!("by registered {} ({hash})", c.label));
    }
    Err(reasons.join("; "))
}

fn created(sig: &Signature) -> i64 {
    sig.created().map(|t| t.timestamp()).unwrap_or(i64::MIN)
}

fn fpr_hex(f: &pgp::types::Fingerprint) -> String {
    hex::encode_upper(f.as_bytes())
}

fn date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| unix.to_string())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The OpenPGP library parses attacker-supplied bytes; a panic in it must
/// become a refusal, never take the daemon down.
fn guarded<T>(f: impl FnOnce() -> pgp::errors::Result<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the OpenPGP library could not process this input".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_split_keeps_exact_bytes() {
        let body = b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\r\n--b\r\nsig\r\n--b--\r\nepilogue";
        let parts = split_multipart(body, "b").unwrap();
        assert_eq!(
            parts,
            vec![&b"Content-Type: text/plain\r\n\r\nhi\r\n"[..], &b"sig"[..]]
        );
    }

    #[test]
    fn boundary_prefix_is_not_a_delimiter() {
        let body = b"--b\r\nx\r\n--bb\r\ny\r\n--b--\r\n";
        assert_eq!(
            split_multipart(body, "b").unwrap(),
            vec![&b"x\r\n--bb\r\ny"[..]]
        );
        assert!(split_multipart(b"--b\r\nx\r\n", "b").is_err());
    }

    #[test]
    fn crlf_canonicalisation() {
        assert_eq!(canonical_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }
}
