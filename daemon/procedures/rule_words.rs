//! One pass over a message's text for the words of every rule of a pack.
//!
//! Each rule knows words one of which every match of it holds
//! (`forward_regex::required_literals`: "refund" or "money back" for a
//! refund rule), and a text without any of them is not searched. Looked
//! for rule by rule, that look was most of what classifying a long
//! message cost: the sourcehut pack's hundred-odd patterns each read the
//! whole text, half of the 0.78 ms a 3 KiB request took
//! (docs/BENCHMARKS.md, "One pass for the rules' words"). Here the words
//! of all the pack's patterns are one automaton, read once a text; each
//! word found marks the patterns that need it, and only those are
//! searched.
//!
//! Every occurrence counts (an overlapping search): a word inside another
//! one ("count" in "account") is found too, so a pattern is marked
//! whenever its own look would have found one of its words, and the
//! rules' answers are the same (`tests` here, and every shipped rule over
//! the real corpus in `procedures::pack`).

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::forward_regex::Runs;

/// The words of a pack's patterns, by pattern ("slot": each distinct
/// compiled pattern of the pack has one, shared by the rules that hold it).
#[derive(Debug, Clone, Default)]
pub struct RuleWords {
    /// Every pattern's words, up to ASCII case; `None` when no pattern has
    /// any.
    words: Option<AhoCorasick>,
    /// For each word of `words`, the slots of the patterns that need it.
    owners: Vec<Vec<usize>>,
    /// The slots of the patterns with no words to look for: always
    /// searched.
    always: Vec<bool>,
}

/// Which of a pack's patterns a text may match: those whose words it
/// holds, and those that have none; and where their words are.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    may: Vec<bool>,
    /// For each slot, where its words are in the text, in the order the
    /// one pass found them (a word inside another comes after it). Empty
    /// for a pattern that has no words.
    places: Vec<Vec<Range<usize>>>,
    /// The text's runs, when the lazy DFA cannot read it all (it holds a
    /// non-ASCII byte): its patterns are then searched near their words
    /// (`ForwardRegex::is_match_near`).
    runs: Option<Runs>,
}

impl Candidates {
    /// Whether the pattern in `slot` is worth searching in this text.
    pub fn may_match(&self, slot: usize) -> bool {
        self.may.get(slot).copied().unwrap_or(true)
    }

    /// Where the words of the pattern in `slot` are in the text: `None`
    /// for a pattern without words (search all of the text).
    pub fn places(&self, slot: usize) -> Option<&[Range<usize>]> {
        self.places.get(slot).filter(|p| !p.is_empty()).map(Vec::as_slice)
    }

    /// The text's [`Runs`] when it is worth searching near the words, not
    /// all through: `None` for ASCII text.
    pub fn runs(&self) -> Option<&Runs> {
        self.runs.as_ref()
    }
}

impl RuleWords {
    /// The index of `patterns`, each pattern's words (lower case) or `None`
    /// for one that has none worth looking for: a pattern's slot is its
    /// place in `patterns`.
    pub fn new(patterns: &[Option<Vec<Vec<u8>>>]) -> RuleWords {
        let mut index: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
        let mut words: Vec<&[u8]> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (slot, pattern) in patterns.iter().enumerate() {
            for word in pattern.iter().flatten() {
                let at = *index.entry(word.as_slice()).or_insert_with(|| {
                    words.push(word.as_slice());
                    owners.push(Vec::new());
                    words.len() - 1
                });
                if owners[at].last() != Some(&slot) {
                    owners[at].push(slot);
                }
            }
        }
        let built = (!words.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&words)
                    .ok()
            })
            .flatten();
        let always: Vec<bool> = patterns.iter().map(|p| p.is_none()).collect();
        match built {
            Some(words) => RuleWords { words: Some(words), owners, always },
            // Too many words for one automaton (no shipped pack comes
            // near): every pattern is searched, with its own look.
            None => RuleWords { words: None, owners: Vec::new(), always: vec![true; patterns.len()] },
        }
    }

    /// The patterns `text` may match, read in one pass.
    pub fn candidates(&self, text: &str) -> Candidates {
        let mut may = self.always.clone();
        let runs = (!text.is_ascii()).then(|| Runs::of(text));
        let mut places = vec![Vec::new(); may.len()];
        let Some(words) = &self.words else { return Candidates { may, places, runs } };
        for found in words.find_overlapping_iter(text) {
            for &slot in &self.owners[found.pattern().as_usize()] {
                may[slot] = true;
                if runs.is_some() {
                    places[slot].push(found.range());
                }
            }
        }
        Candidates { may, places, runs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(list.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    #[test]
    fn a_pattern_is_searched_only_where_one_of_its_words_is() {
        let index = RuleWords::new(&[words(&["refund", "money back"]), words(&["delete", "remove"]), None]);
        let c = index.candidates("Could I get my MONEY BACK, please?");
        assert!(c.may_match(0), "a word of the first pattern, up to ASCII case");
        assert!(!c.may_match(1), "no word of the second");
        assert!(c.may_match(2), "a pattern without words is always searched");
    }

    #[test]
    fn a_word_inside_another_word_still_marks_its_pattern() {
        // "count" ends inside "account": a search that reported only
        // "account" would miss the second pattern's word.
        let index = RuleWords::new(&[words(&["account"]), words(&["count"]), words(&["unt", "xyz"])]);
        let c = index.candidates("my account");
        assert!(c.may_match(0) && c.may_match(1) && c.may_match(2));
    }

    #[test]
    fn a_word_several_patterns_need_marks_each() {
        let index = RuleWords::new(&[words(&["account"]), words(&["delete", "account"])]);
        let c = index.candidates("account");
        assert!(c.may_match(0) && c.may_match(1));
        assert!(!index.candidates("nothing here").may_match(0) && !index.candidates("nothing here").may_match(1));
    }
}
