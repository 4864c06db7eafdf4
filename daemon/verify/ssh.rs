//! The `ssh` factor: an SSHSIG (`ssh-keygen -Y sign -n file`) over exactly
//! the challenge text triaged issued for this ticket, by an SSH key on file
//! for the account.
//!
//! The signature may be pasted into the reply (armored) or attached as a
//! `.sig` file. What it signs is never taken from the message: it is checked
//! against the issued text only, so a signature over anything else fails.
//! Keys are compared by their public key material; comments prove nothing.

use mail_parser::{MessageParser, MimeHeaders};
use ssh_key::{Algorithm, HashAlg, PublicKey, SshSig};

use super::Factor;
use crate::message::Message;

const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const END: &str = "-----END SSH SIGNATURE-----";
/// The namespace the issued instructions ask for (`-n file`).
pub const NAMESPACE: &str = "file";

/// Check the message's SSH signature(s) against the issued challenge text and
/// the account's registered OpenSSH public key lines.
pub fn check_ssh(
    msg: &Message,
    challenge_text: Option<&str>,
    registered_keys: &[String],
) -> Factor {
    let Some(challenge) = challenge_text else {
        return Factor::none("no SSH challenge issued");
    };
    let armored = find_signatures(msg);
    if armored.is_empty() {
        return Factor::none("no SSH signature in the reply");
    }
    if registered_keys.is_empty() {
        return Factor::none("SSH signature found, but the account has no SSH key on file");
    }
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in registered_keys.iter().enumerate() {
        match PublicKey::from_openssh(line.trim()) {
            Ok(k) => keys.push(k),
            Err(e) => problems.push(format!("registered SSH key #{}: {e}", i + 1)),
        }
    }
    if keys.is_empty() {
        return Factor::none(format!(
            "none of the account's SSH keys could be read: {}",
            problems.join("; ")
        ));
    }
    let mut refusals = Vec::new();
    for (source, pem) in &armored {
        match check_one(pem, challenge.as_bytes(), &keys) {
            Ok(by) => {
                return Factor::pass(format!(
                    "SSH signature ({source}) over the issued challenge, {by}"
                ));
            }
            Err(why) => refusals.push(format!("{source}: {why}")),
        }
    }
    Factor::fail(format!("SSH signature refused: {}", refusals.join("; ")))
}

/// Whether `msg` carries an SSH signature at all: what a later check, with
/// the account's keys at hand, could pass.
pub fn is_signed(msg: &Message) -> bool {
    !find_signatures(msg).is_empty()
}

fn check_one(pem: &str, challenge: &[u8], keys: &[PublicKey]) -> Result<String, String> {
    let sig = SshSig::from_pem(pem).map_err(|e| format!("malformed SSH signature: {e}"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "signed for namespace {:?}, but the challenge asks for -n {NAMESPACE}",
            sig.namespace()
        ));
    }
    // SshSig only decodes sha256/sha512 as the message hash; the RSA
    // signature algorithm itself must not be the SHA-1 `ssh-rsa`.
    if !matches!(sig.hash_alg(), HashAlg::Sha256 | HashAlg::Sha512)
        || matches!(sig.signature().algorithm(), Algorithm::Rsa { hash: None })
    {
        return Err("uses SHA-1, which is refused".into());
    }
    let Some(key) = keys.iter().find(|k| k.key_data() == sig.public_key()) else {
        let fp = PublicKey::from(sig.public_key().clone()).fingerprint(HashAlg::Sha256);
        return Err(format!(
            "made by key {fp}, which is not registered to this account"
        ));
    };
    key.verify(NAMESPACE, challenge, &sig).map_err(|e| {
        format!("does not verify over the issued challenge text (signed another text?): {e}")
    })?;
    Ok(format!(
        "by registered key {}",
        key.fingerprint(HashAlg::Sha256)
    ))
}

/// Armored signatures pasted in the body (quote markers stripped) and
/// attached files named `*.sig` or holding an armored signature.
/// `bytes` as text when they could be a signature: UTF-8 and at most
/// 64 KiB.
fn small_text(bytes: &[u8]) -> Option<&str> {
    if bytes.len() > 64 * 1024 {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

fn find_signatures(msg: &Message) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = armored_blocks(&msg.text)
        .into_iter()
        .map(|b| ("in the text".to_string(), b))
        .collect();
    if let Some(parsed) = MessageParser::default().parse(msg.outline()) {
        for part in parsed.attachments() {
            // An SSH signature is a few KiB of ASCII armor; a large or
            // binary attachment is not one, and is not copied to look.
            let Some(contents) = small_text(part.contents()) else {
                continue;
            };
            let name = part.attachment_name().unwrap_or("").to_string();
            let blocks = armored_blocks(&contents);
            if blocks.is_empty() && name.to_ascii_lowercase().ends_with(".sig") {
                found.push((format!("attachment {name:?}"), contents.to_string()));
            }
            for b in blocks {
                found.push((format!("attachment {name:?}"), b));
            }
        }
    }
    found
}

fn armored_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        let line = line.trim_start_matches(['>', ' ', '\t']).trim_end();
        if line == BEGIN {
            current = Some(vec![BEGIN]);
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
            if line == END {
                blocks.push(lines.join("\n") + "\n");
                current = None;
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_armor_is_unquoted() {
        let text =
            "hi\n> -----BEGIN SSH SIGNATURE-----\n> AAAA\n> -----END SSH SIGNATURE-----\nbye";
        assert_eq!(
            armored_blocks(text),
            vec!["-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"]
        );
        assert!(armored_blocks("-----BEGIN SSH SIGNATURE-----\nAAAA\n").is_empty());
    }
}
