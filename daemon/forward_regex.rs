//! A pack's rule, compiled to search forward only where that is as quick.
//!
//! `regex`'s own engine (`meta::Regex`) finds where a match starts by
//! searching backwards from where it ends, with an automaton of the
//! pattern reversed, compiled beside the forward one and searched with a
//! lazy DFA of its own. For the packs' rules, word lists in nine languages,
//! that reversed automaton is 60 % of what a rule holds (docs/BENCHMARKS.md,
//! "Rules searched forward only"). A rule is
//! searched for whether it matches, and only when it does for the words it
//! matched, to explain the route; so a [`ForwardRegex`] has no reversed
//! automaton:
//!
//! - the lazy DFA scans forward for the end of the first match, as
//!   `meta::Regex` does (and with the same prefilter of the pattern's
//!   leading words); most rules do not match most mail, and that is all
//!   their search costs;
//! - on a match, where it starts is the first place from which the same
//!   lazy DFA, anchored there, finds a match: leftmost-first means the
//!   match that starts leftmost, and from its start the anchored search
//!   ends where the first one did. The places tried are those where the
//!   pattern's leading words are, and each attempt stops at that end;
//! - where the lazy DFA gives up (a Unicode `\b` next to a non-ASCII
//!   letter, or a cache that fills again and again), the bounded
//!   backtracker or the PikeVM finds the whole match in one forward pass,
//!   as `meta::Regex` falls back to them.
//!
//! That is as quick as `meta::Regex` only when the leading words are quick
//! to search for ([`ForwardRegex::new`]): a rule that opens with a long
//! list of words, or with short ones ("I", "my", "please"), would be tried
//! at every place before the end, and on long mail such rules were two to
//! three times slower; those keep `regex`'s engine ([`RuleRegex::Both`]).
//! In the sourcehut pack 34 rules of 62 are searched forward only.
//!
//! The match is the one `meta::Regex` finds with the same configuration
//! (`tests`, and every shipped rule over the real corpus in
//! `procedures::pack`). One search cache for every thread, as in
//! [`crate::shared_regex`].

use std::ops::Range;
use std::sync::Mutex;

use regex_automata::hybrid::dfa::{self, DFA};
use regex_automata::nfa::thompson::{self, backtrack::BoundedBacktracker, pikevm::PikeVM, WhichCaptures, NFA};
use regex_automata::util::prefilter::Prefilter;
use regex_automata::{Anchored, Input, MatchKind, Span};
use regex_syntax::hir::Hir;

pub struct ForwardRegex {
    nfa: NFA,
    /// Where a match may start: the pattern's leading words.
    prefilter: Prefilter,
    /// None when the automaton is too large for the cache capacity to
    /// hold a few of its states: every search then runs on the fallback.
    dfa: Option<DFA>,
    backtrack: BoundedBacktracker,
    pikevm: PikeVM,
    cache: Mutex<Option<Caches>>,
}

/// What searching keeps between searches. The fallback engines' caches
/// are made when first needed: most rules never need them.
struct Caches {
    dfa: Option<dfa::Cache>,
    backtrack: Option<thompson::backtrack::Cache>,
    pikevm: Option<thompson::pikevm::Cache>,
}

