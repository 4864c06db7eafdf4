//! The `ssh` factor against SSHSIGs made by the real `ssh-keygen -Y sign`:
//! each attack beside the valid reply it imitates, which must pass.


use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use triaged::message::Message;
use triaged::verify::Outcome;
use triaged::verify::challenge::issue;
use triaged::verify::ssh::check_ssh;

struct SshKey {
    path: PathBuf,
    /// The OpenSSH public key line, as in the account file.
    public: String,
}

struct Keys {
    dir: tempfile::TempDir,
}

impl SshKey {
    /// As the account file lists it.
    fn registered(&self) -> Vec<String> {
        vec![self.public.clone()]
    }
}

impl Keys {
    fn new() -> Keys {
        Keys {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn make(&self, name: &str, kind: &[&str]) -> SshKey {
        let path = self.dir.path().join(name);
        run(Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-C", &format!("{name}@laptop"), "-f"])
            .arg(&path)
            .args(kind));
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        SshKey {
            path,
            public: public.trim().to_string(),
        }
    }

    /// `ssh-keygen -Y sign -n <namespace>` over `text`; the armored signature.
    fn sign(&self, key: &SshKey, namespace: &str, text: &str) -> String {
        let file = tempfile::NamedTempFile::new_in(self.dir.path()).unwrap();
        std::fs::write(file.path(), text).unwrap();
        run(Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(&key.path)
            .arg(file.path()));
        let sig = sig_path(file.path());
        let armored = std::fs::read_to_string(&sig).unwrap();
        std::fs::remove_file(sig).unwrap();
        armored
    }
}

fn sig_path(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sig", p.display()))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("ssh-keygen is installed");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn reply(body: &str) -> Message {
    let raw = format!(
        "From: alice@example.org\r\nSubject: Re: [#7] identity check\r\nMessage-ID: <r@example.org>\r\n\
         Content-Type: text/plain\r\n\r\n{}",
        body.replace('\n', "\r\n")
    );
    Message::parse(raw.into_bytes()).unwrap()
}

fn reply_with_attachment(name: &str, contents: &str) -> Message {
    let raw = format!(
        "From: alice@example.org\r\nSubject: Re: [#7] identity check\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         Signature attached.\r\n--b\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        STANDARD.encode(contents)
    );
    Message::parse(raw.into_bytes()).unwrap()
}

#[track_caller]
fn assert_pass(msg: &Message, challenge: &str, keys: &[String]) {
    let f = check_ssh(msg, Some(challenge), keys);
    assert!(f.passed(), "expected pass, got {f:?}");
}

fn setup() -> (Keys, SshKey, String) {
    let keys = Keys::new();
    let alice = keys.make("alice", &["-t", "ed25519"]);
    let challenge = issue(7, "alice", "triaged.txt").ssh_text;
    (keys, alice, challenge)
}

#[test]
fn ed25519_and_rsa_signatures_over_the_challenge_pass() {
    let (keys, alice, challenge) = setup();
    let sig = keys.sign(&alice, "file", &challenge);
    assert_pass(
        &reply(&format!("Here you go:\n\n{sig}\nAlice\n")),
        &challenge,
        &alice.registered(),
    );
    // Pasted as a quote, or with the key registered under another comment.
    let quoted: String = sig.lines().map(|l| format!("> {l}\n")).collect();
    let recommented = alice.public.replace("alice@laptop", "work laptop");
    assert_pass(&reply(&quoted), &challenge, &[recommented]);

    let rsa = keys.make("alice-rsa", &["-t", "rsa", "-b", "2048"]);
    let sig = keys.sign(&rsa, "file", &challenge);
    let f = check_ssh(
        &reply(&sig),
        Some(&challenge),
        &[alice.public.clone(), rsa.public.clone()],
    );
    assert!(f.passed(), "{f:?}");
    assert!(
        f.reason.contains("SHA256:"),
        "names the key fingerprint: {}",
        f.reason
    );
}

/// Rewrite the SSHSIG blob's hash algorithm field (RFC: PROTOCOL.sshsig).
fn with_hash_alg(armored: &str, alg: &str) -> String {
    let b64: String = armored
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let blob = STANDARD.decode(b64).unwrap();
    let mut pos = 6 + 4; // "SSHSIG", version
    let mut fields = Vec::new();
    while pos < blob.len() {
        let len = u32::from_be_bytes(blob[pos..pos + 4].try_into().unwrap()) as usize;
        fields.push(blob[pos + 4..pos + 4 + len].to_vec());
        pos += 4 + len;
    }
    assert_eq!(
        fields.len(),
        5,
        "publickey, namespace, reserved, hash_algorithm, signature"
    );
    fields[3] = alg.as_bytes().to_vec();
    let mut out = blob[..10].to_vec();
    for f in fields {
        out.extend((f.len() as u32).to_be_bytes());
        out.extend(f);
    }
    let encoded = STANDARD.encode(out);
    let body: Vec<String> = encoded
        .as_bytes()
        .chunks(70)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n",
        body.join("\n")
    )
}

/// Signatures over the challenge that must not count, one row each: what
/// is wrong, the reply, a part of the reason. The controls pass with the
/// same keys: Alice's signature pasted or attached, rewritten to another
/// accepted hash (so the rewrite itself keeps a signature valid), and
/// Mallory's once her key is on file.
#[test]
fn signatures_that_do_not_count() {
    let (keys, alice, challenge) = setup();
    let sig = keys.sign(&alice, "file", &challenge);
    let eve = keys.make("eve", &["-t", "ed25519"]);
    let mallory = keys.make("mallory", &["-t", "ed25519", "-C", "alice@example.org"]);
    let by_mallory = keys.sign(&mallory, "file", &challenge);
    for (control, registered) in [
        (reply(&sig), alice.registered()),
        (reply_with_attachment("message.txt.sig", &sig), alice.registered()),
        (reply(&with_hash_alg(&sig, "sha512")), alice.registered()),
        (reply(&by_mallory), vec![alice.public.clone(), mallory.public.clone()]),
    ] {
        assert_pass(&control, &challenge, &registered);
    }
    // A signature Alice made for a different ticket, replayed.
    let other = issue(8, "alice", "triaged.txt").ssh_text;
    let mut truncated: Vec<&str> = sig.lines().collect();
    truncated.remove(2);

    let cases = [
        (
            "an attached signature by a key not on file",
            reply_with_attachment("message.txt.sig", &keys.sign(&eve, "file", &challenge)),
            "not registered",
        ),
        ("a key whose comment names the victim", reply(&by_mallory), "not registered"),
        ("the git namespace", reply(&keys.sign(&alice, "git", &challenge)), "namespace \"git\""),
        ("another ticket's challenge, replayed", reply(&keys.sign(&alice, "file", &other)), "does not verify"),
        // Without the trailing newline the bytes differ too.
        ("the challenge without its newline", reply(&keys.sign(&alice, "file", challenge.trim_end())), "does not verify"),
        ("a line missing", reply(&truncated.join("\n")), "malformed"),
        ("not base64", reply("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n"), "malformed"),
        ("an attachment that is no signature", reply_with_attachment("x.sig", "not a signature"), "malformed"),
        ("a SHA-1 hash", reply(&with_hash_alg(&sig, "sha1")), "sha1"),
    ];
    for (case, msg, why) in &cases {
        let f = check_ssh(msg, Some(&challenge), &alice.registered());
        assert_eq!(f.result, Outcome::Fail, "{case}: expected fail, got {f:?}");
        assert!(f.reason.contains(why), "{case}: reason {:?} should mention {why:?}", f.reason);
    }
}

#[test]
fn without_an_issued_challenge_or_signature_it_is_none() {
    let (keys, alice, challenge) = setup();
    let sig = keys.sign(&alice, "file", &challenge);
    let f = check_ssh(&reply(&sig), None, &alice.registered());
    assert_eq!(f.result, Outcome::None);
    assert_eq!(f.reason, "no SSH challenge issued");
    let f = check_ssh(
        &reply("I lost my key, sorry"),
        Some(&challenge),
        &alice.registered(),
    );
    assert_eq!(f.result, Outcome::None, "{f:?}");
    let f = check_ssh(&reply(&sig), Some(&challenge), &[]);
    assert_eq!(f.result, Outcome::None, "no key on file: {f:?}");
    let f = check_ssh(&reply(&sig), Some(&challenge), &["ssh-ed25519 AAAAnotakey".into()]);
    assert_eq!(f.result, Outcome::None, "no key on file could be read: {f:?}");
    assert!(f.reason.contains("could be read"), "{}", f.reason);
}
