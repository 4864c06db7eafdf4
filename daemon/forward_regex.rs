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
//!   as `meta::Regex` falls back to them;
//! - a Unicode `\b` makes the lazy DFA give up at the first non-ASCII
//!   byte, so text in other languages went to the PikeVM, a hundred
//!   times slower. Where the pattern puts an ASCII letter beside each
//!   `\b`, the lazy DFA reads it with ASCII's `\b` instead, which is the
//!   same on ASCII text and elsewhere finds every match and perhaps more
//!   ([`ascii_boundaries`]): where it finds none, there is none. And a
//!   text that is not ASCII is searched only near the words every match
//!   holds, as far as the pattern lets a match reach in that text
//!   ([`ForwardRegex::is_match_near`]).
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
use std::sync::{LazyLock, Mutex};

use regex_automata::hybrid::dfa::{self, DFA};
use regex_automata::nfa::thompson::{self, backtrack::BoundedBacktracker, pikevm::PikeVM, WhichCaptures, NFA};
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::iter::Searcher;
use regex_automata::{Anchored, Input, Match, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem;

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
    /// How long a match can be, in a given text, when the pattern bounds
    /// it there: a match then lies that near one of its words, and a text
    /// the lazy DFA cannot read is searched only there ([`windows`]).
    longest: Option<Bound>,
    /// None when the automaton is too large for the cache capacity to
    /// hold a few of its states: every search then runs on the fallback.
    dfa: Option<DFA>,
    /// Whether `dfa` reads the pattern with ASCII word boundaries
    /// ([`ascii_boundaries`]): exact on ASCII text, and on other text a
    /// first look that can only find too much.
    ascii_words: bool,
    /// For a pattern whose `dfa` reads Unicode's `\b`, a lazy DFA of it
    /// with each `\b` ASCII's or none ([`loose_boundaries`]): the first
    /// look at text that is not ASCII, which `dfa` cannot read.
    loose: Option<DFA>,
    backtrack: BoundedBacktracker,
    pikevm: PikeVM,
    cache: Mutex<Option<Caches>>,
}

