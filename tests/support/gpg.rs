//! A throwaway GnuPG, as a user signs mail with it.

use std::io::Write;
use std::process::{Command, Stdio};

/// A throwaway GnuPG home; its agent is stopped when dropped.
pub struct Gpg {
    pub home: tempfile::TempDir,
}

impl Gpg {
    pub fn new() -> Gpg {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Gpg { home }
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> String {
        let mut child = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args([
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg is installed");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A new primary key; returns its fingerprint.
    pub fn key(&self, uid: &str, algo: &str, expire: &str, extra: &[&str]) -> String {
        let mut args = extra.to_vec();
        args.extend(["--quick-gen-key", uid, algo, "sign", expire]);
        self.run(&args, b"");
        self.fingerprints(uid)[0].clone()
    }

    /// Fingerprints of the key with `uid`: primary first, then subkeys.
    pub fn fingerprints(&self, uid: &str) -> Vec<String> {
        self.run(&["--with-colons", "--list-keys", uid], b"")
            .lines()
            .filter_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .collect()
    }

    pub fn export(&self, fpr: &str) -> String {
        self.run(&["--armor", "--export", fpr], b"")
    }

    pub fn clearsign(&self, signer: &str, text: &str, extra: &[&str]) -> String {
        let mut args = extra.to_vec();
        args.extend(["--local-user", signer, "--clearsign"]);
        self.run(&args, text.as_bytes())
    }

    pub fn detach_sign(&self, signer: &str, data: &[u8], extra: &[&str]) -> String {
        let mut args = extra.to_vec();
        args.extend(["--local-user", signer, "--armor", "--detach-sign"]);
        self.run(&args, data)
    }

    /// Import the revocation certificate GnuPG made at key generation.
    pub fn revoke(&self, fpr: &str) {
        let path = self
            .home
            .path()
            .join("openpgp-revocs.d")
            .join(format!("{fpr}.rev"));
        let cert = std::fs::read_to_string(path)
            .unwrap()
            .replace(":-----BEGIN", "-----BEGIN");
        self.run(&["--import"], cert.as_bytes());
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

