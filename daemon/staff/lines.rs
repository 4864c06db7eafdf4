//! Every line staff read, rendered here and nowhere else: notices, digests,
//! and the text that makes user-derived fields safe to show (redacted,
//! stripped of line breaks, control, invisible and IRC formatting codes, cut
//! to length). A line too long for one message is split, and every piece
//! after the first starts with our own [`CONTINUED`] mark: a split never
//! makes mail text the start of a line, whatever the sender chose as its
//! "spaces".

use crate::message::{is_blank, is_invisible};

use super::Notice;

const FROM_CHARS: usize = 80;

const SUBJECT_CHARS: usize = 120;

const FIELD_CHARS: usize = 200;

impl Notice {
    /// The line staff read. Never contains CR, LF or control characters.
    pub fn render(&self) -> String {
        let f = |s: &str, n: usize| cut(&shown(s), n);
        let draft = |ready: bool| if ready { " — draft ready in Drafts" } else { "" };
        match self {
            Notice::NewTicket {
                ticket,
                procedure,
                from,
                subject,
                identity,
                draft_ready,
            } => format!(
                "{ticket} {} from {}: \"{}\" — identity: {}{} — !claim {}",
                f(procedure, 60),
                f(from, FROM_CHARS),
                f(subject, SUBJECT_CHARS),
                f(identity, FIELD_CHARS),
                draft(*draft_ready),
                ticket.0
            ),
            Notice::DeadlineFired {
                ticket,
                procedure,
                what,
                draft_ready,
            } => format!(
                "{ticket} deadline reached ({}): {}{}",
                f(procedure, 60),
                f(what, FIELD_CHARS),
                draft(*draft_ready)
            ),
            Notice::Quarantined {
                folder,
                uid,
                from,
                subject,
                reason,
            } => format!(
                "quarantined {} UID {uid} from {}: \"{}\" — {} (see `triaged status`)",
                f(folder, 60),
                from.as_deref()
                    .map(|s| f(s, FROM_CHARS))
                    .unwrap_or_else(|| "(unknown sender)".into()),
                subject.as_deref().map(|s| f(s, SUBJECT_CHARS)).unwrap_or_default(),
                f(reason, FIELD_CHARS)
            ),
            Notice::Answered { ticket, by, warning } => {
                let mut line = format!("{ticket} answered by {}", f(by, FROM_CHARS));
                if let Some(w) = warning {
                    line.push_str(" — warning: ");
                    line.push_str(&f(w, FIELD_CHARS));
                }
                line
            }
            Notice::Text(t) => shown(t),
        }
    }
}

/// Marks a line whose notices were handed to the server before a crash or
/// a lost connection: they may have been posted already. Only such lines
/// carry it, so staff can trust every unmarked line to be a first post.
pub const REPEAT_MARK: &str = "(may be a repeat) ";

/// More waiting new-ticket notices than this are posted as digest lines.
pub const DIGEST_AFTER: usize = 4;

/// One post for a sink that speaks lines: the queued notices it covers
/// (by sequence number) and its line. `waiting` is the queue, oldest
/// first, each with its sequence and whether it was in flight before.
/// Usually the oldest notice alone; when more than [`DIGEST_AFTER`]
/// new-ticket notices wait, as many of them as fit in one digest line of
/// at most `max` bytes. Notices that were in flight go out on their own
/// marked lines, so a possible repeat never hides a first post.
pub fn next_post(waiting: &[(u64, Notice, bool)], max: usize) -> Option<(Vec<u64>, String)> {
    let (_, first, repeat) = waiting.first()?;
    let mark = if *repeat { REPEAT_MARK } else { "" };
    let max = max - mark.len();
    let new: Vec<(u64, &Notice)> = waiting
        .iter()
        .filter(|(_, n, r)| matches!(n, Notice::NewTicket { .. }) && r == repeat)
        .map(|(seq, n, _)| (*seq, n))
        .collect();
    if matches!(first, Notice::NewTicket { .. }) && new.len() > DIGEST_AFTER {
        let notices: Vec<&Notice> = new.iter().map(|(_, n)| *n).collect();
        let (line, taken) = digest(&notices, max).into_iter().next()?;
        return Some((new[..taken].iter().map(|(seq, _)| *seq).collect(), format!("{mark}{line}")));
    }
    Some((vec![waiting[0].0], format!("{mark}{}", first.render())))
}