impl ForwardRegex {
    /// `hir` compiled leftmost-first as `meta::Regex` would compile it,
    /// its lazy DFA's cache holding at most `cache_capacity(the
    /// automaton's bytes)`; `None` when a forward search would not find
    /// where a match starts about as quickly as `meta::Regex` does, which
    /// needs the pattern's leading words to be quick to search for (the
    /// start is looked for where they are). Otherwise the start is looked
    /// for at every place before the end, and on long mail that made the
    /// packs' slowest rules two to three times slower (docs/BENCHMARKS.md,
    /// "Rules searched forward only"). An automaton over `size_limit` is an
    /// error.
    pub fn new(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize) -> Result<Option<ForwardRegex>, String> {
        match Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, hir) {
            Some(prefilter) if prefilter.is_fast() => ForwardRegex::compile(hir, size_limit, cache_capacity, prefilter).map(Some),
            _ => Ok(None),
        }
    }

    /// `hir` compiled, whether or not that is quick.
    fn compile(
        hir: &Hir,
        size_limit: usize,
        cache_capacity: impl FnOnce(usize) -> usize,
        prefilter: Prefilter,
    ) -> Result<ForwardRegex, String> {
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().utf8(true).shrink(false).which_captures(WhichCaptures::Implicit).nfa_size_limit(Some(size_limit)))
            .build_from_hir(hir)
            .map_err(|e| e.to_string())?;
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::LeftmostFirst)
                    .specialize_start_states(true)
                    .prefilter(Some(prefilter.clone()))
                    .unicode_word_boundary(true)
                    .cache_capacity(cache_capacity(nfa.memory_usage()))
                    .skip_cache_capacity_check(false)
                    .minimum_cache_clear_count(Some(3))
                    .minimum_bytes_per_state(Some(10)),
            )
            .build_from_nfa(nfa.clone())
            .ok();
        let backtrack = BoundedBacktracker::builder().build_from_nfa(nfa.clone()).map_err(|e| e.to_string())?;
        let pikevm = PikeVM::builder()
            .configure(PikeVM::config().match_kind(MatchKind::LeftmostFirst))
            .build_from_nfa(nfa.clone())
            .map_err(|e| e.to_string())?;
        Ok(ForwardRegex { nfa, prefilter, dfa, backtrack, pikevm, cache: Mutex::new(None) })
    }

    /// The leftmost-first match in `text`, widened to whole characters.
    pub fn find<'h>(&self, text: &'h str) -> Option<&'h str> {
        let mut slot = crate::shared_regex::lock_cache(&self.cache);
        let caches = slot.get_or_insert_with(|| Caches {
            dfa: self.dfa.as_ref().map(dfa::Cache::new),
            backtrack: None,
            pikevm: None,
        });
        let found = match self.forward(caches, text) {
            Ok(found) => found,
            Err(GaveUp) => self.fallback(caches, text),
        };
        found.map(|range| &text[crate::shared_regex::on_characters(text, range)])
    }

    /// The match by the lazy DFA, or `GaveUp`.
    fn forward(&self, caches: &mut Caches, text: &str) -> Result<Option<Range<usize>>, GaveUp> {
        let (Some(dfa), Some(cache)) = (&self.dfa, caches.dfa.as_mut()) else { return Err(GaveUp) };
        let Some(end) = dfa.try_search_fwd(cache, &Input::new(text)).map_err(|_| GaveUp)?.map(|m| m.offset()) else {
            return Ok(None);
        };
        // Where the match starts: the first place from which an anchored
        // search finds one, among the places the pattern's leading words
        // are found. Anything else (an empty match, which may split a
        // character and which regex steps over by rules of its own) is
        // left to the fallback.
        let mut from = 0;
        while from < end {
            let start = match self.prefilter.find(text.as_bytes(), Span::from(from..text.len())) {
                Some(found) if found.start < end => found.start,
                _ => break,
            };
            from = start + 1;
            if !text.is_char_boundary(start) {
                continue;
            }
            let anchored = Input::new(text).range(start..end).anchored(Anchored::Yes);
            match dfa.try_search_fwd(cache, &anchored).map_err(|_| GaveUp)? {
                Some(m) if m.offset() == end => return Ok(Some(start..end)),
                Some(_) => return Err(GaveUp),
                None => {}
            }
        }
        Err(GaveUp)
    }

    /// The match by an engine that finds both ends in one pass and never
    /// gives up: the bounded backtracker when the text is short enough for
    /// it, else the PikeVM.
    fn fallback(&self, caches: &mut Caches, text: &str) -> Option<Range<usize>> {
        let input = Input::new(text);
        let found = if text.len() <= self.backtrack.max_haystack_len() {
            let cache = caches.backtrack.get_or_insert_with(|| self.backtrack.create_cache());
            self.backtrack.try_find(cache, input).ok().flatten()
        } else {
            None
        };
        let found = found.or_else(|| {
            let cache = caches.pikevm.get_or_insert_with(|| self.pikevm.create_cache());
            self.pikevm.find(cache, Input::new(text))
        });
        found.map(|m| m.range())
    }

    /// What the compiled pattern holds, without its caches.
    pub fn memory_usage(&self) -> usize {
        // The fallback engines share the automaton and hold nothing else.
        self.nfa.memory_usage() + self.dfa.as_ref().map_or(0, DFA::memory_usage)
    }

    /// What the search caches hold now (nothing before the first search).
    #[cfg(test)]
    pub fn cache_memory(&self) -> usize {
        self.cache.lock().unwrap().as_ref().map_or(0, |c| {
            c.dfa.as_ref().map_or(0, dfa::Cache::memory_usage)
                + c.backtrack.as_ref().map_or(0, thompson::backtrack::Cache::memory_usage)
                + c.pikevm.as_ref().map_or(0, thompson::pikevm::Cache::memory_usage)
        })
    }
}

/// The lazy DFA could not answer: a Unicode `\b` beside a non-ASCII
/// character, a cache cleared too often, or a match it cannot place.
struct GaveUp;

/// A copy shares the compiled pattern and makes its own caches when used.
impl Clone for ForwardRegex {
    fn clone(&self) -> ForwardRegex {
        ForwardRegex {
            nfa: self.nfa.clone(),
            prefilter: self.prefilter.clone(),
            dfa: self.dfa.clone(),
            backtrack: self.backtrack.clone(),
            pikevm: self.pikevm.clone(),
            cache: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for ForwardRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardRegex").field("states", &self.nfa.states().len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(pattern: &str, capacity: usize) -> ForwardRegex {
        let hir = regex_automata::util::syntax::parse_with(pattern, &regex_automata::util::syntax::Config::new().case_insensitive(true)).unwrap();
        // Searched forward only even where that is not the quickest.
        let prefilter = Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &hir).unwrap_or_else(|| panic!("{pattern} opens with words"));
        ForwardRegex::compile(&hir, 8 << 20, |_| capacity, prefilter).unwrap()
    }

