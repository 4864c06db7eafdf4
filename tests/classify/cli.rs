//! `triaged classify [--json]` on saved messages: the exact JSON line
//! contract from DESIGN.md, an error line for an unreadable file while the
//! others still run, the readable table, standard input, and the daemon's
//! own decision (the account directory asked as `run` asks it).


use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use triaged::config::Config;

/// The command as `main` runs it, on a runtime of its own.
fn classify_files(cfg: &Config, files: &[PathBuf], json: bool, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(triaged::classify::cli::classify_files(cfg, files, json, out))
}

fn config(dir: &Path, pack: &str) -> Config {
    std::fs::write(dir.join("pw"), "x\n").unwrap();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let text = format!(
        "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"support@example.org\"\npassword_file = \"pw\"\n\n[procedures]\npack = \"{pack}\"\ntemplates = \"{}\"\n",
        templates.display()
    );
    let path = dir.join("triaged.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(rel)
}

#[test]
fn json_lines_follow_the_contract_and_errors_do_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "sourcehut");
    let garbage = dir.path().join("garbage.eml");
    std::fs::write(&garbage, b"\x00\x01 not mail").unwrap();
    let files = vec![
        corpus("sourcehut/refund/01.eml"),
        dir.path().join("missing.eml"),
        garbage,
        corpus("sourcehut/unclassified/03.eml"),
    ];
    let mut out = Vec::new();
    let ok = classify_files(&cfg, &files, true, &mut out).unwrap();
    assert!(!ok, "an unreadable file makes the run fail");
    let text = String::from_utf8(out).unwrap();
    let raw: Vec<&str> = text.lines().collect();
    let lines: Vec<serde_json::Value> = raw.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);

    // Keys in the documented order.
    let at = |k: &str| raw[0].find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k} missing: {}", raw[0]));
    let order = ["file", "procedure", "score", "rules", "runner_up", "words"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", raw[0]);
    let first = lines[0].as_object().unwrap();
    assert_eq!(first.len(), 6);
    // Which words each rule fired on.
    let words = first["words"].as_array().unwrap();
    assert!(words.iter().any(|w| w.as_str().unwrap().starts_with("refund/refund: \"")), "{words:?}");
    assert_eq!(first["file"], files[0].display().to_string());
    assert_eq!(first["procedure"], "refund");
    assert!(first["score"].as_f64().unwrap() >= 3.0);
    assert!(first["rules"].as_array().unwrap().iter().any(|r| r == "refund/refund"));

    for bad in &lines[1..3] {
        let keys: Vec<&String> = bad.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "file"]);
    }
    assert!(lines[1]["error"].as_str().unwrap().contains("cannot read"));
    assert_eq!(lines[3]["procedure"], "unclassified");
}

#[test]
fn all_good_files_return_true_and_the_table_is_readable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "cacert");
    let files = vec![corpus("cacert/account-deletion/03.eml"), corpus("cacert/unclassified/01.eml")];
    let mut out = Vec::new();
    assert!(classify_files(&cfg, &files, false, &mut out).unwrap());
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("file"), "{text}");
    assert!(rows[1].contains("account-deletion") && rows[1].contains("account-deletion/delete-account-de-fr-es"), "{text}");
    assert!(rows[2].contains("unclassified"), "{text}");
}

#[test]
fn a_broken_pack_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates/broken");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("acknowledge.txt"), "hi").unwrap();
    std::fs::write(
        templates.join("procedures.toml"),
        "[pack]\nname = \"broken\"\n\n[[procedure]]\nid = \"x\"\ntitle = \"X\"\nidentity = \"none\"\n[[procedure.rule]]\nname = \"r\"\non = \"body\"\npattern = \"(\"\nweight = 1\n[[procedure.step]]\nname = \"s\"\nstate = \"new\"\ntemplate = \"gone.txt\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pw"), "x\n").unwrap();
    let path = dir.path().join("triaged.toml");
    std::fs::write(
        &path,
        "[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"s@example.org\"\npassword_file = \"pw\"\n[procedures]\npack = \"broken\"\ntemplates = \"templates\"\n",
    )
    .unwrap();
    let cfg = Config::load(&path).unwrap();
    let err = classify_files(&cfg, &[], true, &mut Vec::new()).unwrap_err().to_string();
    assert!(err.contains("procedures.toml:11: procedure[0].rule[0].pattern: bad regex"), "{err}");
    assert!(err.contains("procedures.toml:16: procedure[0].step[0].template: unknown template \"gone.txt\""), "{err}");
}

