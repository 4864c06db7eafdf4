//! Operator files on arbitrary text: `Config::from_str_at` and
//! `Pack::load` (procedures.toml beside the real sourcehut templates) must
//! answer Ok or a list of problems, never panic. The first byte chooses the
//! file so one corpus drives both.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use triaged::procedures::Pack;
use triaged::config::Config;

/// A scratch pack folder holding the sourcehut templates; only its
/// procedures.toml changes between runs.
fn pack_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/sourcehut");
        for e in std::fs::read_dir(&src).expect("sourcehut pack") {
            let e = e.expect("dir entry");
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy template");
            }
        }
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let dir = pack_dir();
    if which & 1 == 0 {
        let _ = Config::from_str_at(text, &dir.join("triaged.toml"));
    } else {
        std::fs::write(dir.join("procedures.toml"), text).expect("write procedures.toml");
        let _ = Pack::load(dir);
    }
});
