//! The shipped unit, as systemd itself judges it: `systemd-analyze verify`
//! finds nothing to complain about, and `systemd-analyze security
//! --offline=true` rates its exposure 2.0 or lower. systemd-analyze works on
//! the file alone; no running systemd is needed (scripts/install-deps
//! installs the `systemd` package that provides it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/triaged.service");
/// One instance per mailbox: `triaged@NAME`.
const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/triaged@.service");
const MAX_EXPOSURE: f64 = 2.0;

fn analyze() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|d| d.join("systemd-analyze"))
        .find(|p| p.is_file())
}

fn run(analyze: &Path, args: &[&str]) -> Output {
    Command::new(analyze).args(args).output().expect("systemd-analyze runs")
}

/// The unit with its ExecStart paths pointing at the binary under test:
/// `verify` insists the commands exist, and nothing is installed system-wide.
fn unit_for_this_build(dir: &Path) -> PathBuf {
    copy_for_this_build(UNIT, dir)
}

fn copy_for_this_build(unit: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(unit).unwrap();
    assert!(text.contains("/usr/bin/triaged"), "the unit runs /usr/bin/triaged");
    let copy = dir.join(Path::new(unit).file_name().unwrap());
    std::fs::write(&copy, text.replace("/usr/bin/triaged", env!("CARGO_BIN_EXE_triaged"))).unwrap();
    copy
}

/// systemd-analyze and the unit copy in a temporary directory (kept alive
/// by the returned guard), or None with the reason printed.
fn prepare() -> Option<(PathBuf, tempfile::TempDir, PathBuf)> {
    let Some(analyze) = analyze() else {
        eprintln!("skipped: systemd-analyze not installed (scripts/install-deps installs the systemd package)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    Some((analyze, dir, unit))
}

/// "→ Overall exposure level for triaged.service: 1.1 OK 🙂" → 1.1
fn exposure(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.contains("Overall exposure level"))?;
    let after = line.rsplit_once(".service:")?.1;
    after.split_whitespace().next()?.parse().ok()
}

#[test]
fn exposure_is_parsed_from_the_summary_line() {
    assert_eq!(exposure("x\n→ Overall exposure level for triaged.service: 1.1 OK 🙂\n"), Some(1.1));
    assert_eq!(exposure("→ Overall exposure level for triaged.service: 9.6 UNSAFE 😨"), Some(9.6));
    assert_eq!(exposure("no summary"), None);
}

#[test]
fn unit_asks_for_what_the_daemon_relies_on() {
    let text = std::fs::read_to_string(UNIT).unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "StateDirectory=triaged",
        "DynamicUser=yes",
        "LoadCredential=imap:",
        "LoadCredential=irc:",
    ] {
        assert!(text.lines().any(|l| l.starts_with(line)), "{UNIT} lacks {line}");
    }
}

#[test]
fn systemd_analyze_verify_is_clean() {
    let Some((analyze, _dir, unit)) = prepare() else {
        return;
    };
    let out = run(&analyze, &["verify", unit.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed:\n{stderr}");
    assert!(stderr.trim().is_empty(), "systemd-analyze verify warns:\n{stderr}");
}

#[test]
fn systemd_analyze_security_exposure_is_at_most_2() {
    let Some((analyze, _dir, unit)) = prepare() else {
        return;
    };
    let out = run(&analyze, &["security", "--offline=true", "--no-pager", unit.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "systemd-analyze security failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let level = exposure(&stdout).unwrap_or_else(|| panic!("no exposure level in:\n{stdout}"));
    println!("exposure level {level}");
    assert!(level <= MAX_EXPOSURE, "exposure {level} is over {MAX_EXPOSURE}:\n{stdout}");
}

/// The template gives each instance its own config, store and credentials,
/// and differs from the single unit in nothing else: the same hardening.
#[test]
fn template_unit_keeps_instances_apart_and_is_hardened_alike() {
    let single = std::fs::read_to_string(UNIT).unwrap();
    let template = std::fs::read_to_string(TEMPLATE).unwrap();
    for line in [
        "ExecStart=/usr/bin/triaged --config /etc/triaged/%i/config.toml run",
        "ExecStartPre=/usr/bin/triaged --config /etc/triaged/%i/config.toml check-config",
        "StateDirectory=triaged/%i",
        "LoadCredential=imap:/etc/triaged/%i/imap-password",
        "LoadCredential=irc:/etc/triaged/%i/irc-password",
    ] {
        assert!(template.lines().any(|l| l == line), "{TEMPLATE} lacks {line}");
    }
    let settings = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
            .filter(|l| !l.contains("%i") && !l.starts_with("Description=") && !l.contains("/etc/triaged") && !l.starts_with("StateDirectory=") && !l.starts_with("ConfigurationDirectory="))
            .map(str::to_string)
            .collect()
    };
    let single_settings = settings(&single);
    assert!(single_settings.len() > 30, "{single_settings:?}");
    assert_eq!(settings(&template), single_settings);
}

#[test]
fn template_unit_verifies_and_exposure_is_at_most_2() {
    let Some((analyze, dir, _)) = prepare() else {
        return;
    };
    copy_for_this_build(TEMPLATE, dir.path());
    let instance = dir.path().join("triaged@support.service");
    let out = run(&analyze, &["verify", instance.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify:\n{stderr}");
    let out = run(&analyze, &["security", "--offline=true", "--no-pager", instance.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let level = exposure(&stdout).unwrap_or_else(|| panic!("no exposure level in:\n{stdout}"));
    assert!(level <= MAX_EXPOSURE, "exposure {level} is over {MAX_EXPOSURE}:\n{stdout}");
}