/// What searching a pattern keeps between searches: its lazy DFA's states.
struct Caches {
    dfa: Option<dfa::Cache>,
    loose: Option<dfa::Cache>,
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
        // A pattern with no words to look for is read all through, however
        // long the text: only it gets a loose lazy DFA for text that is not
        // ASCII (one with words is searched near them).
        let required = required_words(hir);
        let mut built = ForwardRegex::build(hir, size_limit, cache_capacity, required.is_none())?;
        built.required = required;
        Ok(built)
    }

    /// A pack's rule, as [`ForwardRegex::new`] but without its own look for
    /// the words every match holds: those words are returned instead, for
    /// the pack's one pass over a text for all its rules
    /// (`procedures::rule_words`), and the rule is searched with
    /// [`ForwardRegex::is_match_with_words`] where that pass found one.
    pub fn for_pack(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize) -> Result<(ForwardRegex, Option<Vec<Vec<u8>>>), String> {
        // A rule with no words to look for is read all through, however
        // long the text: it alone gets a loose lazy DFA for text that is
        // not ASCII (a rule with words is searched near them).
        let words = required_literals(hir);
        Ok((ForwardRegex::build(hir, size_limit, cache_capacity, words.is_none())?, words))
    }

    fn build(hir: &Hir, size_limit: usize, cache_capacity: impl FnOnce(usize) -> usize, loose: bool) -> Result<ForwardRegex, String> {
        // regex's prefilter of the leading words, when it is quick, lets
        // the lazy DFA skip to them; otherwise the DFA reads every byte.
        // The lazy DFA gives up at the first non-ASCII byte of a text when
        // the pattern has a Unicode `\b`; with ASCII boundaries it never
        // does (see [`ascii_boundaries`]).
        let ascii = ascii_boundaries(hir);
        let dfa_hir = ascii.as_ref().unwrap_or(hir);
        let prefilter = Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, dfa_hir).filter(Prefilter::is_fast);
        let compile = |hir: &Hir| {
            thompson::Compiler::new()
                .configure(thompson::Config::new().utf8(true).shrink(false).which_captures(WhichCaptures::Implicit).nfa_size_limit(Some(size_limit)))
                .build_from_hir(hir)
                .map_err(|e| e.to_string())
        };
        let nfa = compile(hir)?;
        let dfa_nfa = if ascii.is_some() { compile(dfa_hir)? } else { nfa.clone() };
        let lazy = |nfa: NFA, prefilter: Option<Prefilter>, capacity: usize| {
            DFA::builder()
                .configure(
                    DFA::config()
                        .match_kind(MatchKind::LeftmostFirst)
                        .specialize_start_states(true)
                        .prefilter(prefilter)
                        .unicode_word_boundary(true)
                        .cache_capacity(capacity)
                        .skip_cache_capacity_check(false)
                        .minimum_cache_clear_count(Some(3))
                        .minimum_bytes_per_state(Some(10)),
                )
                .build_from_nfa(nfa)
                .ok()
        };
        let dfa = lazy(dfa_nfa.clone(), prefilter, cache_capacity(dfa_nfa.memory_usage()));
        // Its cache is smaller than the pattern's own: it is read only in
        // text that is not ASCII, and if it fills again and again the
        // search falls back as it did before there was one. It holds
        // four times the automaton: each place it finds is confirmed by
        // anchored looks of its own (`confirm_each`), which fill twice
        // as much, and then gave up.
        let loose = match loose_boundaries(hir).filter(|_| loose && ascii.is_none()) {
            Some(loose) => {
                let loose_nfa = compile(&loose)?;
                let prefilter = Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &loose).filter(Prefilter::is_fast);
                // A large automaton needs more than that for a few of its
                // states: as much as it takes, up to regex's own cap.
                let least = (loose_nfa.memory_usage() * 4).clamp(LOOSE_CACHE_MIN, LOOSE_CACHE_MAX);
                std::iter::successors(Some(least), |c| Some(c * 2))
                    .take_while(|&c| c <= 2 << 20)
                    .find_map(|capacity| lazy(loose_nfa.clone(), prefilter.clone(), capacity))
            }
            None => None,
        };
        let backtrack = BoundedBacktracker::builder().build_from_nfa(nfa.clone()).map_err(|e| e.to_string())?;
        let pikevm = PikeVM::builder()
            .configure(PikeVM::config().match_kind(MatchKind::LeftmostFirst))
            .build_from_nfa(nfa.clone())
            .map_err(|e| e.to_string())?;
        let leading = leading_words(hir);
        let longest = Bound::of(hir);
        Ok(ForwardRegex { nfa, leading, required: None, longest, dfa, ascii_words: ascii.is_some(), loose, backtrack, pikevm, cache: Mutex::new(None) })
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
        let Some(words) = &self.required else { return self.is_match_with_words(text) };
        if text.is_ascii() || self.longest.is_none() {
            return words.is_match(text) && self.is_match_with_words(text);
        }
        // Every match holds one of these words: only the text near them is
        // searched, near every place one is, even inside another (a match
        // opened by "cde" inside "abcdef" reaches past that one's window).
        let mut places = words.find_overlapping_iter(text).map(|w| w.range()).peekable();
        // Most text holds none of them: not even its runs are counted.
        if places.peek().is_none() {
            return false;
        }
        self.is_match_near(text, places, &Runs::of(text))
    }

    /// As [`ForwardRegex::is_match`], for a `text` already known to hold
    /// one of the words every match holds ([`required_literals`]): a
    /// pack's rules have them looked for in one pass for all
    /// (`procedures::rule_words`).
    pub fn is_match_with_words(&self, text: &str) -> bool {
        let reading = self.reading(text);
        self.with_caches(|caches| self.search(caches, &Input::new(text).earliest(true), reading).is_some())
    }

    /// As [`ForwardRegex::is_match`], where `words` are the places in
    /// `text`, in order, of the words every match holds one of
    /// ([`required_literals`], found by the pack's one pass or the
    /// pattern's own look) and `runs` its [`Runs`]: where the pattern
    /// bounds a match in this text, only the text near those words is
    /// searched. No word, no match.
    ///
    /// Why: the lazy DFA gives up at the first non-ASCII byte of a text
    /// when the pattern has a Unicode `\b` (every rule has one), and the
    /// PikeVM then reads the rest of the text a hundred times slower: a
    /// 2 KiB letter in German took about 20 ms to classify, a 3 KiB one in
    /// English under 1 ms (docs/BENCHMARKS.md, "Text in other languages").
    /// Each window is searched with the whole text around it, so a `\b`
    /// at its edge reads the character beyond, and the answer is the
    /// whole text's.
    pub fn is_match_near(&self, text: &str, words: impl Iterator<Item = Range<usize>>, runs: &Runs) -> bool {
        let Some(longest) = self.longest.as_ref().map(|b| b.in_text(runs)) else {
            let mut words = words.peekable();
            return words.peek().is_some() && self.is_match_with_words(text);
        };
        let windows = windows(text, words, longest);
        // Near as much as the whole: one search is cheaper than several.
        if windows.iter().map(ExactSizeIterator::len).sum::<usize>() * 4 >= text.len() * 3 {
            return !windows.is_empty() && self.is_match_with_words(text);
        }
        let reading = self.reading(text);
        self.with_caches(|caches| windows.into_iter().any(|w| self.search(caches, &Input::new(text).range(w).earliest(true), reading).is_some()))
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
        let reading = self.reading(text);
        let found = self.with_caches(|caches| self.search(caches, &Input::new(text), reading));
        found.map(|range| &text[on_characters(text, range)])
    }

    /// Every match in `text`, as `regex::Regex::find_iter` gives them,
    /// widened to whole characters.
    pub fn find_ranges(&self, text: &str) -> Vec<Range<usize>> {
        if !self.may_match(text) {
            return Vec::new();
        }
        let reading = self.reading(text);
        self.with_caches(|caches| {
            let mut searcher = Searcher::new(Input::new(text));
            std::iter::from_fn(|| searcher.advance(|input| Ok(self.search(caches, input, reading).map(|range| Match::must(0, range)))))
                .map(|m| on_characters(text, m.range()))
                .collect()
        })
    }

    /// `text` with every match ([`ForwardRegex::find_ranges`]) replaced
    /// by `with`, as `regex::Regex::replace_all` makes it; borrowed when
    /// there is none.
    pub fn replace_all<'h>(&self, text: &'h str, with: &str) -> std::borrow::Cow<'h, str> {
        let found = self.find_ranges(text);
        if found.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        for m in found {
            out.push_str(&text[from..m.start]);
            out.push_str(with);
            from = m.end;
        }
        out.push_str(&text[from..]);
        std::borrow::Cow::Owned(out)
    }

    /// Runs `search` with the one set of caches, holding the lock for it
    /// alone.
    fn with_caches<R>(&self, search: impl FnOnce(&mut Caches) -> R) -> R {
        let mut slot = lock_cache(&self.cache);
        let caches = slot.get_or_insert_with(|| Caches { dfa: self.dfa.as_ref().map(dfa::Cache::new), loose: self.loose.as_ref().map(dfa::Cache::new) });
        search(caches)
    }

    /// The leftmost-first match in `input`'s span (or, for an `earliest`
    /// input, whether there is one: any range then).
    fn search(&self, caches: &mut Caches, input: &Input<'_>, reading: Reading) -> Option<Range<usize>> {
        match reading {
            Reading::Exact => match self.forward(caches, input) {
                Ok(found) => found,
                Err(GaveUp) => self.fallback_from_leading(input),
            },
            // The lazy DFA finds every match and perhaps more: where it
            // finds none there is none, and that is most rules on most
            // text. Where it finds one, the engines that read Unicode's
            // `\b` say whether it is one.
            Reading::Superset => {
                let (dfa, cache) = if self.ascii_words { (&self.dfa, &mut caches.dfa) } else { (&self.loose, &mut caches.loose) };
                let (Some(dfa), Some(cache)) = (dfa, cache.as_mut()) else { return self.fallback(input) };
                // Whether there is a match, where the pattern bounds one:
                // each place it finds is confirmed where a match through
                // it could lie (`confirm_each`).
                if let (true, Some(bound)) = (input.get_earliest(), self.longest) {
                    return self.confirm_each(dfa, cache, input, bound);
                }
                match dfa.try_search_fwd(cache, input) {
                    Ok(None) => None,
                    _ => self.fallback(input),
                }
            }
            Reading::Unreadable => self.fallback_from_leading(input),
        }
    }

    /// Whether `input` holds a match, by a lazy DFA `superset` that finds
    /// every match and perhaps more, each of whose finds the engines that
    /// read Unicode's `\b` confirm, for a pattern whose matches are at
    /// most `bound` long (`reach` bytes in this text).
    ///
    /// Why it is enough to look near each: searching from `from`, the
    /// superset stops at the first place `end` where a match of its own
    /// ends. Every real match from `from` on is one of its, so it ends at
    /// `end` or later, and so starts at `end - reach` or later. Of those
    /// places, a real match can start only where the superset, anchored
    /// there, finds one too (most places it leaves at their first byte),
    /// and the exact engines, anchored there as well, read no further
    /// than a match reaches. If none starts by `end`, the search goes on
    /// after it. Before, the first false find in a German letter's first
    /// line had the PikeVM read the rest of the letter (0.9 ms of the
    /// precision guard's 2 ms); and even read near each find, an
    /// unanchored search of a large pattern reads a few hundred bytes in
    /// as many microseconds (docs/BENCHMARKS.md). Where the places tried
    /// would add up to more than twice the text, the rest is read in one
    /// search.
    fn confirm_each(&self, superset: &DFA, cache: &mut dfa::Cache, input: &Input<'_>, bound: Bound) -> Option<Range<usize>> {
        // The text and its reach are looked at only once the superset
        // finds something: most searches end at the first look.
        let mut known: Option<(&str, usize)> = None;
        let (mut from, mut tried) = (input.start(), 0);
        while from <= input.end() {
            let end = match superset.try_search_fwd(cache, &input.clone().range(from..input.end())) {
                Ok(None) => return None,
                Ok(Some(found)) => found.offset(),
                Err(_) => return self.fallback(&input.clone().range(from..input.end())),
            };
            let (text, reach) = match known {
                Some(known) => known,
                // Always UTF-8: the searches take a `&str`.
                None => match std::str::from_utf8(input.haystack()) {
                    Ok(text) => *known.insert((text, bound.in_text(&Runs::of(text)))),
                    Err(_) => return self.fallback(&input.clone().range(from..input.end())),
                },
            };
            let first = on_characters(text, end.saturating_sub(reach).max(from)..end).start.max(from);
            tried += end - first;
            if tried > 2 * text.len() {
                return self.fallback(&input.clone().range(first..input.end()));
            }
            let mut starts = Vec::new();
            for start in (first..=end).filter(|&i| text.is_char_boundary(i)) {
                match superset.try_search_fwd(cache, &input.clone().range(start..input.end()).anchored(Anchored::Yes)) {
                    Ok(None) => {}
                    Ok(Some(_)) => starts.push(start),
                    Err(_) => return self.fallback(&input.clone().range(first..input.end())),
                }
            }
            if let Some(found) = self.fallback_any(starts.into_iter().map(|start| input.clone().range(start..input.end().min(start.saturating_add(reach))).anchored(Anchored::Yes))) {
                return Some(found);
            }
            // The character after `end`: no match starts before it.
            from = (end + 1..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(end + 1);
        }
        None
    }

    /// How far the lazy DFA's answer holds for `text`.
    fn reading(&self, text: &str) -> Reading {
        if !(self.ascii_words || self.loose.is_some()) || text.is_ascii() {
            Reading::Exact
        } else if has_odd_folds(text.as_bytes()) {
            Reading::Unreadable
        } else {
            Reading::Superset
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
        let starts: Box<dyn Iterator<Item = usize>> = match self.leading_starts(input) {
            Some(starts) => Box::new(starts.take_while(|&start| start < end)),
            None => Box::new((input.start()..end).filter(|&i| input.is_char_boundary(i))),
        };
        for start in starts {
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
        self.fallback_any(std::iter::once(input.clone()))
    }

    /// As [`ForwardRegex::fallback`]; whether there is a match (an
    /// `earliest` input), for a pattern with leading words, by searches
    /// anchored at each place one is. Every match starts at one, and an
    /// anchored search reads no further than a match from there reaches,
    /// where an unanchored one reads all the span with every alternative
    /// of the pattern alive at each byte: a German letter's windows near
    /// the words of `delete-account` took the PikeVM 0.77 ms
    /// (docs/BENCHMARKS.md).
    fn fallback_from_leading(&self, input: &Input<'_>) -> Option<Range<usize>> {
        let (true, Some(starts)) = (input.get_earliest(), self.leading_starts(input)) else { return self.fallback(input) };
        self.fallback_any(starts.map(|start| input.clone().range(start..input.end()).anchored(Anchored::Yes)))
    }

    /// Every place in `input`'s span where one of the pattern's leading
    /// words is, even one inside another, on a character boundary, in
    /// order; `None` when there are no leading words, or when they miss a
    /// match that starts with the Kelvin sign or the long s (see
    /// `ascii_lowercase`) and the text holds one.
    fn leading_starts<'a>(&'a self, input: &'a Input<'_>) -> Option<impl Iterator<Item = usize> + 'a> {
        let text = input.haystack();
        let words = self.leading.as_ref().filter(|_| !has_odd_folds(text))?;
        let mut from = input.start();
        let places = std::iter::from_fn(move || {
            let found = words.find(aho_corasick::Input::new(text).range(from..input.end()))?;
            from = found.start() + 1;
            Some(found.start())
        });
        Some(places.filter(|&start| input.is_char_boundary(start)))
    }

    /// The first match of the first of `inputs` that holds one, by the
    /// engines of [`ForwardRegex::fallback`], whose caches are reset once
    /// for all.
    fn fallback_any<'h>(&self, inputs: impl Iterator<Item = Input<'h>>) -> Option<Range<usize>> {
        FALLBACK.with_borrow_mut(|slot| {
            let caches = slot.get_or_insert_with(|| Fallback { backtrack: self.backtrack.create_cache(), pikevm: self.pikevm.create_cache() });
            // Made for another pattern, or left by a search that panicked:
            // a reset clears either.
            caches.backtrack.reset(&self.backtrack);
            caches.pikevm.reset(&self.pikevm);
            inputs.into_iter().find_map(|input| {
                let found = if input.get_span().len() <= self.backtrack.max_haystack_len() {
                    self.backtrack.try_find(&mut caches.backtrack, input.clone()).ok().flatten()
                } else {
                    None
                };
                found.or_else(|| self.pikevm.find(&mut caches.pikevm, input)).map(|m| m.range())
            })
        })
    }

    /// What the compiled pattern holds, without its caches.
    pub fn memory_usage(&self) -> usize {
        // The fallback engines share the automaton and hold nothing else.
        // A lazy DFA holds its automaton and nothing else; the pattern's own
        // is `nfa` unless it reads ASCII word boundaries.
        self.nfa.memory_usage()
            + self.dfa.as_ref().filter(|_| self.ascii_words).map_or(0, |d| d.get_nfa().memory_usage())
            + self.loose.as_ref().map_or(0, |d| d.get_nfa().memory_usage())
            + self.leading.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.required.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// What the search caches hold now (nothing before the first search):
    /// the pattern's, and this thread's fallback caches.
    #[cfg(test)]
    pub fn cache_memory(&self) -> usize {
        self.cache.lock().unwrap().as_ref().map_or(0, |c| [&c.dfa, &c.loose].into_iter().flatten().map(dfa::Cache::memory_usage).sum::<usize>()) + fallback_memory()
    }
}

