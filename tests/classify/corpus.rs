//! The labelled corpus: tests/corpus/<pack>/<procedure>/NN.eml, where the
//! folder name is the right answer ("unclassified" for mail no procedure
//! should claim). Measures accuracy per pack, prints the confusion table,
//! and fails below 95% or when a sensitive procedure (2FA, deletion,
//! billing) is confused with a harmless one in either direction. Accuracy
//! is also reported per split (see `Outcome::split`).
//!
//! cargo test --test classify corpus:: -- --nocapture


use std::collections::BTreeMap;
use std::path::Path;

use triaged::classify::own::Sender;
use triaged::classify::UNCLASSIFIED;
use triaged::procedures::Pack;
use triaged::message::Message;

struct Outcome {
    file: String,
    expected: String,
    got: String,
    why: String,
    /// 01-10: written first, rules tuned on them; 11-20: held out in the
    /// first round; 21+: written after tuning, measured once before any
    /// further change.
    split: &'static str,
}

fn run(pack_name: &str, sender: Sender) -> (Pack, Vec<Outcome>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pack = Pack::load(&root.join("templates").join(pack_name)).unwrap_or_else(|p| {
        panic!("{}", p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))
    });
    let mut out = Vec::new();
    let corpus = root.join("tests/corpus").join(pack_name);
    let mut dirs: Vec<_> = std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs {
        let expected = dir.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            expected == UNCLASSIFIED || pack.procedure(&expected).is_some(),
            "corpus folder {expected} names no procedure of {pack_name}"
        );
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let msg = Message::parse(std::fs::read(&f).unwrap()).unwrap();
            let c = pack.classify_from(&msg, sender);
            let why = format!("score {} rules {:?} runner-up {:?}", c.score, c.rules, c.runner_up);
            let got = c.procedure;
            let n: u32 = f.file_stem().unwrap().to_string_lossy().parse().unwrap_or(0);
            out.push(Outcome {
                file: f.strip_prefix(root).unwrap().display().to_string(),
                expected: expected.clone(),
                got,
                why,
                split: match n {
                    0..=10 => "tuning",
                    11..=20 => "held-out",
                    _ => "fresh",
                },
            });
        }
    }
    (pack, out)
}

fn sensitive(pack: &Pack, id: &str) -> Option<bool> {
    pack.procedure(id).map(|p| p.sensitive)
}

fn check(pack_name: &str, sender: Sender) {
    let (pack, outcomes) = run(pack_name, sender);
    let labels: Vec<String> = {
        let mut l: Vec<String> = pack.procedures.iter().map(|p| p.id.clone()).collect();
        l.push(UNCLASSIFIED.into());
        l
    };
    let mut table: BTreeMap<(String, String), usize> = BTreeMap::new();
    for o in &outcomes {
        *table.entry((o.expected.clone(), o.got.clone())).or_default() += 1;
    }
    let acc = |filter: &dyn Fn(&Outcome) -> bool| {
        let sel: Vec<_> = outcomes.iter().filter(|o| filter(o)).collect();
        let right = sel.iter().filter(|o| o.expected == o.got).count();
        (right, sel.len())
    };
    let (right, total) = acc(&|_| true);
    let accuracy = right as f64 / total as f64;
    let splits: Vec<String> = ["tuning", "held-out", "fresh"]
        .iter()
        .map(|s| {
            let (r, t) = acc(&|o| o.split == *s);
            format!("{s} {r}/{t}")
        })
        .collect();
    println!("\n## {pack_name}: {right}/{total} = {:.1}% ({})\n", accuracy * 100.0, splits.join(", "));
    let short = |s: &str| s.chars().take(12).collect::<String>();
    print!("| expected \\ got |");
    for l in &labels {
        print!(" {} |", short(l));
    }
    println!();
    print!("|---|");
    for _ in &labels {
        print!("---|");
    }
    println!();
    for e in &labels {
        print!("| {e} |");
        for g in &labels {
            let n = table.get(&(e.clone(), g.clone())).copied().unwrap_or(0);
            print!(" {} |", if n == 0 { ".".to_string() } else { n.to_string() });
        }
        println!();
    }
    let mut dangerous = Vec::new();
    for o in outcomes.iter().filter(|o| o.expected != o.got) {
        println!("miss: {} expected {} got {} ({})", o.file, o.expected, o.got, o.why);
        // Handing a message to a human (unclassified) is safe; swapping a
        // sensitive procedure with a harmless one is not.
        if let (Some(e), Some(g)) = (sensitive(&pack, &o.expected), sensitive(&pack, &o.got))
            && e != g
        {
            dangerous.push(o.file.clone());
        }
        if o.expected == UNCLASSIFIED && sensitive(&pack, &o.got) == Some(true) {
            dangerous.push(o.file.clone());
        }
    }
    assert!(dangerous.is_empty(), "{pack_name}: sensitive procedures confused with harmless ones: {dangerous:?}");
    assert!(accuracy >= 0.95, "{pack_name}: accuracy {:.1}% is below 95%", accuracy * 100.0);
    for p in &pack.procedures {
        let n = outcomes.iter().filter(|o| o.expected == p.id).count();
        assert!(n >= 15, "{pack_name}/{}: only {n} corpus messages, need 15", p.id);
    }
}

#[test]
fn sourcehut_corpus() {
    check("sourcehut", Sender::Unknown);
}

/// The 2i2c corpus is mail to 2i2c's support address from the people the
/// seed says ask for support, community representatives: the daemon finds
/// them in the account directory, which is a sign of whose hub it is
/// (`infrastructure` has `needs_own`). By text alone, see below.
#[test]
fn twoi2c_corpus() {
    check("2i2c", Sender::Account);
}

/// The same corpus with no directory (`triaged classify`): most of its
/// hub mail names no hub of 2i2c's ("our hub is down"), so it goes to a
/// person; what matters is that the gate sends nothing anywhere wrong.
#[test]
fn twoi2c_corpus_by_text_alone() {
    let (_, outcomes) = run("2i2c", Sender::Unknown);
    let (_, known) = run("2i2c", Sender::Account);
    let mut wrong = Vec::new();
    for (o, k) in outcomes.iter().zip(&known) {
        // Where the directory made a difference, text alone must have
        // handed the mail to a person, never to another procedure.
        if o.got != k.got && o.got != UNCLASSIFIED {
            wrong.push(format!("{}: {} with a known sender, {} by text alone", o.file, k.got, o.got));
        }
        if o.got == "infrastructure" && o.expected != "infrastructure" {
            wrong.push(format!("{}: expected {}, got infrastructure", o.file, o.expected));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let right = outcomes.iter().filter(|o| o.expected == o.got).count();
    println!("2i2c corpus by text alone: {right}/{} right", outcomes.len());
    // Some of its hub mail does name a sign ("Hi 2i2c, our hub at ...")
    // or is redirected as a code question: the gate is not all or nothing.
    assert!(outcomes.iter().any(|o| o.expected == "out-of-scope" && o.got == "out-of-scope"));
}

#[test]
fn cacert_corpus() {
    check("cacert", Sender::Unknown);
}
