//! The store's folder made read-only or full under the daemon: a clear
//! error, no draft without its record, and after the fault is fixed every
//! message ends up with exactly one draft. The store lives on a small
//! tmpfs mounted for the test (root only; skipped with a reason otherwise,
//! since a read-only chmod does not stop root).


use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::harness::*;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }

    fn remount(&self, opts: &str) {
        let out = Command::new("mount").args(["-o", &format!("remount,{opts}")]).arg(&self.0).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn exactly_one_each(s: &Setup, n: usize) {
    let per = drafts_per_message(s);
    assert_eq!(per.len(), n, "{per:?}");
    assert!(per.values().all(|&c| c == 1), "{per:?}");
}

#[test]
fn a_read_only_store_is_a_clear_error_and_nothing_is_lost() {
    let s = setup();
    let Some(mount) = Mount::tmpfs(&s.dir.path().join("store"), "64m") else { return };
    for n in 1..=3 {
        s.dovecot.deliver("INBOX", &mail(n, "before", "b"));
    }
    run_once(&s);
    exactly_one_each(&s, 3);

    mount.remount("ro");
    for n in 4..=5 {
        s.dovecot.deliver("INBOX", &mail(n, "while read-only", "r"));
    }
    let out = triaged(&s.config, &["run", "--once"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store") && (err.contains("writable") || err.contains("permissions")), "{err}");
    assert_eq!(drafts(&s).len(), 3, "no draft without its record in the store");

    mount.remount("rw");
    run_once(&s);
    exactly_one_each(&s, 5);
}

#[test]
fn a_full_store_is_a_clear_error_and_recovers_without_duplicates() {
    let s = setup();
    let Some(mount) = Mount::tmpfs(&s.dir.path().join("store"), "2m") else { return };
    let backlog: Vec<Vec<u8>> = (1..=300)
        .map(|n| mail(n, &format!("request {n}"), &"please delete my account and all my data. ".repeat(60)))
        .collect();
    s.dovecot.deliver_many("INBOX", &backlog);
    let out = triaged(&s.config, &["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "300 tickets with their drafts do not fit in 2 MB: {err}");
    // The cause (ENOSPC) itself, also in the error of a write refused only
    // because an earlier one failed.
    let last = err.lines().last().unwrap_or_default();
    assert!(last.contains("store") && last.contains("os error 28"), "{err}");
    eprintln!("full store: {}", err.lines().rev().take(3).collect::<Vec<_>>().join(" / "));
    let partial = drafts(&s).len();
    assert!(partial < 300, "{partial}");

    mount.remount("size=256m");
    run_once(&s);
    exactly_one_each(&s, 300);
}
