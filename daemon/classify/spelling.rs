//! Words the rules read through one slip of the finger. People write
//! "please deelte my acount" and "I want a reund" from their phones; a rule
//! written for "delete my account" never sees them. A pack lists the words
//! that carry its procedures (`[pack] misspelt`), and before the rules run
//! each of those words, written with one letter left out, two neighbours
//! swapped or one letter typed twice, is read as the word.
//!
//! Only those three slips, and only for words of six letters or more: a
//! letter typed wrong ("remote" for "remove") or left out of a short word
//! ("lose" for "close") is as often another word. A slip that could be
//! either of two listed words is left as written, and so is one that is
//! a word of a language the packs read ([`WORDS_ELSEWHERE`]) or a name in
//! code written with capitals inside ("cCount", "ACount").

use std::borrow::Cow;
use std::collections::HashMap;

/// The fewest letters a listed word may have (see the module's doc).
pub const MIN_LETTERS: usize = 6;

/// Slips of the packs' words that are words of their own in a language
/// the packs read or their writers use, never read as a slip: Danish and
/// Norwegian "delte" (shared) and "delet" (divided), French "payent"
/// (they pay). Found by checking every slip of the shipped lists against
/// the word lists of fourteen languages.
pub const WORDS_ELSEWHERE: [&str; 3] = ["delte", "delet", "payent"];

/// The slips of a pack's listed words, each to the word it stands for.
#[derive(Debug, Clone, Default)]
pub struct Spelling {
    /// A slip, lowercase → the listed word it is read as.
    slips: HashMap<String, String>,
    /// The longest slip, in bytes: longer words are never looked up.
    longest: usize,
}

impl Spelling {
    /// The slips of `words` (lowercase ASCII letters, each at least
    /// [`MIN_LETTERS`] long: `Pack::load` checks it).
    pub fn new<S: AsRef<str>>(words: &[S]) -> Spelling {
        let listed: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let mut slips: HashMap<String, Option<String>> = HashMap::new();
        for &word in &listed {
            for slip in slips_of(word) {
                if listed.contains(&slip.as_str()) || WORDS_ELSEWHERE.contains(&slip.as_str()) {
                    continue;
                }
                // A slip two listed words share stands for neither.
                slips.entry(slip).and_modify(|w| if w.as_deref() != Some(word) { *w = None }).or_insert_with(|| Some(word.to_string()));
            }
        }
        let slips: HashMap<String, String> = slips.into_iter().filter_map(|(slip, word)| Some((slip, word?))).collect();
        let longest = slips.keys().map(String::len).max().unwrap_or(0);
        Spelling { slips, longest }
    }

    /// `text` with every slip read as its word (its first letter's case
    /// kept); borrowed when there is none, which is most mail. A word is a
    /// run of ASCII letters: "acount's" holds one, "acount2" one. A word
    /// with a capital after its first letter is a name in code or an
    /// acronym, left as written.
    pub fn correct<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.slips.is_empty() {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        // Up to where `text` is already in `out`.
        let mut copied = 0;
        let mut lower = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            // A run of letters glued to a letter of another script is part
            // of a longer word ("acountś"): not ours to read.
            let glued = |at: Option<&u8>| at.is_some_and(|b| !b.is_ascii());
            let len = i - start;
            if len + 1 < MIN_LETTERS || len > self.longest || glued(bytes.get(i)) || (start > 0 && glued(bytes.get(start - 1))) {
                continue;
            }
            if bytes[start + 1..i].iter().any(u8::is_ascii_uppercase) {
                continue;
            }
            lower.clear();
            lower.push_str(&text[start..i]);
            lower.make_ascii_lowercase();
            let Some(word) = self.slips.get(&lower) else { continue };
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
            out.push_str(&text[copied..start]);
            if bytes[start].is_ascii_uppercase() {
                out.push(word.as_bytes()[0].to_ascii_uppercase() as char);
                out.push_str(&word[1..]);
            } else {
                out.push_str(word);
            }
            copied = i;
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.push_str(&text[copied..]);
                Cow::Owned(out)
            }
        }
    }
}

/// Every slip of `word`: a letter left out, two different neighbours
/// swapped, a letter typed twice.
fn slips_of(word: &str) -> Vec<String> {
    let w = word.as_bytes();
    let mut out = Vec::new();
    for i in 0..w.len() {
        let mut left_out = w.to_vec();
        left_out.remove(i);
        out.push(left_out);
        let mut twice = w.to_vec();
        twice.insert(i, w[i]);
        out.push(twice);
        if i + 1 < w.len() && w[i] != w[i + 1] {
            let mut swapped = w.to_vec();
            swapped.swap(i, i + 1);
            out.push(swapped);
        }
    }
    out.into_iter().filter_map(|s| String::from_utf8(s).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelling() -> Spelling {
        Spelling::new(&["account", "delete", "refund", "remove"])
    }

    #[test]
    fn a_letter_left_out_swapped_or_typed_twice_is_read_as_the_word() {
        let s = spelling();
        assert_eq!(s.correct("please deelte my acount"), "please delete my account");
        assert_eq!(s.correct("I want a reund, and remvoe my accounnt"), "I want a refund, and remove my account");
        assert_eq!(s.correct("Acount deletion"), "Account deletion");
    }

    #[test]
    fn the_word_itself_another_word_and_a_longer_slip_stay_as_written() {
        let s = spelling();
        for text in [
            "please delete my account",
            "the remote account was deleted",
            "a refunds page",
            "accountant",
            "I want to move my account",
            "",
        ] {
            assert!(matches!(s.correct(text), Cow::Borrowed(_)), "{text:?} was changed");
        }
    }

    #[test]
    fn a_word_of_another_language_or_a_name_in_code_is_not_a_slip() {
        let s = Spelling::new(&["account", "delete", "payment"]);
        assert_eq!(s.correct("den delte konto"), "den delte konto");
        assert_eq!(s.correct("ils payent"), "ils payent");
        assert_eq!(s.correct("Delete ACount items, then cCount"), "Delete ACount items, then cCount");
        assert_eq!(s.correct("ACOUNT"), "ACOUNT");
        assert_eq!(s.correct("Acount"), "Account");
    }

    #[test]
    fn a_word_glued_to_another_script_is_not_read() {
        let s = spelling();
        assert_eq!(s.correct("acountß acount"), "acountß account");
        assert_eq!(s.correct("acount2"), "account2");
    }

    #[test]
    fn a_slip_of_two_listed_words_stands_for_neither() {
        // "relate" and "delate": "elate" is a letter left out of both.
        let s = Spelling::new(&["relate", "delate"]);
        assert_eq!(s.correct("elate"), "elate");
        assert_eq!(s.correct("relat"), "relate");
    }

    #[test]
    fn every_slip_of_a_word_is_read_as_it() {
        let s = spelling();
        for word in ["account", "delete", "refund", "remove"] {
            for slip in slips_of(word) {
                if slip != word && !WORDS_ELSEWHERE.contains(&slip.as_str()) {
                    assert_eq!(s.correct(&slip), word, "{slip:?}");
                }
            }
        }
    }
}
