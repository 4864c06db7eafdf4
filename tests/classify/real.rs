//! Accuracy on real support text written by people outside the project
//! (tests/corpus/real/, sources and licences in SOURCES.md), per pack and
//! separately for the half the rules were tuned on and the held-out half.
//! The floors are the figures measured when they were set: a change that
//! makes the packs worse on real text fails here.
//!
//!     cargo test --test classify real:: -- --nocapture
//!
//! prints the figures (docs/CLASSIFICATION-LOG.md, "Real text").
//!
//! The third set (issues-r3.tsv, "r3") was held out whole until its one
//! look (docs/CLASSIFICATION-LOG.md, "Third set"); its rows have been read
//! since, so it is tune text now: scored as `<pack> r3`, half `tune`
//! (also under `REAL_HALF=tune`), and never folded into the whole-set
//! figures the other floors were measured on.
//!
//! The foreign set (foreign.tsv, "foreign"): spam, business mail and other
//! projects' issues that use the sensitive procedures' words, almost none
//! of it a request (scripts/real-foreign). Scored as `<pack> foreign`, per
//! half, never in the whole-set figures.
//!
//! The foreign issues (foreign-issues.tsv, "foreign-issues"): other
//! software projects' bug reports, feature requests and questions that use
//! the same words, almost none of them a request to a support team
//! (scripts/real-foreign-issues). Scored as `<pack> foreign-issues`, per
//! half, never in the whole-set figures.
//!
//! The fourth set (issues-r4.tsv, "r4") was sealed the same way: scored
//! only as `<pack> r4`, outside the whole-set figures. It was committed
//! before any rule was run on it and measured once (docs/CLASSIFICATION-LOG.md,
//! "Fourth set"); its rows were read after that look, and its floors are
//! the figures after what it taught.
//!
//! The fifth set (issues-r5.tsv, "r5") was sealed the same way: scored
//! only as `<pack> r5`, outside the whole-set figures. It was committed
//! before any rule, model or `classify` run touched it and measured once
//! (docs/CLASSIFICATION-LOG.md, "Fifth set: the one look"); its rows were read
//! after that look, and its floors are the figures after what it taught.
//! Both are tune text since their looks: `REAL_HALF=tune` scores them and
//! prints their wrong routes (their rows stay marked held-out, so no
//! model learns from them).
//!
//! The sixth set (issues-r6.tsv, "r6") was sealed the same way, audited
//! against its sources before any score, and measured once
//! (docs/CLASSIFICATION-LOG.md, "Sixth set: the one look"), on the sixth
//! round's positive sign of a request; tune text since, like the fourth
//! and fifth.
//!
//! The seventh set (issues-r7.tsv, "r7") was sealed the same way, built
//! and audited against its sources by people who had not seen the rules,
//! and measured once, on the code of the sixth round and what the sixth
//! set taught (docs/CLASSIFICATION-LOG.md, "Seventh set: the one look").
//!
//! The eighth set (issues-r8.tsv, "r8") was sealed the same way, built
//! by people who had not seen the rules, from sources the earlier sets
//! mostly did not draw on, and measured once (docs/CLASSIFICATION-LOG.md,
//! "Eighth set: the one look"); tune text since.
//!
//! The ninth set (issues-r9.tsv, "r9") was sealed the same way, built and
//! audited against its sources by people who had not seen the classifier's
//! output, and measured once (docs/CLASSIFICATION-LOG.md, "Ninth set: the one
//! look"); tune text since. It is scored only as `<pack> r9`, outside the
//! whole-set figures.
//!
//! The tenth set (issues-r10.tsv, "r10") was sealed the same way, built
//! and audited by people who read neither the classifier's output nor its
//! rule patterns, and measured once (docs/CLASSIFICATION-LOG.md, "Tenth set:
//! the one look"); tune text since. It is scored only as `<pack> r10`.
//!
//! The eleventh set (issues-r11.tsv, "r11") was sealed the same way and
//! measured once with and without the request model (docs/CLASSIFICATION-LOG.md,
//! "Eleventh set"). Its rows were kept unread for a second measurement
//! (the pack's model), then read: tune text since, like the tenth.
//!
//! The twelfth set (issues-r12.tsv, "r12") was sealed the same way and
//! measured once, with the pack's model confirming the rules' sensitive
//! near misses (docs/CLASSIFICATION-LOG.md, "Twelfth set"). Not
//! read since: scored only as `<pack> r12`, its rows never printed.
//!
//! The thirteenth set (issues-r13.tsv, "r13") was sealed the same way and
//! measured once after the thirteenth round's rules
//! (docs/CLASSIFICATION-LOG.md, "Thirteenth set"); not read since either.
//!
//! The fourteenth set (issues-r14.tsv, "r14") was sealed the same way and
//! measured once after the fourteenth round (docs/CLASSIFICATION-LOG.md,
//! "Fourteenth set"). The twelfth to fourteenth were read
//! and learned once the fifteenth (issues-r15.tsv, "r15") was sealed; the
//! fifteenth was measured once (docs/CLASSIFICATION-LOG.md, "Fifteenth
//! set") and read in the seventeenth round.
//!
//! The sixteenth set (issues-r16.tsv, "r16") was sealed the same way after
//! the fifteenth round, measured once after the sixteenth, and read in the
//! eighteenth round. The seventeenth (issues-r17.tsv, "r17") was sealed
//! during the eighteenth round, measured once after it, and read in the
//! nineteenth. The eighteenth (issues-r18.tsv, "r18") was sealed during
//! the nineteenth round, measured once after it, and read in the
//! twentieth. The nineteenth (issues-r19.tsv, "r19") was sealed during the
//! twentieth round, measured once after it, and read in the twenty-first
//! (by the rules; the models were not retrained on it). The twentieth
//! (issues-r20.tsv, "r20") was sealed during the twenty-first round,
//! measured once after it, and read in the twenty-second. The
//! twenty-first (issues-r21.tsv, "r21") was sealed after that look and
//! measured once after the twenty-second round, and read in the
//! twenty-third. The twenty-second (issues-r22.tsv, "r22") was sealed
//! during that round, measured once after the twenty-fourth, and read
//! in the twenty-sixth. The twenty-third (issues-r23.tsv, "r23"), 2i2c's
//! alone, holds other software's usage questions and issue reports, far
//! from the notebook tools the pack's model learns questions from; it
//! was sealed before the round that taught the model those questions.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::Digest;

use triaged::classify::{Classification, UNCLASSIFIED};
use triaged::config::LearningConfig;
use triaged::learn::{Features, Learner};
use triaged::procedures::Pack;
use triaged::message::Message;
use triaged::store::{Example, Store};

#[derive(Clone)]
struct Item {
    source: String,
    half: String,
    /// Which set the item came from: `r1` (banking77.tsv, issues.tsv),
    /// `r2` (issues-r2.tsv, written after the rules of "Real text"), `r3`
    /// (issues-r3.tsv: see `third_set`), `foreign` (foreign.tsv),
    /// `foreign-issues` (foreign-issues.tsv), `r4` (issues-r4.tsv), `r5`
    /// (issues-r5.tsv), `r6` (issues-r6.tsv), `r7` (issues-r7.tsv), `r8`
    /// (issues-r8.tsv), `r9` (issues-r9.tsv), `r10` (issues-r10.tsv), `r11`
    /// (issues-r11.tsv), `r12` (issues-r12.tsv), `r13` (issues-r13.tsv),
    /// `r14` (issues-r14.tsv), `r15` (issues-r15.tsv) or `r16`
    /// (issues-r16.tsv), all thirteen sealed: see `sealed_items`.
    round: &'static str,
    pack: String,
    label: String,
    subject: String,
    body: String,
}

fn tsv(name: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// `REAL_HALF=tune` while tuning: the held-out half is then not even
/// counted, so its figures cannot steer a rule (they are printed once
/// before and once after a round of tuning, never in between).
fn only_half() -> Option<String> {
    std::env::var("REAL_HALF").ok()
}

fn items() -> Vec<Item> {
    let mut items = all_items();
    items.extend(third_set());
    items.extend(issue_items("foreign.tsv", "foreign"));
    items.extend(issue_items("foreign-issues.tsv", "foreign-issues"));
    // Ordinary issue reports of other projects, not chosen for any word
    // (generic-issues.tsv, "Ordinary issue reports" in
    // docs/CLASSIFICATION-LOG.md): sealed, measured once, its rows (either
    // half) never printed.
    items.extend(issue_items("generic-issues.tsv", "generic-issues"));
    // A third batch of other projects' usage questions and lookalikes,
    // 2i2c's, built to be learned and kept out of its model instead
    // (docs/CLASSIFICATION-LOG.md, "Other projects' usage questions"): held
    // out, never printed.
    items.extend(issue_items("questions-3.tsv", "questions-3"));
    items.extend(issue_items("software-questions-3.tsv", "software-questions-3"));
    // The fourth to seventh sets were read after their one looks:
    // tune text since, under `REAL_HALF=tune` too (their rows stay marked
    // held-out, so they are never learned from).
    items.extend(sealed_items("issues-r4.tsv", "r4"));
    items.extend(sealed_items("issues-r5.tsv", "r5"));
    items.extend(sealed_items("issues-r6.tsv", "r6"));
    items.extend(sealed_items("issues-r7.tsv", "r7"));
    // The eighth set, sealed, then looked at once (docs/CLASSIFICATION-LOG.md,
    // "Eighth set: the one look"): tune text since.
    items.extend(sealed_items("issues-r8.tsv", "r8"));
    // The ninth set, sealed, then looked at once (docs/CLASSIFICATION-LOG.md,
    // "Ninth set: the one look"): tune text since.
    items.extend(sealed_items("issues-r9.tsv", "r9"));
    // The tenth set, sealed, then looked at once (docs/CLASSIFICATION-LOG.md,
    // "Tenth set: the one look"): tune text since.
    items.extend(sealed_items("issues-r10.tsv", "r10"));
    // The eleventh set, sealed, looked at once (docs/CLASSIFICATION-LOG.md,
    // "Eleventh set"), measured again with the pack's model, and read
    // since: tune text, and in the models' corpora.
    items.extend(sealed_items("issues-r11.tsv", "r11"));
    // The twelfth to fourteenth sets, sealed, each looked at once
    // (docs/CLASSIFICATION-LOG.md, "Twelfth set", "Thirteenth set",
    // "Fourteenth set"), then read since the fifteenth was sealed: tune
    // text, and in the models' corpora.
    items.extend(sealed_items("issues-r12.tsv", "r12"));
    items.extend(sealed_items("issues-r13.tsv", "r13"));
    items.extend(sealed_items("issues-r14.tsv", "r14"));
    // The fifteenth set, sealed, looked at once (docs/CLASSIFICATION-LOG.md,
    // "Fifteenth set"), then read in the seventeenth round:
    // tune text since, and in the models' corpora.
    items.extend(sealed_items("issues-r15.tsv", "r15"));
    // The sixteenth set, sealed after the fifteenth round, looked at once
    // after the sixteenth (docs/CLASSIFICATION-LOG.md, "Sixteenth set"), then
    // read in the eighteenth round: tune text since.
    items.extend(sealed_items("issues-r16.tsv", "r16"));
    // The seventeenth set, sealed before the eighteenth round's rules and
    // looked at once after them (docs/CLASSIFICATION-LOG.md, "Seventeenth
    // set"), then read in the nineteenth round: tune text since.
    items.extend(sealed_items("issues-r17.tsv", "r17"));
    // The eighteenth set, sealed during the nineteenth round, looked at
    // once after it (docs/CLASSIFICATION-LOG.md, "Eighteenth set"), then read
    // in the twentieth round: tune text since.
    items.extend(sealed_items("issues-r18.tsv", "r18"));
    // The nineteenth set, sealed during the twentieth round, looked at
    // once after it (docs/CLASSIFICATION-LOG.md, "Nineteenth set"), then read
    // in the twenty-first round: tune text since.
    items.extend(sealed_items("issues-r19.tsv", "r19"));
    // The twentieth set, sealed during the twenty-first round, looked at
    // once after it (docs/CLASSIFICATION-LOG.md, "Twentieth set"), then read in
    // the twenty-second round: tune text since (not in the models' corpora).
    items.extend(sealed_items("issues-r20.tsv", "r20"));
    // The twenty-first set, sealed after the twentieth set's look, looked
    // at once after the twenty-second round (docs/CLASSIFICATION-LOG.md,
    // "Twenty-first set"), then read in the twenty-third: tune text since
    // (not in the models' corpora).
    items.extend(sealed_items("issues-r21.tsv", "r21"));
    // The twenty-second set, sealed during the twenty-second round,
    // looked at once after the twenty-fourth (docs/CLASSIFICATION-LOG.md,
    // "Twenty-second set"), then read in the twenty-sixth: tune text
    // since (not in the models' corpora).
    items.extend(sealed_items("issues-r22.tsv", "r22"));
    if let Some(half) = only_half() {
        items.retain(|i| i.half == half || (half == "tune" && read_since_look(i.round)));
    }
    items
}

/// A sealed set whose rows were read after its one look.
fn read_since_look(round: &str) -> bool {
    matches!(round, "r4" | "r5" | "r6" | "r7" | "r8" | "r9" | "r10" | "r11" | "r12" | "r13" | "r14" | "r15" | "r16" | "r17" | "r18" | "r19" | "r20" | "r21" | "r22")
}

/// issues-r3.tsv: committed before any rule was run on it and measured
/// once with every row held out (its half column still says so); its rows
/// were read after that look, so it counts as tune text. Kept out of
/// `all_items`, which the tune-half tests read.
fn third_set() -> Vec<Item> {
    let mut items = issue_items("issues-r3.tsv", "r3");
    for item in &mut items {
        item.half = "tune".into();
    }
    items
}

/// A sealed set (issues-r4.tsv to issues-r10.tsv): every row
/// held out (the half column says so), committed before any rule was run
/// on it, to be measured once. Kept out of `all_items`, which the tune-half tests read.
fn sealed_items(file: &str, round: &'static str) -> Vec<Item> {
    let items = issue_items(file, round);
    // A row marked `tune` in a sealed file would be learned from and
    // printed in detail: refuse the file rather than leak it.
    let tuned: Vec<&str> = items.iter().filter(|i| i.half != "held-out").map(|i| i.source.as_str()).collect();
    assert!(tuned.is_empty(), "a sealed set holds rows that are not held out: {tuned:?}");
    items
}

/// source, half, pack, label, subject, body: an issue's title and text.
fn issue_items(file: &str, round: &'static str) -> Vec<Item> {
    tsv(file)
        .into_iter()
        .map(|r| Item {
            source: r[0].clone(),
            half: r[1].clone(),
            round,
            pack: r[2].clone(),
            label: r[3].clone(),
            subject: r[4].clone(),
            body: r[5].clone(),
        })
        .collect()
}

fn all_items() -> Vec<Item> {
    let mut out = Vec::new();
    // row, half, label, intent, text: one-line customer queries, as a body.
    for r in tsv("banking77.tsv") {
        out.push(Item {
            source: format!("banking77.tsv row {} ({})", r[0], r[3]),
            half: r[1].clone(),
            round: "r1",
            pack: "sourcehut".into(),
            label: r[2].clone(),
            subject: String::new(),
            body: r[4].clone(),
        });
    }
    for (file, round) in [("issues.tsv", "r1"), ("issues-r2.tsv", "r2")] {
        out.extend(issue_items(file, round));
    }
    out
}

fn message(subject: &str, body: &str) -> Message {
    let raw = format!(
        "From: Someone <someone@example.net>\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <real@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    Message::parse(raw.into_bytes()).expect("a test message parses")
}

#[derive(Default, Debug, Clone, Copy)]
struct Score {
    requests: usize,
    recalled: usize,
    routed: usize,
    routed_right: usize,
    sensitive_misroutes: usize,
}

impl Score {
    fn recall(&self) -> f64 {
        if self.requests == 0 { 1.0 } else { self.recalled as f64 / self.requests as f64 }
    }
    fn precision(&self) -> f64 {
        if self.routed == 0 { 1.0 } else { self.routed_right as f64 / self.routed as f64 }
    }
    fn add(&mut self, one: Score) {
        self.requests += one.requests;
        self.recalled += one.recalled;
        self.routed += one.routed;
        self.routed_right += one.routed_right;
        self.sensitive_misroutes += one.sensitive_misroutes;
    }
}

/// For 2i2c a foreign question may be redirected (`out-of-scope`) as well
/// as handed to a person.
fn right(pack: &str, expected: &str, got: &str) -> bool {
    got == expected || (pack == "2i2c" && expected == UNCLASSIFIED && got == "out-of-scope")
}

fn packs() -> BTreeMap<String, Pack> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    ["sourcehut", "2i2c", "cacert"]
        .into_iter()
        .map(|name| (name.to_string(), Pack::load(&root.join(name)).expect("the shipped pack loads")))
        .collect()
}

/// Scores every item with `classify` (the pack's rules, or rules and model),
/// per pack and half over the first two sets, and again per pack, round and
/// half for the rounds after the first (key `"2i2c r2"`, `"2i2c r4"`): a
/// later round is the text no rule was tuned on when it was added.
fn measure(
    packs: &BTreeMap<String, Pack>,
    items: Vec<Item>,
    classify: impl Fn(&str, &Pack, &Message) -> Classification,
) -> BTreeMap<(String, String), Score> {
    let mut scores: BTreeMap<(String, String), Score> = BTreeMap::new();
    for item in items {
        let pack = &packs[&item.pack];
        let c = classify(&item.pack, pack, &message(&item.subject, &item.body));
        let got = c.procedure.as_str();
        let sensitive = |id: &str| pack.procedure(id).is_some_and(|p| p.sensitive);
        let mut one = Score::default();
        // Details only for tune text: the tuned halves, and the fourth and
        // fifth sets, read since their one looks. The held-out halves are
        // measured, never read while tuning.
        let show = (item.half == "tune" || read_since_look(item.round)) && item.round != "generic-issues";
        if item.label != UNCLASSIFIED {
            one.requests += 1;
            one.recalled += usize::from(got == item.label);
        }
        if got != UNCLASSIFIED {
            one.routed += 1;
            if right(&item.pack, &item.label, got) {
                one.routed_right += 1;
            } else {
                let touches = sensitive(got) || sensitive(&item.label);
                one.sensitive_misroutes += usize::from(touches);
                if show {
                    println!(
                        "wrong route{} ({}): {} expected {} got {} ({}{}): {:?} {:?}",
                        if touches { " (sensitive)" } else { "" },
                        item.half,
                        item.source,
                        item.label,
                        got,
                        c.words.join(", "),
                        c.model.as_ref().map(|o| format!("; model: {} {}", o.vote.procedure, o.vote.probability)).unwrap_or_default(),
                        item.subject,
                        item.body.chars().take(160).collect::<String>()
                    );
                }
            }
        } else if show && item.label != UNCLASSIFIED && std::env::var_os("SHOW_MISSES").is_some() {
            // What the rules held back on and what the model made of it:
            // why a miss stayed a miss.
            let model = c.model.as_ref().map(|o| o.explain()).unwrap_or_default();
            println!(
                "missed ({}): {} expected {} (held back: {}; {model}): {:?} {:?}",
                item.half,
                item.source,
                item.label,
                c.held_back.as_deref().unwrap_or("-"),
                item.subject,
                item.body
            );
        }
        // The third, foreign and sealed sets stand alone: adding them to the
        // whole-set figures would move numbers whose floors were measured
        // without them.
        let mut keys = Vec::new();
        if matches!(item.round, "r1" | "r2") {
            keys.push((item.pack.clone(), item.half.clone()));
        }
        if item.round != "r1" {
            keys.push((format!("{} {}", item.pack, item.round), item.half.clone()));
        }
        for key in keys {
            scores.entry(key).or_default().add(one);
        }
    }
    scores
}

fn table(scores: &BTreeMap<(String, String), Score>) {
    println!("| pack | half | recall | precision | sensitive misroutes |");
    println!("|---|---|---|---|---|");
    for ((pack, half), s) in scores {
        println!(
            "| {pack} | {half} | {}/{} = {:.1}% | {}/{} = {:.1}% | {} |",
            s.recalled,
            s.requests,
            100.0 * s.recall(),
            s.routed_right,
            s.routed,
            100.0 * s.precision(),
            s.sensitive_misroutes
        );
    }
}

/// (pack, half) → (recall, precision, sensitive misroutes at most).
type Floors<'a> = &'a [(&'a str, &'a str, f64, f64, usize)];

fn assert_floors(scores: &BTreeMap<(String, String), Score>, floors: Floors<'_>) {
    for (pack, half, recall, precision, misroutes) in floors {
        let Some(&s) = scores.get(&(pack.to_string(), half.to_string())) else {
            assert!(only_half().is_some_and(|h| h != *half), "{pack} {half}: no items");
            continue;
        };
        // A hair of slack for floating point, none for a message.
        assert!(s.recall() >= recall - 1e-9, "{pack} {half}: recall {:.4} < {recall:.4}", s.recall());
        assert!(s.precision() >= precision - 1e-9, "{pack} {half}: precision {:.4} < {precision:.4}", s.precision());
        assert!(s.sensitive_misroutes <= *misroutes, "{pack} {half}: {} sensitive misroutes", s.sensitive_misroutes);
    }
}

/// A sealed set read without being scored: no `classify` runs on it and
/// nothing of it is printed. It must parse into the six columns, hold only
/// held-out rows (`sealed_items` refuses any other), name each source once a pack,
/// and carry only labels its pack can route to, so that the one look
/// measures the set that was committed.
fn check_sealed_set(file: &str, round: &'static str, at_least: usize) {
    let rows = tsv(file);
    let short: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.len() != 6).map(|(n, _)| n + 2).collect();
    assert!(short.is_empty(), "{file} lines without six columns: {short:?}");
    let items = sealed_items(file, round);
    assert!(items.len() >= at_least, "{file} has {} rows", items.len());
    let packs = packs();
    let mut seen = std::collections::BTreeSet::new();
    for item in &items {
        // One text may be measured for several packs, each once.
        assert!(seen.insert((item.pack.as_str(), item.source.as_str())), "{} is listed twice for {}", item.source, item.pack);
        let pack = packs.get(&item.pack).unwrap_or_else(|| panic!("{}: no pack {:?}", item.source, item.pack));
        assert!(
            item.label == UNCLASSIFIED || pack.procedure(&item.label).is_some(),
            "{}: {} has no procedure {:?}",
            item.source,
            item.pack,
            item.label
        );
        assert!(!(item.subject.is_empty() && item.body.is_empty()), "{}: no text", item.source);
    }
}

