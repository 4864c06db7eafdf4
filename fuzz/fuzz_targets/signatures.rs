//! Signature parsing and checking on hostile bytes: the PGP factor (PGP/MIME
//! and inline cleartext) and the SSH factor (pasted or attached SSHSIG),
//! each against a fixed registered key. Any outcome is fine except a panic;
//! the PGP library's own panics are caught by `verify::pgp`, and libFuzzer's
//! panic hook still reports them, so they show up here too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use triaged::message::Message;
use triaged::verify::pgp::check_pgp;
use triaged::verify::ssh::check_ssh;

const PGP_KEY: &str = include_str!("../fixtures/pgp-key.asc");
const SSH_KEY: &str = include_str!("../fixtures/ssh-key.pub");

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data.to_vec()) else { return };
    let _ = check_pgp(&msg, &[PGP_KEY.to_string()]);
    let _ = check_ssh(&msg, Some("challenge text\n"), &[SSH_KEY.to_string()]);
});
