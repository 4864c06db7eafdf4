//! Trains the request model (`daemon/classify/request.rs`) on the labelled
//! real text in tests/corpus/real and writes the weights the daemon ships:
//!
//!     cargo run --release --example train_request_model
//!
//! Run it after a set of that text changes or is looked at (and added to
//! `request::corpus`); `tests/classify/request_model.rs` fails until the
//! shipped weights are the ones the text trains.

use std::path::Path;

use triaged::classify::request;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = request::corpus(root).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let examples: Vec<_> = corpus.iter().map(|t| (request::features(&t.subject, &t.body), t.request)).collect();
    let requests = examples.iter().filter(|(_, y)| *y).count();
    let started = std::time::Instant::now();
    let (bias, weights) = request::train(&examples);
    let out = root.join("daemon/classify/request_model.bin");
    std::fs::write(&out, request::to_bytes(bias, &weights)).unwrap_or_else(|e| {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    });
    println!(
        "trained on {} texts ({requests} requests, {} others) in {:.2} s: {}",
        examples.len(),
        examples.len() - requests,
        started.elapsed().as_secs_f64(),
        out.display()
    );
}