/// `classify --json` on one saved message with the sourcehut pack: its line.
fn classify_one_with_sourcehut(raw: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "sourcehut");
    let file = dir.path().join("one.eml");
    std::fs::write(&file, raw).unwrap();
    let mut out = Vec::new();
    assert!(classify_files(&cfg, &[file], true, &mut out).unwrap());
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn mail_that_is_not_a_request_is_shown_set_aside_with_its_reason() {
    let line = classify_one_with_sourcehut(
        "From: News <news@example.net>\r\nList-Id: Weekly <weekly.example.net>\r\nSubject: Refunds and free plans\r\n\r\nHow to get a refund.\r\n",
    );
    assert_eq!(line["procedure"], "set-aside", "{line}");
    assert_eq!(line["aside"], serde_json::json!({"kind": "bulk", "reason": "List-Id: weekly.example.net"}));
    assert_eq!(line["rules"], serde_json::json!([]), "no procedure's rules were asked");
}

#[test]
fn classify_json_says_why_the_precision_guard_held_a_route_back() {
    let line = classify_one_with_sourcehut(
        "From: a@example.net\r\nSubject: Refund\r\n\r\nPlease refund me, I was charged twice\r\nTraceback (most recent call last):\r\n  File \"pay.py\", line 3\r\n",
    );
    assert_eq!(line["procedure"], "unclassified", "{line}");
    assert_eq!(line["runner_up"], "refund", "the near miss stays visible: {line}");
    let why = line["held_back"].as_str().unwrap_or_else(|| panic!("no held_back: {line}"));
    assert!(
        why.ends_with("but it reads as a bug report (stack trace), not a request about the writer's own account: a sensitive route needs the writer's own request"),
        "{why}"
    );
}

/// Whose hub: for a pack that lists its own services, `classify --json`
/// says which sign it found (`"own": {"sign": ...}`), or that there was
/// none and which procedure that kept out, after the contract's keys.
#[test]
fn json_explains_the_sign_of_our_own_services() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "2i2c");
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("From: a@example.net\r\nSubject: Hub down\r\n\r\n{body}\r\n")).unwrap();
        p
    };
    let files = vec![
        write("ours.eml", "The hub at https://openscapes.2i2c.cloud is down, every spawn times out."),
        write("foreign.eml", "The hub at https://hub.example.edu is down, every spawn times out."),
    ];
    let mut out = Vec::new();
    assert!(classify_files(&cfg, &files, true, &mut out).unwrap());
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["procedure"], "infrastructure", "{text}");
    assert_eq!(lines[0]["own"]["sign"], "hub address \"openscapes.2i2c.cloud\"", "{text}");
    assert_eq!(lines[1]["procedure"], "unclassified", "{text}");
    assert_eq!(lines[1]["own"]["sign"], serde_json::Value::Null, "{text}");
    assert_eq!(lines[1]["own"]["gated"][0], "infrastructure 3.5", "{text}");
    assert!(lines[1]["held_back"].as_str().unwrap().contains("names none of our own services"), "{text}");
    let first = text.lines().next().unwrap();
    assert!(first.find("\"runner_up\"").unwrap() < first.find("\"own\"").unwrap(), "{first}");
}

/// The pack's model: when it routed the message, `classify --json` shows
/// its procedure, probability and the words that weighed most
/// (`"pack_model"`, after the contract's keys), and the table's line
/// names it.
#[test]
fn json_and_table_say_when_the_packs_model_routed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "2i2c");
    let file = dir.path().join("shapefile.eml");
    std::fs::write(
        &file,
        "From: a@example.net\r\nSubject: Reading a shapefile\r\n\r\nI can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?\r\n",
    )
    .unwrap();
    let mut out = Vec::new();
    assert!(classify_files(&cfg, std::slice::from_ref(&file), true, &mut out).unwrap());
    let text = String::from_utf8(out).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["procedure"], "out-of-scope", "{text}");
    assert_eq!(line["pack_model"]["procedure"], "out-of-scope", "{text}");
    assert!(line["pack_model"]["probability"].as_f64().unwrap() >= 0.9, "{text}");
    assert!(line["pack_model"]["words"].as_array().is_some_and(|w| !w.is_empty()), "{text}");
    let mut out = Vec::new();
    assert!(classify_files(&cfg, &[file], false, &mut out).unwrap());
    let table = String::from_utf8(out).unwrap();
    assert!(table.contains("routed by the pack's model: out-of-scope"), "{table}");
}

/// The account directory of the 2i2c desk: the community representative
/// whose hub 2i2c runs.
const REP_ACCOUNT: &str = "[[account]]\nusername = \"rep\"\nemail = \"rep@uni.example.edu\"\n";

