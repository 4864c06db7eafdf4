//! A pack's rule, compiled to search forward only.
//!
//! `regex`'s own engine (`meta::Regex`) finds where a match starts by
//! searching backwards from where it ends, with an automaton of the
//! pattern reversed, compiled beside the forward one and searched with a
//! lazy DFA of its own. For the packs' rules, word lists in nine languages,
//! that reversed automaton is 60 % of what a rule holds (docs/BENCHMARKS.md,
//! "Rules searched forward only"). A rule is searched for whether it
//! matches ([`ForwardRegex::is_match`]), and only for the procedure a
//! person is shown for the words it matched ([`ForwardRegex::find`]); so
//! a [`ForwardRegex`] has no reversed automaton:
//!
//! - first, the words one of which every match holds somewhere, up to
//!   ASCII case ([`required_words`]: "refund" or "money back" in "I … want
//!   … a refund"): a text without any of them is not searched. regex finds
//!   such inner words too, and searches backwards from them with its
//!   reversed automaton; most mail holds none of a rule's, and that look
//!   is all the rule costs. A pack's rules leave that look to the pack,
//!   which looks for all their words in one pass over a text
//!   ([`ForwardRegex::for_pack`], `procedures::rule_words`);
//! - the lazy DFA scans forward for the first place a match is certain
//!   (whether it matches), or for the end of the first match (its words),
//!   with regex's prefilter of the pattern's leading words where that is
//!   quick;
//! - for the words, where the match starts is the first place from which
//!   the same lazy DFA, anchored there, finds a match: leftmost-first
//!   means the match that starts leftmost, and from its start the
//!   anchored search ends where the first one did. The places tried are
//!   those where the pattern's leading words are, up to ASCII case, and
//!   each attempt stops at that end;
//! - where the lazy DFA gives up (a Unicode `\b` next to a non-ASCII
//!   letter, or a cache that fills again and again), the bounded
//!   backtracker or the PikeVM finds the whole match in one forward pass,
//!   as `meta::Regex` falls back to them.
//!
//! The answer is the one `meta::Regex` gives with the same configuration
//! (`tests`, and every shipped rule over the real corpus in
//! `procedures::pack`).
//!
//! One search cache for every thread. `regex::Regex` keeps a cache for
//! each thread that searches at the same time: for the packs' rules that
//! was about 8 MiB a worker thread, and for the code's own larger patterns
//! (the precision guard's signs, the quote stripping's attributions)
//! another 3 MiB a worker (docs/BENCHMARKS.md, "A realistic backlog", and
//! "The stream's memory, 2026-12-02 afternoon"). Here the number of
//! workers does not change it. A search holds the pattern's lock only
//! while it runs (microseconds): two workers searching at once wait on
//! each other at most one pattern at a time. Only the match as a whole is
//! tracked, never its groups, since no caller reads a group: when the lazy
//! DFA gives up and the PikeVM searches, its cache keeps two ends a state,
//! not every group's (6.2 MB for one of the sourcehut pack's rules over a
//! 1,000-character text, 0.55 MB with the whole match alone;
//! docs/BENCHMARKS.md, "Rules that track no groups").
//!
//! The fallback engines' caches are one set a thread, whatever the
//! pattern: the lazy DFA gives up rarely, and only on the text in hand, so
//! a set kept for each pattern that ever fell back held memory for nothing
//! (2.7 MB of a realistic backlog's peak, docs/BENCHMARKS.md, "One heap").
//! Each fallback search resets the thread's set to its pattern, which
//! costs a pass over the pattern's states, less than the search itself.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Mutex;

use regex_automata::hybrid::dfa::{self, DFA};
use regex_automata::nfa::thompson::{self, backtrack::BoundedBacktracker, pikevm::PikeVM, WhichCaptures, NFA};
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::iter::Searcher;
use regex_automata::{Anchored, Input, Match, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};
use aho_corasick::{AhoCorasick, AhoCorasickKind};