/// What this thread's fallback caches hold.
#[cfg(test)]
fn fallback_memory() -> usize {
    FALLBACK.with_borrow(|slot| slot.as_ref().map_or(0, |f| f.backtrack.memory_usage() + f.pikevm.memory_usage()))
}

/// The longest run of a text's bytes of each of three kinds, which bounds
/// how much of it a repeated class can match: a word's characters
/// (`\w*`), what is not a word's (`\W+`, `\s+`, `[\s,]+`) and what is
/// not a space (`\S*`, `[\w.-]+`). Every non-ASCII byte counts as each
/// kind: a bound, never short.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Runs([usize; RUN_KINDS]);

/// The kinds of [`Runs`]: word, not a word, not a space.
const RUN_KINDS: usize = 3;

impl Runs {
    pub fn of(text: &str) -> Runs {
        let (mut longest, mut now) = ([0; RUN_KINDS], [0; RUN_KINDS]);
        for &b in text.as_bytes() {
            for kind in 0..RUN_KINDS {
                now[kind] = if in_run(kind, b) { now[kind] + 1 } else { 0 };
                longest[kind] = longest[kind].max(now[kind]);
            }
        }
        Runs(longest)
    }
}

/// Whether byte `b` may be part of a run of `kind` ([`Runs`]).
fn in_run(kind: usize, b: u8) -> bool {
    let word = b.is_ascii_alphanumeric() || b == b'_';
    !b.is_ascii()
        || match kind {
            0 => word,
            1 => !word,
            _ => !b.is_ascii_whitespace() && b != 0x0b,
        }
}

