//! Content that must never be repeated: `age` armored blocks (encrypted
//! secrets for the team) and credentials pasted in clear text. Anything that
//! writes user text into a draft, a log line or a staff notice passes it
//! through [`redact`] first; [`scan`] tells the procedure what was found.

use std::sync::LazyLock;

use regex::Regex;

use crate::message::is_invisible;

static AGE_BLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)-----BEGIN AGE ENCRYPTED FILE-----.*?(?:-----END AGE ENCRYPTED FILE-----|\z)").expect("static regex")
});

/// Credential shapes, each with the name shown to staff. The value itself
/// is never shown.
static CREDENTIALS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("private key", r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?s:.*?)(?:-----END (?:[A-Z]+ )?PRIVATE KEY-----|\z)"),
        ("AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("cloud service account key", r#""private_key"\s*:\s*"[^"]+""#),
        ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
        ("API token", r"\b(?:sk|xox[abp])-[A-Za-z0-9-]{16,}\b"),
        (
            "password or secret",
            r"(?im)\b(?:password|passwd|passwort|mot de passe|contraseña|client[_ ]secret|secret[_ ]key|api[_ ]key|access[_ ]token)\b\s*(?:is|=|:|ist|est|es)\s*\S{6,}",
        ),
    ]
    .into_iter()
    .map(|(n, r)| (n, Regex::new(r).expect("static regex")))
    .collect()
});

/// What a text contains that must not be repeated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Findings {
    pub age_blocks: usize,
    /// Kinds of clear-text credentials found (names, never values).
    pub credentials: Vec<&'static str>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.age_blocks == 0 && self.credentials.is_empty()
    }
}

pub fn scan(text: &str) -> Findings {
    let age_blocks = AGE_BLOCK.find_iter(text).count();
    let without_age = AGE_BLOCK.replace_all(text, "");
    let mut credentials = Vec::new();
    for (name, re) in CREDENTIALS.iter() {
        if re.is_match(&without_age) && !credentials.contains(name) {
            credentials.push(*name);
        }
    }
    Findings { age_blocks, credentials }
}

/// `text` with age blocks and credentials replaced by a short placeholder,
/// and without invisible characters: one inside "pass\u{200b}word is ..."
/// would hide the secret from the patterns, and from no reader.
pub fn redact(text: &str) -> String {
    let visible: String;
    let text = if text.chars().any(is_invisible) {
        visible = text.chars().filter(|c| !is_invisible(*c)).collect();
        &visible
    } else {
        text
    };
    let out = AGE_BLOCK.replace_all(text, "[age-encrypted block removed]");
    let mut out = out.into_owned();
    for (name, re) in CREDENTIALS.iter() {
        out = re.replace_all(&out, format!("[{name} removed]").as_str()).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSAzOW1zTEwrM0FOZ2dWQUo0\n-----END AGE ENCRYPTED FILE-----";

    #[test]
    fn age_blocks_are_found_and_removed() {
        let t = format!("Here are the creds:\n{BLOCK}\nthanks");
        assert_eq!(scan(&t), Findings { age_blocks: 1, credentials: vec![] });
        let r = redact(&t);
        assert!(!r.contains("YWdl"), "{r}");
        assert!(r.contains("[age-encrypted block removed]"));
    }

    #[test]
    fn clear_credentials_are_flagged_but_never_echoed() {
        let t = "the password is hunter2hunter2 and key AKIAABCDEFGHIJKLMNOP";
        let f = scan(t);
        assert!(f.credentials.contains(&"AWS access key"));
        assert!(f.credentials.contains(&"password or secret"));
        let r = redact(t);
        assert!(!r.contains("hunter2") && !r.contains("AKIAABCDEFGHIJKLMNOP"), "{r}");
    }

    #[test]
    fn invisible_characters_hide_no_secret() {
        let r = redact("my pass\u{200b}word\u{2060} is hunter2\u{feff}hunter2 ok");
        assert_eq!(r, "my [password or secret removed] ok");
    }

    #[test]
    fn ordinary_text_has_no_findings() {
        assert!(scan("I forgot my password, can you reset it?").is_empty());
    }
}