const DIGEST_TAIL: &str = " — !queue for details";

/// New-ticket notices as digest lines of at most `max` bytes, each with
/// how many of `tickets` (in order) it names: every ticket in exactly one
/// line, as `12 new tickets: #101 account-deletion (alice@example.org), …`.
/// Other notices among `tickets` are left out.
pub fn digest(tickets: &[&Notice], max: usize) -> Vec<(String, usize)> {
    let items: Vec<String> = tickets
        .iter()
        .filter_map(|n| match n {
            Notice::NewTicket { ticket, procedure, from, .. } => Some(format!(
                "{ticket} {} ({})",
                cut(&shown(procedure), 40),
                cut(&shown(from), 60)
            )),
            _ => None,
        })
        .collect();
    // The widest head this digest can need: the count of all of them.
    let head = |n: usize| format!("{n} new ticket{}: ", if n == 1 { "" } else { "s" });
    let budget = max.saturating_sub(head(items.len().max(2)).len() + DIGEST_TAIL.len());
    let mut out = Vec::new();
    let mut rest = &items[..];
    while !rest.is_empty() {
        let mut line = cut_bytes(&rest[0], budget);
        let mut taken = 1;
        for item in &rest[1..] {
            if line.len() + 2 + item.len() > budget {
                break;
            }
            line.push_str(", ");
            line.push_str(item);
            taken += 1;
        }
        out.push((format!("{}{line}{DIGEST_TAIL}", head(taken)), taken));
        rest = &rest[taken..];
    }
    out
}

/// At most `max` bytes, cut on a character boundary, with "…" marking a cut.
pub fn cut_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s[..end].trim_end())
}

/// User text as staff may see it: [`sanitise`]d, then secrets redacted
/// (after, so that a zero-width character inside "pass\u{200b}word: ..."
/// does not hide it from the redaction and then vanish).
pub fn shown(s: &str) -> String {
    crate::classify::sensitive::redact(&sanitise(s))
}

/// `s` made safe for one IRC line: IRC formatting (bold, colours with
/// their digits, reverse, ...), bidi controls and every other invisible
/// character removed, line breaks, tabs and blank look-alikes (U+2800)
/// turned into spaces, other control characters dropped, runs of
/// whitespace collapsed.
pub fn sanitise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut space = false;
    let push = |out: &mut String, c: char, space: &mut bool| {
        if c == ' ' {
            *space = !out.is_empty();
        } else {
            if *space {
                out.push(' ');
                *space = false;
            }
            out.push(c);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            // mIRC colour: ^C[fg[,bg]], one or two digits each.
            '\x03' => skip_colour(&mut chars, |c| c.is_ascii_digit(), 2),
            // Hex colour: ^D[RRGGBB[,RRGGBB]].
            '\x04' => skip_colour(&mut chars, |c| c.is_ascii_hexdigit(), 6),
            '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                push(&mut out, ' ', &mut space)
            }
            c if is_invisible(c) || c.is_control() => {}
            c if is_blank(c) => push(&mut out, ' ', &mut space),
            c => push(&mut out, c, &mut space),
        }
    }
    out
}

fn skip_colour(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, digit: impl Fn(char) -> bool, max: usize) {
    let skip_digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n = 0;
        while n < max && chars.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            n += 1;
        }
        n
    };
    if skip_digits(chars) > 0 && chars.peek() == Some(&',') {
        let mut ahead = chars.clone();
        ahead.next();
        if ahead.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            skip_digits(chars);
        }
    }
}