/// The longest match of a pattern, in bytes, in a text with given
/// [`Runs`]: `fixed` plus, for each kind, the most runs of it a match can
/// take in full (`\w*` one word's run, `(\w+\s+){0,3}` three of each).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound {
    fixed: usize,
    runs: [usize; RUN_KINDS],
}

impl Bound {
    const ZERO: Bound = Bound { fixed: 0, runs: [0; RUN_KINDS] };

    /// `None` when a part of the pattern repeats without limit over bytes
    /// of more than one kind (`.*`): a match may then be the whole text.
    fn of(hir: &Hir) -> Option<Bound> {
        let fixed = |n: usize| Bound { fixed: n, ..Bound::ZERO };
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Some(Bound::ZERO),
            HirKind::Literal(l) => Some(fixed(l.0.len())),
            HirKind::Class(c) => c.maximum_len().map(fixed),
            HirKind::Capture(c) => Bound::of(&c.sub),
            HirKind::Repetition(r) => match r.max {
                Some(max) => Bound::of(&r.sub).map(|b| b.times(max as usize)),
                None => {
                    let bytes = ascii_bytes(&r.sub);
                    (0..RUN_KINDS).find(|&kind| (0..128u8).all(|b| !bytes[b as usize] || in_run(kind, b))).map(|kind| {
                        let mut runs = [0; RUN_KINDS];
                        runs[kind] = 1;
                        Bound { fixed: 0, runs }
                    })
                }
            },
            HirKind::Concat(parts) => parts.iter().try_fold(Bound::ZERO, |sum, part| Some(sum.plus(Bound::of(part)?))),
            // The longest of the alternatives, kind by kind: a bound, since
            // no run is negative.
            HirKind::Alternation(alternatives) => alternatives.iter().try_fold(Bound::ZERO, |most, a| Some(most.or(Bound::of(a)?))),
        }
    }

    fn plus(self, other: Bound) -> Bound {
        Bound { fixed: self.fixed.saturating_add(other.fixed), runs: std::array::from_fn(|k| self.runs[k].saturating_add(other.runs[k])) }
    }

    fn or(self, other: Bound) -> Bound {
        Bound { fixed: self.fixed.max(other.fixed), runs: std::array::from_fn(|k| self.runs[k].max(other.runs[k])) }
    }

    fn times(self, n: usize) -> Bound {
        Bound { fixed: self.fixed.saturating_mul(n), runs: self.runs.map(|r| r.saturating_mul(n)) }
    }

    fn in_text(&self, runs: &Runs) -> usize {
        (0..RUN_KINDS).fold(self.fixed, |sum, k| sum.saturating_add(self.runs[k].saturating_mul(runs.0[k])))
    }
}

/// The ASCII bytes a match of `hir` may hold (every non-ASCII byte is of
/// every run's kind, so they do not matter).
fn ascii_bytes(hir: &Hir) -> [bool; 128] {
    let mut bytes = [false; 128];
    let mut add = |lo: u32, hi: u32| {
        for b in lo..=hi.min(127) {
            bytes[b as usize] = true;
        }
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => l.0.iter().for_each(|&b| add(u32::from(b), u32::from(b))),
        HirKind::Class(Class::Unicode(c)) => c.ranges().iter().for_each(|r| add(r.start() as u32, r.end() as u32)),
        HirKind::Class(Class::Bytes(c)) => c.ranges().iter().for_each(|r| add(u32::from(r.start()), u32::from(r.end()))),
        HirKind::Capture(c) => return ascii_bytes(&c.sub),
        HirKind::Repetition(r) => return ascii_bytes(&r.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            for part in parts {
                for (b, held) in ascii_bytes(part).into_iter().enumerate() {
                    bytes[b] |= held;
                }
            }
        }
    }
    bytes
}