    /// Whatever engine answers (the lazy DFA, then anchored attempts; the
    /// backtracker; the PikeVM), the match is regex's: the leftmost one,
    /// and of those the alternative written first, however the ends fall.
    #[test]
    fn finds_the_match_regex_finds() {
        let patterns = [
            r"a|ab",
            r"ab|a",
            r"\bdelet\w*\b.{0,20}\baccount\b",
            r"\brefund\w*\W+(?:\w+\W+){0,3}?(?:me|us)\b",
            r"\bkonto\w*\s+l(?:ö|oe)sch",
            r"^hello|bye$",
            r"\bend\b",
            r"—\s+end|!!",
        ];
        let long_ascii = format!("{}and at last we want a refund, then delete the account", "words between them. ".repeat(300));
        let long_german = format!("{} Bitte mein Konto löschen und I want my refund", "Grüße aus Köln, ".repeat(300));
        let texts = [
            "ab",
            "please delete my old account, and delete the account again",
            "we would like a refund",
            "Ich möchte mein KONTO löschen",
            "Müller: we  ask for a refund à la carte",
            "",
            "äxüx",
            "hello, bye",
            "the end, ending, end.",
            "émigré — end …  !!",
            long_ascii.as_str(),
            long_german.as_str(),
        ];
        for pattern in patterns {
            let expected = regex::RegexBuilder::new(pattern).case_insensitive(true).build().unwrap();
            // A cache too small to hold more than a few states makes the
            // lazy DFA give up mid-text: the same answers.
            for capacity in [256 << 10, 0] {
                let forward = compiled(pattern, capacity);
                for text in texts {
                    assert_eq!(forward.find(text), expected.find(text).map(|m| m.as_str()), "{pattern} on {text:?}, cache {capacity}");
                }
            }
        }
    }

    /// A pattern is searched forward only when where a match starts can be
    /// found quickly, at its leading words; not a pattern that opens with
    /// "I" or "we", whatever words come after.
    #[test]
    fn searched_forward_only_where_the_start_is_quick_to_find() {
        let fits = |pattern: &str| {
            let hir = regex_automata::util::syntax::parse_with(pattern, &regex_automata::util::syntax::Config::new().case_insensitive(true)).unwrap();
            ForwardRegex::new(&hir, 8 << 20, |_| 256 << 10).unwrap().is_some()
        };
        assert!(fits(r"\b(?:delet|remov)\w*\s+my\s+account"));
        assert!(fits(r"\bgdpr\b|\berasure\b"));
        assert!(!fits(r"(?:i|we|my)\W+(?:\w+\W+){0,4}?\b(?:cancel|revers)\w*\s+(?:the\s+)?order"));
        assert!(!fits(r"\bgdpr\b|(?:i|we)\W+want"));
        assert!(!fits(r"x*"));
    }

    /// Without the reversed automaton `meta::Regex` compiles beside the
    /// forward one, a rule of word lists holds well under half as much.
    #[test]
    fn holds_no_reverse_automaton() {
        let pattern = r"\b(?:gdpr|dsgvo|rgpd|article 17|right to erasure)\b.{0,40}\b(?:delet|remov|lösch|supprim|borr|efface)\w*";
        let meta = regex_automata::meta::Regex::builder()
            .configure(crate::shared_regex::config())
            .syntax(regex_automata::util::syntax::Config::new().case_insensitive(true))
            .build(&pattern)
            .unwrap();
        let forward = compiled(&pattern, 256 << 10);
        assert!(forward.memory_usage() * 2 < meta.memory_usage(), "{} against {}", forward.memory_usage(), meta.memory_usage());
    }
}

/// A pack's rule, compiled: forward only where that is as quick
/// ([`ForwardRegex::new`]), else as `regex` compiles it, with its
/// reversed automaton.
#[derive(Debug, Clone)]
pub enum RuleRegex {
    Forward(ForwardRegex),
    Both(crate::shared_regex::SharedRegex),
}

impl RuleRegex {
    /// The leftmost-first match in `text`, as `regex::Regex::find` gives it.
    pub fn find<'h>(&self, text: &'h str) -> Option<&'h str> {
        match self {
            RuleRegex::Forward(r) => r.find(text),
            RuleRegex::Both(r) => r.find(text),
        }
    }

    /// What the compiled pattern holds, without its caches.
    pub fn memory_usage(&self) -> usize {
        match self {
            RuleRegex::Forward(r) => r.memory_usage(),
            RuleRegex::Both(r) => r.memory_usage(),
        }
    }

    /// What the search caches hold now.
    #[cfg(test)]
    pub fn cache_memory(&self) -> usize {
        match self {
            RuleRegex::Forward(r) => r.cache_memory(),
            RuleRegex::Both(r) => r.cache_memory(),
        }
    }
}