/// At most `max` characters, with "…" marking a cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Starts every piece of a split line after the first, so that what
/// follows a split is always ours: "↳ #12 (cont.) " when the line is about
/// ticket #12, else "↳ (cont.) ".
pub const CONTINUED: &str = "↳ (cont.) ";

/// Splits a line into pieces of at most `max` bytes, on character
/// boundaries, preferring the last space in the second half of a piece.
/// Pieces after the first start with the continuation mark (see
/// [`CONTINUED`]): the split point may be one the sender chose (a subject
/// of "spaces" that are not spaces, a name padded to push `#77 claimed
/// by bob` to the start of the next line), the start of a line never is.
pub fn split_line(line: &str, max: usize) -> Vec<String> {
    let line = line.trim();
    let mark = continuation_mark(line);
    let max = max.max(mark.len() + 8);
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        let room = if out.is_empty() { max } else { max - mark.len() };
        if rest.len() <= room {
            break;
        }
        let mut end = room;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if let Some(sp) = rest[..end].rfind(' ')
            && sp >= room / 2
        {
            end = sp;
        }
        out.push(rest[..end].trim_end().to_string());
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    for piece in out.iter_mut().skip(1) {
        piece.insert_str(0, &mark);
    }
    out
}

/// The continuation mark for `line`: it names the ticket when the line
/// starts with one (`#12 ...`, `#12: ...`), as all ticket notices do.
fn continuation_mark(line: &str) -> String {
    let digits = line.strip_prefix('#').map(|r| r.bytes().take_while(u8::is_ascii_digit).count()).unwrap_or(0);
    if digits == 0 || digits > 20 {
        return CONTINUED.to_string();
    }
    format!("↳ {} (cont.) ", &line[..=digits])
}