/// Where in `text` a match of at most `longest` bytes holding one of
/// `words` can be: a match holding the word at `s..e` starts at `e -
/// longest` or later and ends by `s + longest`. Widened to whole
/// characters, merged where they meet, in order.
fn windows(text: &str, words: impl Iterator<Item = Range<usize>>, longest: usize) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::new();
    for word in words {
        let near = word.end.saturating_sub(longest).min(word.start)..word.start.saturating_add(longest).max(word.end).min(text.len());
        let near = on_characters(text, near);
        match merged.last_mut() {
            Some(last) if near.start <= last.end && near.start >= last.start => last.end = last.end.max(near.end),
            _ => merged.push(near),
        }
    }
    // The pack's one pass reports a word inside another after it: put
    // such windows in order and merge them again.
    if merged.windows(2).any(|w| w[1].start < w[0].start) {
        merged.sort_by_key(|w| w.start);
        let mut again: Vec<Range<usize>> = Vec::with_capacity(merged.len());
        for near in merged {
            match again.last_mut() {
                Some(last) if near.start <= last.end => last.end = last.end.max(near.end),
                _ => again.push(near),
            }
        }
        merged = again;
    }
    merged
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
    // Every place of them, even one inside another: see `is_match`.
    searcher(&required_literals(hir)?, aho_corasick::MatchKind::Standard)
}

/// The words of [`required_words`], lower case: what a pack's one pass
/// over a message looks for on behalf of each of its rules
/// (`procedures::rule_words`).
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut words = required(&ascii_lowercase(hir, false))?;
    words.sort();
    words.dedup();
    words.minimize_by_preference();
    // A rule written in many phrasings can require more words than are
    // worth looking for. Their first bytes then stand for them: every
    // match still holds one, where the whole word is (as `windows`
    // needs), and the shorter the words, the fewer they are.
    // The longest first bytes that are few enough, found by halving.
    if words.len()? > REQUIRED_MAX {
        let first = |bytes: usize| {
            let mut first = words.clone();
            first.keep_first_bytes(bytes);
            first.sort();
            first.dedup();
            first.minimize_by_preference();
            first
        };
        let (mut few, mut many) = (REQUIRED_LEN, words.max_literal_len()?);
        while many - few > 1 {
            let mid = (few + many) / 2;
            if first(mid).len()? <= REQUIRED_MAX {
                few = mid;
            } else {
                many = mid;
            }
        }
        words = first(few);
    }
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
    let mut words = Extractor::new().kind(ExtractKind::Prefix).extract(&ascii_lowercase(hir, true));
    words.sort();
    words.dedup();
    words.minimize_by_preference();
    let literals = words.literals()?;
    (literals.len() <= REQUIRED_MAX && words.min_literal_len()? > 0).then(|| searcher(&literals.iter().map(|l| l.as_bytes()).collect::<Vec<_>>(), aho_corasick::MatchKind::LeftmostFirst))?
}

/// A search for any of `words`, up to ASCII case.
fn searcher<W: AsRef<[u8]>>(words: &[W], kind: aho_corasick::MatchKind) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(kind)
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
/// `odd_folds`: also when the class holds the Kelvin sign or the long s
/// beside `k` or `s`, as a case-insensitive one does (so its words are
/// not three times as many for each such letter, and `{delete}`'s leading
/// words not too many to look for): the words then miss a match that
/// starts with one of those two, and only text without them may be
/// searched for them ([`ForwardRegex::fallback_from_leading`]).
fn ascii_lowercase(hir: &Hir, odd_folds: bool) -> Hir {
    let one_letter = |chars: &mut dyn Iterator<Item = u32>| {
        let mut letter = None;
        for c in chars {
            let c = match c {
                0x212A if odd_folds => u32::from(b'k'),
                0x17F if odd_folds => u32::from(b's'),
                c => c,
            };
            let lower = u8::try_from(c).ok().filter(u8::is_ascii_alphabetic)?.to_ascii_lowercase();
            if letter.is_some_and(|l| l != lower) {
                return None;
            }
            letter = Some(lower);
        }
        letter
    };
    let most = if odd_folds { 3 } else { 2 };
    let lower = |hir: &Hir| ascii_lowercase(hir, odd_folds);
    match hir.kind() {
        HirKind::Literal(l) => Hir::literal(l.0.to_ascii_lowercase()),
        HirKind::Class(Class::Unicode(c)) if c.ranges().len() <= most => {
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
        HirKind::Repetition(r) => Hir::repetition(Repetition { sub: Box::new(lower(&r.sub)), ..r.clone() }),
        HirKind::Capture(c) => Hir::capture(Capture { sub: Box::new(lower(&c.sub)), ..c.clone() }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(lower).collect()),
        HirKind::Alternation(alternatives) => Hir::alternation(alternatives.iter().map(lower).collect()),
        _ => hir.clone(),
    }
}

/// Whether `text` holds the Kelvin sign or the long s, which a
/// case-insensitive `k` or `s` matches (see [`ascii_word_class`] and
/// [`ascii_lowercase`]).
///
/// Asked at every search of a text that is not ASCII: a byte-by-byte look
/// at each was about a twentieth of classifying a German letter
/// (docs/BENCHMARKS.md, "German under 1 ms").
fn has_odd_folds(text: &[u8]) -> bool {
    static KELVIN: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("\u{212A}"));
    static LONG_S: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("\u{17F}"));
    KELVIN.find(text).is_some() || LONG_S.find(text).is_some()
}

/// Shorter words are in too many texts to spare a search.
const REQUIRED_LEN: usize = 3;
/// More words than this are no quicker to look for than the rule itself.
const REQUIRED_MAX: usize = 256;

