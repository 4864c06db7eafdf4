//! `triaged verify [--json] FILE.eml...`: the verify stage on files, for
//! staff and scripts. One result per file, in order; a file that cannot be
//! read or parsed gives an error line and the others still run.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::{Outcome, Report, Verifier};
use crate::config::Config;
use crate::message::Message;

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
}

#[derive(Serialize)]
struct ErrorLine {
    file: String,
    error: String,
}

/// Prints one JSON object per file per line (`json`), or a table. Returns
/// false when any file could not be checked, or the verifier could not be
/// set up (then every file reports why).
pub async fn verify_files(
    config: &Config,
    files: &[PathBuf],
    json: bool,
    out: &mut (dyn Write + Send),
) -> std::io::Result<bool> {
    let verifier = Verifier::new(config).await;
    let mut all_ok = true;
    for path in files {
        let file = path.display().to_string();
        let result = match &verifier {
            Ok(v) => match Message::read_file(path, &config.limits) {
                Ok(msg) => Ok(v.verify_offline(&msg).await),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(report) if json => {
                serde_json::to_writer(
                    &mut *out,
                    &Line {
                        file,
                        report: &report,
                    },
                )?;
                writeln!(out)?;
            }
            Ok(report) => write_table(out, &file, &report)?,
            Err(error) => {
                all_ok = false;
                if json {
                    serde_json::to_writer(&mut *out, &ErrorLine { file, error })?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{file}: error: {error}\n")?;
                }
            }
        }
    }
    Ok(all_ok)
}

fn write_table(out: &mut (dyn Write + Send), file: &str, r: &Report) -> std::io::Result<()> {
    writeln!(out, "{file}")?;
    writeln!(
        out,
        "  account   {}",
        r.account.as_deref().unwrap_or("(none)")
    )?;
    for (name, f) in r.factors.iter() {
        let word = match f.result {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::None => "none",
        };
        writeln!(out, "  {name:<14} {word:<5} {}", f.reason)?;
    }
    if let Some(arc) = &r.arc {
        writeln!(out, "  arc (advice only)   {arc}")?;
    }
    writeln!(
        out,
        "  => {} of {} factor(s): {}{}\n",
        r.met,
        r.required,
        if r.verified {
            "verified"
        } else {
            "NOT verified"
        },
        if r.temporary {
            " (some checks could not run now; try again)"
        } else {
            ""
        }
    )
}