pub struct ForwardRegex {
    nfa: NFA,
    /// Where a match may start: the pattern's leading words, up to ASCII
    /// case, when it has any.
    leading: Option<AhoCorasick>,
    /// Words one of which every match holds, somewhere: a text without
    /// any of them is not searched at all (see [`required_words`]). None
    /// for a pack's rule, whose words the pack looks for
    /// ([`ForwardRegex::for_pack`]).
    required: Option<AhoCorasick>,
    /// None when the automaton is too large for the cache capacity to
    /// hold a few of its states: every search then runs on the fallback.
    dfa: Option<DFA>,
    backtrack: BoundedBacktracker,
    pikevm: PikeVM,
    cache: Mutex<Option<Caches>>,
}

/// What searching a pattern keeps between searches: its lazy DFA's states.
struct Caches {
    dfa: Option<dfa::Cache>,
}

/// The fallback engines' caches of one thread, made when it first needs
/// them and reset to the pattern of each search (see the module's notes).
struct Fallback {
    backtrack: thompson::backtrack::Cache,
    pikevm: thompson::pikevm::Cache,
}

thread_local! {
    static FALLBACK: RefCell<Option<Fallback>> = const { RefCell::new(None) };
}

impl ForwardRegex {
    /// `hir` compiled leftmost-first as `meta::Regex` would compile it,
    /// its lazy DFA's cache holding at most `cache_capacity(the
    /// automaton's bytes)`. An automaton over `size_limit` is an error.
    pub fn new(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize) -> Result<ForwardRegex, String> {
        let mut built = ForwardRegex::build(hir, size_limit, cache_capacity)?;
        built.required = required_words(hir);
        Ok(built)
    }

    /// A pack's rule, as [`ForwardRegex::new`] but without its own look for
    /// the words every match holds: those words are returned instead, for
    /// the pack's one pass over a text for all its rules
    /// (`procedures::rule_words`), and the rule is searched with
    /// [`ForwardRegex::is_match_with_words`] where that pass found one.
    pub fn for_pack(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize) -> Result<(ForwardRegex, Option<Vec<Vec<u8>>>), String> {
        Ok((ForwardRegex::build(hir, size_limit, cache_capacity)?, required_literals(hir)))
    }