/// A hub outage in words that name no hub: 2i2c's only when its sender is
/// one of the people 2i2c serves (`classify::own`).
fn hub_down(from: &str) -> String {
    format!("From: {from}\r\nTo: support@2i2c.example\r\nSubject: Hub down\r\nMessage-ID: <down@example.net>\r\n\r\nOur hub is down since this morning, nobody can log in and every spawn times out.\r\n")
}

/// The regression: `classify` classified from the text alone, so a request
/// the daemon routes because the account directory knows its sender was
/// `unclassified` on the command line. It asks the directory as `run` and
/// `verify` do, and all three name the same procedure.
#[test]
fn classify_asks_the_account_directory_as_the_daemon_does() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("triaged.toml");
    config(dir.path(), "2i2c");
    std::fs::write(dir.path().join("accounts.toml"), REP_ACCOUNT).unwrap();
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    let dns = crate::support::dns::closed_udp_port();
    std::fs::write(&cfg_path, format!("{text}\n[identity]\naccounts = \"accounts.toml\"\n\n[dns]\nnameservers = [\"127.0.0.1:{dns}\"]\ntimeout_secs = 1\n")).unwrap();
    let cfg = Config::load(&cfg_path).unwrap();
    let known = dir.path().join("known.eml");
    let stranger = dir.path().join("stranger.eml");
    std::fs::write(&known, hub_down("Rep <rep@uni.example.edu>")).unwrap();
    std::fs::write(&stranger, hub_down("Someone <someone@example.net>")).unwrap();
    let files = vec![known, stranger];

    let mut out = Vec::new();
    assert!(classify_files(&cfg, &files, true, &mut out).unwrap());
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["procedure"], "infrastructure", "{text}");
    assert_eq!(lines[0]["own"]["sign"], "the sender is a known account", "{text}");
    assert_eq!(lines[1]["procedure"], "unclassified", "{text}");

    // `verify` judges each file as the daemon's intake does: same procedure.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut out = Vec::new();
    rt.block_on(triaged::verify::cli::verify_files(&cfg, &files, true, &mut out)).unwrap();
    let text = String::from_utf8(out).unwrap();
    let verified: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (c, v) in lines.iter().zip(&verified) {
        assert_eq!(c["procedure"], v["procedure"], "classify and the daemon's intake disagree: {c} / {v}");
    }
}

/// `classify -` reads one message from standard input (a mail filter's
/// pipe); it is named `-` in the output, and an unreadable file beside it
/// gets its error line while the others still run (exit 1).
#[test]
fn a_dash_reads_the_message_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "sourcehut");
    let missing = dir.path().join("missing.eml");
    let unclassified = corpus("sourcehut/unclassified/03.eml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(dir.path().join("triaged.toml"))
        .args(["classify", "--json", "-"])
        .arg(&missing)
        .arg(&unclassified)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(corpus("sourcehut/refund/01.eml")).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an unreadable file makes the run fail: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!((&lines[0]["file"], &lines[0]["procedure"]), (&serde_json::json!("-"), &serde_json::json!("refund")), "{text}");
    assert!(lines[1]["error"].as_str().unwrap().contains("cannot read"), "{text}");
    assert_eq!(lines[2]["procedure"], "unclassified", "{text}");
    assert_eq!(lines[3]["file"], "-", "{text}");
    assert!(lines[3]["error"].as_str().unwrap().contains("standard input was read already"), "{text}");
}

/// Writes what it is given; on its first write creates `late` with
/// `message` in it.
struct CreatesOnFirstWrite {
    out: Vec<u8>,
    late: PathBuf,
    message: Vec<u8>,
}

impl Write for CreatesOnFirstWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.is_empty() {
            std::fs::write(&self.late, &self.message)?;
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// However many files it is given, `classify` holds a few at a time (and
/// hands the running daemon's spool a few at a time): it prints what it
/// read before it reads on. A file that appears only once the first
/// answers are printed is read all the same.
#[test]
fn many_files_are_read_as_they_are_printed_not_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "sourcehut");
    let refund = corpus("sourcehut/refund/01.eml");
    let late = dir.path().join("late.eml");
    let mut files = vec![refund.clone(); 100];
    files.push(late.clone());
    let mut out = CreatesOnFirstWrite { out: Vec::new(), late, message: std::fs::read(&refund).unwrap() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ok = rt.block_on(triaged::classify::cli::classify_files(&cfg, &files, true, &mut out)).unwrap();
    let text = String::from_utf8(out.out).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 101, "{text}");
    assert!(ok, "the last file was read once it was there: {}", lines[100]);
    assert!(lines.iter().all(|l| l["procedure"] == "refund"), "{text}");
}
