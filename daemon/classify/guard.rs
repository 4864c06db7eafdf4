//! The precision guard: a route into a sensitive procedure (deletion, 2FA,
//! money, secrets) needs the message to read as a request by its writer
//! about their own account, not as talk about the topic. Word rules fit the
//! phrasings they were written from; these signs are about the shape of the
//! message instead, so they hold on text no rule was tuned on. A message
//! the guard stops is `unclassified` (a person looks), never routed to the
//! runner-up.
//!
//! The signs are words of any language the packs serve; what the guard
//! says names only its signs, never message text (it reaches notices).

use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

/// The writer alone: first-person singular.
static FIRST_SINGULAR: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:i|i['’](?:m|ve|d|ll)|im|ive|me|my|mine|myself|ich|mich|mir|mein\w*|moi|mon|ma|mes|yo|mi|mis|io|mio|mia|miei|ik|mij|mijn|eu|meu|minha|meus|minhas)\b|\bj['’]")
});

/// Other people as the subject: whose account it would be.
static OTHERS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:users|a user|the user|a user['’]s|the user['’]s|users['’]|people|everyone|everybody|someone['’]s|their accounts?|customers|members|nutzer|benutzer|utilisateurs|usuarios)\b")
});

/// Bug-report shape that decides alone: report templates, stack traces,
/// code blocks.
static REPORT_STRONG: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("report template", r"(?i)\b(?:steps to reproduce|to reproduce:|expected (?:behaviou?r|result)|actual (?:behaviou?r|result)|describe the bug|reproduction steps)\b"),
        ("stack trace", r#"(?m)(?:Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(.*\)\s*$|^\s*File "[^"]+", line \d+|panicked at|Exception in thread|^\s*goroutine \d+ \[)"#),
        ("code block", r"(?m)^\s*(?:```|~~~)"),
    ]
    .into_iter()
    .map(|(n, r)| (n, re(r)))
    .collect()
});

/// Bug-report shape where two different signs are needed.
static REPORT_WEAK: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("version number", r"(?i)\bv\d+\.\d+\b|\bversion:?\s*\d+\.\d+|\b\d+\.\d+\.\d{1,3}\b"),
        ("markdown heading", r"(?m)^#{2,6} \S"),
        ("log line", r"(?m)^\s*\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
        ("error line", r"(?im)^\s*(?:error|warning|fatal|exception|err)\b\s*[:\[]"),
        ("link to an issue", r"/(?:issues|pull|merge_requests)/\d+"),
        ("numbered steps", r"(?m)^\s*1[.)]\s+\S.*\n\s*2[.)]\s+\S"),
        ("inline code", r"`[^`\n]{2,}`[^`]*`[^`\n]{2,}`"),
    ]
    .into_iter()
    .map(|(n, r)| (n, re(r)))
    .collect()
});

/// Why a route into a sensitive procedure is held back, or `None` when the
/// message reads as its writer's own request. `text` is what the writer
/// wrote: the subject and the body without quotes.
pub fn hold_sensitive(text: &str) -> Option<String> {
    let strong: Vec<&str> = REPORT_STRONG.iter().filter(|(_, r)| r.is_match(text)).map(|(n, _)| *n).collect();
    let weak: Vec<&str> = REPORT_WEAK.iter().filter(|(_, r)| r.is_match(text)).map(|(n, _)| *n).collect();
    if !strong.is_empty() || weak.len() >= 2 {
        let signs = strong.into_iter().chain(weak).collect::<Vec<_>>().join(", ");
        return Some(format!("it reads as a bug report ({signs}), not a request about the writer's own account"));
    }
    if OTHERS.is_match(text) && !FIRST_SINGULAR.is_match(text) {
        return Some("it is about other people's accounts (users, people, their), not the writer's own".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_the_first_person_passes() {
        for t in ["Please delete my account", "please delete account", "We're a non-profit, a free plan would help us", "Me cobraron dos veces", "Löschen Sie bitte mein Konto", "J'ai perdu mon téléphone"] {
            assert_eq!(hold_sensitive(t), None, "{t}");
        }
    }

    #[test]
    fn a_bug_report_is_no_request() {
        let t = "I cannot disable 2FA on my account\n```\nerror 500\n```";
        assert!(hold_sensitive(t).unwrap().contains("code block"));
        let t = "My 2FA fails since v2.3\n## Logs\nsee above";
        assert!(hold_sensitive(t).unwrap().contains("version number, markdown heading"));
        assert_eq!(hold_sensitive("I was charged 9.99 twice, please refund me"), None, "a price is no version");
    }

    #[test]
    fn talk_about_others_is_no_request() {
        assert!(hold_sensitive("Allow people to delete their accounts").unwrap().contains("other people"));
        assert!(hold_sensitive("we should remove all data for a user when the account is closed").unwrap().contains("other people"));
        assert_eq!(hold_sensitive("my users' data can go, delete my account"), None);
    }
}
