//! The operator's commands as a shell under the recommended unit sees
//! them: the IMAP password is a systemd credential (or a file the shell
//! cannot read), `check-config` says everything in one run, and the logs
//! carry journald priorities and say what became of each message.


use std::process::{Command, Output};

use crate::support::harness::*;

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `triaged ARGS` with `env` added and `CREDENTIALS_DIRECTORY` removed, as
/// in an operator's shell.
fn triaged_env(config: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("TRIAGED_LOG", "info")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("JOURNAL_STREAM")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn replace_in_config(s: &Setup, from: &str, to: &str) {
    let text = std::fs::read_to_string(&s.config).unwrap();
    let changed = text.replacen(from, to, 1);
    assert_ne!(text, changed, "{from:?} is in the config");
    std::fs::write(&s.config, changed).unwrap();
}

#[test]
fn only_run_needs_the_imap_password() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));
    run_once(&s);
    let pw = s.dovecot.password_file().display().to_string();

    // The unit's setting, seen from a shell: no $CREDENTIALS_DIRECTORY.
    replace_in_config(&s, &format!("password_file = \"{pw}\""), "password_credential = \"imap\"");
    let status = triaged_env(&s.config, &["status", "--json"], &[]);
    assert!(status.status.success(), "{}", text(&status));
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 1);
    let set = triaged_env(&s.config, &["set", "1", "username=alice"], &[]);
    assert!(!text(&set).contains("CREDENTIALS_DIRECTORY"), "{}", text(&set));
    let reclassify = triaged_env(&s.config, &["reclassify", "1", "account-rename"], &[]);
    assert!(reclassify.status.success(), "{}", text(&reclassify));
    let eml = s.dir.path().join("m.eml");
    std::fs::write(&eml, mail(2, "Refund please", "I want a refund")).unwrap();
    for cmd in ["classify", "verify"] {
        let out = triaged_env(&s.config, &[cmd, eml.to_str().unwrap()], &[]);
        assert!(!text(&out).contains("CREDENTIALS_DIRECTORY"), "{cmd}: {}", text(&out));
        assert_ne!(out.status.code(), Some(2), "{cmd}: {}", text(&out));
    }
    // check-config cannot see a credential from a shell: a note, exit 0.
    let check = triaged_env(&s.config, &["check-config"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let out = text(&check);
    assert!(out.contains("note: ") && out.contains("imap.password_credential: CREDENTIALS_DIRECTORY is not set"), "{out}");
    // run needs it, and says where it is configured and what to do.
    let run = triaged_env(&s.config, &["run", "--once"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("triaged.toml:6: imap.password_credential"), "{}", text(&run));
    // Under systemd the credential is there, and run logs in with it.
    let creds = s.dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::copy(&pw, creds.join("imap")).unwrap();
    let run = triaged_env(&s.config, &["run", "--once"], &[("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())]);
    assert!(run.status.success(), "{}", text(&run));

    // A password file this user cannot read: run would refuse, so
    // check-config does too, and says why; status still works.
    replace_in_config(&s, "password_credential = \"imap\"", "password_file = \"missing-password\"");
    let check = triaged_env(&s.config, &["check-config"], &[]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let out = text(&check);
    assert!(out.contains("triaged.toml:6: imap.password_file: cannot read") && out.contains("`triaged run` needs it"), "{out}");
    assert!(triaged_env(&s.config, &["status"], &[]).status.success());
}

#[test]
fn check_config_reports_every_problem_in_one_run() {
    let s = setup();
    // A pack whose procedures name a template that is not there.
    let templates = s.dir.path().join("templates");
    let pack = templates.join("sourcehut");
    std::fs::create_dir_all(pack.join("staff")).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sourcehut");
    for dir in ["", "staff"] {
        for e in std::fs::read_dir(shipped.join(dir)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() && e.file_name() != "refund-late.txt" {
                std::fs::copy(e.path(), pack.join(dir).join(e.file_name())).unwrap();
            }
        }
    }
    let shipped_templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    replace_in_config(&s, &format!("templates = \"{}\"", shipped_templates.display()), &format!("templates = \"{}\"", templates.display()));
    // An account directory run refuses four times over: a username listed
    // twice, an address, a domain and card digits that are not one.
    std::fs::write(
        s.dir.path().join("accounts.toml"),
        "[[account]]\nusername = \"alice\"\nemails = [\"a@example.org\"]\n\n[[account]]\nusername = \"alice\"\nemails = [\"b@example.org\", \"not-an-address\"]\ndomains = [\"https://example.org/\"]\nbilling_last4 = \"42\"\n",
    )
    .unwrap();
    replace_in_config(&s, "[procedures]", "[identity]\naccounts = \"accounts.toml\"\n\n[procedures]\ntimezone = \"Mars/Olympus\"");
    // And a password file that is not there.
    let pw = s.dovecot.password_file().display().to_string();
    replace_in_config(&s, &pw, "nope");

    let check = triaged_env(&s.config, &["check-config"], &[]);
    let out = text(&check);
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(out.contains("procedures.timezone: unknown time zone \"Mars/Olympus\""), "{out}");
    // Each at the line of its key.
    assert!(out.contains("accounts.toml:6: username \"alice\" is already used on line 2"), "{out}");
    assert!(out.contains("accounts.toml:7: account \"alice\": \"not-an-address\" is not a mail address"), "{out}");
    assert!(out.contains("accounts.toml:8: account \"alice\": \"https://example.org/\" is not a domain name"), "{out}");
    assert!(out.contains("accounts.toml:9: account \"alice\": billing_last4 must be exactly four digits"), "{out}");
    assert!(out.contains("refund-late.txt"), "the pack's missing template: {out}");
    assert!(out.contains("imap.password_file: cannot read"), "{out}");
    assert!(out.contains("7 problems; `triaged run` would refuse to start"), "{out}");
    // run refuses the same config.
    replace_in_config(&s, "nope", &pw);
    let run = triaged_env(&s.config, &["run", "--once"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
}

#[test]
fn journal_lines_carry_priorities_and_each_line_says_what_happened() {
    let s = setup_with("none", "[limits]\nmax_message_bytes = 4096\n");
    // Unclassified: acknowledged with a draft; the sender's reply waits
    // for staff without one.
    s.dovecot.deliver("INBOX", &mail(1, "Hello there", "Just saying hello."));
    s.dovecot.deliver("INBOX", &mail(3, "huge", &"x".repeat(10_000)));
    let out = triaged_env(&s.config, &["run", "--once"], &[("JOURNAL_STREAM", "8:12345")]);
    assert!(out.status.success(), "{}", text(&out));
    s.dovecot.deliver(
        "INBOX",
        b"From: User 1 <user1@example.net>\r\nTo: support@example.org\r\nSubject: Re: [#1] Hello there\r\nMessage-ID: <m2@example.net>\r\nIn-Reply-To: <m1@example.net>\r\nReferences: <m1@example.net>\r\n\r\nStill there?\r\n",
    );
    s.dovecot.deliver("INBOX", &mail(1, "Hello there", "Just saying hello."));
    let again = triaged_env(&s.config, &["run", "--once"], &[("JOURNAL_STREAM", "8:12345")]);
    assert!(again.status.success(), "{}", text(&again));

    let log = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&again.stderr));
    for line in log.lines() {
        assert!(line.starts_with('<') && line.as_bytes().get(2) == Some(&b'>'), "no priority prefix: {line:?}");
        assert!(!line.contains("INFO") && !line.contains("WARN"), "the priority replaces the level word: {line:?}");
        assert!(!line.starts_with("<6>20"), "journald stamps the time itself: {line:?}");
    }
    let line_for = |uid: &str| log.lines().find(|l| l.ends_with(&format!("uid={uid}")) && l.contains("folder=INBOX")).unwrap_or_default().to_string();
    assert!(line_for("1").starts_with("<6>ticket #1 (unclassified), draft appended"), "{log}");
    assert!(log.lines().any(|l| l.starts_with("<4>quarantined: ") && l.contains("uid=2")), "quarantine at warning: {log}");
    assert!(line_for("3").starts_with("<6>reply joins ticket #1") && line_for("3").contains("no draft, left new for staff"), "{log}");
    assert!(line_for("4").starts_with("<6>set aside: already handled"), "{log}");
    assert_eq!(log.matches("draft appended").count(), 1, "{log}");
    assert_eq!(drafts(&s).len(), 1);

    // Outside the journal: timestamps and level words, as before.
    let plain = triaged_env(&s.config, &["run", "--once"], &[]);
    let plain = String::from_utf8_lossy(&plain.stderr);
    assert!(plain.lines().all(|l| !l.starts_with('<')) && plain.contains(" INFO "), "{plain}");
}

#[test]
fn worker_threads_are_configured_and_checked() {
    let s = setup_with("none", "[daemon]\nworkers = 1\n");
    let check = triaged_env(&s.config, &["check-config"], &[]);
    assert!(text(&check).contains("1 worker thread)"), "{}", text(&check));
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    replace_in_config(&s, "workers = 1", "workers = 1000");
    let check = triaged_env(&s.config, &["check-config"], &[]);
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check).contains("daemon.workers: must be 1 to 16"), "{}", text(&check));
}

/// A host that refuses threads (TasksMax=, ulimit -u): `run` says why and
/// exits 2 at once; it used to panic in the runtime and then hang. Made
/// here with RLIMIT_NPROC for an unprivileged user (root is exempt from it).
#[test]
fn refused_threads_are_a_clean_error() {
    let tools = ["prlimit", "setpriv"].map(|t| Command::new(t).arg("--version").output().is_ok_and(|o| o.status.success()));
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !(tools.iter().all(|t| *t) && root) {
        eprintln!("skipped: needs root, prlimit and setpriv (util-linux)");
        return;
    }
    let s = setup_with("none", "[daemon]\nworkers = 4\n");
    let open = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    open(s.dir.path());
    for f in [s.config.clone(), s.dovecot.password_file()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    open(s.dovecot.dir());
    let out = Command::new("prlimit")
        .args(["--nproc=3", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .args(["run", "--once"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot start 4 worker threads") && err.contains("lower [daemon] workers, or raise TasksMax="), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn drafts_are_seen_quote_the_customer_and_say_their_mime_version() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it.\nMy api_key = abcdef123456 if that helps."));
    run_once(&s);
    let flags = s.dovecot.flags("Drafts");
    assert_eq!(flags.len(), 1);
    assert!(flags[0].contains("\\Seen") && flags[0].contains("\\Draft"), "{flags:?}");
    let d = &drafts(&s)[0];
    let raw = String::from_utf8_lossy(d.raw()).into_owned();
    assert!(raw.lines().any(|l| l.trim_end() == "MIME-Version: 1.0"), "{raw}");
    let text = d.text.replace("\r\n", "\n");
    let reply_end = text.find("On Mon, 23 Nov 2026 10:00 UTC, User 1 wrote:\n> Hi, please delete it.\n> My [").unwrap_or_else(|| panic!("{text}"));
    assert!(text[..reply_end].contains("Hi User 1,"), "the reply comes first: {text}");
    assert!(!text.contains("abcdef123456"), "the quote is redacted: {text}");

    // [draft] quote = false: the reply alone.
    let s = setup_with("none", "");
    replace_in_config(&s, "[draft]", "[draft]\nquote = false");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));
    run_once(&s);
    assert!(!drafts(&s)[0].text.contains("wrote:"));
}

#[test]
fn status_says_what_needs_attention() {
    let s = setup_with("none", "[limits]\nmax_header_bytes = 1024\n");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));
    // A reply to ticket #1 that is over a limit: quarantined, and linked.
    let long = format!("X-Padding: {}\r\n", "p".repeat(2000));
    s.dovecot.deliver(
        "INBOX",
        format!("From: User 1 <user1@example.net>\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <m2@example.net>\r\nIn-Reply-To: <m1@example.net>\r\n{long}\r\nAny news?\r\n").as_bytes(),
    );
    let run = run_once(&s);
    let log = String::from_utf8_lossy(&run.stderr);
    // The sent folder did not exist: made, so staff clients can file mail.
    assert!(log.contains("created the sent folder"), "{log}");
    let check = triaged_env(&s.config, &["status", "--check"], &[]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("the daemon is not running") && out.contains("1 message in quarantine"), "{out}");

    let v: serde_json::Value = serde_json::from_slice(&triaged_env(&s.config, &["status", "--json"], &[]).stdout).unwrap();
    assert_eq!(v["quarantine"][0]["ticket"], 1, "{v}");
    let status = triaged_env(&s.config, &["status"], &[]);
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(out.contains("[reply to ticket #1]"), "{out}");
    // The last sync is the stopped daemon's, to the second, and says so.
    let inbox = out.lines().find(|l| l.trim_start().starts_with("INBOX")).unwrap();
    let stamp = inbox.split("last sync ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(stamp.ends_with('Z') && !stamp.contains('.'), "{inbox}");
    assert!(inbox.contains("(daemon not running)"), "{inbox}");
    assert!(s.dovecot.uids("Sent").is_empty(), "Sent exists and is empty");
}

/// A TLS trust root only `run` reads: the commands that never connect work
/// without it; check-config and run's start name its line and the fix.
#[test]
fn a_missing_ca_file_stops_only_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
    let templates = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let config = dir.path().join("ca.toml");
    std::fs::write(
        &config,
        format!(
            "[imap]\nhost = \"imap.example.org\"\nusername = \"support@example.org\"\npassword_file = \"pw\"\nca_file = \"run/ca.pem\"\n\n\
             [store]\npath = \"store\"\n\n[procedures]\ntemplates = \"{templates}\"\n"
        ),
    )
    .unwrap();
    let eml = dir.path().join("m.eml");
    std::fs::write(&eml, mail(1, "Refund please", "I want a refund")).unwrap();

    let classify = triaged_env(&config, &["classify", eml.to_str().unwrap()], &[]);
    assert!(classify.status.success(), "{}", text(&classify));
    assert!(text(&classify).contains("refund"), "{}", text(&classify));
    let probe = triaged_env(&config, &["status", "--check"], &[]);
    assert_eq!((probe.status.code(), text(&probe)), (Some(1), "the daemon is not running\n".into()));

    let said = format!("ca.toml:5: imap.ca_file: {} does not exist or is not a file; fix the path or remove the key", dir.path().join("run/ca.pem").display());
    let check = triaged_env(&config, &["check-config"], &[]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains(&said), "{}", text(&check));
    let run = triaged_env(&config, &["run", "--once"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains(&said), "{}", text(&run));
}

/// The config README.md's install section writes is one check-config
/// accepts (with the packs where the package puts them, here the tree's).
#[test]
fn the_readme_install_config_passes_check_config() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("cat > /etc/triaged/config.toml <<'EOF'\n").expect("README writes the config");
    let body: String = readme[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim() != "EOF")
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let templates = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    assert!(body.contains("templates = \"/usr/share/triaged/templates\""), "{body}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, body.replace("/usr/share/triaged/templates", templates)).unwrap();
    let out = triaged_env(&config, &["check-config"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("ok (imap imap.example.org:993, pack sourcehut"), "{}", text(&out));
}

#[test]
fn show_tells_a_tickets_history_whether_the_daemon_runs_or_not() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Refund please", "Please refund my last payment, I was charged twice."));
    run_once(&s);
    let set = triaged_env(&s.config, &["set", "1", "payment_date=2026-10-01"], &[]);
    assert!(set.status.success(), "{}", text(&set));

    let out = triaged_env(&s.config, &["show", "1"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    // The word `status` uses for its state is the word `show` uses (a
    // review found `show` saying "new" where `status` said "draft
    // waiting").
    assert!(shown.starts_with("#1 ") && shown.contains("refund"), "{shown}");
    let status = text(&triaged_env(&s.config, &["status"], &[]));
    let line = status.lines().find(|l| l.trim_start().starts_with("#1 ")).unwrap_or_else(|| panic!("{status}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| w.starts_with("refund/")).unwrap_or_else(|| panic!("{line}"));
    let said = format!("#1 {} ", words[..=at].iter().skip(1).copied().collect::<Vec<_>>().join(" "));
    assert!(shown.starts_with(&said), "status: {line}; show: {shown}");
    assert!(shown.contains("opened from INBOX UID 1"), "{shown}");
    assert!(shown.contains("draft <triaged.1.0."), "the draft: {shown}");
    assert!(shown.contains("payment_date=2026-10-01 recorded by"), "the staff action: {shown}");
    // What `!show 1` tells the channel, the shell sees too: why this
    // procedure, and who is asking as far as it was proved.
    assert!(shown.contains("\nclassified: refund"), "{shown}");
    assert!(shown.contains("\nidentity: NOT verified 0/1"), "{shown}");
    assert_eq!(triaged_env(&s.config, &["show", "9"], &[]).status.code(), Some(1));

    // While the daemon holds the store, through the spool.
    let daemon = spawn_daemon(&s);
    wait_until("the daemon holds the store", std::time::Duration::from_secs(20), || s.dir.path().join("store/status.json").exists() && {
        let out = triaged_env(&s.config, &["status", "--json"], &[]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|v| v["snapshot"] == true)
    });
    let out = triaged_env(&s.config, &["show", "1", "--json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ticket"], 1);
    assert_eq!(v["drafts"].as_array().unwrap().len(), 1);
    let events: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(events.len() >= 3 && events[0].starts_with("opened from INBOX UID 1"), "{events:?}");
    sigterm(daemon);
}

#[test]
fn quarantined_mail_is_tagged_and_staff_retry_or_dismiss_it() {
    let s = setup_with("none", "[limits]\nmax_header_bytes = 1024\n");
    let long = |n: usize| {
        format!("From: User {n} <user{n}@example.net>\r\nSubject: Please delete my account\r\nMessage-ID: <m{n}@example.net>\r\nX-Padding: {}\r\n\r\nHi, please delete it.\r\n", "p".repeat(2000))
            .into_bytes()
    };
    s.dovecot.deliver("INBOX", &long(1));
    s.dovecot.deliver("INBOX", &mail(2, "Please delete my account", "Hi, please delete it."));
    s.dovecot.deliver("INBOX", &long(3));
    run_once(&s);
    let flags = s.dovecot.flags("INBOX");
    assert!(flags[0].contains("triaged-quarantined") && flags[2].contains("triaged-quarantined"), "{flags:?}");
    assert!(!flags[1].contains("triaged-quarantined"), "{flags:?}");
    assert_eq!(drafts(&s).len(), 1);

    let list = triaged_env(&s.config, &["quarantine", "list"], &[]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.lines().all(|l| l.contains("max_header_bytes")), "{listed}");

    // Staff raise the limit and retry one; dismiss the other.
    replace_in_config(&s, "max_header_bytes = 1024", "max_header_bytes = 8192");
    let retry = triaged_env(&s.config, &["quarantine", "retry", "INBOX", "1"], &[]);
    assert!(retry.status.success(), "{}", text(&retry));
    // "inbox" is INBOX, as IMAP reads it.
    let dismiss = triaged_env(&s.config, &["quarantine", "dismiss", "inbox", "3"], &[]);
    assert!(dismiss.status.success(), "{}", text(&dismiss));
    assert_eq!(triaged_env(&s.config, &["quarantine", "dismiss", "INBOX", "3"], &[]).status.code(), Some(1));
    let again = run_once(&s);
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("uid=2") && log.contains("set aside: already handled"), "message 2 is passed over: {log}");
    let per = drafts_per_message(&s);
    assert_eq!((per.len(), per["m1@example.net"], per["m2@example.net"]), (2, 1, 1), "{per:?}");
    let v: serde_json::Value = serde_json::from_slice(&triaged_env(&s.config, &["quarantine", "list", "--json"], &[]).stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 0, "{v}");

    // With the daemon holding the store: a clear refusal.
    let daemon = spawn_daemon(&s);
    wait_until("the daemon holds the store", std::time::Duration::from_secs(20), || {
        let out = triaged_env(&s.config, &["status", "--json"], &[]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|v| v["snapshot"] == true)
    });
    let refused = triaged_env(&s.config, &["quarantine", "retry", "INBOX", "3"], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("the daemon is running") && text(&refused).contains("stop it"), "{}", text(&refused));
    sigterm(daemon);
}

/// `triaged compact` rewrites the store with the daemon stopped, and the
/// daemon goes on from where it was: the tickets are the same, nothing is
/// drafted twice, new mail gets the next number. With the daemon holding
/// the store it is refused, saying what to do.
#[test]
fn compact_keeps_the_history_and_waits_for_the_daemon_to_stop() {
    let s = setup();
    for n in 1..=3 {
        s.dovecot.deliver("INBOX", &mail(n, "Please delete my account", "Hi, please delete it."));
    }
    run_once(&s);
    let status = || serde_json::from_slice::<serde_json::Value>(&triaged_env(&s.config, &["status", "--json"], &[]).stdout).unwrap();
    let before = status();
    assert_eq!(before["tickets"].as_array().unwrap().len(), 3, "{before}");

    let compact = triaged_env(&s.config, &["compact"], &[]);
    assert!(compact.status.success(), "{}", text(&compact));
    assert!(text(&compact).contains("compacted:") && text(&compact).contains("MiB after"), "{}", text(&compact));
    assert_eq!(status()["tickets"], before["tickets"]);

    s.dovecot.deliver("INBOX", &mail(4, "Please delete my account", "Hi, please delete it."));
    run_once(&s);
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 4, "{per:?}");
    assert!(per.values().all(|&n| n == 1), "{per:?}");
    let numbers: Vec<u64> = status()["tickets"].as_array().unwrap().iter().map(|t| t["ticket"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);

    let daemon = spawn_daemon(&s);
    wait_until("the daemon holds the store", std::time::Duration::from_secs(20), || status()["snapshot"] == true);
    let refused = triaged_env(&s.config, &["compact"], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("the daemon is running") && text(&refused).contains("stop it"), "{}", text(&refused));
    sigterm(daemon);
}