    fn build(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize) -> Result<ForwardRegex, String> {
        // regex's prefilter of the leading words, when it is quick, lets
        // the lazy DFA skip to them; otherwise the DFA reads every byte.
        let prefilter = Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, hir).filter(Prefilter::is_fast);
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().utf8(true).shrink(false).which_captures(WhichCaptures::Implicit).nfa_size_limit(Some(size_limit)))
            .build_from_hir(hir)
            .map_err(|e| e.to_string())?;
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::LeftmostFirst)
                    .specialize_start_states(true)
                    .prefilter(prefilter)
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
        let leading = leading_words(hir);
        Ok(ForwardRegex { nfa, leading, required: None, dfa, backtrack, pikevm, cache: Mutex::new(None) })
    }

    /// One of the code's own fixed patterns, with regex's syntax and
    /// limits; a pattern that does not compile is a bug, and panics.
    pub fn fixed(pattern: &str) -> ForwardRegex {
        regex_automata::util::syntax::parse(pattern)
            .map_err(|e| e.to_string())
            .and_then(|hir| ForwardRegex::fixed_hir(&hir))
            .unwrap_or_else(|e| panic!("fixed pattern {pattern:?}: {e}"))
    }

    /// A fixed pattern already parsed: regex's size limit, and a search
    /// cache of five times the automaton between 256 KiB and regex's 2 MiB,
    /// as the packs' rules have.
    pub fn fixed_hir(hir: &Hir) -> Result<ForwardRegex, String> {
        ForwardRegex::new(hir, 10 << 20, |automaton| (automaton * 5).clamp(256 << 10, 2 << 20))
    }

    /// Whether `text` holds a match: the lazy DFA alone, stopping at the
    /// first place a match is certain.
    pub fn is_match(&self, text: &str) -> bool {
        if !self.may_match(text) {
            return false;
        }
        self.with_caches(|caches| self.search(caches, &Input::new(text).earliest(true)).is_some())
    }

    /// As [`ForwardRegex::is_match`], for a `text` already known to hold
    /// one of the words every match holds ([`required_literals`]): a
    /// pack's rules have them looked for in one pass for all
    /// (`procedures::rule_words`).
    pub fn is_match_with_words(&self, text: &str) -> bool {
        self.with_caches(|caches| self.search(caches, &Input::new(text).earliest(true)).is_some())
    }

    /// False when `text` lacks every word a match must hold.
    fn may_match(&self, text: &str) -> bool {
        self.required.as_ref().is_none_or(|words| words.is_match(text))
    }

    /// The leftmost-first match in `text`, widened to whole characters.
    pub fn find<'h>(&self, text: &'h str) -> Option<&'h str> {
        if !self.may_match(text) {
            return None;
        }
        let found = self.with_caches(|caches| self.search(caches, &Input::new(text)));
        found.map(|range| &text[on_characters(text, range)])
    }

    /// Every match in `text`, as `regex::Regex::find_iter` gives them,
    /// widened to whole characters.
    pub fn find_ranges(&self, text: &str) -> Vec<Range<usize>> {
        if !self.may_match(text) {
            return Vec::new();
        }
        self.with_caches(|caches| {
            let mut searcher = Searcher::new(Input::new(text));
            std::iter::from_fn(|| searcher.advance(|input| Ok(self.search(caches, input).map(|range| Match::must(0, range)))))
                .map(|m| on_characters(text, m.range()))
                .collect()
        })
    }

    /// Runs `search` with the one set of caches, holding the lock for it
    /// alone.
    fn with_caches<R>(&self, search: impl FnOnce(&mut Caches) -> R) -> R {
        let mut slot = lock_cache(&self.cache);
        let caches = slot.get_or_insert_with(|| Caches { dfa: self.dfa.as_ref().map(dfa::Cache::new) });
        search(caches)
    }

    /// The leftmost-first match in `input`'s span (or, for an `earliest`
    /// input, whether there is one: any range then).
    fn search(&self, caches: &mut Caches, input: &Input<'_>) -> Option<Range<usize>> {
        match self.forward(caches, input) {
            Ok(found) => found,
            Err(GaveUp) => self.fallback(input),
        }
    }

    /// The match by the lazy DFA, or `GaveUp`.
    fn forward(&self, caches: &mut Caches, input: &Input<'_>) -> Result<Option<Range<usize>>, GaveUp> {
        let (Some(dfa), Some(cache)) = (&self.dfa, caches.dfa.as_mut()) else { return Err(GaveUp) };
        let Some(end) = dfa.try_search_fwd(cache, input).map_err(|_| GaveUp)?.map(|m| m.offset()) else {
            return Ok(None);
        };
        if input.get_earliest() {
            return Ok(Some(end..end));
        }
        // Where the match starts: the first place from which an anchored
        // search finds one, among the places the pattern's leading words
        // are found. Anything else (an empty match, which may split a
        // character and which regex steps over by rules of its own) is
        // left to the fallback.
        let text = input.haystack();
        let mut from = input.start();
        while from < end {
            let start = match &self.leading {
                Some(words) => match words.find(aho_corasick::Input::new(text).range(from..input.end())) {
                    Some(found) if found.start() < end => found.start(),
                    _ => break,
                },
                None => from,
            };
            from = start + 1;
            if !input.is_char_boundary(start) {
                continue;
            }
            let anchored = input.clone().range(start..end).anchored(Anchored::Yes);
            match dfa.try_search_fwd(cache, &anchored).map_err(|_| GaveUp)? {
                Some(m) if m.offset() == end => return Ok(Some(start..end)),
                Some(_) => return Err(GaveUp),
                None => {}
            }
        }
        Err(GaveUp)
    }

    /// The match by an engine that finds both ends in one pass and never
    /// gives up: the bounded backtracker when the span is short enough for
    /// it, else the PikeVM.
    fn fallback(&self, input: &Input<'_>) -> Option<Range<usize>> {
        FALLBACK.with_borrow_mut(|slot| {
            let caches = slot.get_or_insert_with(|| Fallback { backtrack: self.backtrack.create_cache(), pikevm: self.pikevm.create_cache() });
            // Made for another pattern, or left by a search that panicked:
            // a reset clears either.
            caches.backtrack.reset(&self.backtrack);
            caches.pikevm.reset(&self.pikevm);
            let found = if input.get_span().len() <= self.backtrack.max_haystack_len() {
                self.backtrack.try_find(&mut caches.backtrack, input.clone()).ok().flatten()
            } else {
                None
            };
            found.or_else(|| self.pikevm.find(&mut caches.pikevm, input.clone())).map(|m| m.range())
        })
    }

    /// What the compiled pattern holds, without its caches.
    pub fn memory_usage(&self) -> usize {
        // The fallback engines share the automaton and hold nothing else.
        self.nfa.memory_usage()
            + self.dfa.as_ref().map_or(0, DFA::memory_usage)
            + self.leading.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.required.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// What the search caches hold now (nothing before the first search):
    /// the pattern's, and this thread's fallback caches.
    #[cfg(test)]
    pub fn cache_memory(&self) -> usize {
        self.cache.lock().unwrap().as_ref().map_or(0, |c| c.dfa.as_ref().map_or(0, dfa::Cache::memory_usage)) + fallback_memory()
    }
}