/// Every sealed set, as committed after its audit, with its row count:
/// each must still parse, hold only held-out rows and carry only labels
/// its pack can route to (`check_sealed_set`), whether it has had its one
/// look or not. None is classified here and nothing of one is printed;
/// under `REAL_HALF=tune` none is read at all, so a set still sealed
/// (in no `items()` until its look) stays unread in a tuning run.
const SEALED_SETS: [(&str, &str, usize); 22] = [
    ("issues-r5.tsv", "r5", 120),
    ("issues-r6.tsv", "r6", 110),
    ("issues-r7.tsv", "r7", 113),
    ("issues-r8.tsv", "r8", 111),
    ("issues-r9.tsv", "r9", 109),
    ("issues-r10.tsv", "r10", 103),
    ("issues-r11.tsv", "r11", 104),
    ("issues-r12.tsv", "r12", 116),
    ("issues-r13.tsv", "r13", 122),
    ("issues-r14.tsv", "r14", 121),
    ("issues-r15.tsv", "r15", 125),
    ("issues-r16.tsv", "r16", 127),
    ("issues-r17.tsv", "r17", 119),
    ("issues-r18.tsv", "r18", 122),
    ("issues-r19.tsv", "r19", 116),
    ("issues-r20.tsv", "r20", 111),
    ("issues-r21.tsv", "r21", 104),
    ("issues-r22.tsv", "r22", 87),
    ("issues-r23.tsv", "r23", 251),
    ("customer-queries-sealed.tsv", "customer-queries-sealed", 4778),
    ("refunds-asked-after.tsv", "refunds-asked-after", 4080),
    ("customer-queries-rest.tsv", "customer-queries-rest", 11829),
];

#[test]
fn sealed_sets_parse_and_are_labelled_as_committed() {
    if only_half().as_deref() == Some("tune") {
        return;
    }
    for (file, round, rows) in SEALED_SETS {
        check_sealed_set(file, round, rows);
    }
}

#[test]
fn real_text_meets_the_measured_floors() {
    let scores = measure(&packs(), items(), |_, pack, msg| pack.classify(msg));
    table(&scores);
    // What was measured when they were set (docs/CLASSIFICATION-LOG.md, "Real
    // text"). Raise them when the packs get better; never lower them to
    // pass. The two lowerings since were measured trades, taken for what
    // they do on unseen text: the sixth round's positive sign of a request
    // ("Sixth round" there) costs the held-out half 5 of 242 requests and
    // two of the second set's 17, and removes 7 sensitive misroutes on
    // text no rule was tuned on, the sixth set's among them; the request
    // model ("The request model") costs one more and removes 5 of the
    // held-out rows' 11.
    let floors: Floors<'_> = &[
        // The request model (docs/CLASSIFICATION-LOG.md, "The request model"),
        // a second measured trade: on the held-out halves it costs one
        // request of 242 and removes two of three sensitive misroutes, and
        // one each on the held-out halves of the foreign set and of other
        // projects' issue reports.
        // Six fewer since a refund policy asked about, and how long a
        // refund takes, are no request ("Refunds asked after"): Banking77
        // files them under `request_refund`. Three fewer since an order
        // cancelled with no word of money goes to a person ("An order to
        // cancel is no refund"): Banking77 files that under
        // `request_refund` too, Bitext as an order to stop.
        ("sourcehut", "tune", 256.0 / 272.0, 1.0, 0),
        // The pack's model confirming the rules' sensitive near misses
        // (docs/CLASSIFICATION-LOG.md, "The pack's model"): one more request;
        // one more with the thirteenth round's ways to pay; five more
        // since the twenty-second round read half of Banking77's train
        // queries that no rule had seen (refunds asked after, payments
        // already cancelled, charges shown twice); two fewer since a
        // refund policy asked about is no request; one fewer since an
        // order cancelled with no word of money goes to a person; four
        // more since Banking77's other half was read again (a payment
        // "doubled" or made "two time", "can one of the charges be
        // removed") and a refund asked for in the imperative.
        ("sourcehut", "held-out", 217.0 / 242.0, 217.0 / 218.0, 1),
        // Since "Whose hub" (docs/CLASSIFICATION-LOG.md): infrastructure needs
        // a sign of a 2i2c hub, which this text-only set often lacks (its
        // senders are no known accounts here): recall fell, precision rose.
        ("2i2c", "tune", 39.0 / 41.0, 48.0 / 48.0, 0),
        // The pack's model (docs/CLASSIFICATION-LOG.md, "The pack's model"):
        // two more requests on the held-out half, one on the second set's.
        ("2i2c", "held-out", 31.0 / 44.0, 39.0 / 40.0, 0),
        // The second set alone: text no rule had seen when it was added.
        // One more since a refund asked for in the imperative ("Request a
        // full refund for my …") is an ask.
        ("sourcehut r2", "held-out", 13.0 / 17.0, 13.0 / 13.0, 0),
        // 2i2c's model learned other projects' usage questions: 12/18 with
        // the first two sets of them, 11/18 with all four, as before them
        // (not read).
        ("2i2c r2", "held-out", 11.0 / 18.0, 15.0 / 16.0, 0),
        ("cacert r2", "held-out", 4.0 / 5.0, 4.0 / 4.0, 0),
        // The third set, after its one look and the precision guard's user
        // stories and helpline advertisements, and the fourth round (tune
        // text since its look).
        ("sourcehut r3", "tune", 32.0 / 34.0, 32.0 / 32.0, 0),
        ("2i2c r3", "tune", 19.0 / 24.0, 1.0, 0),
        ("cacert r3", "tune", 1.0 / 1.0, 1.0 / 1.0, 0),
        // The foreign set (text that is not ours): its held-out half
        // measured once, at the end of the fourth round.
        ("sourcehut foreign", "tune", 2.0 / 2.0, 1.0, 0),
        ("sourcehut foreign", "held-out", 1.0, 1.0, 0),
        ("2i2c foreign", "tune", 1.0, 1.0, 0),
        // Since the fifth round (2i2c's secret-value needs a secret-looking
        // value after "is"): the one wrong route there is gone.
        ("2i2c foreign", "held-out", 1.0, 1.0, 0),
        ("cacert foreign", "tune", 1.0, 1.0, 0),
        ("cacert foreign", "held-out", 1.0, 1.0, 0),
        // Other projects' issue reports (foreign-issues.tsv, "Fifth round"
        // in docs/CLASSIFICATION-LOG.md): tuned on the tune half, the held-out
        // half measured once before and once after. The held-out sourcehut
        // figure is far from the targets; it is recorded so that it cannot
        // get worse unnoticed. It did: since the pack's model learned the
        // twelfth to fourteenth sets it confirms one more sensitive near
        // miss here, 3/10 and 6 (not read; the request model retrained on
        // the same sets moved nothing here). Since the twenty-fifth round
        // (other projects' issue reports) one fewer: 3/9 and 5.
        ("sourcehut foreign-issues", "tune", 6.0 / 6.0, 6.0 / 7.0, 1),
        ("sourcehut foreign-issues", "held-out", 3.0 / 4.0, 3.0 / 9.0, 5),
        ("2i2c foreign-issues", "tune", 1.0, 1.0, 0),
        ("2i2c foreign-issues", "held-out", 1.0, 1.0, 0),
        ("cacert foreign-issues", "tune", 1.0, 1.0, 0),
        ("cacert foreign-issues", "held-out", 1.0, 1.0, 0),
        // Ordinary issue reports (generic-issues.tsv), sealed, measured
        // once with the pack's model (docs/CLASSIFICATION-LOG.md, "Ordinary
        // issue reports"): sourcehut and CAcert route none of 312; 2i2c
        // routes usage questions to out-of-scope and nothing else.
        ("sourcehut generic-issues", "tune", 1.0, 1.0, 0),
        ("sourcehut generic-issues", "held-out", 1.0, 1.0, 0),
        ("cacert generic-issues", "tune", 1.0, 1.0, 0),
        ("cacert generic-issues", "held-out", 1.0, 1.0, 0),
        // Since 2i2c's model learned other projects' usage questions
        // (`request::QUESTIONS`): 15/23 and 16/23, from 11/23 and 10/23
        // (not read).
        ("2i2c generic-issues", "tune", 15.0 / 23.0, 1.0, 0),
        // Since 2i2c's model learned the twelfth to fourteenth sets: one
        // usage question fewer routed, one other question more sent to
        // out-of-scope (not read; 11/23, 20/20 before).
        ("2i2c generic-issues", "held-out", 16.0 / 23.0, 1.0, 0),
        // A third batch of other projects' usage questions, held out from
        // 2i2c's model (not read): its two wrong routes are questions sent
        // to `cleartext-credentials`, which goes by what a text carries.
        ("2i2c questions-3", "held-out", 117.0 / 150.0, 141.0 / 143.0, 2),
        ("2i2c software-questions-3", "held-out", 69.0 / 142.0, 1.0, 0),
        // The fourth set after its one look (docs/CLASSIFICATION-LOG.md,
        // "Fourth set: the one look"): its rows were read then, and the
        // guard learned own installations, clients and feature wishes.
        ("sourcehut r4", "held-out", 28.0 / 31.0, 28.0 / 28.0, 0),
        ("2i2c r4", "held-out", 13.0 / 20.0, 18.0 / 19.0, 0),
        ("cacert r4", "held-out", 3.0 / 3.0, 3.0 / 3.0, 0),
        // The fifth set after its one look (docs/CLASSIFICATION-LOG.md, "Fifth
        // set: the one look"): self-hosted admins, ideas for a feature,
        // spam-account clean-ups, payment methods and rulings.
        ("sourcehut r5", "held-out", 27.0 / 34.0, 27.0 / 27.0, 0),
        ("2i2c r5", "held-out", 19.0 / 20.0, 21.0 / 21.0, 0),
        ("cacert r5", "held-out", 3.0 / 5.0, 3.0 / 3.0, 0),
        // The sixth set after its one look (docs/CLASSIFICATION-LOG.md, "Sixth
        // set: the one look"; 16/30, 16/30, 11 at the look): help pages,
        // reports about "User", feature titles, own instances.
        ("sourcehut r6", "held-out", 28.0 / 32.0, 28.0 / 31.0, 0),
        // Coined community names as signs of ours (the sixteenth round):
        // two more hub requests, and a 2i2c engineer's note naming one.
        ("2i2c r6", "held-out", 12.0 / 15.0, 12.0 / 13.0, 0),
        ("cacert r6", "held-out", 5.0 / 6.0, 5.0 / 5.0, 0),
        // The seventh set after its one look (docs/CLASSIFICATION-LOG.md,
        // "Seventh set: the one look"; sourcehut 13/25, 13/19, 5 and CAcert
        // 2/3, 2/3, 1 at the look): stories under a tracker's tag, tasks
        // to add a possibility, suggestions, procedures for handling
        // requests, Russian, Japanese and Portuguese requests; and the
        // seed's "unable to pay using their preferred payment method",
        // which relabelled two rows of each of the fifth to seventh sets
        // (their figures above are on the new labels).
        ("sourcehut r7", "held-out", 25.0 / 27.0, 25.0 / 27.0, 2),
        // The same: three more, and one more note of 2i2c's own.
        ("2i2c r7", "held-out", 18.0 / 20.0, 19.0 / 21.0, 0),
        ("cacert r7", "held-out", 3.0 / 3.0, 3.0 / 3.0, 0),
        // The eighth set after its one look (docs/CLASSIFICATION-LOG.md,
        // "Eighth set: the one look"; sourcehut 12/26, 12/18, 6, 2i2c
        // 7/19, 9/9, 0 and CAcert 2/3, 2/4, 2 at the look): code questions
        // in Spanish and Chinese, PayPal where the writer lives, licences
        // bought under a mistyped address, requirements, policies and
        // warnings; the 2i2c figures of earlier sets rose with its code
        // questions.
        ("sourcehut r8", "held-out", 25.0 / 26.0, 25.0 / 26.0, 1),
        ("2i2c r8", "held-out", 18.0 / 19.0, 20.0 / 20.0, 0),
        ("cacert r8", "held-out", 3.0 / 3.0, 3.0 / 3.0, 0),
        // The ninth set after its one look (docs/CLASSIFICATION-LOG.md, "Ninth
        // set: the one look"; sourcehut 14/31, 14/23, 6, 2i2c 6/21, 9/9, 0
        // and CAcert 4/4, 4/5, 1 at the look): user stories and task
        // titles in Russian and French, wishes put as questions, licences
        // moved to another account, cards refused abroad, refunds asked in
        // the passive, packages that will not install. No other set's
        // figure moved.
        // One fewer since the request model and the pack's model learned
        // the fifteenth set (docs/CLASSIFICATION-LOG.md, "Seventeenth round"): a
        // refund asked in a question ("Can I get back the 16,000 sats
        // taken away unintentionally?") that the pack's model confirmed
        // before is a near miss again; a measured trade for what the
        // fifteenth set teaches.
        ("sourcehut r9", "held-out", 29.0 / 31.0, 29.0 / 29.0, 0),
        ("2i2c r9", "held-out", 19.0 / 21.0, 22.0 / 22.0, 0),
        ("cacert r9", "held-out", 4.0 / 4.0, 4.0 / 4.0, 0),
        // The tenth set after its one look (docs/CLASSIFICATION-LOG.md, "Tenth
        // set: the one look"; sourcehut 10/27, 10/17, 5, 2i2c 8/19, 9/9, 0
        // and CAcert 1/3, 1/2, 1 at the look): deletion in Turkish, Polish
        // and Korean, cards refused in a country, licences whose e-mail
        // changed, feature titles in Japanese and Spanish.
        // A measured trade since the eleventh set became the request
        // model's text: nginx-ui#836 (a self-hosted admin removing the 2FA
        // of their own install) passes it now, and the first looks'
        // replay holds back 25 wrong routes instead of 26 (109 right kept
        // either way). The set is tune text: the rules may learn it.
        ("sourcehut r10", "held-out", 24.0 / 27.0, 24.0 / 25.0, 0),
        ("2i2c r10", "held-out", 18.0 / 19.0, 20.0 / 20.0, 0),
        ("cacert r10", "held-out", 3.0 / 3.0, 3.0 / 3.0, 0),
        // The eleventh set after its one look (docs/CLASSIFICATION-LOG.md,
        // "Eleventh set"; sourcehut 14/28, 14/20, 4 and 2i2c
        // 13/19, 13/13, 0 at the look, 2i2c 16/19 with the pack's model
        // before it learned the set): read since, and learned by the
        // models; its figures are partly their training text.
        ("sourcehut r11", "held-out", 25.0 / 28.0, 25.0 / 28.0, 2),
        ("2i2c r11", "held-out", 18.0 / 19.0, 18.0 / 18.0, 0),
        // "Eliminare accont": read through its slip since "Misspelt words".
        ("cacert r11", "held-out", 2.0 / 3.0, 2.0 / 3.0, 1),
        // The twelfth to fourteenth sets after their looks (at the looks,
        // docs/CLASSIFICATION-LOG.md "Twelfth set", "Thirteenth set",
        // "Fourteenth set": sourcehut 16/43, 16/20, 1; 20/47, 20/24, 3;
        // 21/35, 21/24, 1; 2i2c 12/14, 13/13, 0; 7/18, 8/9, 0; 8/21, 8/10,
        // 0; CAcert 2/4, 2/3, 1; 3/6, 3/6, 3; 5/7, 5/8, 3): learned by the
        // request model and the packs' models since the fifteenth set was
        // sealed, and read since; their figures are partly training text.
        // One more each since a buyer with no card is read in more words
        // ("No card, told in a buyer's other words").
        ("sourcehut r12", "held-out", 32.0 / 43.0, 32.0 / 36.0, 1),
        ("2i2c r12", "held-out", 13.0 / 14.0, 14.0 / 14.0, 0),
        ("cacert r12", "held-out", 3.0 / 4.0, 3.0 / 3.0, 0),
        ("sourcehut r13", "held-out", 39.0 / 47.0, 39.0 / 40.0, 0),
        // The same: one more, and one more note of 2i2c's own.
        ("2i2c r13", "held-out", 14.0 / 18.0, 15.0 / 17.0, 0),
        ("cacert r13", "held-out", 5.0 / 6.0, 5.0 / 5.0, 0),
        ("sourcehut r14", "held-out", 29.0 / 35.0, 29.0 / 32.0, 1),
        ("2i2c r14", "held-out", 19.0 / 21.0, 19.0 / 21.0, 0),
        ("cacert r14", "held-out", 6.0 / 7.0, 6.0 / 7.0, 1),
        // The fifteenth set's one look (docs/CLASSIFICATION-LOG.md,
        // "Fifteenth set"; the code before that round, 16/28,
        // 16/19, 1; 6/26, 6/7, 0; 7/10, 7/7, 0). Read since the seventeenth
        // round ("Seventeenth round" in docs/CLASSIFICATION-LOG.md): tune text.
        // One more wrong route (22/24 before) after the models learned the
        // sixteenth set ("Eighteenth round"), and two fewer after the
        // nineteenth round.
        ("sourcehut r15", "held-out", 23.0 / 28.0, 23.0 / 25.0, 0),
        ("2i2c r15", "held-out", 18.0 / 26.0, 18.0 / 18.0, 0),
        ("cacert r15", "held-out", 10.0 / 10.0, 10.0 / 10.0, 0),
        // The sixteenth set's one look (2026-12-05), after the sixteenth
        // round: sourcehut 17/32, 17/20, 0; 2i2c 9/26, 9/10, 0; CAcert
        // 7/10, 7/10, 3. Read in the eighteenth round (docs/
        // CLASSIFICATION-LOG.md, "Eighteenth round"): tune text since.
        ("sourcehut r16", "held-out", 30.0 / 32.0, 30.0 / 32.0, 0),
        ("2i2c r16", "held-out", 19.0 / 26.0, 19.0 / 20.0, 0),
        ("cacert r16", "held-out", 9.0 / 10.0, 9.0 / 10.0, 1),
        // The seventeenth set's one look (2026-12-05), after the
        // eighteenth round: sourcehut 16/25, 16/18, 0; 2i2c 15/26, 15/16,
        // 0; CAcert 9/10, 9/11, 2. Read in the nineteenth round (docs/
        // CLASSIFICATION-LOG.md, "Nineteenth round"): tune text since.
        ("sourcehut r17", "held-out", 24.0 / 25.0, 24.0 / 26.0, 0),
        ("2i2c r17", "held-out", 22.0 / 26.0, 22.0 / 22.0, 0),
        ("cacert r17", "held-out", 10.0 / 10.0, 10.0 / 10.0, 0),
        // The eighteenth set's one look (2026-12-05), after the nineteenth
        // round: 10/32, 10/14, 2; 15/27, 15/15, 0; 3/9, 3/5, 2. Read in the
        // twentieth round (docs/CLASSIFICATION-LOG.md, "Twentieth round"):
        // tune text since.
        ("sourcehut r18", "held-out", 24.0 / 32.0, 24.0 / 26.0, 0),
        ("2i2c r18", "held-out", 20.0 / 27.0, 20.0 / 20.0, 0),
        ("cacert r18", "held-out", 7.0 / 9.0, 7.0 / 8.0, 1),
        // The nineteenth set's one look (2026-12-05), after the twentieth
        // round: 13/27, 13/16, 1; 11/27, 11/11, 0; 6/7, 6/6, 0. Read in the
        // twenty-first round by the rules (docs/CLASSIFICATION-LOG.md,
        // "Twenty-first round"); not learned by the models.
        ("sourcehut r19", "held-out", 17.0 / 27.0, 17.0 / 20.0, 1),
        ("2i2c r19", "held-out", 13.0 / 27.0, 1.0, 0),
        ("cacert r19", "held-out", 6.0 / 7.0, 6.0 / 6.0, 0),
        // The twentieth set's one look (2026-12-05), after the twenty-first
        // round: 12/27, 12/15, 3; 15/25, 15/15, 0; 2/6, 2/5, 3. Read in the
        // twenty-second round (docs/CLASSIFICATION-LOG.md, "Twenty-second
        // round"): tune text since.
        ("sourcehut r20", "held-out", 21.0 / 27.0, 21.0 / 21.0, 0),
        ("2i2c r20", "held-out", 15.0 / 25.0, 15.0 / 15.0, 0),
        ("cacert r20", "held-out", 5.0 / 6.0, 5.0 / 7.0, 2),
        // The twenty-first set's one look (2026-12-05), after the
        // twenty-second round: 17/27, 17/18, 0; 15/25, 15/15, 0; 4/4, 4/8,
        // 4. Read in the twenty-third round (docs/CLASSIFICATION-LOG.md,
        // "Twenty-third round"): tune text since.
        ("sourcehut r21", "held-out", 20.0 / 27.0, 20.0 / 20.0, 0),
        ("2i2c r21", "held-out", 17.0 / 25.0, 1.0, 0),
        ("cacert r21", "held-out", 4.0 / 4.0, 4.0 / 6.0, 2),
        // The twenty-second set's one look, after the twenty-fourth round
        // (CAcert 1/6 and 5, 2i2c 11/28 then), read in the twenty-sixth:
        // CAcert 1/4 and 3 since the guard reads a title opening with a
        // developer's verb (2/5 and 3 with one of two accounts to go),
        // 2i2c 13/28 since a hub's configuration and its values file
        // count, sourcehut 7/10, 7/7, 0 (a missing refund button, a
        // subscription moved to a device).
        ("sourcehut r22", "held-out", 7.0 / 10.0, 7.0 / 7.0, 0),
        ("2i2c r22", "held-out", 14.0 / 28.0, 1.0, 0),
        ("cacert r22", "held-out", 2.0 / 3.0, 2.0 / 5.0, 3),
        // Since the request model, the third to tenth sets' figures above
        // are partly its training text: their sensitive misroutes fell
        // (sourcehut 16 to 6 over the fourth to tenth) on text it learned.
        // What it does on text it did not learn is in the first looks'
        // replay (tests/classify/request_model.rs) and the held-out rows.
    ];
    assert_floors(&scores, floors);
}