/// How far the lazy DFA's answer holds for a text ([`ForwardRegex::reading`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// Its answer is the pattern's (or it gives up, and the fallback
    /// answers): it reads the pattern as written, or the text is ASCII,
    /// where ASCII's `\b` is Unicode's.
    Exact,
    /// It reads ASCII word boundaries ([`ascii_boundaries`]) in text that
    /// is not ASCII, or the pattern has a loose lazy DFA
    /// ([`loose_boundaries`]): that finds every match, and perhaps more.
    Superset,
    /// Not even that: the text holds the Kelvin sign or the long s, which
    /// a case-insensitive `k` or `s` matches (see [`ascii_word_class`]).
    Unreadable,
}

/// `hir` with each Unicode `\b` made ASCII's, when beside every one of
/// them the pattern puts an ASCII letter, digit or `_` on one side (as
/// in `\bdelete`, `(?:konto|account)\b`): `None` if one has no such side
/// or the pattern has another Unicode assertion.
///
/// Unicode's `\b` between that character and any other is true only when
/// the other is no part of a word, and ASCII's is then true as well: so
/// every match of `hir` is one of the result's, which finds more only
/// where a word of other letters touches the ASCII one ("é" before
/// "delete"). On ASCII text the two are the same pattern. The lazy DFA
/// reads the result without giving up at non-ASCII bytes (see
/// [`ForwardRegex::search`]).
fn ascii_boundaries(hir: &Hir) -> Option<Hir> {
    hir.properties().look_set().contains_word_unicode().then(|| with_ascii_boundaries(hir, false, false)).flatten()
}

/// `hir` with each Unicode `\b` made ASCII's where [`ascii_boundaries`]
/// would, and left out where not (as every other Unicode assertion): a
/// pattern that finds every match of `hir` and more, on any text. `None`
/// when `hir` has no Unicode assertion. Not exact even on ASCII text, so
/// only a first look at text `dfa` cannot read.
fn loose_boundaries(hir: &Hir) -> Option<Hir> {
    hir.properties().look_set().contains_word_unicode().then(|| with_ascii_boundaries(hir, false, true)).flatten()
}

/// `hir` with each Unicode `\b` that has an ASCII word character beside
/// it made ASCII's; any other Unicode assertion left out when `loose`,
/// else `None`. `side_known`: whether `hir` is such a `\b` (its concat
/// tells).
fn with_ascii_boundaries(hir: &Hir, side_known: bool, loose: bool) -> Option<Hir> {
    use regex_syntax::hir::Look;
    let inner = |h: &Hir| with_ascii_boundaries(h, false, loose).map(Box::new);
    Some(match hir.kind() {
        HirKind::Look(Look::WordUnicode) if side_known => Hir::look(Look::WordAscii),
        HirKind::Look(
            Look::WordUnicode | Look::WordUnicodeNegate | Look::WordStartUnicode | Look::WordEndUnicode | Look::WordStartHalfUnicode | Look::WordEndHalfUnicode,
        ) if loose => Hir::empty(),
        HirKind::Look(
            Look::WordUnicode | Look::WordUnicodeNegate | Look::WordStartUnicode | Look::WordEndUnicode | Look::WordStartHalfUnicode | Look::WordEndHalfUnicode,
        ) => return None,
        HirKind::Look(_) | HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        HirKind::Capture(c) => Hir::capture(Capture { sub: inner(&c.sub)?, ..c.clone() }),
        HirKind::Repetition(r) => Hir::repetition(Repetition { sub: inner(&r.sub)?, ..r.clone() }),
        HirKind::Alternation(alternatives) => Hir::alternation(alternatives.iter().map(|a| with_ascii_boundaries(a, false, loose)).collect::<Option<_>>()?),
        HirKind::Concat(parts) => Hir::concat(
            (0..parts.len())
                .map(|i| {
                    let side_known = matches!(parts[i].kind(), HirKind::Look(Look::WordUnicode))
                        && (ascii_word_edge(parts[..i].iter().rev(), Edge::Last) || ascii_word_edge(parts[i + 1..].iter(), Edge::First));
                    with_ascii_boundaries(&parts[i], side_known, loose)
                })
                .collect::<Option<_>>()?,
        ),
    })
}

/// The least and the most a loose lazy DFA's cache may hold
/// ([`loose_boundaries`]): four times its automaton between these, unless it
/// needs more for a few states.
const LOOSE_CACHE_MIN: usize = 64 << 10;
const LOOSE_CACHE_MAX: usize = 1 << 20;

/// Which end of a match [`ascii_word_edge`] looks at.
#[derive(Clone, Copy, PartialEq)]
enum Edge {
    First,
    Last,
}

/// Whether the character at `edge` of every match of `parts` in sequence
/// (read from the assertion outwards) is an ASCII letter, digit or `_`:
/// false when they may match nothing, since that character is then the
/// pattern's beyond them.
fn ascii_word_edge<'a>(parts: impl Iterator<Item = &'a Hir>, edge: Edge) -> bool {
    // (whether it may match nothing, whether a match of something starts
    // or ends with such a character)
    fn of(hir: &Hir, edge: Edge) -> (bool, bool) {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => (true, true),
            HirKind::Literal(l) => {
                let b = if edge == Edge::First { l.0.first() } else { l.0.last() };
                (false, b.is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_'))
            }
            HirKind::Class(c) => (false, ascii_word_class(c)),
            HirKind::Capture(c) => of(&c.sub, edge),
            HirKind::Repetition(r) => {
                let (empty, word) = of(&r.sub, edge);
                (empty || r.min == 0, word)
            }
            HirKind::Alternation(alternatives) => alternatives.iter().map(|a| of(a, edge)).fold((false, true), |(e, w), (ae, aw)| (e || ae, w && aw)),
            HirKind::Concat(parts) => {
                let mut ordered: Vec<&Hir> = parts.iter().collect();
                if edge == Edge::Last {
                    ordered.reverse();
                }
                let mut word = true;
                for part in ordered {
                    let (empty, w) = of(part, edge);
                    word &= w;
                    if !empty {
                        return (false, word);
                    }
                }
                (true, word)
            }
        }
    }
    for part in parts {
        let (empty, word) = of(part, edge);
        if !word {
            return false;
        }
        if !empty {
            return true;
        }
    }
    false
}