/// What this thread's fallback caches hold.
#[cfg(test)]
fn fallback_memory() -> usize {
    FALLBACK.with_borrow(|slot| slot.as_ref().map_or(0, |f| f.backtrack.memory_usage() + f.pikevm.memory_usage()))
}

/// The one search cache of a pattern, locked. A search that panicked
/// may have left it half updated: the next one starts from a fresh cache.
pub(crate) fn lock_cache<C>(cache: &Mutex<Option<C>>) -> std::sync::MutexGuard<'_, Option<C>> {
    cache.lock().unwrap_or_else(|poisoned| {
        cache.clear_poison();
        let mut slot = poisoned.into_inner();
        *slot = None;
        slot
    })
}

/// `range` widened to the characters it touches. A rule's gaps are compiled
/// as bytes (`procedures::rule_text`), and the packs' patterns make them end
/// between characters; should one not, the words shown are whole
/// characters and never a panic.
pub(crate) fn on_characters(text: &str, range: Range<usize>) -> Range<usize> {
    let start = (0..=range.start).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let end = (range.end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    start..end
}

/// Words one of which every match of `hir` holds, up to ASCII case, when
/// there are a few worth searching for (each at least [`REQUIRED_LEN`]
/// bytes): for each alternative of an alternation, the words its own
/// matches hold; in a concatenation, the best of its parts' (the leading
/// words of each suffix of it, or what a part itself requires). regex
/// finds such inner words too, and searches backwards from them with its
/// reversed automaton; here they only tell which texts need no search.
pub(crate) fn required_words(hir: &Hir) -> Option<AhoCorasick> {
    searcher(&required_literals(hir)?)
}

/// The words of [`required_words`], lower case: what a pack's one pass
/// over a message looks for on behalf of each of its rules
/// (`procedures::rule_words`).
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut words = required(&ascii_lowercase(hir))?;
    words.sort();
    words.dedup();
    words.minimize_by_preference();
    let literals = words.literals()?;
    if literals.len() > REQUIRED_MAX || words.min_literal_len()? < REQUIRED_LEN {
        return None;
    }
    Some(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// Where a match of `hir` may start: before one of its leading words, up
/// to ASCII case (a rule that opens with a list of words in several
/// languages has too many mixes of cases for regex's own prefilter).
fn leading_words(hir: &Hir) -> Option<AhoCorasick> {
    let mut words = Extractor::new().kind(ExtractKind::Prefix).extract(&ascii_lowercase(hir));
    words.sort();
    words.dedup();
    words.minimize_by_preference();
    let literals = words.literals()?;
    (literals.len() <= REQUIRED_MAX && words.min_literal_len()? > 0).then(|| searcher(&literals.iter().map(|l| l.as_bytes()).collect::<Vec<_>>()))?
}

/// A search for any of `words`, up to ASCII case, leftmost first.
fn searcher<W: AsRef<[u8]>>(words: &[W]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(words.iter().map(AsRef::as_ref))
        .ok()
}

fn required(hir: &Hir) -> Option<Seq> {
    let leading = |hir: &Hir| {
        let mut words = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
        (words.is_finite() && words.min_literal_len()? >= REQUIRED_LEN).then(|| {
            words.make_inexact();
            words
        })
    };
    let better = |a: Option<Seq>, b: Option<Seq>| match (a, b) {
        (Some(a), Some(b)) => {
            let rank = |s: &Seq| (s.min_literal_len(), std::cmp::Reverse(s.len()));
            Some(if rank(&b) > rank(&a) { b } else { a })
        }
        (a, b) => a.or(b),
    };
    match hir.kind() {
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min > 0 => required(&r.sub),
        HirKind::Alternation(alternatives) => {
            let mut all = Seq::empty();
            for alternative in alternatives {
                all.union(&mut required(alternative)?);
            }
            Some(all)
        }
        HirKind::Concat(parts) => (0..parts.len())
            .map(|i| better(leading(&Hir::concat(parts[i..].to_vec())), required(&parts[i])))
            .fold(None, better),
        _ => leading(hir),
    }
}

/// `hir` with its ASCII letters lower case, and each class that is one
/// ASCII letter in either case that letter: what it matches, up to ASCII
/// case, is the same, and its words are not one per mix of cases.
fn ascii_lowercase(hir: &Hir) -> Hir {
    let one_letter = |chars: &mut dyn Iterator<Item = u32>| {
        let mut letter = None;
        for c in chars {
            let lower = u8::try_from(c).ok().filter(u8::is_ascii_alphabetic)?.to_ascii_lowercase();
            if letter.is_some_and(|l| l != lower) {
                return None;
            }
            letter = Some(lower);
        }
        letter
    };
    match hir.kind() {
        HirKind::Literal(l) => Hir::literal(l.0.to_ascii_lowercase()),
        HirKind::Class(Class::Unicode(c)) if c.ranges().len() <= 2 => {
            match one_letter(&mut c.ranges().iter().flat_map(|r| u32::from(r.start())..=u32::from(r.end()))) {
                Some(letter) => Hir::literal([letter]),
                None => hir.clone(),
            }
        }
        HirKind::Class(Class::Bytes(c)) if c.ranges().len() <= 2 => {
            match one_letter(&mut c.ranges().iter().flat_map(|r| u32::from(r.start())..=u32::from(r.end()))) {
                Some(letter) => Hir::literal([letter]),
                None => hir.clone(),
            }
        }
        HirKind::Repetition(r) => Hir::repetition(Repetition { sub: Box::new(ascii_lowercase(&r.sub)), ..r.clone() }),
        HirKind::Capture(c) => Hir::capture(Capture { sub: Box::new(ascii_lowercase(&c.sub)), ..c.clone() }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(ascii_lowercase).collect()),
        HirKind::Alternation(alternatives) => Hir::alternation(alternatives.iter().map(ascii_lowercase).collect()),
        _ => hir.clone(),
    }
}

/// Shorter words are in too many texts to spare a search.
const REQUIRED_LEN: usize = 3;
/// More words than this are no quicker to look for than the rule itself.
const REQUIRED_MAX: usize = 256;

/// The lazy DFA could not answer: a Unicode `\b` beside a non-ASCII
/// character, a cache cleared too often, or a match it cannot place.
struct GaveUp;

/// A copy shares the compiled pattern and makes its own caches when used.
impl Clone for ForwardRegex {
    fn clone(&self) -> ForwardRegex {
        ForwardRegex {
            nfa: self.nfa.clone(),
            leading: self.leading.clone(),
            required: self.required.clone(),
            dfa: self.dfa.clone(),
            backtrack: self.backtrack.clone(),
            pikevm: self.pikevm.clone(),
            cache: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for ForwardRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardRegex").field("states", &self.nfa.states().len()).field("required", &self.required.is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answers as `regex::Regex` for the same pattern, from any
    /// thread, including a pattern that matches the empty string (where
    /// an iterator must step over the empty match without splitting a
    /// character).
    #[test]
    fn matches_as_regex_does_from_every_thread() {
        let patterns = [r"(?i)\bdelet\w*", r"(?i)^(on .{1,200} wrote:|am .{1,200} schrieb .{1,200}:)\s*$", r"x*", r"ü"];
        let texts = ["Please DELETE my account, deleted? Delete!", "On Mon, 1 Dec, Ann wrote:", "äxüx", "", "nothing here"];
        for pattern in patterns {
            let shared = ForwardRegex::fixed(pattern);
            let plain = regex::Regex::new(pattern).unwrap();
            let answers = |r: &ForwardRegex| -> Vec<(bool, Option<String>, Vec<Range<usize>>)> {
                texts.iter().map(|t| (r.is_match(t), r.find(t).map(str::to_string), r.find_ranges(t))).collect()
            };
            let expected: Vec<_> = texts
                .iter()
                .map(|t| (plain.is_match(t), plain.find(t).map(|m| m.as_str().to_string()), plain.find_iter(t).map(|m| m.range()).collect()))
                .collect();
            assert_eq!(answers(&shared), expected, "{pattern}");
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..3).map(|_| s.spawn(|| answers(&shared))).collect();
                for h in handles {
                    assert_eq!(h.join().unwrap(), expected, "{pattern} from another thread");
                }
            });
            assert_eq!(answers(&shared.clone()), expected, "{pattern}, a copy");
        }
    }

    /// A pattern of many groups over long non-ASCII text: the lazy DFA
    /// gives up at the first non-ASCII byte (a Unicode `\b`) and the
    /// search runs on the PikeVM. Its cache holds the match's two ends a
    /// state, not every group's, and the match is the same.
    #[test]
    fn a_fallback_search_keeps_the_whole_match_not_every_group() {
        let groups = (0..16).map(|i| format!("(w{i}|x{i})")).collect::<Vec<_>>().join(".{0,9}");
        let pattern = format!(r"\b(licen[cs]e|purchase)\b.{{0,60}}\b(another|new) (account|address)\b|{groups}");
        let text = format!("{} my licence — please move it to another account", "Grüße aus Köln, ".repeat(400));
        let shared = ForwardRegex::fixed(&pattern);
        let every_group = regex_automata::meta::Regex::new(&pattern).unwrap();
        let mut cache = every_group.create_cache();
        let expected = every_group.search_with(&mut cache, &regex_automata::Input::new(&text)).map(|m| &text[m.range()]);
        assert_eq!(shared.find(&text), expected);
        assert_eq!(expected, Some("licence — please move it to another account"));
        assert!(
            shared.cache_memory() * 4 < cache.memory_usage(),
            "{} bytes against {} tracking every group",
            shared.cache_memory(),
            cache.memory_usage()
        );
    }

    /// Patterns that fall back share one set of fallback caches a thread:
    /// after searches with two of them the thread holds less than the two
    /// would apart, and each answer is still regex's.
    #[test]
    fn patterns_that_fall_back_share_one_set_of_caches_a_thread() {
        let text = format!("{} my licence — please move it to another account, Konto löschen", "Grüße aus Köln, ".repeat(300));
        let patterns = [r"\b(licen[cs]e|purchase)\b.{0,60}\b(another|new) (account|address)\b", r"(?i)\bkonto\w*\s+l(?:ö|oe)sch\w*"];
        let compiled = patterns.map(ForwardRegex::fixed);
        let expected = patterns.map(|p| regex::Regex::new(p).unwrap().find(&text).map(|m| m.as_str().to_string()));
        assert!(expected.iter().all(Option::is_some));
        // The fallback memory of a new thread after searches with the
        // patterns `order` names.
        let on_a_new_thread = |order: &[usize]| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    for &i in order {
                        assert_eq!(compiled[i].find(&text).map(str::to_string), expected[i], "{}", patterns[i]);
                    }
                    fallback_memory()
                })
                .join()
                .unwrap()
            })
        };
        let (first, second) = (on_a_new_thread(&[0]), on_a_new_thread(&[1]));
        assert!(first > 0 && second > 0, "both searches fell back: {first}, {second}");
        let together = on_a_new_thread(&[0, 1, 0, 1]);
        assert!(together < first + second, "{together} bytes against {first} + {second}");
    }

    /// A search that panics while holding the cache does not leave the
    /// pattern unusable: the next search starts from a fresh cache.
    #[test]
    fn a_search_that_panicked_leaves_the_pattern_usable() {
        let shared = ForwardRegex::fixed(r"\bdelete\b");
        assert!(shared.is_match("please delete"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.with_caches(|_| panic!("a search fails halfway"));
        }));
        assert!(result.is_err());
        assert!(shared.is_match("please delete"));
        assert_eq!(shared.find("do not delete it"), Some("delete"));
    }

    fn compiled(pattern: &str, capacity: usize) -> ForwardRegex {
        let hir = regex_automata::util::syntax::parse_with(pattern, &regex_automata::util::syntax::Config::new().case_insensitive(true)).unwrap();
        ForwardRegex::new(&hir, 8 << 20, |_| capacity).unwrap()
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
            r"(?:i|we|my)\W+(?:\w+\W+){0,8}?\b(refund\w*|money back)\b|\brefund me\b",
            r"\b(?:stop|kündig|résili)\w*\s+(?:\w+\s+)?(?:abo|subscription)",
            r"(?:please|bitte)\W+(?:\w+\W+){0,3}?(?:lösch|delet)\w*",
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
            "I only want my MONEY BACK, or: refund me",
            "ſtop my subscription, Kündigen Sie mein ABO",
            "Bitte mein Konto LÖSCHEN",
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
                    assert_eq!(forward.is_match(text), expected.is_match(text), "{pattern} on {text:?}, cache {capacity}");
                }
            }
        }
    }

    /// A rule is not searched in a text that lacks every word its matches
    /// need, up to case: "refund" or "money back" for a refund asked by
    /// "I", "we" or "my", wherever they are; a rule of short words only
    /// has no such words, and is searched in every text.
    #[test]
    fn a_text_without_the_words_every_match_needs_is_not_searched() {
        let hir = |pattern: &str| regex_automata::util::syntax::parse_with(pattern, &regex_automata::util::syntax::Config::new().case_insensitive(true)).unwrap();
        let refund = r"(?:i|we|my)\W+(?:\w+\W+){0,8}?\b(refund\w*|money back)\b|\brefund me\b";
        let words = required_words(&hir(refund)).expect("a refund rule needs its words");
        assert!(words.is_match("I want a REFUND") && words.is_match("my Money Back"));
        assert!(!words.is_match("I want my money returned") && !words.is_match("we need it back"));
        // Case as regex folds it: the long s is an s to (?i), and it stays
        // one to the words the rule needs.
        let stop = r"\bstop\w*\s+my\s+subscriptions?\b";
        let forward = compiled(stop, 256 << 10);
        assert!(forward.is_match("please ſtop my SUBSCRIPTION"));
        assert!(required_words(&hir(r"(?:i|we)\W+\w+")).is_none());
        assert!(required_words(&hir(r"\bgdpr\b|(?:i|we)\W+want")).is_some_and(|w| w.is_match("we want") && !w.is_match("we wish")));
        assert!(required_words(&hir(r"\bgdpr\b|(?:i|we)\W+\w+")).is_none(), "one alternative needs no long word");
    }

    /// Without the reversed automaton `meta::Regex` compiles beside the
    /// forward one, a rule of word lists holds well under half as much.
    #[test]
    fn holds_no_reverse_automaton() {
        let pattern = r"\b(?:gdpr|dsgvo|rgpd|article 17|right to erasure)\b.{0,40}\b(?:delet|remov|lösch|supprim|borr|efface)\w*";
        let meta = regex_automata::meta::Regex::builder()
            .configure(regex_automata::meta::Config::new().which_captures(WhichCaptures::Implicit))
            .syntax(regex_automata::util::syntax::Config::new().case_insensitive(true))
            .build(&pattern)
            .unwrap();
        let forward = compiled(&pattern, 256 << 10);
        assert!(forward.memory_usage() * 2 < meta.memory_usage(), "{} against {}", forward.memory_usage(), meta.memory_usage());
    }
}
