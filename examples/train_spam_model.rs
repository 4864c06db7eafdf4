//! Trains the content spam model (`daemon/classify/spam.rs`) on
//! tests/learn-data/enron-spam.tsv and the labelled real text, and writes
//! it where the daemon embeds it:
//!
//!     cargo run --release --example train_spam_model
//!
//! Run it after that text changes, then build again; `tests/classify/spam.rs`
//! fails until the shipped file is the one the text trains.

use std::path::Path;

use triaged::classify::spam;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = spam::corpus(root).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let started = std::time::Instant::now();
    let model = spam::train(&examples);
    let out = root.join(spam::FILE);
    std::fs::write(&out, model.to_bytes()).unwrap_or_else(|e| {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    });
    println!("trained the spam model on {} texts in {:.2} s: {}", examples.len(), started.elapsed().as_secs_f64(), out.display());
}