/// Whether every character of class `c` is an ASCII letter, digit or
/// `_`, or the Kelvin sign or the long s, which Unicode's case folding
/// adds to a case-insensitive `k` and `s` (a text that holds one is read
/// without the lazy DFA: [`Reading::Unreadable`]).
fn ascii_word_class(c: &Class) -> bool {
    let word = |ch: u32| char::from_u32(ch).is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '\u{212A}' || ch == '\u{17F}');
    match c {
        Class::Unicode(u) => u.ranges().iter().all(|r| r.end() as u32 - r.start() as u32 <= 128 && (r.start() as u32..=r.end() as u32).all(word)),
        Class::Bytes(b) => b.ranges().iter().all(|r| (r.start()..=r.end()).all(|b| b.is_ascii_alphanumeric() || b == b'_')),
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
            leading: self.leading.clone(),
            required: self.required.clone(),
            longest: self.longest,
            dfa: self.dfa.clone(),
            ascii_words: self.ascii_words,
            loose: self.loose.clone(),
            backtrack: self.backtrack.clone(),
            pikevm: self.pikevm.clone(),
            cache: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for ForwardRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardRegex").field("states", &self.nfa.states().len()).field("leading", &self.leading.is_some()).field("required", &self.required.is_some()).field("ascii_words", &self.ascii_words).field("loose", &self.loose.is_some()).finish()
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

    /// Text the lazy DFA cannot read (a Unicode `\b` beside non-ASCII
    /// letters) is searched only near the words every match holds, as
    /// far as the pattern and the text's runs let a match reach: the
    /// answer is regex's over the whole text, a word's run (`\w*`), a
    /// space's (`\s+`) and a non-space's (`\S*`) included, at a window's
    /// edge and across the windows of several words.
    #[test]
    fn a_match_searched_near_its_words_is_the_whole_texts() {
        let filler = "Grüße aus Köln, wir schreiben Ihnen wegen einer Frage zu Ihrem Dienst. ".repeat(40);
        let patterns = [
            r"(?i)\blösch\w*\b.{0,20}\bkonto\b",
            r"(?i)\b(konto|account)\w*\s+(löschen|entfernen)\b",
            r"(?i)\b(delete|remove)\s+(?:\w+\s+){0,3}account\b",
            r"(?i)\bplease\b\S*\s*\brefund\w*",
            r"(?i)\bkonto\b.*\blöschen\b",
            r"(?i)\bmon compte\b",
        ];
        let texts = [
            format!("{filler}Bitte löschen Sie mein Konto. {filler}"),
            format!("{filler}Mein Kontoooooooooooooooooooooooooooooooooooooooooooooooooo     löschen, danke. {filler}"),
            format!("{filler}please delete my old and unused account{filler}"),
            format!("{filler}please!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!   refundieren{filler}"),
            format!("Konto {filler} löschen"),
            format!("{filler}supprimez mon compteur, pas mon compte{filler}"),
            format!("{filler}Löschung meines Kontos{filler}"),
            format!("{filler}mein Konto{filler}"),
            "Konto löschen".to_string(),
        ];
        for pattern in patterns {
            let compiled = ForwardRegex::fixed(pattern);
            let plain = regex::Regex::new(pattern).unwrap();
            for text in &texts {
                assert_eq!(compiled.is_match(text), plain.is_match(text), "{pattern} in {:?}", &text[filler.len().min(text.len() / 2)..]);
            }
        }
        // ASCII word boundaries where an ASCII letter is beside each `\b`,
        // else a loose first look: a word glued to other letters, the
        // Kelvin sign that `(?i)k` matches, and a `\b` beside a non-ASCII
        // letter.
        // A pattern with no words worth looking for (`ui`, `ö`) and a `\b`
        // beside a non-ASCII letter gets the loose first look; where the
        // first match it finds is not one ("xö"), the rest of the text is
        // read.
        let loose = r"(?i)\b(?:ui|ö)\b";
        for (pattern, ascii, looser) in [
            (r"(?i)\bdelete\b", true, false),
            (r"(?i)\b(konto|account)\b", true, false),
            (r"(?i)\bändern\b", false, false),
            (r"(?i)\blösch\w*\b", false, false),
            (loose, false, true),
        ] {
            let compiled = ForwardRegex::fixed(pattern);
            assert_eq!(compiled.ascii_words, ascii, "{pattern}");
            assert_eq!(compiled.loose.is_some(), looser, "{pattern}: a loose first look only where there are no words to search near");
            let plain = regex::Regex::new(pattern).unwrap();
            for text in ["édelete it", "delete it", "deleteé", "mein \u{212A}onto, ſo", "bitte ändern", "verändern", "Löschung", "xlöschen", "xö und ui", "xö und xui", "die Ö-Taste", "ö"] {
                let text = format!("{filler}{text}");
                assert_eq!(compiled.is_match(&text), plain.is_match(&text), "{pattern} in {:?}", &text[filler.len()..]);
                assert_eq!(compiled.find(&text), plain.find(&text).map(|m| m.as_str()), "{pattern} in {:?}", &text[filler.len()..]);
            }
        }
        // A word found inside another that is no match ("cd" inside
        // "abcdef", glued to the "x" before it) is searched near too: the
        // match it opens reaches past the other's window.
        let overlapping = r"\babcdef\b|cde[a-y]{0,40}z";
        let compiled = ForwardRegex::fixed(overlapping);
        let plain = regex::Regex::new(overlapping).unwrap();
        for letters in [37, 38, 39, 40] {
            let text = format!("xabcdef{}z{}ü", "y".repeat(letters), " ".repeat(200));
            assert_eq!(compiled.is_match(&text), plain.is_match(&text), "{overlapping} in {text:?}");
        }
        assert!(compiled.is_match("ü abcdef") && !compiled.is_match("ü xabcdef"));
        // Bounded where the pattern repeats one kind of byte, unbounded
        // where it repeats any (`.*`).
        let bound = |p: &str| Bound::of(&regex_automata::util::syntax::parse(p).unwrap());
        assert_eq!(bound(r"ab\w*c").map(|b| (b.fixed, b.runs)), Some((3, [1, 0, 0])));
        assert_eq!(bound(r"a(\w+[\s,]+){0,3}b").map(|b| (b.fixed, b.runs)), Some((2, [3, 3, 0])));
        assert_eq!(bound(r"a[\w.-]+").map(|b| (b.fixed, b.runs)), Some((1, [0, 0, 1])));
        assert_eq!(bound(r"a.*b"), None);
        assert_eq!(Runs::of("ab  cd,,, ü x").0, [2, 7, 5], "\"ü\" counts as each kind");
    }

    /// A pattern of many groups over long non-ASCII text: the lazy DFA
    /// gives up at the first non-ASCII byte (a Unicode `\b`) and the
    /// search runs on the PikeVM. Its cache holds the match's two ends a
    /// state, not every group's, and the match is the same.
    #[test]
    fn whether_a_text_not_ascii_holds_a_match_is_read_where_a_match_can_start() {
        let filler = "Grüße aus Köln, wir schreiben Ihnen wegen einer Prüfung zu Ihrem Dienst. ".repeat(30);
        // No words worth looking for: the loose first look finds "pr" in
        // "Prüfung" again and again before the real match, or never one.
        let loose = r"(?i)\b(?:pr|ui|ö)\b";
        // Leading words, once each letter `k` and `s` is taken for the
        // Kelvin sign and the long s as well as itself: 3^5 forms of
        // "snakeskins" alone, too many to look for otherwise. ("ändern"
        // puts a non-ASCII letter beside a `\b`: the lazy DFA gives up.)
        let leading = r"(?i)\b(?:kiosks|sketches|kisses|snakeskins|stockists|lösch\w*|ändern)\s+(?:\w+\s+){0,2}(?:account|konto)\b";
        let texts = [
            format!("{filler}Prüfung pr"),
            format!("{filler}xpr, Prüfung, ö."),
            format!("{filler}Prüfungen"),
            format!("{}ui", "xpr ".repeat(2000)),
            format!("{filler}Bitte löschen Sie mein Konto. {filler}"),
            format!("{filler}xlöschen Sie mein Konto"),
            format!("{filler}snakeskins of the account"),
            format!("{filler}snakeskins of the big old account"),
            format!("{filler}sna\u{212A}es\u{17F}ins account"),
            format!("{filler}die \u{212A}iosks Konto"),
            format!("{filler}kiosks ü account"),
        ];
        // A match that starts with the Kelvin sign, found in full where a
        // shorter one starts at a leading word inside it.
        let kelvin = ForwardRegex::fixed(r"(?i)kb|b");
        assert!(kelvin.leading.is_some(), "{kelvin:?}");
        assert_eq!(kelvin.find("ü x\u{212A}b"), Some("\u{212A}b"));
        let compiled = ForwardRegex::fixed(loose);
        assert!(compiled.loose.is_some() && compiled.required.is_none(), "{compiled:?}");
        let compiled = ForwardRegex::fixed(leading);
        assert!(compiled.leading.is_some() && !compiled.ascii_words, "{compiled:?}");
        for pattern in [loose, leading] {
            let compiled = ForwardRegex::fixed(pattern);
            let plain = regex::Regex::new(pattern).unwrap();
            for text in &texts {
                assert_eq!(compiled.is_match(text), plain.is_match(text), "{pattern} in {:?}", &text[text.len().saturating_sub(60)..]);
                assert_eq!(compiled.find(text), plain.find(text).map(|m| m.as_str()), "{pattern} in {:?}", &text[text.len().saturating_sub(60)..]);
            }
        }
    }

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

    /// A rule in many phrasings ("charged twice", "billed twice", "two
    /// charges for one order", ... in several languages) requires more
    /// words than are worth looking for: their first bytes stand for them,
    /// so the rule is still left out of text without any, and text in
    /// another language is still searched only near them.
    #[test]
    fn a_rule_of_many_phrasings_needs_the_first_bytes_of_its_words() {
        let hir = |pattern: &str| regex_automata::util::syntax::parse_with(pattern, &regex_automata::util::syntax::Config::new().case_insensitive(true)).unwrap();
        let verbs = ["charged", "billed", "debited", "deducted", "taken", "withdrawn", "zweimal", "doppelt", "débité", "cobrado"];
        let what = ["twice", "two times", "double", "again", "repeatedly", "more than once", "zweimal", "deux fois", "dos veces", "duas vezes"];
        let objects = ["card", "account", "statement", "konto", "compte", "cuenta"];
        // 10 × 10 × 6 = 600 phrasings, each a word the rule requires.
        let pattern = format!(r"\b(?:{})\b (?:{}) (?:on|to|from) my (?:{})\b", verbs.join("|"), what.join("|"), objects.join("|"));
        let words = required_literals(&hir(&pattern)).expect("words for a rule of many phrasings");
        assert!(words.len() <= REQUIRED_MAX && words.iter().all(|w| w.len() >= REQUIRED_LEN), "{} words", words.len());
        let finder = required_words(&hir(&pattern)).unwrap();
        assert!(finder.is_match("I was DEBITED twice on my card") && finder.is_match("ich wurde doppelt ZWEIMAL from my konto belastet"));
        assert!(!finder.is_match("I paid once and that was it"), "a text without any of the words");
        // In text the lazy DFA cannot read all through, near those words,
        // the same answer as regex's.
        let (rule, words) = ForwardRegex::for_pack(&hir(&pattern), 8 << 20, |_| 256 << 10).unwrap();
        let pass = crate::procedures::rule_words::RuleWords::new(&[words]);
        let plain = regex::RegexBuilder::new(&pattern).case_insensitive(true).build().unwrap();
        let filler = "Grüße aus Köln, ich schreibe wegen einer Sache. ".repeat(20);
        let texts = ["Hallo, ich wurde doppelt zweimal from my konto abgebucht.", "Ce montant a été débité deux fois to my compte.", "Débité deux fois? No: charged once to my card."];
        for (i, text) in texts.iter().enumerate() {
            let text = format!("{filler}{text}{filler}");
            let found = pass.candidates(&text);
            let searched = found.places(0).is_some_and(|places| rule.is_match_near(&text, places.iter().cloned(), found.runs().unwrap()));
            assert_eq!(searched, plain.is_match(&text), "{text}");
            assert_eq!(searched, i < 2);
        }
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
        // (Its lazy DFA reads a second automaton, with ASCII's `\b`:
        // [`ascii_boundaries`].)
        let forward = compiled(&pattern, 256 << 10);
        assert!(forward.nfa.memory_usage() * 2 < meta.memory_usage(), "{} against {}", forward.nfa.memory_usage(), meta.memory_usage());
    }
}
