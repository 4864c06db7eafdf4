//! A compiled pattern with one search cache for every thread.
//!
//! `regex::Regex` (and `regex_automata::meta::Regex` searched without a
//! cache of the caller's) keeps a cache for each thread that searches at
//! the same time: a lazy DFA that grows up to its capacity, plus sets sized
//! by the automaton. For the packs' rules that was about 8 MiB a worker
//! thread, and for the code's own larger patterns (the precision guard's
//! signs, the quote stripping's attributions) another 3 MiB a worker
//! (docs/BENCHMARKS.md, "A realistic backlog", and "The stream's memory,
//! 2026-12-02 afternoon"). Here the number of workers does not change
//! it. A search holds the pattern's lock only while it runs
//! (microseconds): two workers searching at once wait on each other at
//! most one pattern at a time. The matches are the same as
//! `regex::Regex`'s for the same pattern (same engine, same
//! configuration).

use std::ops::Range;
use std::sync::Mutex;

use regex_automata::meta::{self, Cache, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::iter::Searcher;
use regex_automata::Input;

/// How every shared pattern is compiled: regex's defaults, except that
/// only the match as a whole is tracked, never its groups, since no caller
/// reads a group. That changes no match. It matters when the lazy DFA gives
/// up (a Unicode `\b` over non-ASCII text) and a search falls back to the
/// PikeVM, whose cache keeps every group's start and end for every state of
/// the automaton: 6.2 MB for one of the sourcehut pack's rules over a
/// 1,000-character text, 0.55 MB with the whole match alone
/// (docs/BENCHMARKS.md, "Rules that track no groups").
pub fn config() -> meta::Config {
    meta::Config::new().which_captures(WhichCaptures::Implicit)
}

pub struct SharedRegex {
    regex: Regex,
    /// Made at the first search, so a pack loaded only to be checked
    /// (`check-config`) never builds one.
    cache: Mutex<Option<Cache>>,
}

impl SharedRegex {
    pub fn new(regex: Regex) -> SharedRegex {
        SharedRegex { regex, cache: Mutex::new(None) }
    }

    /// A fixed pattern of the code's own, with regex's defaults but for
    /// [`config`]'s.
    pub fn fixed(pattern: &str) -> SharedRegex {
        SharedRegex::new(Regex::builder().configure(config()).build(pattern).unwrap_or_else(|e| panic!("fixed pattern {pattern:?}: {e}")))
    }

    /// Runs `search` with the one cache, holding the lock for it alone.
    fn with_cache<R>(&self, search: impl FnOnce(&Regex, &mut Cache) -> R) -> R {
        let mut slot = lock_cache(&self.cache);
        let cache = slot.get_or_insert_with(|| self.regex.create_cache());
        search(&self.regex, cache)
    }

    /// The leftmost-first match in `text`, as `regex::Regex::find` gives it.
    pub fn find<'h>(&self, text: &'h str) -> Option<&'h str> {
        self.with_cache(|regex, cache| regex.search_with(cache, &Input::new(text)).map(|m| &text[on_characters(text, m.range())]))
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.with_cache(|regex, cache| regex.search_half_with(cache, &Input::new(text).earliest(true)).is_some())
    }

    /// Every match in `text`, as `regex::Regex::find_iter` gives them.
    pub fn find_ranges(&self, text: &str) -> Vec<Range<usize>> {
        self.with_cache(|regex, cache| {
            let mut searcher = Searcher::new(Input::new(text));
            std::iter::from_fn(|| searcher.advance(|input| Ok(regex.search_with(cache, input)))).map(|m| on_characters(text, m.range())).collect()
        })
    }

    /// What the search cache holds now (nothing before the first search).
    #[cfg(test)]
    pub fn cache_memory(&self) -> usize {
        self.cache.lock().unwrap().as_ref().map_or(0, Cache::memory_usage)
    }

    /// What the compiled pattern holds, without its cache.
    pub fn memory_usage(&self) -> usize {
        self.regex.memory_usage()
    }
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

/// A copy shares the compiled pattern and makes its own cache when used.
impl Clone for SharedRegex {
    fn clone(&self) -> SharedRegex {
        SharedRegex::new(self.regex.clone())
    }
}

impl std::fmt::Debug for SharedRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedRegex").field(&self.regex).finish()
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
            let shared = SharedRegex::fixed(pattern);
            let plain = regex::Regex::new(pattern).unwrap();
            let answers = |r: &SharedRegex| -> Vec<(bool, Option<String>, Vec<Range<usize>>)> {
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
        let shared = SharedRegex::fixed(&pattern);
        let every_group = regex_automata::meta::Regex::new(&pattern).unwrap();
        let mut cache = every_group.create_cache();
        let expected = every_group.search_with(&mut cache, &Input::new(&text)).map(|m| &text[m.range()]);
        assert_eq!(shared.find(&text), expected);
        assert_eq!(expected, Some("licence — please move it to another account"));
        assert!(
            shared.cache_memory() * 4 < cache.memory_usage(),
            "{} bytes against {} tracking every group",
            shared.cache_memory(),
            cache.memory_usage()
        );
    }

    /// A search that panics while holding the cache does not leave the
    /// pattern unusable: the next search starts from a fresh cache.
    #[test]
    fn a_search_that_panicked_leaves_the_pattern_usable() {
        let shared = SharedRegex::fixed(r"\bdelete\b");
        assert!(shared.is_match("please delete"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.with_cache(|_, _| panic!("a search fails halfway"));
        }));
        assert!(result.is_err());
        assert!(shared.is_match("please delete"));
        assert_eq!(shared.find("do not delete it"), Some("delete"));
    }
}
