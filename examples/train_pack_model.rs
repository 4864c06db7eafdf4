//! Trains a pack's model (`daemon/classify/pack_model.rs`) on the labelled
//! real text in tests/corpus/real and the pack's written mail, and writes
//! it beside the pack, as the daemon reads it:
//!
//!     cargo run --release --example train_pack_model -- 2i2c
//!
//! Run it after a set of that text changes or is looked at;
//! `tests/classify/pack_model.rs` fails until the shipped file is the one
//! the text trains.

use std::path::Path;

use triaged::classify::pack_model::{self, PackModel};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(name) = std::env::args().nth(1) else {
        eprintln!("usage: train_pack_model PACK (a folder of templates/, e.g. 2i2c)");
        std::process::exit(2);
    };
    let fail = |e: String| -> ! {
        eprintln!("error: {e}");
        std::process::exit(1);
    };
    let dir = root.join("templates").join(&name);
    let out = dir.join(pack_model::FILE);
    // The pack as it is, without the model that may be stale (a stale one
    // would stop the pack from loading).
    match std::fs::remove_file(&out) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => fail(format!("cannot remove {}: {e}", out.display())),
        _ => {}
    }
    let pack = triaged::procedures::Pack::load(&dir).map_err(|p| format!("{}: {p:?}", dir.display())).unwrap_or_else(|e| fail(e));
    let examples = pack_model::corpus(root, &name).unwrap_or_else(|e| fail(e));
    let ids = pack_model::trained_procedures(&pack, &examples);
    let started = std::time::Instant::now();
    let model = PackModel::train(&examples, &ids);
    std::fs::write(&out, model.to_bytes()).unwrap_or_else(|e| fail(format!("cannot write {}: {e}", out.display())));
    println!("trained {} procedures ({}) on {} texts in {:.2} s: {}", ids.len(), ids.join(", "), examples.len(), started.elapsed().as_secs_f64(), out.display());
}
