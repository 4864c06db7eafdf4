//! The local model's cost in process, without the command line around it:
//! learns the 10,003 messages of tests/learn-data (features, store, counts)
//! and prints how long that took and how much memory the counts hold.
//! Accuracy is measured by `scripts/learn-eval` through the binary.
//! Results: docs/BENCHMARKS.md, "Learning".
//!
//! `cargo run --release --example learn_eval`

use std::time::Instant;

use triaged::classify::UNCLASSIFIED;
use triaged::config::LearningConfig;
use triaged::learn::{Features, Learner};
use triaged::store::{Example, Store};

fn main() {
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/learn-data/banking77-train.csv")).expect("the data set");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store opens");
    let learner = Learner::open(&store, LearningConfig::default()).expect("learner opens");
    let started = Instant::now();
    let mut n = 0;
    // `text,intent`: the intent never holds a comma; a quoted text keeps
    // its quotes, which are not words.
    for (text, intent) in csv.lines().skip(1).filter_map(|l| l.rsplit_once(',')) {
        let label = if intent == "request_refund" { "refund" } else { UNCLASSIFIED };
        let features = Features::of_text("", text).hashes();
        learner.learn(&Example { label: label.into(), source: String::new(), added: jiff::Timestamp::UNIX_EPOCH, features }).expect("learns");
        n += 1;
    }
    store.persist().expect("flush");
    println!("learned {n} examples in {:.2} s; the counts and the sketches hold {:.2} MiB", started.elapsed().as_secs_f64(), learner.footprint() as f64 / 1048576.0);
}
