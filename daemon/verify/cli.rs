//! `triaged verify [--json] FILE.eml...`: the verify stage on files, for
//! staff and scripts. One result per file, in order; a file that cannot be
//! read or parsed gives an error line and the others still run.
//!
//! Each file is judged as the daemon judges a new request: classified with
//! the configured pack (and what was learned), then checked under that
//! procedure's identity policy, so `verify` and `run` agree on what counts
//! (card digits only for billing matters, two factors for 2FA). With no
//! ticket offline, a reply is read as a new request too.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::conversation::TicketIdentity;
use super::{Outcome, Report, Verifier, accounts};
use crate::config::Config;
use crate::learn::Learner;
use crate::message::Message;
use crate::procedures::{IdentityPolicy, Pack};

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
    /// The procedure whose identity policy `required`, `met` and
    /// `verified` follow.
    procedure: &'a str,
}

/// The procedure `verify` names when the pack did not load.
const NO_PACK: &str = "(pack not loaded)";

/// What the daemon would decide about a file's sender had it opened a
/// ticket: the procedure the pack classifies it as, and the checks under
/// that procedure's identity policy.
struct Judged {
    procedure: String,
    policy: IdentityPolicy,
    /// The message names a ticket (In-Reply-To, References, `[#N]`):
    /// the daemon would judge it under that ticket's procedure instead.
    reply: bool,
    report: Report,
}

/// The daemon's intake for a new request, offline: arrival, classify,
/// verify, and the verdict `TicketIdentity` gives a ticket it opens.
async fn judge(verifier: &Verifier, pack: Option<&Pack>, learner: Option<&Learner>, msg: &Message) -> Judged {
    let arrival = verifier.arrival(msg).await;
    let msg = arrival.message();
    let Some(pack) = pack else {
        // No procedure to take a policy from: the account's own rule (one
        // factor, two with 2FA), card digits not counted.
        let report = verifier.verify_offline(&arrival, false).await;
        return Judged { procedure: NO_PACK.into(), policy: IdentityPolicy::One, reply: false, report };
    };
    let (class, _) = crate::act::classify_new_request(verifier, pack, learner, msg).await;
    let billing = pack.procedure(&class.procedure).is_some_and(|p| p.billing);
    let policy = pack.identity_policy(&class.procedure);
    let mut report = verifier.verify_offline(&arrival, billing).await;
    let address = msg.single_from().map(|a| a.email.clone()).unwrap_or_default();
    let verdict = TicketIdentity::open(&address, &report, &msg.message_id).verdict(policy);
    report.required = verdict.required;
    report.met = verdict.factors.len().min(u32::MAX as usize) as u32;
    report.verified = verdict.verified;
    let reply = !msg.in_reply_to.is_empty()
        || !msg.references.is_empty()
        || crate::classify::rules::ticket_tag(&msg.subject).is_some();
    Judged { procedure: class.procedure, policy, reply, report }
}

#[derive(Serialize)]
struct ErrorLine {
    file: String,
    error: String,
}

/// Prints one JSON object per file per line (`json`), or a table. Returns
/// false when any file could not be checked, or the verifier or the pack
/// could not be set up (then every file reports why).
pub async fn verify_files(
    config: &Config,
    files: &[PathBuf],
    json: bool,
    out: &mut (dyn Write + Send),
) -> std::io::Result<bool> {
    let verifier = Verifier::new(config).await.map_err(|e| e.to_string());
    let pack = crate::classify::cli::load_pack(config).map_err(|e| e.to_string());
    let learner = match (&verifier, &pack) {
        (Ok(_), Ok(_)) => crate::classify::cli::open_learner(config),
        _ => None,
    };
    // The sender's checks need no pack: a pack that fails to load (when an
    // operator most needs `verify`) costs the procedure's policy, said on
    // stderr and in the exit status, not the checks.
    let mut all_ok = true;
    if let (Ok(_), Err(e)) = (&verifier, &pack) {
        eprintln!("triaged: the pack did not load, so each file is judged under the account's own rule, card digits not counted:\n{e}");
        all_ok = false;
    }
    for path in files {
        let file = path.display().to_string();
        let result = match &verifier {
            Ok(v) => match Message::read_file(path, &config.limits) {
                Ok(msg) => Ok(judge(v, pack.as_ref().ok(), learner.as_ref(), &msg).await),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.clone()),
        };
        match result {
            Ok(judged) if json => {
                serde_json::to_writer(
                    &mut *out,
                    &Line {
                        file,
                        report: &judged.report,
                        procedure: &judged.procedure,
                    },
                )?;
                writeln!(out)?;
            }
            Ok(judged) => write_table(out, &file, &judged)?,
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

fn write_table(out: &mut (dyn Write + Send), file: &str, judged: &Judged) -> std::io::Result<()> {
    let r = &judged.report;
    writeln!(out, "{file}")?;
    match r.account.as_deref() {
        Some(account) => writeln!(out, "  account   {account}")?,
        None if r.no_directory => writeln!(out, "  account   (none): {}: {}", accounts::NO_DIRECTORY, accounts::DIRECTORY_FIX)?,
        None => writeln!(out, "  account   (none)")?,
    }
    writeln!(
        out,
        "  procedure {} (identity \"{}\"{})",
        judged.procedure,
        judged.policy.as_str(),
        if judged.reply {
            "; a reply, read as a new request: the daemon judges it under its ticket's procedure"
        } else {
            ""
        }
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
        "  => {} of {} {}: {}{}\n",
        r.met,
        r.required,
        if r.required == 1 { "factor" } else { "factors" },
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
