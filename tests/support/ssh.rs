//! SSH keys and signatures made by the real ssh-keygen, as a user makes them
//! for an SSH challenge.

use std::path::Path;
use std::process::Command;

/// A new ed25519 key `dir/name`; returns the public key line.
pub fn keygen(dir: &Path, name: &str) -> String {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(key.with_extension("pub")).unwrap().trim().to_string()
}

/// `ssh-keygen -Y sign -n file` over `text` with key `dir/key`, as the
/// draft tells the user; returns the armoured signature.
pub fn sign(dir: &Path, key: &str, text: &str) -> String {
    let file = dir.join("message.txt");
    std::fs::write(&file, text).unwrap();
    let _ = std::fs::remove_file(dir.join("message.txt.sig"));
    let out = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "file", "-f"])
        .arg(dir.join(key))
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(dir.join("message.txt.sig")).unwrap()
}

/// The challenge line a draft asks the user to save and sign.
pub fn challenge_text(draft: &str) -> String {
    let line = draft
        .lines()
        .find(|l| l.contains("triaged identity challenge for"))
        .unwrap_or_else(|| panic!("no challenge in the draft:\n{draft}"));
    format!("{}\n", line.trim())
}