/// "14:02 UTC" today, "2026-11-22 14:02 UTC" on another day.
pub fn when(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let (d, nd) = (
        t.to_zoned(jiff::tz::TimeZone::UTC),
        now.to_zoned(jiff::tz::TimeZone::UTC),
    );
    if d.date() == nd.date() {
        d.strftime("%H:%M UTC").to_string()
    } else {
        d.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// The staff-facing summary of a verification report as stored in
/// `ticket.data["verification"]` (the `verify --json` shape:
/// `account`, `factors.{name}.{result,reason}`, `required`, `met`,
/// `verified`): "verified 2/2 as alice (dkim, pgp)".
pub fn identity_summary(v: &serde_json::Value) -> String {
    identity_text(v, false)
}

/// Like [`identity_summary`], with every factor and its reason.
pub fn identity_report(v: &serde_json::Value) -> String {
    identity_text(v, true)
}

fn identity_text(v: &serde_json::Value, detail: bool) -> String {
    if let Some(s) = v.as_str() {
        return shown(s);
    }
    let Some(obj) = v.as_object() else {
        return "no verification report".into();
    };
    let Some(account) = obj.get("account").and_then(|a| a.as_str()) else {
        return "NOT verified: no account on file for the sender".into();
    };
    let met = obj.get("met").and_then(|m| m.as_u64()).unwrap_or(0);
    let required = obj.get("required").and_then(|m| m.as_u64()).unwrap_or(1);
    let verified = obj.get("verified").and_then(|m| m.as_bool()).unwrap_or(false);
    let mut parts = Vec::new();
    if let Some(factors) = obj.get("factors").and_then(|f| f.as_object()) {
        for (name, f) in factors {
            let result = f.get("result").and_then(|r| r.as_str()).unwrap_or("none");
            if detail {
                let reason = f.get("reason").and_then(|r| r.as_str()).unwrap_or("");
                parts.push(format!("{name} {result}: {}", cut(&shown(reason), 100)));
            } else if result == "pass" {
                parts.push(name.clone());
            }
        }
    }
    let head = format!(
        "{} {met}/{required} as {}",
        if verified { "verified" } else { "NOT verified" },
        cut(&sanitise(account), 40)
    );
    match (parts.is_empty(), detail) {
        (true, _) => head,
        (false, false) => format!("{head} ({})", parts.join(", ")),
        (false, true) => format!("{head}; {}", parts.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::irc;
    use crate::store::TicketId;
    use serde_json::json;

    #[test]
    fn sanitise_strips_line_breaks_colours_and_controls() {
        assert_eq!(sanitise("a\r\nPRIVMSG #x :owned"), "a PRIVMSG #x :owned");
        assert_eq!(
            sanitise("\x0304,12red\x03 \x02bold\x02 \x1funder\x0f"),
            "red bold under"
        );
        assert_eq!(sanitise("\x03,5 keeps comma"), ",5 keeps comma");
        assert_eq!(sanitise("\x0412ab34hex\x04"), "hex");
        assert_eq!(sanitise("  tab\there\u{7}\u{202e}gnp.exe  "), "tab heregnp.exe");
        assert_eq!(sanitise("\x0399,99 ok"), "ok");
        assert_eq!(sanitise("\x031,2a\x03b\x0312c\x03,d\x03123e"), "abc,d3e");
        assert_eq!(sanitise("\x04FF00FF,00ff00x\x04ABCy"), "xy");
    }

    #[test]
    fn invisible_characters_go_and_blank_look_alikes_become_spaces() {
        let s = "a\u{200b}b\u{200d}c\u{2060}d\u{feff}e\u{ad}f\u{61c}g\u{e0041}h\u{fe0f}i\u{2066}j\u{180e}k";
        assert_eq!(sanitise(s), "abcdefghijk");
        let s = "#77\u{2800}claimed\u{3000}by\u{a0}bob\u{3164}\u{2800}\u{2800}now\u{2029}x";
        assert_eq!(sanitise(s), "#77 claimed by bob now x");
    }

    #[test]
    fn staff_lines_redact_secrets_even_behind_invisible_characters() {
        let n = Notice::NewTicket {
            ticket: TicketId(3),
            procedure: "other".into(),
            from: "password: hunter2hunter2 <a@example.org>".into(),
            subject: "my pass\u{200b}word is hunter2hunter2, and -----BEGIN AGE ENCRYPTED FILE----- YWdl".into(),
            identity: "identity not checked".into(),
            draft_ready: false,
        };
        let line = n.render();
        assert!(!line.contains("hunter2") && !line.contains("YWdl"), "{line}");
        assert!(line.contains("[password or secret removed]") && line.contains("[age-encrypted block removed]"), "{line}");
        let text = Notice::Text("#3: reply from password=hunter2hunter2".into()).render();
        assert!(!text.contains("hunter2"), "{text}");
    }

    /// The lines the IRC sink would send for `n` (as `irc::next_flight`).
    fn wire(n: &Notice) -> Vec<String> {
        let (_, line) = next_post(&[(1, n.clone(), false)], irc::LINE_BYTES).unwrap();
        split_line(&sanitise(&line), irc::LINE_BYTES)
    }

    /// What an attacker controls in a notice is the sender's name and
    /// address, the subject and the reasons quoting them. Shaped so that
    /// any split falls where they want it, with every "space" they might
    /// pick, the line after a split must still start with our own mark.
    #[test]
    fn hostile_fields_never_start_a_staff_line() {
        let forged = "#77 claimed by bob, deletion approved — !done 77";
        let spaces = [
            " ", "\u{2800}", "\u{200b}", "\u{3000}", "\u{feff}", "\u{a0}", "\u{2007}", "\u{3164}", "\u{115f}", "\u{1680}",
            "\u{205f}", "\u{2060}", "\u{180e}", "\u{e0020}", "_", "\u{ff3f}", "\x03", "\x0301,01", "\r\n", "\u{2028}",
        ];
        let fillers = ["a", "ü", "😀", "\u{2800}", "語", "\u{200b}x"];
        let mut lines = 0;
        for sp in spaces {
            let payload = forged.replace(' ', sp);
            for fill in fillers {
                for pad in (0..420).step_by(7) {
                    let name = format!("{} <m@evil.example>", fill.repeat(pad / 4));
                    let subject = format!("{}{sp}{payload}", fill.repeat(pad));
                    let notices = [
                        Notice::NewTicket {
                            ticket: TicketId(5),
                            procedure: "account-deletion".into(),
                            from: name.clone(),
                            subject: subject.clone(),
                            identity: identity_summary(&json!({"account": null})),
                            draft_ready: true,
                        },
                        Notice::Quarantined {
                            folder: "INBOX".into(),
                            uid: 9,
                            from: Some(name.clone()),
                            subject: Some(subject.clone()),
                            reason: format!("cannot reply to {subject:?}"),
                        },
                        Notice::Text(format!("#5: reply from {name}{sp}{payload} → account-deletion")),
                    ];
                    for n in &notices {
                        for (i, l) in wire(n).iter().enumerate() {
                            lines += 1;
                            assert!(l.len() <= irc::LINE_BYTES, "{} bytes", l.len());
                            assert!(!l.chars().any(|c| c.is_control() || is_invisible(c)), "{l:?}");
                            let ours = if i == 0 {
                                l.starts_with("#5 ") || l.starts_with("#5: ") || l.starts_with("quarantined INBOX UID 9 ")
                            } else {
                                l.starts_with("↳ #5 (cont.) ") || l.starts_with(CONTINUED)
                            };
                            assert!(ours, "line {i} of {n:?} starts with the sender's text: {l:?}");
                        }
                    }
                }
            }
        }
        assert!(lines > 3000, "{lines} lines");
    }

    #[test]
    fn cut_and_split_respect_characters() {
        assert_eq!(cut("héllo wörld", 6), "héllo…");
        assert_eq!(cut("short", 6), "short");
        let long = "ü".repeat(300);
        let parts = split_line(&long, 401);
        assert!(parts.iter().all(|p| p.len() <= 401));
        assert!(parts[1..].iter().all(|p| p.starts_with(CONTINUED)), "{parts:?}");
        assert_eq!(parts.iter().map(|p| p.trim_start_matches(CONTINUED)).collect::<String>(), long);
        let words = "word ".repeat(200);
        let parts = split_line(&words, 400);
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= 400 && !p.starts_with(' ') && p.ends_with("word"))
        );
        assert_eq!(split_line("", 400), vec![String::new()]);
        let ticket = format!("#12 {}", "x".repeat(500));
        let parts = split_line(&ticket, 400);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with("↳ #12 (cont.) x"), "{}", parts[1]);
    }

    #[test]
    fn new_ticket_renders_on_one_clean_line() {
        let n = Notice::NewTicket {
            ticket: TicketId(12),
            procedure: "account-deletion".into(),
            from: "alice@example.org".into(),
            subject: "Please\r\nQUIT :delete \x0304my\x03 account".into(),
            identity: identity_summary(&json!({
                "account": "alice", "required": 2, "met": 2, "verified": true,
                "factors": {"dkim": {"result": "pass", "reason": "d=example.org"}, "pgp": {"result": "pass", "reason": "key 0x1"}, "ssh": {"result": "none", "reason": "no reply"}}
            })),
            draft_ready: true,
        };
        assert_eq!(
            n.render(),
            "#12 account-deletion from alice@example.org: \"Please QUIT :delete my account\" — identity: verified 2/2 as alice (dkim, pgp) — draft ready in Drafts — !claim 12"
        );
    }

    #[test]
    fn identity_texts() {
        assert_eq!(
            identity_summary(&json!({"account": null})),
            "NOT verified: no account on file for the sender"
        );
        let v = json!({"account": "bob", "required": 2, "met": 1, "verified": false,
            "factors": {"dkim": {"result": "pass", "reason": "aligned"}, "pgp": {"result": "fail", "reason": "bad\nsig"}}});
        assert_eq!(identity_summary(&v), "NOT verified 1/2 as bob (dkim)");
        assert_eq!(
            identity_report(&v),
            "NOT verified 1/2 as bob; dkim pass: aligned; pgp fail: bad sig"
        );
    }

    fn new_ticket(n: u64, procedure: &str, from: &str) -> Notice {
        Notice::NewTicket {
            ticket: TicketId(n),
            procedure: procedure.into(),
            from: from.into(),
            subject: format!("request {n}"),
            identity: "identity not checked".into(),
            draft_ready: true,
        }
    }

    /// Every `#N` named in a line.
    fn named(line: &str) -> Vec<u64> {
        line.split('#').skip(1).filter_map(|p| p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()).collect()
    }

    #[test]
    fn digest_names_each_ticket_once_within_the_line_limit() {
        let hostile = "Mallory\r\nPRIVMSG #x :\x0304owned\x03 \u{202e}";
        let notices: Vec<Notice> = (1..=500)
            .map(|n| match n % 7 {
                0 => new_ticket(n, "account-deletion\r\nQUIT :bye", hostile),
                3 => new_ticket(n, &"ü".repeat(300), &"😀".repeat(300)),
                _ => new_ticket(n, "billing", &format!("User {n} <user{n}@example.net>")),
            })
            .collect();
        let refs: Vec<&Notice> = notices.iter().collect();
        let lines = digest(&refs, 400);
        assert!(lines.len() > 1 && lines.len() < 500, "{} lines", lines.len());
        let mut seen = Vec::new();
        for (line, taken) in &lines {
            assert!(line.len() <= 400, "{} bytes: {line}", line.len());
            assert!(!line.chars().any(|c| c.is_control() || c == '\u{202e}'), "{line:?}");
            assert!(line.starts_with(&format!("{taken} new ticket")), "{line}");
            assert!(line.ends_with(" — !queue for details"), "{line}");
            let n = named(line);
            assert_eq!(n.len(), *taken, "{line}");
            seen.extend(n);
        }
        assert_eq!(seen, (1..=500).collect::<Vec<_>>(), "every ticket exactly once, in order");
        // An IRC command smuggled in a field stays text on the same line.
        assert!(lines.iter().any(|(l, _)| l.contains("account-deletion QUIT :bye")));
    }

    #[test]
    fn few_waiting_go_one_by_one_and_many_as_a_digest() {
        let few: Vec<_> = (1..=4).map(|n| (n, new_ticket(n, "billing", "a@x"), false)).collect();
        let (seqs, line) = next_post(&few, 400).unwrap();
        assert_eq!(seqs, [1]);
        assert_eq!(line, few[0].1.render());

        let mut many: Vec<_> = (1..=6).map(|n| (n, new_ticket(n, "billing", "a@x"), false)).collect();
        many.insert(2, (100, Notice::Text("between".into()), false));
        let (seqs, line) = next_post(&many, 400).unwrap();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            line,
            "6 new tickets: #1 billing (a@x), #2 billing (a@x), #3 billing (a@x), #4 billing (a@x), #5 billing (a@x), #6 billing (a@x) — !queue for details"
        );

        // Notices in flight at a crash: their own line, marked.
        let mut after_crash: Vec<_> = (1..=6).map(|n| (n, new_ticket(n, "billing", "a@x"), n <= 2)).collect();
        after_crash.push((7, Notice::Text("later".into()), false));
        let (seqs, line) = next_post(&after_crash, 400).unwrap();
        assert_eq!(seqs, [1]);
        assert!(line.starts_with(REPEAT_MARK), "{line}");
        let (seqs, line) = next_post(&after_crash[2..], 400).unwrap();
        assert_eq!(seqs, [3]);
        assert!(!line.starts_with(REPEAT_MARK));
        assert_eq!(next_post(&[], 400), None);
    }

    #[test]
    fn when_shows_the_date_only_for_other_days() {
        let now: jiff::Timestamp = "2026-11-23T18:00:00Z".parse().unwrap();
        assert_eq!(when("2026-11-23T14:02:00Z".parse().unwrap(), now), "14:02 UTC");
        assert_eq!(
            when("2026-11-22T14:02:00Z".parse().unwrap(), now),
            "2026-11-22 14:02 UTC"
        );
    }
}