/// The habits the real set taught, one sentence each, so that a change
/// that loses one fails by name: paraphrases route; talk about a feature,
/// a refund already on its way, denials, hypotheticals and bulk mail do
/// not reach a sensitive procedure.
#[test]
fn requests_route_and_talk_about_them_does_not() {
    let packs = packs();
    let cases = [
        ("sourcehut", "", "I am asking to end my account", "account-deletion"),
        // The eighth set's lessons: the writer's own words between "my"
        // and "account"; Chinese deletion, but not a wish for the feature;
        // getting an account back is the opposite request; money back with
        // the account closed is a refund; a host name is not a bug report;
        // double charges in Spanish; PayPal that does not work where the
        // writer lives; a licence bought under a mistyped address; a
        // requirement in the third person, a Dutch wish, a policy and a
        // warning to others are not requests; an alternative after a
        // Chinese comma is a fallback.
        ("sourcehut", "", "Please close my SourceHut Pages account.", "account-deletion"),
        ("sourcehut", "", "Please remove my email from account settings, it is shown on my profile.", UNCLASSIFIED),
        ("sourcehut", "注销账号", "请帮我注销我的账号", "account-deletion"),
        ("sourcehut", "", "希望能提供删除账号的功能", UNCLASSIFIED),
        ("sourcehut", "", "Is there a way to reactivate my account after it was deactivated?", UNCLASSIFIED),
        ("sourcehut", "", "I was charged after I cancelled. I would like my money refunded and my account closed.", "refund"),
        ("sourcehut", "2FA reset request", "I lost my 2FA device and cannot log into the web interface. Please reset my 2FA.", "2fa-disable"),
        ("sourcehut", "Username", "I signed up on bugs.example.org years ago with my old name. Could you change my username?", "account-rename"),
        ("sourcehut", "Cobros dobles", "Me hicieron 2 cobros el mismo día en mi tarjeta.", "refund"),
        ("sourcehut", "", "I'd like to subscribe, but PayPal does not work in my country. Is there another way?", "cannot-pay"),
        ("sourcehut", "", "I typed a wrong email when I bought the license, what can I do?", "billing-transfer"),
        ("sourcehut", "Eliminar cuenta", "El usuario puede eliminar su cuenta.", UNCLASSIFIED),
        ("sourcehut", "Account verwijderen", "Mogelijkheid om account te verwijderen toevoegen", UNCLASSIFIED),
        ("sourcehut", "Account Deletion Policy", "Members who want their accounts deleted write to the admins, and we delete them within a week.", UNCLASSIFIED),
        ("sourcehut", "2FA", "I would like to warn you all: if you lose your 2FA device you may lose access to your account for good.", UNCLASSIFIED),
        ("sourcehut", "用户名修改", "能不能修改用户名，或者删除账号", "account-rename"),
        ("cacert", "", "Please delete my CAcert community account.", "account-deletion"),
        ("cacert", "", "Is there a way to reactivate an account after it has been deactivated?", UNCLASSIFIED),
        // An account not wanted because the writer would rather use
        // another is a switch between accounts.
        ("cacert", "", "I no longer want this user, how to switch to my other one?", UNCLASSIFIED),
        ("cacert", "", "I no longer use this account; I log in with my other one now.", UNCLASSIFIED),
        ("cacert", "", "Please delete this account, I would like to switch to a different account with my work email.", "account-deletion"),
        ("cacert", "", "I don't want my account anymore, please delete it.", "account-deletion"),
        // The ninth set's lessons. Requests: a licence moved to another
        // account; a card refused when paying from abroad; a card not
        // accepted and nothing bought; a refund asked in the passive;
        // "any suggestions?" from a writer locked out; a rename in Chinese
        // with 一下; 2FA turned off in Portuguese. Not requests: a Russian
        // user story and task, a French feature title and story, a wish
        // for "an easy way", a question when a feature will come, a
        // requirement about "their entire account", a Chinese blog's
        // guide, a Chinese bug report.
        ("sourcehut", "", "I would like to transfer my individual license to a different Google account, would that be possible?", "billing-transfer"),
        ("sourcehut", "Card declined", "I'm trying to subscribe from Algeria, but all my payments are declined. Could you check my account?", "cannot-pay"),
        ("sourcehut", "I can't buy it", "Will there be another option? My card is not accepted.", "cannot-pay"),
        ("sourcehut", "", "We cancelled the subscription today. Can the subscription amount be refunded for this month?", "refund"),
        ("sourcehut", "Locked out of two-factor authentication", "I don't receive a login token, so I'm permanently locked out of my account. Any suggestions?", "2fa-disable"),
        ("sourcehut", "能不能修改一下用户名", "注册的时候填了手机号，现在想改", "account-rename"),
        ("sourcehut", "Desabilitar autenticação de dois fatores", "Queria desabilitar a autenticação de dois fatores, perdi o celular. Como eu faço?", "2fa-disable"),
        ("sourcehut", "Я как пользователь, хочу удалить свой аккаунт", "Добавить кнопку удаления аккаунта.", UNCLASSIFIED),
        ("sourcehut", "Добавить удаление аккаунта", "", UNCLASSIFIED),
        ("sourcehut", "Possibilité de supprimer mon compte depuis l'app", "", UNCLASSIFIED),
        ("sourcehut", "Modifier nom d'utilisateur", "comme chercheur d'emploi je veux pouvoir modifier mon nom d'utilisateur", UNCLASSIFIED),
        ("sourcehut", "change username?", "It would be nice if there were an easy way to change one's username.", UNCLASSIFIED),
        ("sourcehut", "账号注销功能", "请问什么时候会有账号注销的功能？", UNCLASSIFIED),
        ("sourcehut", "Cancel Account", "Allow a signed-in account owner to cancel and remove their entire account.", UNCLASSIFIED),
        ("sourcehut", "【避坑指南】记录一次订阅退款", "记录下来，希望能帮到大家避开自动续费的陷阱，我也申请了退款。", UNCLASSIFIED),
        ("sourcehut", "不能修改用户名", "在设置中心更改用户名的时候一直报错", UNCLASSIFIED),
        ("cacert", "", "Can we add a section that shows what data is kept after account closure?", UNCLASSIFIED),
        // The tenth set's lessons. Requests: deletion in Turkish, Polish
        // and Korean; payments from a country not accepted, a country
        // missing from the list, a card refused in a country, a card
        // refused in Chinese; a licence's e-mail to change, a licence
        // bought under a mistake in the e-mail. Not requests: feature
        // titles in Japanese and Spanish, "Allow removing 2FA …", an
        // Italian "give the possibility", a Turkish requirement about the
        // user's own account.
        ("sourcehut", "", "hesabımı silmek istiyorum", "account-deletion"),
        ("cacert", "", "przosze o usuniecie konta", "account-deletion"),
        ("sourcehut", "", "회원 탈퇴 요청드립니다.", "account-deletion"),
        ("sourcehut", "Card declined", "My card was declined. Could you clarify why it is not accepting payments from Ukraine?", "cannot-pay"),
        ("sourcehut", "Unable to make payment", "Pakistan is not included in the list of countries. I can't pay.", "cannot-pay"),
        ("sourcehut", "Card rejected", "When I was in the United States my card paid normally, but when I was in China, my card was rejected.", "cannot-pay"),
        ("sourcehut", "信用卡支付被拒是啥原因", "支付宝不能用了，信用卡咋也不行", "cannot-pay"),
        ("sourcehut", "License email change request", "Hi, I'd like to change the email associated with my license key. Is this possible?", "billing-transfer"),
        ("sourcehut", "License purchase", "Hi, I just bought a licence but made a mistake in the email field. Can we fix this?", "billing-transfer"),
        ("sourcehut", "退会機能を実装する", "退会の際にアカウント情報を削除する", UNCLASSIFIED),
        ("sourcehut", "Botón \"Darme de baja\"", "Debe aparecer \"Darme de baja\" en el menú, arriba de \"cambiar usuario\".", UNCLASSIFIED),
        ("sourcehut", "Allow removing 2FA without a code.", "I lost access to my 2fa app and used a recovery key. Allow removing 2FA without a code.", UNCLASSIFIED),
        ("cacert", "Elimina profilo", "Dare la possibilità, da profilo, di eliminarlo definitivamente.", UNCLASSIFIED),
        // CAcert's deletion is held back on what sourcehut's is: a user
        // story, a denial, a thought of leaving and a newsletter. Its
        // requests are read in the languages of its own rules only: one in
        // Chinese or Russian, or put without the word "delete", stays with
        // a person (sourcehut's rules for them were tried on the
        // fourteenth set and not kept).
        ("cacert", "注销账号", "请帮我注销我的账号，谢谢", UNCLASSIFIED),
        ("cacert", "Удаление аккаунта", "Удалите, пожалуйста, мой аккаунт и все сертификаты", UNCLASSIFIED),
        ("cacert", "", "I no longer want to be a member. Please remove everything you have about me.", UNCLASSIFIED),
        ("cacert", "Delete account", "As a user I want to delete my account from the profile page so that my data is gone.", UNCLASSIFIED),
        ("cacert", "", "I don't want to delete my account, I only wonder what happens to my assurances.", UNCLASSIFIED),
        ("cacert", "", "I'm thinking about closing my account because the root is still not in the browsers.", UNCLASSIFIED),
        ("cacert", "Monthly newsletter", "Members can delete their account from the web interface. Click here to unsubscribe from this newsletter.", UNCLASSIFIED),
        // Not CAcert's account: a membership of the association, an
        // account kept for other uses; a German request that leaves the
        // newsletter too is still a deletion request.
        ("cacert", "", "I no longer need my account for signing mail, but I want to stay an assurer, so please leave it open and revoke the S/MIME certificate.", UNCLASSIFIED),
        ("cacert", "Austritt", "Ich möchte mich bei CAcert abmelden und mein Konto löschen lassen. Bitte melden Sie mich auch vom Newsletter ab.", "account-deletion"),
        // Deletion denied in Russian, Chinese, Japanese and Portuguese.
        ("cacert", "", "Я не хочу удалять аккаунт, просто подскажите, как поменять пароль.", UNCLASSIFIED),
        ("sourcehut", "", "我不打算删除账号，只想知道怎么改密码。", UNCLASSIFIED),
        ("sourcehut", "", "アカウントを削除するつもりはありません。パスワードの変え方を教えてください。", UNCLASSIFIED),
        ("sourcehut", "", "Não quero excluir minha conta, só mudar a senha.", UNCLASSIFIED),
        ("sourcehut", "Hesap silme", "kullanıcı kendi hesabını silebilmeli.", UNCLASSIFIED),
        ("2i2c", "installation of package had non-zero exit status", "I am trying to install the package but I keep getting warnings. Any advice?", "out-of-scope"),
        ("2i2c", "Error in notebook", "When I run the notebook I get an error. How do I fix it?", "out-of-scope"),
        ("2i2c", "Consulta", "Al ejecutar una celda me salió un error, ¿cómo lo soluciono?", "out-of-scope"),
        ("2i2c", "跑Jupyter出错", "跑Jupyter Notebook的时候出错了，是什么原因", "out-of-scope"),
        // The seventh set's lessons: requests in Russian, Japanese and
        // Portuguese; a refund in Chinese; a licence moved to another
        // address; Google's "step two verification".
        ("sourcehut", "Удаление аккаунта", "Удалите, пожалуйста, мой аккаунт", "account-deletion"),
        ("sourcehut", "アカウントの削除", "アカウントを削除してください", "account-deletion"),
        ("sourcehut", "Exclusão da conta", "Solicito a exclusão da minha conta.", "account-deletion"),
        ("sourcehut", "退款", "我被重复扣款了，请退款。", "refund"),
        ("sourcehut", "License", "Could you move my license to my new email address? I can no longer read the old one.", "billing-transfer"),
        ("sourcehut", "", "I cannot switch off step two verification, I lost the phone. Please help", "2fa-disable"),
        // The seed grants free service to those "unable to pay using their
        // preferred payment method" and for "political problems (e.g.
        // Russian sanctions)": a way to pay that is missing is this
        // procedure. A company's notice about sanctions is not.
        ("sourcehut", "Unable to pay", "I want to pay for my account but I can't do it from Russia", "cannot-pay"),
        ("sourcehut", "", "Is there any way to pay for the paid plan from Russia? My cards are declined because of the sanctions.", "cannot-pay"),
        ("sourcehut", "Sanctions", "Payments from Russia and Belarus may be declined at the moment because of the sanctions on their banks, and subscriptions from those countries will lapse.", UNCLASSIFIED),
        ("sourcehut", "", "I'm not satisfied and no longer want to be a customer", "account-deletion"),
        ("sourcehut", "", "my card was charged 3 times for one month", "refund"),
        ("sourcehut", "", "We're a non-profit research team, a free plan would help us a lot", "cannot-pay"),
        // "Insufficient income" put plainly (seed 001): no money, too
        // expensive for the writer; a move told as past news asks nothing.
        ("sourcehut", "", "I have no money at the moment, could I have the paid plan for free for a while?", "cannot-pay"),
        ("sourcehut", "Paid plan", "I don't have any money to pay for the plan while I look for work. Could you help?", "cannot-pay"),
        ("sourcehut", "Our project", "We have no money for advertising, so could sourcehut mention our project in its blog?", UNCLASSIFIED),
        ("sourcehut", "Renewal", "I didn't have any money in my PayPal balance, so the renewal failed; I topped it up and it went through.", UNCLASSIFIED),
        ("sourcehut", "Locked out", "I lost my phone with the authenticator app and have no recovery codes, I can't log in", "2fa-disable"),
        // An API token the writer still holds is part of their account,
        // not work on software; talk about the API still is.
        ("sourcehut", "Locked out", "I lost my authenticator app and my recovery codes. I still have my password and a valid API token. Please reset 2FA on my account.", "2fa-disable"),
        ("sourcehut", "Disable 2FA", "The API returns an error when an admin tries to disable 2FA after a user lost their phone.", UNCLASSIFIED),
        ("sourcehut", "", "I don't want to delete my account, only to understand what happens to my repos", UNCLASSIFIED),
        ("sourcehut", "", "If I deleted my account, would my mailing list archives stay up?", UNCLASSIFIED),
        ("sourcehut", "Delete account", "As a user I want to be able to delete my account so that my data is removed", UNCLASSIFIED),
        ("sourcehut", "Delete account button broken", "Steps to reproduce: click the delete my account button. Expected result: the account is deleted", UNCLASSIFIED),
        ("sourcehut", "Cannot enable TOTP", "When I scan the QR code the TOTP code is rejected", UNCLASSIFIED),
        ("sourcehut", "", "Where is my refund? It still hasn't shown up on my statement", UNCLASSIFIED),
        ("sourcehut", "", "I asked the seller for a refund but the merchant won't answer", UNCLASSIFIED),
        ("sourcehut", "", "There is a payment I don't recognise, I want my money back", UNCLASSIFIED),
        ("sourcehut", "Our spring sale", "Free hosting for open source, 100% money back guarantee! Click here. Unsubscribe", UNCLASSIFIED),
        ("sourcehut", "", "I want to top up my account by bank transfer, how do I go about it?", UNCLASSIFIED),
        ("sourcehut", "", "Please change my username, or else delete the account", "account-rename"),
        ("sourcehut", "", "I see two identical charges on my statement for the same month", "refund"),
        ("sourcehut", "", "The same amount was taken out of my account two times", "refund"),
        ("sourcehut", "", "Why was I charged again? I already paid for this month", "refund"),
        ("sourcehut", "", "My card was declined but it shows as multiple charges?", "refund"),
        ("sourcehut", "", "I tried to pay twice but it was declined both times", UNCLASSIFIED),
        ("sourcehut", "", "Can I get my money returned?", "refund"),
        ("sourcehut", "", "I'd like to cancel my subscription and get the rest of the year paid back", "refund"),
        ("sourcehut", "", "I don't want this account anymore", "account-deletion"),
        ("sourcehut", "", "I'm done with this service, please delete everything you have about me", "account-deletion"),
        ("sourcehut", "", "How do I delete my data from a repository?", UNCLASSIFIED),
        ("sourcehut", "", "I changed phones and the 2FA codes no longer work", "2fa-disable"),
        ("sourcehut", "Bug: disable user registration", "Add an option to disable user registration on self-hosted instances", UNCLASSIFIED),
        ("sourcehut", "", "You refunded the whole year by mistake, how do I send back the excess?", UNCLASSIFIED),
        ("sourcehut", "Locked out", "I reset my phone and lost all my authentication codes, how can I get back in?", "2fa-disable"),
        ("sourcehut", "doble cobro", "Me cobraron dos veces el plan de este mes", "refund"),
        ("sourcehut", "", "I would like to request the permanent deletion of my sourcehut user account", "account-deletion"),
        // The foreign set's tune half: a refund named in business mail or
        // in work on payment code, a bank's discount, asked-for aid.
        ("sourcehut", "pending refund order", "The commission discussed the latest refund order for the western utilities today", UNCLASSIFIED),
        ("sourcehut", "Quickfix double refund due to webhook", "Sometimes a webhook arrives twice and the refund is issued twice", UNCLASSIFIED),
        ("sourcehut", "", "If I exchange currency often, can I have a discount?", UNCLASSIFIED),
        ("sourcehut", "", "Hello, I'm from Turkey and the price is very high for my country. Can I get a little discount?", "cannot-pay"),
        ("sourcehut", "", "I'm interested in getting a refund for the plan I bought", "refund"),
        // The thirteenth round (the eleventh set read): no way to pay in
        // Chinese and Russian, charged twice in French and Chinese, a
        // licence's address to change; a wish for another way to pay is
        // still no request.
        ("sourcehut", "", "我们没有信用卡，没法付款，能不能用支付宝？", "cannot-pay"),
        ("sourcehut", "Оплата", "Здравствуйте, не удаётся оплатить подписку картой. Что делать?", "cannot-pay"),
        ("sourcehut", "Problème de facturation", "Bonjour, j'ai été facturé 2x ce mois-ci pour le même abonnement, merci de corriger.", "refund"),
        ("sourcehut", "", "我今天重复购买了两次会员，可以退一个吗？", "refund"),
        ("sourcehut", "License email", "Hello, could you please update the email address associated with my license? I no longer have access to the old address and cannot activate it.", "billing-transfer"),
        ("sourcehut", "Turn off 2 step verification", "I lost my phone and can no longer log in, please turn off the 2 step verification on my account.", "2fa-disable"),
        ("sourcehut", "", "我不小心建了一个多余的账户，请帮我注销。", "account-deletion"),
        ("sourcehut", "Feature request: more payment options", "It would be nice if the shop supported other payment methods besides PayPal, for example Alipay.", UNCLASSIFIED),
        // The fifteenth round (the twelfth to fourteenth sets read): seed
        // 001's "unable to pay using their preferred payment method" as
        // people write it, no card (or no PayPal) to pay with and a wish to
        // pay us; a purchase's address to change, in English and Chinese.
        // A bank customer's card not yet arrived or lost, a payment made
        // another way, a newsletter's mistyped address and a wish for
        // another payment method are not requests to us.
        ("sourcehut", "payment", "I'd be happy to pay, but I don't have a credit card. Do you have another option?", "cannot-pay"),
        ("sourcehut", "Pro Version", "Gibt es eine Möglichkeit die Pro Version zu kaufen ohne Kreditkarte?", "cannot-pay"),
        ("sourcehut", "", "I don't have a debit card yet. Can I still top up my account?", UNCLASSIFIED),
        ("sourcehut", "", "I don't have a credit card, so I paid by bank transfer. Thanks for the great work!", UNCLASSIFIED),
        ("sourcehut", "Card replacement", "I lost my wallet and don't have a debit card now. When will the replacement arrive?", UNCLASSIFIED),
        ("sourcehut", "Change my email", "I want to change my email in the license", "billing-transfer"),
        ("sourcehut", "邮箱填错了", "购买专业版时邮箱填错了，请帮我改成正确的邮箱，谢谢。", "billing-transfer"),
        ("sourcehut", "", "订阅邮件资讯时，邮箱输错了，后续想更换邮箱", UNCLASSIFIED),
        ("sourcehut", "Is it possible to return the pro subscription?", "I just bought it and I don't like it. Is it possible to return and invalidate the key?", "refund"),
        ("sourcehut", "Returns", "Users should be able to return the product within 14 days", UNCLASSIFIED),
        ("cacert", "Delete my duplicate account", "I accidentally created a duplicate account and I would like it to be removed. Thanks!", "account-deletion"),
        ("sourcehut", "", "Please delete my second account, I only use the first one.", "account-deletion"),
        // A guarded procedure: an admin's question about another user.
        ("sourcehut", "Username change", "How to rename the username of a user?", UNCLASSIFIED),
        ("sourcehut", "", "Please rename my account to alice2, I misspelt it when signing up", "account-rename"),
        ("2i2c", "Binder link broken", "The mybinder.org launch fails with a 504 timeout for our class", UNCLASSIFIED),
        // Whose hub: the same words route only with a sign of a 2i2c hub.
        ("2i2c", "Hub slow", "Our students see time-outs on server start and the R image is failing", UNCLASSIFIED),
        ("2i2c", "Hub slow", "Our students see time-outs on server start of the LEAP hub and the R image is failing", "infrastructure"),
        ("2i2c", "Larger image option", "I opened a pull request to implement a larger image option in the profile list", UNCLASSIFIED),
        ("2i2c", "This week in cloud computing", "Outage report: the hub upgrade went down at a big provider. Read more. Unsubscribe", UNCLASSIFIED),
        // A secret pasted into a long account that asks for nothing is
        // still a secret: the procedure is decided by what the mail carries.
        ("2i2c", "Hub outage notes", "The hub was down this morning after the upgrade; the config we used then had password = Xk93!mmq2 in it, and the pods came back after an hour.", "cleartext-credentials"),
        // Talk about the topic that asks nothing of us is no request,
        // however many of the procedure's words it has.
        ("sourcehut", "Data protection and deleted accounts", "Under the GDPR my data has to be erased once my account is closed. Keeping it around after the account is deleted is not what the law means by deletion.", UNCLASSIFIED),
        ("sourcehut", "Account removal", "Hello, I tried to reach you by mail about deleting my account and all my personal data, without an answer, so here it is again in your tracker.", "account-deletion"),
        // The seventeenth round (the fifteenth set read): the writer's own
        // explicit ask outweighs a complaint that there is no delete
        // button, and what the writer cannot find is no denial; a card
        // refused to a writer who still wants to pay; a purchase that the
        // shop's ways to pay do not allow (Chinese); money taken and wanted
        // back (Russian). A button wished for, a login method wished for
        // and an unanswered deletion are not.
        ("cacert", "Deleteable accounts", "I don't see any delete account button. I would appreciate it very much if my account was deleted.", "account-deletion"),
        ("sourcehut", "Delete my account", "I request full data deletion. Is it legal not to have a button for this?", "account-deletion"),
        ("sourcehut", "Add a delete account button", "Users should be able to delete their account with a button.", UNCLASSIFIED),
        ("sourcehut", "Card", "My card was declined twice. I really want to buy the plan.", "cannot-pay"),
        ("sourcehut", "", "想购买，发现不支持支付宝", "cannot-pay"),
        ("sourcehut", "", "不支持微信登录，希望增加", UNCLASSIFIED),
        ("sourcehut", "Подписка", "Сняли деньги с карты за подписку, хочу вернуть", "refund"),
        // The eighteenth round (the sixteenth set read): no card, with a
        // wish to pay put as "I would pay", a bank transfer or the ways
        // the writer can use; a renewal whose payment did not go through;
        // both ways offered closed (Chinese); a letter's own ask for a
        // refund over a story with a button in it; a charge after a free
        // trial; a phone reset; a purchase under an address sent wrong
        // (Chinese); "I cannot delete" in Portuguese. A bug in German, an
        // account the writer removed and a UX task are not requests.
        ("sourcehut", "Pro", "I would pay for the pro plan but i dont have a credit card.", "cannot-pay"),
        ("sourcehut", "No card", "Could you send me your bank details? We need bank transfer because I don't have a credit card.", "cannot-pay"),
        ("sourcehut", "Other payment methods", "I don't have a credit/debit card and I can use PayPal.", "cannot-pay"),
        ("sourcehut", "Unable to renew subscription", "It says payment didn't go through. Please help me out!", "cannot-pay"),
        ("sourcehut", "如何购买？", "只有Paypal和Google Pay支付方式，两者都不可用", "cannot-pay"),
        ("sourcehut", "Refund for an upgrade by mistake", "I clicked the upgrade button by accident and got the yearly plan. I would like to request: a refund of the difference.", "refund"),
        ("sourcehut", "Refund Request", "I was charged for the plan after my free trial although I thought it was cancelled. I hope my request will be considered.", "refund"),
        ("sourcehut", "Lost my codes", "I reset the iPhone and I don't know how to get my authenticator codes now.", "2fa-disable"),
        ("sourcehut", "如何更改邮箱？", "购买时发错了邮箱，求解，谢谢！", "billing-transfer"),
        ("cacert", "Apagar conta", "Criei uma conta duplicada e não consigo apagar a outra conta, a minha conta original está certa.", "account-deletion"),
        ("sourcehut", "Anzeigefehler beim Ändern des Benutzernamens", "", UNCLASSIFIED),
        ("cacert", "Confirmation to remove account", "I accidently removed an account by misclicking", UNCLASSIFIED),
        ("cacert", "UX to request erasure of account", "Fine-grained erasure later.", UNCLASSIFIED),
        // Then the older read sets again: "I would like to delete my
        // account" outweighs "there is no button", Turkish "delete me",
        // "remove me from your website", a misspelt "delate"; a refund
        // option the writer cannot find; a subscription forgotten and
        // charged (Chinese). A user story still is not a request.
        ("sourcehut", "Can't delete my account", "I would like to delete my account, but there is no button to do so. If you could please help me delete it, I'd appreciate it.", "account-deletion"),
        ("cacert", "", "beni silin lütfen", "account-deletion"),
        ("cacert", "Can you please remove me from your website?", "Thank you", "account-deletion"),
        ("sourcehut", "delate my account", "", "account-deletion"),
        ("sourcehut", "Cancel and refund", "Could you please help me cancel my subscription and get a refund for the last year? I can't find the refund option.", "refund"),
        ("sourcehut", "取消本月订阅", "忘了取消自动订阅了，昨天自动扣费了。希望能取消这次扣费。", "refund"),
        ("sourcehut", "Delete account", "As a registered user, I want to delete my account, so that I can act within my GDPR rights.", UNCLASSIFIED),
        // A hub community's request tagged with its hub's short name, an
        // account asked for on a hub of ours.
        ("2i2c", "VICTOR: image bump and spawn screen details", "", "infrastructure"),
        ("2i2c", "CIROH-2i2c JupyterHub request", "A workshop I attend needs an account for the 2i2c JupyterHub.", "infrastructure"),
        ("2i2c", "Image bump", "Victor: thanks for the talk yesterday.", UNCLASSIFIED),
        // The nineteenth round (the seventeenth set read). Requests: a
        // title that leaves its writer out ("Can't purchase"); a country's
        // cards refused as a kind; no PayPal and Alipay asked for
        // (Chinese); a charge after a cancellation for a plan never used;
        // a purchase to give back; a purchase made on the writer's other
        // account, in English and Chinese; one of the writer's two
        // profiles to go. Not requests: a feature named as a noun ("Add
        // option to ...", "Possibilité de ...", "Adicionar opção de ..."),
        // a subject whose body only says where the button goes, a refund
        // feature to be added, a screenshot attached to a subscription
        // story.
        ("sourcehut", "Can't buy the plan, card not accepted", "Neither of your two shops takes my VISA card, the error is 'card not accepted'. It works in every other shop.", "cannot-pay"),
        ("sourcehut", "Checkout", "Could you tell me whether payments from Cuban cards are currently blocked? I bought a plan last month.", "cannot-pay"),
        ("sourcehut", "怎么买", "我没有paypal，求个支付宝付款的方式", "cannot-pay"),
        ("sourcehut", "Billed after cancellation", "I was charged $20 after cancellation for a plan that was never used. I want a refund.", "refund"),
        ("sourcehut", "Wrong edition", "I bought the basic edition by mistake. Could I return the basic edition and buy the full one?", "refund"),
        ("sourcehut", "Purchase on the wrong account", "I paid for the plan on my second account by accident. Can you transfer it from my second account to this one?", "billing-transfer"),
        ("sourcehut", "会员充错了", "我给另一个账号充值了，能帮我转到我的账号吗", "billing-transfer"),
        ("cacert", "Duplicate profiles", "I seem to have two accounts with the same address. Could you delete one of them?", "account-deletion"),
        ("sourcehut", "Delete my account", "Add option to delete my account from the settings.", UNCLASSIFIED),
        ("cacert", "Suppression de compte", "Possibilité de suppression du compte par l'utilisateur", UNCLASSIFIED),
        ("cacert", "delete my account", "On the settings page", UNCLASSIFIED),
        ("cacert", "Adicionar opção de excluir a conta", "", UNCLASSIFIED),
        ("sourcehut", "Is it possible to request a refund?", "I want to add a refund feature, so that buyers can make a refund request.", UNCLASSIFIED),
        ("sourcehut", "Activation", "Please change my activation email, the old inbox is closed.", "billing-transfer"),
        ("sourcehut", "邮箱", "手抖邮箱填错了，可以重发吗？", "billing-transfer"),
        ("sourcehut", "Unable to subscribe, card declined", "My card was declined when I tried to pay for the subscription. I have attached a screenshot of the error.", "cannot-pay"),
        // A hub community's storage bucket is its hub's; 2i2c's engineers
        // writing about asking the community are not it asking.
        ("2i2c", "[victor] bucket write permissions", "Our users need write permissions to the workspace bucket.", "infrastructure"),
        ("2i2c", "victor hub: enable GPUs", "Enabling GPUs for the victor hub, following our infrastructure guide; we still need to ask the community how many they need.", UNCLASSIFIED),
        // The twenty-second round (the twentieth set read). Requests: the
        // writer's own ask put as a question beside a word of feature
        // talk; accounts the writer needs to close; an account made by
        // mistake; "unregister" (CAcert); registration data to delete; a
        // rename asked for by name; backup codes never saved, codes
        // refused, an account recovery request; the writer's own failed
        // attempt to pay, a payment the writer cannot complete; credit to
        // move to the writer's new address, in English and Chinese. Not
        // requests: a payment processor's error quoted, a licence or a VM
        // to move to a machine or another cloud subscription, a refund API
        // (Chinese), a mail server's user, someone else's account.
        ("sourcehut", "", "Could you help me delete the files in my account and delete my account as well? The delete button is greyed out.", "account-deletion"),
        ("sourcehut", "Old accounts", "I have three old accounts I need to close. I no longer use them.", "account-deletion"),
        ("cacert", "Cannot delete my account", "I cannot delete the account that I created by mistake; the reminder mail has no button for it.", "account-deletion"),
        ("cacert", "Unregister", "How can I unregister my account? I registered it with the wrong key.", "account-deletion"),
        ("cacert", "Registration", "I want to delete the registration information I gave you.", "account-deletion"),
        ("sourcehut", "Need help with account rename", "I renamed my GitHub account and now my subscription page is empty.", "account-rename"),
        ("sourcehut", "Two-factor", "I set up 2FA last week but did not save the backup codes.", "2fa-disable"),
        ("sourcehut", "Recovery codes", "My 2FA recovery codes are rejected as invalid.", "2fa-disable"),
        ("sourcehut", "Account recovery request", "I turned on 2FA last week.", "2fa-disable"),
        ("sourcehut", "Declined", "Trying to pay for the plan but it always says declined. Please add other payment options, I have PayPal.", "cannot-pay"),
        ("sourcehut", "Card was declined", "My card was declined several times when buying the pro plan.", "cannot-pay"),
        ("sourcehut", "Payment", "I am unable to complete the payment with my prepaid card.", "cannot-pay"),
        ("sourcehut", "Credit", "My old address stopped working. Please transfer the remaining credit to my new email.", "billing-transfer"),
        ("sourcehut", "点数", "我赞助的点数能否移动到我的新号上", "billing-transfer"),
        ("sourcehut", "PayPal fails", "Receiving: PayPal could not process your payment. Please try again.", UNCLASSIFIED),
        ("sourcehut", "Licence", "How do I move my license to a different site address? I rebuilt the site.", UNCLASSIFIED),
        ("sourcehut", "Moving a VM", "How do I move a VM from my personal subscription to another subscription at work?", UNCLASSIFIED),
        ("sourcehut", "退款接口", "我看到退款接口没有实现，我可以自己实现吗？", UNCLASSIFIED),
        ("cacert", "Removing user", "How can I remove a mail user from the server?", UNCLASSIFIED),
        ("cacert", "Unregistering an account", "Is there a way to unregister someone's account?", UNCLASSIFIED),
        // The same round's forms, tried as an attacker would before they
        // shipped: the account taken off a list or something of the
        // account's; a question about what the service would do; an
        // account the writer wants something else done on; unregistered
        // from a login; a bank's account; a lock-out that is over; a
        // payment that is not ours.
        ("sourcehut", "mailing list", "Could you remove my account from the sr.ht-discuss mailing list? I get too much mail.", UNCLASSIFIED),
        ("sourcehut", "secondary email", "Could you please remove my account's old secondary email address? It bounces now.", UNCLASSIFIED),
        ("sourcehut", "Question about inactivity", "Will you delete my account if I don't log in for a year? I travel a lot.", UNCLASSIFIED),
        ("cacert", "Why", "Why would you close my account? I got an email saying it will be closed for missing assurances.", UNCLASSIFIED),
        ("sourcehut", "403", "The account I want to remove an old SSH key from gives a 403 on the delete link. Can you have a look?", UNCLASSIFIED),
        ("cacert", "OpenID", "How do I unregister my account from the OpenID login at the wiki? I keep the CAcert account.", UNCLASSIFIED),
        ("sourcehut", "Bank", "Please transfer my credits to my new account number at the bank, IBAN DE00 1234.", UNCLASSIFIED),
        ("sourcehut", "2FA", "Yesterday I couldn't log in with my 2FA code for about an hour, but it works again now. No action needed.", UNCLASSIFIED),
        ("sourcehut", "Car loan", "I couldn't make the final payment on my car loan this month. Can I get an extension?", UNCLASSIFIED),
        // Banking77's train queries no rule had read (one hash half of the
        // half never run): a refund asked after is no request for one; a
        // payment the writer already cancelled is done; a bank's customer
        // paying for "something", a wallet app that will not work; and
        // charges shown twice, as a bank's customers put them.
        ("sourcehut", "", "When can I expect my refund? I was told it was issued.", UNCLASSIFIED),
        ("sourcehut", "", "Why haven't I received a refund yet?", UNCLASSIFIED),
        ("sourcehut", "", "I was refunded for the order already, thanks.", UNCLASSIFIED),
        ("sourcehut", "", "I cancelled my card payment yesterday.", UNCLASSIFIED),
        ("sourcehut", "", "I wanted to buy something online but my card got declined twice. What is wrong with it?", UNCLASSIFIED),
        ("sourcehut", "", "I can't get google pay to work right.", UNCLASSIFIED),
        ("sourcehut", "", "Why does my payment show up twice? Please take one of them back.", "refund"),
        ("sourcehut", "", "I see the same transaction over and over again on my statement. Can you fix it?", "refund"),
        // A refund already owed, asked after ("I need my refund"), is no
        // new one asked for; asking for the money back still is.
        ("sourcehut", "", "I need my refund as soon as possible. What else do I have to do?", UNCLASSIFIED),
        ("sourcehut", "", "We still want our refund, it has been two weeks.", UNCLASSIFIED),
        ("sourcehut", "", "I was charged for a year by mistake, I need a refund please.", "refund"),
        // The twenty-third round (the twenty-first set read). Requests: a
        // card refused while renewing; no other way to buy in Chinese; a
        // country named; money back in Russian with a word between; a
        // community's new hub. Not requests: an account to get back; a
        // feature to allow deletion; the ability to change usernames.
        ("sourcehut", "Renewal declined", "My card is suddenly being declined when I try to renew my subscription. My bank sees no problem.", "cannot-pay"),
        ("sourcehut", "付款", "信用卡刷不過，有沒有其他購買管道？我有微信支付", "cannot-pay"),
        ("sourcehut", "Payment", "Paying from Egypt does not work for me, please help.", "cannot-pay"),
        ("sourcehut", "Возврат", "Я купила подписку, но сайт не работает. Прошу вернуть потраченные деньги.", "refund"),
        ("2i2c", "Making a hub for Skyline College", "", "infrastructure"),
        ("cacert", "Recovering a deactivated account", "My account is deactivated and I want to recover it. Is it possible to reactivate it?", UNCLASSIFIED),
        ("cacert", "Allow accounts to be deleted from the website", "", UNCLASSIFIED),
        ("sourcehut", "Usernames", "Will you open up the ability to change usernames in the future?", UNCLASSIFIED),
        // The twenty-second and twenty-third rounds' Banking77 and r21
        // forms, tried as an attacker would: a country in a story, a
        // till's developer, money already returned, a hub of one's own are
        // not requests; a refund asked after an old one, a deletion that
        // cannot be undone, a country with no way to pay still are.
        ("sourcehut", "Address", "Please update the address on my payment details: I moved from Ukraine to Poland in March. The card stays the same.", UNCLASSIFIED),
        ("sourcehut", "收银", "我在写一个收银系统，卡刷不过的时候应该显示什么提示比较好？", UNCLASSIFIED),
        ("sourcehut", "Вопрос закрыт", "Спасибо, вы уже вернули все деньги, всё пришло на карту. Вопрос закрыт.", UNCLASSIFIED),
        ("2i2c", "Course", "I'm a lecturer at the University of Toronto and I'm making a hub for my course on our department's own server.", UNCLASSIFIED),
        ("sourcehut", "Refund", "I was refunded once before, for the wrong plan. This time I was charged for a year I didn't want; I would like a refund.", "refund"),
        ("sourcehut", "Close", "Please delete my account. I understand it cannot be reactivated afterwards.", "account-deletion"),
        ("cacert", "Close", "I would like my account to be deleted. I understand it cannot be reactivated.", "account-deletion"),
        ("sourcehut", "Payment", "i need to pay from the uae but there is no option for it", "cannot-pay"),
        // Older forms, tried as an attacker would: a rename wished for
        // someday but not now, a wallet refused at a shop's till, a refund
        // received and thanked for, a vendor's refund with nothing for us
        // to do, a script's duplicate rows are not requests; a deletion
        // asked for with its deactivation, and never to be undone, is.
        ("sourcehut", "Usernames", "Will you add the ability to change usernames in the future? I'd like to rename my org account someday but not now.", UNCLASSIFIED),
        ("sourcehut", "Google Pay", "I can't get Google Pay to work on my phone at the supermarket, the card is declined every time. Is this your system?", UNCLASSIFIED),
        ("sourcehut", "Refund received", "I was refunded for the duplicate charge last week, thanks. Please also confirm my subscription is still active.", UNCLASSIFIED),
        ("sourcehut", "Cancelled order", "I cancelled the order with the hardware vendor and they will refund me; nothing for you to do, I just wanted to explain why the CI runner is offline.", UNCLASSIFIED),
        ("sourcehut", "Duplicate rows", "Since the migration my CSV script records the same charge repeatedly in the export. It's hosted in my repo on git.sr.ht, can you tell me why the build fails?", UNCLASSIFIED),
        ("sourcehut", "Close my account", "Please deactivate and delete my account, and do not reactivate it even if someone asks.", "account-deletion"),
        ("cacert", "Close my account", "Please deactivate and delete my account, and do not reactivate it even if someone asks.", "account-deletion"),
        // Lookalikes of every sensitive procedure, written as an attacker
        // and a customer would: a deletion or refund asked after, denied
        // (in German, Spanish, French), retracted, supposed, or built into
        // the writer's own app; 2FA set up or working again; aid already
        // granted, a bank's bills, a blog post; a placeholder or a word
        // after "est" is no secret. An account no longer needed, a
        // ~handle, 2FA lost in Chinese and Russian, hardship in Japanese,
        // a charge to be reversed are requests; "ich kann mein Konto nicht
        // löschen" asks for the deletion it cannot do.
        ("sourcehut", "deletion status", "Has my account been deleted yet? I requested deletion on 3 March and I still get notification emails.", UNCLASSIFIED),
        ("cacert", "deletion status", "I asked for account deletion last week, did it go through? Nothing has changed on my side.", UNCLASSIFIED),
        ("sourcehut", "authenticator", "Please ignore my earlier mail about being locked out, the authenticator works again after I fixed the phone's clock.", UNCLASSIFIED),
        ("sourcehut", "export first", "I was going to ask you to delete my account but I figured out how to export my repos, so I'll keep it for now.", UNCLASSIFIED),
        ("cacert", "keep account", "I don't want my account deleted, only the certificate for mail.example.org that I no longer use.", UNCLASSIFIED),
        ("sourcehut", "Konto", "Ich möchte mein Konto NICHT löschen, ich habe nur eine Frage zu den Build-Minuten.", UNCLASSIFIED),
        ("sourcehut", "Suppression", "Que se passe-t-il avec mes dépôts si je supprime mon compte ?", UNCLASSIFIED),
        ("sourcehut", "Django", "I'm writing a Django app and need a 'delete my account' view that also removes uploaded files. Any pointers?", UNCLASSIFIED),
        ("sourcehut", "goodbye", "Time to say goodbye. Please delete ~jane and everything associated with it.", "account-deletion"),
        ("sourcehut", "done", "I'm done with sourcehut. Close it all down: account, repos, lists.", "account-deletion"),
        ("sourcehut", "no longer needed", "I no longer need my sourcehut account, please remove it.", "account-deletion"),
        ("cacert", "wiki typo", "The wiki page on account deletion has a typo in step 3.", UNCLASSIFIED),
        ("sourcehut", "2FA enable", "Wie aktiviere ich die Zwei-Faktor-Authentifizierung für mein Konto?", UNCLASSIFIED),
        ("sourcehut", "两步验证", "我的手机丢了，无法获取两步验证码，登录不了，请帮忙关闭二次验证。", "2fa-disable"),
        ("sourcehut", "Вход", "Потерял телефон с приложением для двухфакторной аутентификации, не могу войти.", "2fa-disable"),
        ("sourcehut", "new phone", "Lost my phone but I had backup codes and got in fine. Should I re-enroll 2FA with the new phone now?", UNCLASSIFIED),
        ("sourcehut", "lost my job", "I lost my job last month and can't keep paying. Is there any way to keep my account?", "cannot-pay"),
        ("sourcehut", "Wartung", "Ich kann mir keine längere Ausfallzeit leisten. Wie oft gibt es Wartungsfenster?", UNCLASSIFIED),
        ("sourcehut", "can't pay bills", "I can't pay my bills with my card, it keeps saying transaction not allowed.", UNCLASSIFIED),
        ("sourcehut", "financial aid", "How does financial aid work for open source projects? I'm writing a blog post comparing forges.", UNCLASSIFIED),
        ("sourcehut", "Re: cannot pay", "Thanks for approving the financial aid last month. Just confirming it renews automatically next year?", UNCLASSIFIED),
        ("sourcehut", "discount", "We're a tiny nonprofit running on donations. Is there a discount?", "cannot-pay"),
        ("sourcehut", "支払い", "学生でお金がなく、有料プランを払えません。", "cannot-pay"),
        ("sourcehut", "not a refund", "I'm not asking for a refund, I just want an invoice for the charge from 12 May.", UNCLASSIFIED),
        ("sourcehut", "Списание", "С меня дважды списали оплату, верните, пожалуйста, деньги.", "refund"),
        ("sourcehut", "prorated?", "Would I get a prorated refund if I downgraded from the $10 to the $5 tier?", UNCLASSIFIED),
        ("sourcehut", "charged twice? no", "I thought I was charged twice but one was my bank's authorisation hold, it disappeared. Sorry for the noise.", UNCLASSIFIED),
        ("sourcehut", "退款进度", "我的退款什么时候到账？已经申请一周了。", UNCLASSIFIED),
        ("sourcehut", "April charge", "I cancelled my plan in March and was still charged in April. I would like that reversed.", "refund"),
        ("sourcehut", "salary", "I want to switch my salary payments to my new account at your bank.", UNCLASSIFIED),
        ("sourcehut", "new address", "I moved to a new city last month; please update the billing address on my invoices.", UNCLASSIFIED),
        ("2i2c", "mot de passe", "Mon mot de passe est refusé sur le hub depuis hier.", UNCLASSIFIED),
        ("2i2c", "config placeholder", "In the docs the field is called api_key: YOUR_KEY_HERE. Should we replace that ourselves in the notebook?", UNCLASSIFIED),
        ("sourcehut", "Konto", "Ich kann mein Konto nicht löschen, bitte löschen Sie es für mich.", "account-deletion"),
        // Other projects' issue reports and pull requests (a stack trace,
        // an issue opened, a webhook handler, an app's login to remove, an
        // admin asking about a user's 2FA) and a secret that is none (an
        // environment variable, a rejected password) are not requests;
        // CAcert's list and arbitration mail (a case, a digest, a reply of
        // the team, a friend's question, the association's membership)
        // are not deletions, and a deletion asked in French, Dutch or
        // German without umlauts is one.
        ("sourcehut", "Deleting account crashes", "When I delete my account the server logs this stack trace:\nNoMethodError in AccountsController#destroy", UNCLASSIFIED),
        ("sourcehut", "2FA lockout on Android", "Lost my phone, now I can't log in to the app with 2FA. logcat: E/TotpFragment: invalid secret", UNCLASSIFIED),
        ("sourcehut", "Opening an issue: can't delete my account", "Opening an issue because I can't delete my account in the desktop client, the dialog never closes.", UNCLASSIFIED),
        ("sourcehut", "Chargeback handling in our SaaS", "We got our first chargeback today and realized we have no process. I want to add a dispute.created webhook handler that freezes the account. Any prior art in this codebase?", UNCLASSIFIED),
        ("sourcehut", "Re: [owncloud/android] deleting account", "I want to delete my account from the ownCloud Android app (not from the server, just remove it from the app list) but the long-press menu doesn't show Remove anymore.", UNCLASSIFIED),
        ("sourcehut", "Forgejo: admin cannot disable 2FA for user via CLI", "`forgejo admin user reset-2fa --username bob` isn't a command. How do I disable two-factor for a user who is locked out? Forgejo 1.21.", UNCLASSIFIED),
        ("2i2c", "JupyterHub: GitHubOAuthenticator client secret in config", "I have c.GitHubOAuthenticator.client_secret = os.environ['GITHUB_CLIENT_SECRET'] in jupyterhub_config.py but login fails with 'bad_verification_code'. JupyterHub 4.0.2 on our university cluster.", UNCLASSIFIED),
        ("2i2c", "[zero-to-jupyterhub] admin password in config.yaml", "hub:\n  config:\n    DummyAuthenticator:\n      password: a-shared-secret\nThis works locally but on our cluster login fails. z2jh 3.2.1.", UNCLASSIFIED),
        ("2i2c", "token undefined", "I get token: undefined in the browser console when my hub restarts.", UNCLASSIFIED),
        ("2i2c", "Reset password: new password is rejected", "Entered new password: Winter2024! and it says it doesn't meet the policy, but it has upper, lower, digit and symbol. Our Authentik instance 2023.10.", UNCLASSIFIED),
        ("2i2c", "weak password", "We tried password: abc12345 and got 'password too weak' from the signup form.", UNCLASSIFIED),
        ("cacert", "Account closed?", "Support told me my account was closed last year. Could it be restored? I need it again.", UNCLASSIFIED),
        ("cacert", "Still waiting", "I asked support to close my account in May and never heard back.", UNCLASSIFIED),
        ("cacert", "Remove admin access", "Please close my admin account on the webdb host; my member account stays.", UNCLASSIFIED),
        ("cacert", "CAcert Community Agreement question", "Does terminating the CCA mean my account is closed? Or can I keep the account without agreeing to the CCA?", UNCLASSIFIED),
        ("cacert", "Frage: wie lösche ich ein Konto?", "Ein Bekannter fragt, wie man ein CAcert-Konto löscht. Wohin soll er schreiben?", UNCLASSIFIED),
        ("cacert", "Demande de suppression", "Je voudrais que mon compte soit supprimé. Merci d'avance.", "account-deletion"),
        ("cacert", "Verzoek tot verwijdering", "Ik wil graag dat mijn account en al mijn gegevens verwijderd worden.", "account-deletion"),
        ("cacert", "Re: deceased father", "Please delete the account of my deceased father. He was an assurer. I attach the death certificate.", UNCLASSIFIED),
        ("cacert", "Konto bitte schließen", "Guten Tag, bitte schließen Sie mein Konto. Ich brauche es nicht mehr.", "account-deletion"),
        ("cacert", "Account loeschen", "Hallo, ich moechte meinen Account loeschen lassen. Danke.", "account-deletion"),
        ("cacert", "Vraag", "Ik wil niet dat mijn account verwijderd wordt, alleen mijn certificaat.", UNCLASSIFIED),
        ("cacert", "Re: a20190815.2 - delete account request", "Hi,\n\nas arbitrator in this case I need to confirm the identity of the member before the account can be deleted. Please send me a scan of your ID.\n\nBest regards, Arbitrator", UNCLASSIFIED),
        ("cacert", "Re: please delete my account", "> Please delete my account\n\nDear member, we received your request. Since you have given assurances, your request was forwarded to arbitration as a20230808.1.\n\nSupport", UNCLASSIFIED),
        ("cacert", "Statistics: deleted accounts", "In 2023, 312 accounts were deleted under the precedent and 14 via individual arbitration.", UNCLASSIFIED),
        ("cacert", "Question: account deletion procedure", "How long does the account deletion procedure take? A friend of mine asked and I couldn't find it on the wiki.", UNCLASSIFIED),
        ("cacert", "Re: Please delete my account (wrong list)", "Hi, this is cacert-devel, a developers' list. To close your account write to support@cacert.org. Cheers.", UNCLASSIFIED),
        ("cacert", "cacert-support Digest, Vol 12, Issue 5", "Today's Topics:\n 1. Please delete my account (John)\n 2. password (Eve)\n\nMessage: 1\nPlease delete my account.\n\nMessage: 2\nI forgot my password.", UNCLASSIFIED),
        ("cacert", "Verzoek doorgestuurd", "Een gebruiker vroeg op de lijst om zijn account te verwijderen. Ik stuur het door naar support.", UNCLASSIFIED),
        ("cacert", "Re: [cacert-policy] CCA 3.3", "> a Member may terminate this agreement by closing the account\n\nBut closing the account is not self-service. I suggest 'by requesting the closure of the account'.", UNCLASSIFIED),
        ("cacert", "Membership of CAcert Inc.", "I would like to end my membership of the association CAcert Inc. (the paid membership). My user account should stay active.", UNCLASSIFIED),
        ("cacert", "Résiliation adhésion association", "Je souhaite résilier mon adhésion à l'association CAcert Inc. Mon compte utilisateur doit rester actif.", UNCLASSIFIED),
        // The twenty-second set read: a hub's configuration asked for in
        // its own words, and the hub's values file as a sign of ours; a
        // chart of one's own is neither.
        ("2i2c", "Update the default URL in temple.values.yaml", "", "infrastructure"),
        ("2i2c", "Add two admin users to leap staging.values.yaml", "", "infrastructure"),
        ("2i2c", "Permit the physics group on the temple hub", "", "infrastructure"),
        ("2i2c", "values.yaml of my own chart: add admin users", "", UNCLASSIFIED),
        // A refund asked for where the button is missing; a subscription
        // moved to another device is no billing transfer; one of two
        // accounts made by mistake, to go.
        ("sourcehut", "Trial", "The trial ended after a week and I was charged. I want a refund, but there is no refund button.", "refund"),
        ("sourcehut", "Subscription", "Why can't we transfer our subscription to another device? We won't buy it twice!", UNCLASSIFIED),
        ("sourcehut", "Two accounts", "I made two accounts by accident and would like the one on my old address deleted.", "account-deletion"),
        ("cacert", "Two accounts", "I made two accounts by accident and would like the one on my old address deleted.", "account-deletion"),
        // Everyday mail read (Enron-Spam's enron1 and enron3): an office's
        // exceptions, a pipeline's loop and a terror alert are no code
        // question, nor a bank customer's "how do I use my card"; a
        // seller's "or your money back" and an advance-fee letter's
        // millions ask us for nothing; neither does a shop's "contra
        // reembolso" (cash on delivery).
        ("2i2c", "Meter exception report", "The meter exception report for March shows three allocation exceptions. Can the desk look at them before close?", UNCLASSIFIED),
        ("2i2c", "Pipeline", "The loop on the north pipeline is down for maintenance until Monday.", UNCLASSIFIED),
        ("2i2c", "Alert", "The terror alert level was raised today, the office closes at noon.", UNCLASSIFIED),
        ("2i2c", "", "How do I use my card abroad?", UNCLASSIFIED),
        ("sourcehut", "Lose ten pounds", "Lose ten pounds in a week or you get your money back! I tried it myself and I want my friends to know.", UNCLASSIFIED),
        ("sourcehut", "Tónico capilar", "El producto es enviado contra reembolso y al valor del mismo hay que adicionarle los gastos de envío.", UNCLASSIFIED),
        ("sourcehut", "Colis", "Livraison contre remboursement possible, paiement à la réception.", UNCLASSIFIED),
        ("sourcehut", "Reembolso", "Quiero un reembolso de mi último pago, me cobraron dos veces.", "refund"),
        ("sourcehut", "Urgent assistance", "I am the widow of a diamond trader. The consignment holds 38 million dollars and we do not have any money to claim it. I need your help.", UNCLASSIFIED),
        // Banking77's train split read: a refund under way or already
        // made, a payment someone else stopped, a transfer sent astray are
        // not ours to refund; a charge made twice in the bank's words is.
        ("sourcehut", "", "What is taking so long with my refund for the annual plan?", UNCLASSIFIED),
        ("sourcehut", "", "My refund for the annual plan has not hit my card yet.", UNCLASSIFIED),
        ("sourcehut", "", "The refund is missing from my statement.", UNCLASSIFIED),
        ("sourcehut", "", "Is the charge from last week going to be refunded to my card?", UNCLASSIFIED),
        ("sourcehut", "", "It looks like my payment was refunded, but I don't know why.", UNCLASSIFIED),
        ("sourcehut", "", "Why did you reverse my payment yesterday?", UNCLASSIFIED),
        ("sourcehut", "", "I transferred money to the wrong account number by accident, can you cancel the transaction?", UNCLASSIFIED),
        ("sourcehut", "Why did you cancel", "Why did you cancel my subscription? I want a refund for the remaining months.", "refund"),
        ("sourcehut", "", "Why do I have two charges? It should only be one charge.", "refund"),
        ("sourcehut", "", "My statement has a repeat charge for the same plan.", "refund"),
        // An adversary's lookalikes of those rules: a refund promised and
        // asked for again, a payment for the writer's other account, a
        // customer quoting "risk free" still ask for money back; a
        // standing order and an invoice's line items do not.
        ("sourcehut", "", "You promised me a refund two weeks ago and it has not come through. Please refund me now.", "refund"),
        ("sourcehut", "", "I paid my subscription to the wrong account by mistake (~olduser instead of ~newuser). Could you refund that payment?", "refund"),
        ("sourcehut", "", "Your page said risk free, but I was charged $50 immediately. I want my money back.", "refund"),
        ("sourcehut", "", "Can you set up a repeat payment for our org each month instead of me paying manually?", UNCLASSIFIED),
        ("sourcehut", "", "There should be one charge on the invoice, not two line items, for our accountant. Could you merge them into one line?", UNCLASSIFIED),
        ("sourcehut", "", "¿Puedo pagar la suscripción contrarreembolso? No tengo tarjeta de crédito.", UNCLASSIFIED),
        ("2i2c", "", "My code worked yesterday and today it prints nothing at all. I didn't change anything.", "out-of-scope"),
        ("2i2c", "", "Our auditors raised an exception on the Q3 grant report. Can you send the signed invoices?", UNCLASSIFIED),
        // Phishing in German, French and Spanish: in other languages as
        // in English, naming a topic (free of charge, a second factor,
        // money back, a deletion) asks us for nothing; the writer's own
        // ask or lock-out does.
        ("sourcehut", "Ihr kostenloses Paket", "Fordern Sie jetzt Ihr kostenloses Notfallpaket an! Klicken Sie bitte auf den Knopf unten.", UNCLASSIFIED),
        ("sourcehut", "", "Ich bin arbeitslos und kann mir das Abo nicht mehr leisten. Gibt es eine Möglichkeit?", "cannot-pay"),
        ("sourcehut", "Neue Sicherheitsrichtlinie", "Sehr geehrte Kundin, sehr geehrter Kunde, wir haben die Zwei-Faktor-Authentifizierung verbessert. Bei Fragen wenden Sie sich bitte an unseren Kundenservice.", UNCLASSIFIED),
        ("sourcehut", "Zwei-Faktor", "Ich habe mein Handy verloren und kann mich nicht mehr anmelden. Bitte die Zwei-Faktor-Authentifizierung deaktivieren.", "2fa-disable"),
        ("sourcehut", "Double authentification", "Bonjour, j'ai changé de téléphone et je n'arrive plus à me connecter : pouvez-vous désactiver la double authentification ?", "2fa-disable"),
        ("sourcehut", "Dateilöschung geplant", "Ihr Speicher wurde deaktiviert. Ohne aktiven Tarif droht die endgültige Löschung Ihrer Dateien.", UNCLASSIFIED),
        ("sourcehut", "Kontolöschung", "Hallo, bitte um Löschung meines Kontos. Danke!", "account-deletion"),
        ("sourcehut", "Votre crédit", "Trouvez votre crédit idéal : remboursement sur 84 mois à taux fixe, réponse immédiate.", UNCLASSIFIED),
        ("sourcehut", "Remboursement", "Bonjour, je voudrais être remboursé de mon abonnement annuel, merci.", "refund"),
        ("sourcehut", "Política de reembolsos", "Los reembolsos se procesan en un plazo de 14 días hábiles desde la recepción del producto.", UNCLASSIFIED),
        ("sourcehut", "Reembolso", "Hola, solicito el reembolso de mi suscripción, gracias.", "refund"),
        ("sourcehut", "Rückerstattung", "Ich möchte bitte eine Rückerstattung für das Jahresabo.", "refund"),
        // The same in the other languages the pack reads: a notice that
        // threatens the reader's account, a newsletter's way out, a
        // refund waiting to be claimed are no one's request; the writer's
        // own ask is.
        ("sourcehut", "Wichtig", "Ihr Konto wird gelöscht, wenn Sie Ihre Daten nicht bestätigen.", UNCLASSIFIED),
        ("sourcehut", "Уведомление", "Ваш аккаунт будет удален, если вы не подтвердите данные в течение 24 часов.", UNCLASSIFIED),
        ("sourcehut", "Удаление", "Удалите, пожалуйста, мой аккаунт.", "account-deletion"),
        ("sourcehut", "账户通知", "您的账户将被删除，请立即验证您的信息。", UNCLASSIFIED),
        ("sourcehut", "注销", "您好，请注销我的账号", "account-deletion"),
        ("sourcehut", "Aviso importante", "Su cuenta será cancelada si no verifica sus datos. Cancelaremos su cuenta en 24 horas.", UNCLASSIFIED),
        ("sourcehut", "メールマガジン", "今週の新商品をご紹介します。退会をご希望の方はこちら", UNCLASSIFIED),
        ("sourcehut", "退会", "退会したいです。よろしくお願いします。", "account-deletion"),
        ("sourcehut", "退款通知", "您有一笔退款待领取，请点击链接填写银行卡信息。", UNCLASSIFIED),
        ("sourcehut", "退款", "请帮我退款，谢谢", "refund"),
        ("sourcehut", "返金のお知らせ", "返金手続きが完了していません。こちらからカード情報を入力してください。", UNCLASSIFIED),
        ("sourcehut", "返金", "返金をお願いします。先月のお支払いです。", "refund"),
        ("sourcehut", "Возврат средств", "Вам положен возврат средств. Заполните форму по ссылке, чтобы получить деньги.", UNCLASSIFIED),
        ("sourcehut", "Возврат", "Здравствуйте, прошу возврат средств за подписку.", "refund"),
        ("sourcehut", "Cobro duplicado", "Se le ha cobrado dos veces. Haga clic aquí para solicitar su reembolso.", UNCLASSIFIED),
        ("sourcehut", "Konto", "Twoje konto zostanie usunięte w ciągu 24 godzin. Zweryfikuj dane.", UNCLASSIFIED),
        ("sourcehut", "뉴스레터", "이번 주 소식입니다. 회원 탈퇴는 여기를 클릭하세요.", UNCLASSIFIED),
        ("sourcehut", "탈퇴", "회원 탈퇴 요청합니다.", "account-deletion"),
        // An adversary's requests near those rules: thanks to the reader
        // ("Danke für Ihre Hilfe", 请您) and a question put to the reader
        // are a request's, not a notice's; a refund asked as a question;
        // the second factor removed from the account is not the account
        // removed; a stolen phone and no way into a bank names no second
        // factor of ours.
        ("sourcehut", "Kontolöschung", "Können Sie das Konto zu dieser Mailadresse löschen? Danke für Ihre Hilfe.", "account-deletion"),
        ("sourcehut", "账号注销", "您好，请您帮忙注销这个邮箱对应的账号，谢谢。", "account-deletion"),
        ("sourcehut", "Аккаунт", "Добрый день. Удалите, пожалуйста, аккаунт, привязанный к этой почте. Спасибо за вашу помощь.", "account-deletion"),
        ("sourcehut", "Remboursement", "Bonjour, j'ai souscrit à l'abonnement annuel par erreur. Est-il possible d'être remboursé ?", "refund"),
        ("sourcehut", "Zwei-Faktor", "Guten Tag, ich habe ein neues Telefon und die Codes aus der App sind weg. Könnten Sie die Zwei-Faktor-Anmeldung für mein Konto entfernen?", "2fa-disable"),
        ("sourcehut", "Handy gestohlen", "Mein Handy wurde gestohlen und ich kann mich nicht mehr einloggen, weder bei PayPal noch bei meiner Bank. Was macht man da?", UNCLASSIFIED),
        ("sourcehut", "탈퇴 문의", "회원 탈퇴 처리 부탁드립니다. 더 이상 사용하지 않습니다.", "account-deletion"),
        // Customer queries (customer-queries.tsv's tune half): a plan's
        // name or an oath before "account", and the account asked to be
        // removed as "it", are the writer's own; a cancellation fee and
        // cancelling orders as a kind ask for no money back.
        ("sourcehut", "", "I want to remove a premium account", "account-deletion"),
        ("sourcehut", "", "need help deleting the fucking user account", "account-deletion"),
        ("sourcehut", "", "I do not use my secondary account, I need help canceling it", "account-deletion"),
        ("cacert", "", "I do not use my secondary account, I need help canceling it", "account-deletion"),
        ("cacert", "", "I have a problem with the cancellation of an online account", "account-deletion"),
        ("sourcehut", "", "where do I check the cancellation fees?", UNCLASSIFIED),
        ("sourcehut", "", "I want information about canceling orders", UNCLASSIFIED),
        ("sourcehut", "", "Please cancel my last payment, it was a mistake.", "refund"),
        // An order to cancel with no word of money is a person's to read
        // (Banking77 calls it a refund, Bitext an order to stop); with the
        // money asked back it is a refund.
        ("sourcehut", "", "I would like to cancel my order", UNCLASSIFIED),
        ("sourcehut", "", "can you help me cancel the last order?", UNCLASSIFIED),
        ("sourcehut", "", "I want to cancel my order and get a refund, please.", "refund"),
        ("sourcehut", "", "Please cancel my order and give me my money back.", "refund"),
        // The second sample, read after its look: an account not wanted,
        // then asked to be removed as "it"; how to get a refund.
        ("sourcehut", "", "I don't want my online account, how can I close it?", "account-deletion"),
        ("sourcehut", "", "I don't want my account to be public, how do I change it?", UNCLASSIFIED),
        ("sourcehut", "", "where do I obtain a reimbursement?", "refund"),
        // A letter left out, two swapped, one typed twice: the pack's words
        // read through the slip ("Misspelt words"); a real word is not one.
        ("sourcehut", "", "please deelte my acount", "account-deletion"),
        ("sourcehut", "", "I want a reund for my last paymnet", "refund"),
        ("cacert", "", "I changed my mind, cancle my user account", "account-deletion"),
        ("sourcehut", "", "I want to move my account to the remote server", UNCLASSIFIED),
        // An account already gone, told as what happened to it, is a
        // complaint or the opposite request: never a deletion to draft.
        ("sourcehut", "", "My account was deleted yesterday and I don't know why.", UNCLASSIFIED),
        ("sourcehut", "", "Hi, the account was deleted by mistake, can you restore it?", UNCLASSIFIED),
        ("cacert", "", "My account got deleted, can I get it back?", UNCLASSIFIED),
        ("cacert", "", "My account has been deleted without warning. Why?", UNCLASSIFIED),
        ("sourcehut", "", "I want my account deleted.", "account-deletion"),
        // The same of the other sensitive procedures: a second factor or
        // billing already changed, or changed by someone else, is a
        // thank-you, a complaint or a break-in; money to give back is not
        // money asked for.
        ("sourcehut", "", "Someone disabled my two-factor authentication without my consent! Was my account hacked?", UNCLASSIFIED),
        ("sourcehut", "", "My 2FA was reset yesterday and I did not ask for it. What happened?", UNCLASSIFIED),
        ("sourcehut", "", "Thanks, my two-factor authentication is disabled now and I can log in again.", UNCLASSIFIED),
        ("sourcehut", "", "My 2FA device was stolen, please reset my 2FA", "2fa-disable"),
        ("sourcehut", "", "The billing was transferred to my new account already, thanks!", UNCLASSIFIED),
        ("sourcehut", "", "Why was my billing information transferred to another account? I did not ask for this.", UNCLASSIFIED),
        ("sourcehut", "", "Please transfer my subscription to my new account", "billing-transfer"),
        ("sourcehut", "", "You refunded me twice by mistake, how can I send the money back?", UNCLASSIFIED),
        // What a review of those rules wrote against them: a Danish word
        // that is a slip of "delete", a name in code, "it" that is not
        // the account, accounts as a kind, a repository to restore before
        // the account goes, a newsletter's refund, one already granted.
        ("sourcehut", "", "Hvordan tilføjer jeg en bruger til den delte konto?", UNCLASSIFIED),
        ("sourcehut", "", "Delete ACount items starting at AIndex crashes", UNCLASSIFIED),
        ("sourcehut", "", "There is a stale SSH key on my account, please remove it.", UNCLASSIFIED),
        ("cacert", "", "There is an old e-mail address on my account that I no longer have access to, please remove it.", UNCLASSIFIED),
        ("cacert", "", "I added a second domain to my account by mistake, please delete it.", UNCLASSIFIED),
        ("sourcehut", "", "I don't want my account's subscription to renew, please cancel it.", UNCLASSIFIED),
        ("sourcehut", "", "Thanks for the upgrade offer, but I don't need the paid account.", UNCLASSIFIED),
        ("sourcehut", "", "Is it true you will end free accounts next year?", UNCLASSIFIED),
        ("sourcehut", "", "I accidentally deleted a repository, could you restore it? After that, please delete my account.", "account-deletion"),
        ("sourcehut", "", "Newsletter: how to get a refund from airlines in 2024. Unsubscribe here.", UNCLASSIFIED),
        ("sourcehut", "", "I requested a refund last week and it was approved. Where do I get my refund, on the card or PayPal?", UNCLASSIFIED),
        ("sourcehut", "", "I was charged for a plan I never ordered, send me my money!", "refund"),
        // A refund already had, thanked for or named as done.
        ("sourcehut", "", "My refund arrived today, thanks a lot!", UNCLASSIFIED),
        ("sourcehut", "", "You already refunded me, please ignore my previous email.", UNCLASSIFIED),
        ("sourcehut", "", "My refund arrived but it was only half, please refund the rest", "refund"),
        // No card, in a buyer's other words: a way to pay asked for.
        ("sourcehut", "PayPal?", "Well I dont have a credit card but would really like to buy the paid plan.", "cannot-pay"),
        ("sourcehut", "", "I don't have a credit card but I have a balance in my PayPal, can I send that to activate my subscription?", "cannot-pay"),
        ("sourcehut", "", "I do not have a credit card. Can I use gittip to receive donations?", UNCLASSIFIED),
        ("sourcehut", "", "My students don't have credit cards. Can we send them invites to our project?", UNCLASSIFIED),
        ("sourcehut", "", "Don't have a credit card? No problem! It's easier to pay with your phone at any store.", UNCLASSIFIED),
        ("sourcehut", "", "I don't have a credit card. Is it OK if I pay with PayPal?", "cannot-pay"),
        ("sourcehut", "", "Ich habe keine Kreditkarte. Kann ich per Überweisung bezahlen?", "cannot-pay"),
        ("sourcehut", "", "Following up on my refund request. To be clear, I'd like a full refund of the $50 annual charge.", "refund"),
        ("sourcehut", "", "Do I qualify for a refund?", UNCLASSIFIED),
        // Seed 001 refunds a user who "asks for a refund": one who asks
        // what the policy is, when one may be asked for, or where one
        // already asked for has got to, asks a person a question.
        ("sourcehut", "", "Could you show me your refund policy?", UNCLASSIFIED),
        ("sourcehut", "", "I need help checking your money back policy, please", UNCLASSIFIED),
        ("sourcehut", "", "In what cases can I ask for a refund?", UNCLASSIFIED),
        ("sourcehut", "", "Do I get a full refund in case I cancel my plan?", UNCLASSIFIED),
        ("sourcehut", "", "How can I track my refund?", UNCLASSIFIED),
        ("sourcehut", "", "Are there any updates on my refund?", UNCLASSIFIED),
        ("sourcehut", "", "Has my reimbursement been processed?", UNCLASSIFIED),
        // A policy named by a writer who asks goes by the ask.
        ("sourcehut", "", "I checked your refund policy and I would like a refund for last month.", "refund"),
        ("sourcehut", "", "I need a refund. In what cases can I ask for one?", "refund"),
        ("sourcehut", "Refund Policy", "Is it possible for me to refund the premium? My brother bought it under my account by accident.", "refund"),
        ("sourcehut", "", "Please refund me; if the yearly fee is refundable I'd like the whole amount back.", "refund"),
        ("sourcehut", "", "Refund the $20 please, and send me an update on the refund when it's done.", "refund"),
        ("sourcehut", "", "Could you send me your refund policy?", UNCLASSIFIED),
        ("sourcehut", "", "Did my refund go through?", UNCLASSIFIED),
        ("sourcehut", "", "Am I eligible for a refund if I cancel after 20 days?", UNCLASSIFIED),
        // Banking77's other half read: a payment "doubled" or made "two
        // time" by mistake (not two time slots bought); a charge asked to be removed as "can one of the charges be
        // removed"; a refund asked for in the imperative, as a title would
        // put it. Where the refund can be asked for is still a notice.
        ("sourcehut", "", "One of my payments was doubled this month.", "refund"),
        ("sourcehut", "", "My card payment for the subscription was made two time by mistake, please remove one.", "refund"),
        ("sourcehut", "", "Can one of the two charges be removed so I get the money back?", "refund"),
        ("sourcehut", "Refund request", "Request a full refund for my last subscription charge. It renewed without my intention.", "refund"),
        ("sourcehut", "", "You can request a refund within 30 days of a payment.", UNCLASSIFIED),
        ("sourcehut", "Time slots", "I paid for two time slots in the build queue, how do I use the second?", UNCLASSIFIED),
    ];
    let mut wrong = Vec::new();
    for (pack, subject, body, want) in cases {
        let c = packs[pack].classify(&message(subject, body));
        if c.procedure != want {
            wrong.push(format!("{pack}: {subject:?} {body:?}: want {want}, got {} ({})", c.procedure, c.words.join(", ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The precision guard (daemon/classify/guard.rs), one sentence a rule: a
/// sensitive route needs the writer's own request, and the guard says in
/// `held_back` (shown by `classify --json`) which sign stopped it.
#[test]
fn the_precision_guard_holds_back_talk_about_sensitive_topics() {
    let packs = packs();
    let cases = [
        // A bug report that mentions 2FA is not a 2FA lockout.
        ("2FA broken", "I lost my phone and I am locked out of my account, 2FA codes fail\n```\nerror: invalid totp\n```", Some("code block")),
        // A stack trace under a refund request makes it a bug report.
        ("", "Please refund me, I was charged twice\nTraceback (most recent call last):\n  File \"pay.py\", line 3", Some("stack trace")),
        // A version number and a log line together are a report's shape.
        ("", "I want a refund, I was charged twice since v2.1\n2024-05-01 10:00 payment retried", Some("version number, log line")),
        // A request about other users' accounts is not the writer's deletion.
        ("", "Please delete the accounts of users who have been inactive for a year", Some("other people")),
        // The writer's own request passes, even when it mentions other people.
        ("", "Please delete my account, the other users of our team stay", None),
        // One sign of a report alone is not a report: a version number in a refund request.
        ("", "I was charged twice for the 2.0.1 plan, please refund me", None),
    ];
    let mut wrong = Vec::new();
    for (subject, body, held) in cases {
        let c = packs["sourcehut"].classify(&message(subject, body));
        let ok = match held {
            Some(sign) => c.procedure == UNCLASSIFIED && c.held_back.as_deref().is_some_and(|h| h.contains(sign)),
            None => c.procedure != UNCLASSIFIED,
        };
        if !ok {
            wrong.push(format!("{subject:?} {body:?}: want held back by {held:?}, got {} ({:?})", c.procedure, c.held_back));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every query of Banking77's train split (tests/learn-data/) whose hash
/// puts it in the tune half, not only the few per intent sampled into
/// banking77.tsv: the bank mail the sourcehut pack's precision was tuned
/// on. Labels as in scripts/real-corpus (banking77.tsv's, where the query
/// is there). Tune text only: no held-out figure comes from here.
fn banking77_tune_half() -> Vec<Item> {
    banking77_train(true)
}

/// Banking77's train queries of one hash half (`tune`: the tune half's;
/// else the other), labelled as in [`banking77_tune_half`].
fn banking77_train(tune: bool) -> Vec<Item> {
    let labels: BTreeMap<String, String> = tsv("banking77.tsv").into_iter().map(|r| (r[4].clone(), r[2].clone())).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/learn-data/banking77-train.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for (n, record) in triaged::classify::request::csv_records(&text).into_iter().enumerate().skip(1) {
        let [query, intent] = &record[..] else { panic!("{}: record {n}: not two fields", path.display()) };
        let intent = intent.as_str();
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if (sha2::Sha256::digest(query.as_bytes())[0] % 2 == 0) != tune {
            continue;
        }
        let label = labels.get(&query).cloned().unwrap_or_else(|| {
            match intent {
                "request_refund" | "transaction_charged_twice" => "refund",
                "terminate_account" => "account-deletion",
                _ => UNCLASSIFIED,
            }
            .to_string()
        });
        out.push(Item {
            source: format!("banking77-train.csv record {n} ({intent})"),
            half: if tune { "tune" } else { "other" }.into(),
            round: "r1",
            pack: "sourcehut".into(),
            label,
            subject: String::new(),
            body: query,
        });
    }
    out
}

#[test]
fn banking77_train_tune_half_meets_the_measured_floors() {
    let scores = measure(&packs(), banking77_tune_half(), |_, pack, msg| pack.classify(msg));
    table(&scores);
    // Measured when set (docs/CLASSIFICATION-LOG.md, "Real text"). Since the
    // pack's model learned Banking77's other queries as no procedure,
    // "Can I change my name? I am not married." no longer went to
    // account-rename; since it learned the twelfth to fourteenth sets'
    // renames it does again, with "How do I change my name?" (0.91,
    // 0.93): to a sourcehut mailbox, what account-rename answers; to a
    // bank, as Banking77 labels them, no procedure of ours.
    // Since the customer queries' round one more request, and since the
    // pack's model learned CLINC150's queries two fewer wrong routes.
    // Six fewer requests since a refund policy asked about, or how long a
    // refund takes, is no request ("Refunds asked after"). Three fewer
    // since an order cancelled with no word of money goes to a person
    // ("An order to cancel is no refund").
    let floors: Floors<'_> = &[("sourcehut", "tune", 228.0 / 242.0, 228.0 / 230.0, 2)];
    assert_floors(&scores, floors);
}

/// Customer queries to a shop's or a service's support, Bitext's
/// (customer-queries.tsv, scripts/real-customer-queries): one line each,
/// labelled from their intent. Measured once whole before any rule read
/// them (docs/CLASSIFICATION-LOG.md, "Customer queries"); the tune half's rows
/// are printed, the held-out half's never.
#[test]
fn customer_queries_meet_the_measured_floors() {
    let mut items = issue_items("customer-queries.tsv", "customer-queries");
    // The second sample (customer-queries-sealed.tsv), sealed: looked at
    // once after the round that read the first's tune half, read since.
    items.extend(sealed_items("customer-queries-sealed.tsv", "customer-queries-sealed"));
    if let Some(half) = only_half() {
        items.retain(|i| i.half == half);
    }
    let scores = measure(&packs(), items, |_, pack, msg| pack.classify(msg));
    table(&scores);
    // At the one look, before any rule read them: sourcehut 275/322,
    // 275/283, 8 (tune) and 239/270, 239/249, 10 (held-out); CAcert
    // 120/159 and 109/139, all routes right. Since the round that read
    // the tune half (plans and oaths before "account", an account
    // removed as "it", no cancellation fee or orders as a kind), and
    // since misspelt words are read (one more each). No wrong route since
    // an order cancelled with no word of money goes to a person ("An
    // order to cancel is no refund"): 3 and 4 before.
    let floors: Floors<'_> = &[
        ("sourcehut customer-queries", "tune", 284.0 / 322.0, 1.0, 0),
        ("sourcehut customer-queries", "held-out", 243.0 / 270.0, 1.0, 0),
        ("cacert customer-queries", "tune", 127.0 / 159.0, 1.0, 0),
        ("cacert customer-queries", "held-out", 112.0 / 139.0, 1.0, 0),
        ("2i2c customer-queries", "tune", 1.0, 1.0, 0),
        ("2i2c customer-queries", "held-out", 1.0, 1.0, 0),
        // The second sample's one look, after that round: sourcehut
        // 1713/2048, 1713/1722, 9 (1657/2048, 1657/1675, 18 with the rules
        // before it); CAcert 850/905 (823/905), all right; 2i2c 11 routes,
        // all to the forum. Read since: an account not wanted and then
        // asked to be removed as "it", how or where to get a refund; and
        // misspelt words (sourcehut 1883 -> 1907, CAcert 850 -> 859); less
        // since a review's wrong routes were closed ("I don't want my
        // account" needs the phrase to end there; 1895 and 855).
        ("sourcehut customer-queries-sealed", "held-out", 1895.0 / 2048.0, 1895.0 / 1903.0, 8),
        ("cacert customer-queries-sealed", "held-out", 855.0 / 905.0, 1.0, 0),
        ("2i2c customer-queries-sealed", "held-out", 1.0, 1.0, 0),
    ];
    assert_floors(&scores, floors);
}

/// Requests to an assistant and a bank, none of them ours (clinc.tsv,
/// CLINC150): every route is wrong. The tune half's are printed, the
/// held-out half's (CLINC150's whole test split) never.
#[test]
fn assistant_queries_get_few_routes() {
    let mut items = issue_items("clinc.tsv", "clinc");
    if let Some(half) = only_half() {
        items.retain(|i| i.half == half);
    }
    let scores = measure(&packs(), items, |_, pack, msg| pack.classify(msg));
    table(&scores);
    // At the one look (docs/CLASSIFICATION-LOG.md, "Assistant and bank
    // queries"): tune 8 routes, 3 of them sensitive; held-out 16, 7
    // sensitive. Since: a bank account's activity, money sent between
    // accounts or owed for taxes are no request, and the pack's model
    // learned the tune half as no procedure (no more "tell me my name" to
    // account-rename).
    // Since refunds followed up or asked about are no request, one fewer.
    // Every route is wrong and sensitive, so the ceilings bound both.
    assert_route_ceilings(&scores, "clinc", &[("sourcehut", "tune", 1), ("sourcehut", "held-out", 6)]);
}

/// A sealed set after its one look, halved by a hash of each text: the
/// even half read (`tune`, printed), the other kept unread (`held-out`,
/// measured only before and after a round). `REAL_HALF` keeps one half.
fn halved_after_look(file: &str, round: &'static str) -> Vec<Item> {
    let mut items = sealed_items(file, round);
    for item in &mut items {
        if sha2::Sha256::digest(item.body.as_bytes())[0] % 2 == 0 {
            item.half = "tune".into();
        }
    }
    if let Some(half) = only_half() {
        items.retain(|i| i.half == half);
    }
    items
}

/// Fails when a pack routes more of a round's half than `most`: for sets
/// whose every row is `unclassified`, where each route is a wrong draft.
fn assert_route_ceilings(scores: &BTreeMap<(String, String), Score>, round: &str, ceilings: &[(&str, &str, usize)]) {
    for &(pack, half, most) in ceilings {
        let Some(s) = scores.get(&(format!("{pack} {round}"), half.to_string())) else {
            assert!(only_half().is_some_and(|h| h != half), "{pack} {round} {half}: no items");
            continue;
        };
        assert!(s.routed <= most, "{pack} {round} {half}: {} routes, at most {most} measured", s.routed);
    }
}

/// Refunds asked after, not asked for (refunds-asked-after.tsv): Bitext's
/// queries about a refund's state and the refund policy, `unclassified`
/// for every pack. Sealed, looked at once whole (sourcehut routed 694 of
/// the 1,360 to `refund`), then halved (docs/CLASSIFICATION-LOG.md, "Refunds
/// asked after").
#[test]
fn refunds_asked_after_are_not_routed() {
    let scores = measure(&packs(), halved_after_look("refunds-asked-after.tsv", "refunds-asked-after"), |_, pack, msg| pack.classify(msg));
    table(&scores);
    // Before the rules read the tune half, sourcehut routed 340 of its
    // 685 queries and 354 of the held-out half's 675, all to `refund`.
    // Since a review's probes (refunds followed up, eligibility asked), 17.
    let ceilings = [("sourcehut", "tune", 4), ("sourcehut", "held-out", 17), ("cacert", "tune", 0), ("cacert", "held-out", 0), ("2i2c", "tune", 0), ("2i2c", "held-out", 0)];
    assert_route_ceilings(&scores, "refunds-asked-after", &ceilings);
}

/// Customer queries as they come (customer-queries-rest.tsv): Bitext's
/// queries of every intent that asks nothing of sourcehut or CAcert, none
/// of them in the other customer sets. Every route is wrong. Sealed,
/// looked at once whole, then halved (docs/CLASSIFICATION-LOG.md, "Customer
/// queries as they come").
#[test]
fn customer_queries_as_they_come_get_few_routes() {
    let scores = measure(&packs(), halved_after_look("customer-queries-rest.tsv", "customer-queries-rest"), |_, pack, msg| pack.classify(msg));
    table(&scores);
    // At the one look: sourcehut 78 routes of 5,487, every one an order
    // to cancel (75 to `refund`, as Banking77's `request_refund` counts
    // "I would like to cancel my order"; 3 "I can't pay for my last
    // order" to `cannot-pay`); CAcert 2 of 6,342, accounts switched
    // (since read as such; "change to anmother one" still routes).
    // Since an order cancelled with no word of money goes to a person
    // ("An order to cancel is no refund"), sourcehut's left are 3 "I
    // can't pay for my last order" and "I want to cancel a purchase".
    let ceilings = [("sourcehut", "tune", 4), ("sourcehut", "held-out", 4), ("cacert", "tune", 0), ("cacert", "held-out", 1)];
    assert_route_ceilings(&scores, "customer-queries-rest", &ceilings);
}

/// Issue 16's measure on the customer queries: the team's model learns
/// customer-queries.tsv's tune half (each query's label, `unclassified`
/// as "no procedure"), and its held-out half is classified by rules and
/// model. The second sample, read by the rules, is not learned or scored
/// here.
#[test]
fn learning_customer_queries_from_the_tune_half() {
    let packs = packs();
    let all = issue_items("customer-queries.tsv", "customer-queries");
    let run = |settings: LearningConfig, dir: &Path| {
        let learners = learners_of(&packs, dir, settings, all.iter().filter(|i| i.half == "tune"));
        let held_out: Vec<Item> = all.iter().filter(|i| i.half == "held-out").cloned().collect();
        measure(&packs, held_out, |name, pack, msg| learners[name].classify(pack, msg).0)
    };
    let dir = tempfile::tempdir().unwrap();
    println!("rules + model, learning.sensitive_needs_rule_sign = false:");
    let loose = run(LearningConfig { sensitive_needs_rule_sign: false, ..LearningConfig::default() }, &dir.path().join("loose"));
    table(&loose);
    println!("rules + model, the defaults:");
    let scores = run(LearningConfig::default(), &dir.path().join("defaults"));
    table(&scores);
    // Measured when set (docs/CLASSIFICATION-LOG.md, "Customer queries"):
    // rules alone 242/270 and 112/139. One more since misspelt words are
    // read. The four wrong sourcehut routes were the rules' (an order to
    // cancel, sent to refund), gone since an order cancelled with no word
    // of money goes to a person: issue 16's warm target (recall at least
    // 95%, precision at least 98%, no sensitive misroute) met on this text.
    let floors: Floors<'_> = &[
        ("sourcehut customer-queries", "held-out", 258.0 / 270.0, 1.0, 0),
        ("cacert customer-queries", "held-out", 127.0 / 139.0, 1.0, 0),
        ("2i2c customer-queries", "held-out", 1.0, 1.0, 0),
    ];
    assert_floors(&scores, floors);
}

/// Issue 16's benchmark: the model learns every item of the tuned half
/// (its label, or "no procedure"), with the shipped learning settings, and
/// the held-out half is classified by rules and model together. The
/// figures for the tuned half are the model's own training data: shown,
/// not claimed.
/// A learner per pack that learned every item of the tuned half.
fn learners(packs: &BTreeMap<String, Pack>, dir: &Path, settings: LearningConfig) -> BTreeMap<String, Learner> {
    let started = std::time::Instant::now();
    // The first two sets' tune rows, as when the floors below were set.
    let tune: Vec<Item> = items().into_iter().filter(|i| i.half == "tune" && matches!(i.round, "r1" | "r2")).collect();
    let learners = learners_of(packs, dir, settings, &tune);
    println!("learned {} examples in {:?}", tune.len(), started.elapsed());
    learners
}

/// A learner per pack, in a fresh store under `dir`, that learned each of
/// `items` (its label, `unclassified` as "no procedure") for its pack.
fn learners_of<'a>(
    packs: &BTreeMap<String, Pack>,
    dir: &Path,
    settings: LearningConfig,
    items: impl IntoIterator<Item = &'a Item>,
) -> BTreeMap<String, Learner> {
    let learners: BTreeMap<String, Learner> = packs
        .keys()
        .map(|name| {
            let store = Store::open(&dir.join(name)).expect("a fresh store opens");
            (name.clone(), Learner::open(&store, settings).unwrap())
        })
        .collect();
    for item in items {
        let features = Features::of_message(&message(&item.subject, &item.body)).hashes();
        let example = Example { label: item.label.clone(), source: item.source.clone(), added: jiff::Timestamp::now(), features };
        learners[&item.pack].learn(&example).unwrap();
    }
    learners
}

#[test]
fn learning_from_the_tuned_half_helps_on_the_held_out_half() {
    let packs = packs();
    let dir = tempfile::tempdir().unwrap();
    // What a team that lets the model route into sensitive procedures on
    // learned words alone would get: shown, for the trade it is.
    let loose = LearningConfig { sensitive_needs_rule_sign: false, ..LearningConfig::default() };
    let learners_loose = learners(&packs, &dir.path().join("loose"), loose);
    println!("rules + model, learning.sensitive_needs_rule_sign = false:");
    table(&measure(&packs, items(), |name, pack, msg| learners_loose[name].classify(pack, msg).0));

    let learners = learners(&packs, &dir.path().join("defaults"), LearningConfig::default());
    println!("rules + model, the defaults:");
    let scores = measure(&packs, items(), |name, pack, msg| learners[name].classify(pack, msg).0);
    table(&scores);
    // Measured when set (docs/CLASSIFICATION-LOG.md, "Learning: the real set").
    let floors: Floors<'_> = &[
        // Lowered with the rules' floors by the sixth round's measured
        // trade, and by the request model's; three more routed since a
        // request taught before stands in for the rules' sign; four more
        // since the twenty-second round's Banking77 rules; two fewer since
        // a refund policy asked about is no request; one fewer since an
        // order cancelled with no word of money goes to a person; three
        // more with the rules' (a payment "doubled", a charge asked to be
        // removed, a refund asked for in the imperative).
        ("sourcehut", "held-out", 218.0 / 242.0, 218.0 / 220.0, 2),
        ("2i2c", "held-out", 33.0 / 44.0, 41.0 / 42.0, 0),
        ("sourcehut r2", "held-out", 13.0 / 17.0, 13.0 / 13.0, 0),
        ("2i2c r2", "held-out", 13.0 / 18.0, 17.0 / 18.0, 0),
        // The third set, tune text since the fourth round, so learned with
        // the rest of the tune half (the model no longer routes a complaint
        // that there is "no way to recover" into 2fa-disable: negated words
        // are their own features).
        ("sourcehut r3", "tune", 32.0 / 34.0, 32.0 / 32.0, 0),
        ("2i2c r3", "tune", 19.0 / 24.0, 25.0 / 26.0, 0),
        // Other projects' issue reports, with the model (the defaults);
        // one more sensitive route since the pack's model learned r12 to r14.
        ("sourcehut foreign-issues", "held-out", 3.0 / 4.0, 3.0 / 9.0, 5),
        ("2i2c foreign-issues", "held-out", 1.0, 1.0, 0),
        // The eleventh set, with the model (the defaults): read since its
        // look and learned by the shipped models.
        ("sourcehut r11", "held-out", 25.0 / 28.0, 25.0 / 28.0, 2),
        ("2i2c r11", "held-out", 18.0 / 19.0, 18.0 / 18.0, 0),
        // "Eliminare accont": read through its slip since "Misspelt words".
        ("cacert r11", "held-out", 2.0 / 3.0, 2.0 / 3.0, 1),
        // The twelfth to fourteenth sets, with the model (the defaults):
        // learned by the shipped models since the fifteenth set was sealed.
        ("sourcehut r12", "held-out", 32.0 / 43.0, 32.0 / 36.0, 1),
        ("2i2c r12", "held-out", 14.0 / 14.0, 15.0 / 15.0, 0),
        ("cacert r12", "held-out", 3.0 / 4.0, 3.0 / 3.0, 0),
        ("sourcehut r13", "held-out", 39.0 / 47.0, 39.0 / 40.0, 0),
        ("2i2c r13", "held-out", 14.0 / 18.0, 15.0 / 18.0, 0),
        ("cacert r13", "held-out", 5.0 / 6.0, 5.0 / 5.0, 0),
        ("sourcehut r14", "held-out", 29.0 / 35.0, 29.0 / 33.0, 2),
        ("2i2c r14", "held-out", 19.0 / 21.0, 19.0 / 23.0, 0),
        ("cacert r14", "held-out", 6.0 / 7.0, 6.0 / 7.0, 1),
        // The fifteenth set, with the model (the defaults): read since the
        // seventeenth round.
        ("sourcehut r15", "held-out", 23.0 / 28.0, 23.0 / 25.0, 0),
        ("2i2c r15", "held-out", 18.0 / 26.0, 18.0 / 19.0, 0),
        ("cacert r15", "held-out", 10.0 / 10.0, 10.0 / 10.0, 0),
        // The sixteenth set, with the model (the defaults): its one look
        // 19/32, 19/22, 0; 14/26, 14/15, 0; 7/10, 7/10, 3. Read since the
        // eighteenth round.
        ("sourcehut r16", "held-out", 30.0 / 32.0, 30.0 / 32.0, 0),
        ("2i2c r16", "held-out", 19.0 / 26.0, 19.0 / 20.0, 0),
        ("cacert r16", "held-out", 9.0 / 10.0, 9.0 / 10.0, 1),
        // The seventeenth set, with the model (the defaults): its one look
        // 16/25, 16/18, 0; 17/26, 17/18, 0; 9/10, 9/11, 2. Read since the
        // nineteenth round.
        ("sourcehut r17", "held-out", 24.0 / 25.0, 24.0 / 26.0, 0),
        ("2i2c r17", "held-out", 22.0 / 26.0, 22.0 / 22.0, 0),
        ("cacert r17", "held-out", 10.0 / 10.0, 10.0 / 10.0, 0),
        // The eighteenth set, read since its one look, with the model.
        ("sourcehut r18", "held-out", 24.0 / 32.0, 24.0 / 26.0, 0),
        ("2i2c r18", "held-out", 20.0 / 27.0, 20.0 / 20.0, 0),
        ("cacert r18", "held-out", 7.0 / 9.0, 7.0 / 8.0, 1),
        // The nineteenth set, read by the rules since its one look
        // (14/27, 14/14 for 2i2c with the model then), with the model.
        ("sourcehut r19", "held-out", 17.0 / 27.0, 17.0 / 20.0, 1),
        ("2i2c r19", "held-out", 16.0 / 27.0, 1.0, 0),
        ("cacert r19", "held-out", 6.0 / 7.0, 6.0 / 6.0, 0),
        // The twentieth set, read by the rules since its one look (13/27,
        // 13/16, 3 for sourcehut with the model then), with the model.
        ("sourcehut r20", "held-out", 21.0 / 27.0, 21.0 / 21.0, 0),
        ("2i2c r20", "held-out", 15.0 / 25.0, 15.0 / 15.0, 0),
        ("cacert r20", "held-out", 5.0 / 6.0, 5.0 / 7.0, 2),
        // The twenty-first set, read by the rules since its one look
        // (16/25 for 2i2c with the model then), with the model.
        ("sourcehut r21", "held-out", 20.0 / 27.0, 20.0 / 20.0, 0),
        ("2i2c r21", "held-out", 17.0 / 25.0, 1.0, 0),
        ("cacert r21", "held-out", 4.0 / 4.0, 4.0 / 6.0, 2),
        // The twenty-second set's one look, after the twenty-fourth round
        // (CAcert 1/6 and 5, 2i2c 11/28 then), read in the twenty-sixth:
        // CAcert 1/4 and 3 since the guard reads a title opening with a
        // developer's verb (2/5 and 3 with one of two accounts to go),
        // 2i2c 13/28 since a hub's configuration and its values file
        // count, sourcehut 7/10, 7/7, 0 (a missing refund button, a
        // subscription moved to a device).
        ("sourcehut r22", "held-out", 7.0 / 10.0, 7.0 / 7.0, 0),
        ("2i2c r22", "held-out", 15.0 / 28.0, 1.0, 0),
        ("cacert r22", "held-out", 2.0 / 3.0, 2.0 / 5.0, 3),
        // A third batch of other projects' usage questions, held out from
        // 2i2c's model: with the team's model too (the defaults).
        ("2i2c questions-3", "held-out", 119.0 / 150.0, 146.0 / 148.0, 2),
        ("2i2c software-questions-3", "held-out", 69.0 / 142.0, 1.0, 0),
        // The fourth set is scored here too but held only by the rules' floors.
    ];
    assert_floors(&scores, floors);
}


/// The set's tune rows, and Banking77's tune-half train queries that are
/// not among them: bank mail is where the model meets most near misses.
fn tune_text() -> Vec<Item> {
    let mut tune: Vec<Item> = all_items().into_iter().filter(|i| i.half == "tune").collect();
    let known: std::collections::BTreeSet<String> = tune.iter().map(|i| i.body.clone()).collect();
    tune.extend(banking77_tune_half().into_iter().filter(|i| !known.contains(&i.body)));
    tune
}

/// Issue 16's measure within the tune half alone (the held-out half is not
/// involved): every other tune item learned, the rest classified by rules
/// and model. This is where the model's guard for sensitive procedures is
/// chosen; its wrong routes are printed, since they are tune text.
#[test]
fn learning_within_the_tune_half() {
    let packs = packs();
    let dir = tempfile::tempdir().unwrap();
    let tune = tune_text();
    let (learned, tested): (Vec<(usize, Item)>, Vec<(usize, Item)>) = tune.into_iter().enumerate().partition(|(n, _)| n % 2 == 0);
    let run = |settings: LearningConfig, name: &str| {
        let learners = learners_of(&packs, &dir.path().join(name), settings, learned.iter().map(|(_, item)| item));
        let tested = tested.iter().map(|(_, i)| i.clone()).collect();
        measure(&packs, tested, |pack, p, msg| learners[pack].classify(p, msg).0)
    };
    let rules = measure(&packs, tested.iter().map(|(_, i)| i.clone()).collect(), |_, pack, msg| pack.classify(msg));
    println!("odd tune rows, rules alone:");
    table(&rules);
    println!("odd tune rows, rules + model (even tune rows learned), learning.sensitive_needs_rule_sign = false:");
    table(&run(LearningConfig { sensitive_needs_rule_sign: false, ..LearningConfig::default() }, "loose"));
    println!("odd tune rows, rules + model (even tune rows learned), the defaults:");
    let scores = run(LearningConfig::default(), "defaults");
    table(&scores);
    // Measured when set (docs/CLASSIFICATION-LOG.md, "Learning: the real set").
    // One request fewer since a refund policy asked about is no request;
    // three fewer since an order cancelled with no word of money goes to
    // a person ("An order to cancel is no refund").
    let floors: Floors<'_> = &[("sourcehut", "tune", 127.0 / 135.0, 127.0 / 128.0, 1), ("2i2c", "tune", 22.0 / 23.0, 24.0 / 24.0, 0)];
    assert_floors(&scores, floors);
}

/// Whose hub with the account path: in the daemon a community
/// representative is a known account, which is a sign of a 2i2c hub. This
/// set has no directory; as a stand-in, the author of a row taken from a
/// 2i2c-org repository counts as a known account (2i2c's communities file
/// there), whatever the row's label, and everyone else as unknown.
/// Measured on the tune half only so far (docs/CLASSIFICATION-LOG.md, "Whose
/// hub").
#[test]
fn whose_hub_with_2i2c_org_authors_as_known_accounts() {
    use triaged::classify::own::Sender;
    let twoi2c: Vec<Item> = items().into_iter().filter(|i| i.pack == "2i2c").collect();
    let packs = packs();
    let known: std::collections::BTreeSet<String> =
        twoi2c.iter().filter(|i| i.source.starts_with("https://github.com/2i2c-org/")).map(|i| format!("{}\n{}", i.subject, i.body)).collect();
    let scores = measure(&packs, twoi2c, |_, pack, msg| {
        let key = format!("{}\n{}", msg.subject, triaged::message::strip_quoted(&msg.text).trim_end());
        let sender = if known.contains(&key) { Sender::Account } else { Sender::Unknown };
        pack.classify_from(msg, sender)
    });
    table(&scores);
    assert_floors(&scores, &[("2i2c", "tune", 40.0 / 41.0, 48.0 / 48.0, 0)]);
}

/// The trials of docs/CLASSIFICATION-LOG.md, "Features and data": the split of
/// [`learning_within_the_tune_half`], learned and tested once per feature
/// set, training data and gate, tune text only. Slow (minutes in a debug
/// build), so run by name:
///
///     REAL_HALF=tune cargo test --test classify model_trials -- --ignored --nocapture
#[test]
#[ignore]
fn model_trials_within_the_tune_half() {
    use triaged::learn::features::FeatureSet;
    let packs = packs();
    let dir = tempfile::tempdir().unwrap();
    let tune = tune_text();
    let (even, odd): (Vec<(usize, Item)>, Vec<(usize, Item)>) = tune.clone().into_iter().enumerate().partition(|(n, _)| n % 2 == 0);
    let (even, odd): (Vec<Item>, Vec<Item>) = (even.into_iter().map(|(_, i)| i).collect(), odd.into_iter().map(|(_, i)| i).collect());
    // Two splits: the odd tune rows after the even ones (text the rules
    // were tuned on, so they leave the model little), and the third set
    // after the whole tune half (read once already, so tune text now, and
    // text the rules miss more of). MODEL_TRIALS=odd or =r3 runs one.
    let r3 = third_set();
    let splits = [("odd tune rows", &even, &odd), ("r3", &tune, &r3)];
    let only = std::env::var("MODEL_TRIALS").ok();
    // The other hash half of Banking77's train split, less every query of
    // banking77.tsv (its held-out rows among them): more bank mail, never
    // a row of the set.
    let in_set: std::collections::BTreeSet<String> = tsv("banking77.tsv").into_iter().map(|r| r[4].clone()).collect();
    let more: Vec<Item> = banking77_train(false).into_iter().filter(|i| !in_set.contains(&i.body)).collect();
    // Each change alone against the features before this round (trigrams,
    // no negation), then all three.
    let before = FeatureSet { longest_ngram: 3, negation: false, subject: false };
    let sets = [
        ("trigrams, no negation (before)", before),
        ("3-5-grams", FeatureSet { longest_ngram: 5, ..before }),
        ("negation (shipped)", FeatureSet { negation: true, ..before }),
        ("subject", FeatureSet { subject: true, ..before }),
        ("all three", FeatureSet { longest_ngram: 5, negation: true, subject: true }),
    ];
    assert_eq!(sets[2].1, FeatureSet::default());
    let names: Option<String> = std::env::var("MODEL_TRIAL_SETS").ok();
    let sensitive = |pack: &str, id: &str| packs[pack].procedure(id).is_some_and(|p| p.sensitive);
    for (split, learned, tested) in splits {
    if only.as_deref().is_some_and(|o| !split.starts_with(o)) {
        continue;
    }
    for (data, extra) in [("tune", &[][..]), ("tune + other Banking77 half", &more[..])] {
        let data = format!("{split}, learned: {data}");
        for (name, set) in sets.into_iter().filter(|(n, _)| names.as_deref().is_none_or(|w| w.split(',').any(|w| n.starts_with(w)))) {
            let settings = LearningConfig { features: set, ..LearningConfig::default() };
            let sub = dir.path().join(format!("{data}-{name}"));
            let learners: BTreeMap<String, Learner> =
                packs.keys().map(|p| (p.clone(), Learner::open(&Store::open(&sub.join(p)).unwrap(), settings).unwrap())).collect();
            let started = std::time::Instant::now();
            for item in learned.iter().chain(extra) {
                let features = Features::of_message_with(&message(&item.subject, &item.body), set).hashes();
                let example = Example { label: item.label.clone(), source: item.source.clone(), added: jiff::Timestamp::now(), features };
                learners[&item.pack].learn(&example).unwrap();
            }
            drop(learners);
            let learners: BTreeMap<String, Learner> =
                packs.keys().map(|p| (p.clone(), Learner::open(&Store::open(&sub.join(p)).unwrap(), settings).unwrap())).collect();
            println!("## {data}, {name}: learned in {:?}", started.elapsed());
            // The model alone where it names a sensitive procedure: right and
            // wrong at each log-odds over "no procedure", rules ignored.
            let steps = [0.0, 5.0, 10.0, 20.0, 40.0];
            let mut alone = vec![(0, 0); steps.len()];
            // Each row once with the shipped gate. What a gate on the log-odds
            // over "no procedure" would add follows from the vote and why it
            // was refused: only a missing rule sign may be outweighed (a tie
            // the rules saw stays a person's question), every other check of
            // `Learner` holds.
            let mut rows: Vec<(String, String, String, Option<(String, f64)>)> = Vec::new();
            for item in tested {
                let (c, _) = learners[&item.pack].classify(&packs[&item.pack], &message(&item.subject, &item.body));
                let unsigned = c.model.as_ref().filter(|o| {
                    o.not_used.as_deref().is_some_and(|w| w.ends_with("(learning.sensitive_needs_rule_sign)") && !w.contains("as likely"))
                });
                let candidate = unsigned.and_then(|o| Some((o.vote.procedure.clone(), o.vote.log_odds?)));
                if c.model.as_ref().is_some_and(|o| o.decided) && !right(&item.pack, &item.label, &c.procedure) {
                    let o = c.model.as_ref().unwrap();
                    println!(
                        "{data} | {name} | the model's wrong route: {} expected {} got {} ({} log-odds {:?}; {}): {:?} {:?}",
                        item.source, item.label, c.procedure, o.vote.probability, o.vote.log_odds, o.vote.words.join(", "), item.subject,
                        item.body.chars().take(200).collect::<String>()
                    );
                }
                rows.push((item.pack.clone(), item.label.clone(), c.procedure.clone(), candidate));
                if let Some(o) = c.model.as_ref().filter(|o| sensitive(&item.pack, &o.vote.procedure)) {
                    for (k, step) in steps.iter().enumerate() {
                        if o.vote.log_odds.is_some_and(|l| l >= *step) {
                            if item.label == o.vote.procedure { alone[k].0 += 1 } else { alone[k].1 += 1 }
                        }
                    }
                }
            }
            for gate in [None, Some(5.0), Some(10.0), Some(20.0), Some(40.0)] {
                for pack in ["sourcehut", "2i2c"] {
                    let mut s = Score::default();
                    for (p, label, got, candidate) in rows.iter().filter(|r| r.0 == pack) {
                        let got = match (gate, candidate) {
                            (Some(g), Some((proc, l))) if *l >= g => proc.as_str(),
                            _ => got.as_str(),
                        };
                        s.requests += usize::from(label != UNCLASSIFIED);
                        s.recalled += usize::from(label != UNCLASSIFIED && got == label);
                        if got != UNCLASSIFIED {
                            s.routed += 1;
                            if right(p, label, got) {
                                s.routed_right += 1;
                            } else {
                                s.sensitive_misroutes += usize::from(sensitive(p, got) || sensitive(p, label));
                            }
                        }
                    }
                    println!(
                        "{data} | {name} | sensitive log-odds gate {gate:?} | {pack} | {}/{} | {}/{} | {}",
                        s.recalled, s.requests, s.routed_right, s.routed, s.sensitive_misroutes
                    );
                }
            }
            let alone: Vec<String> = steps.iter().zip(&alone).map(|(s, (r, w))| format!("≥{s}: {r} right {w} wrong")).collect();
            println!("{data} | {name} | model alone, sensitive votes: {}", alone.join("; "));
        }
    }
    }
}
