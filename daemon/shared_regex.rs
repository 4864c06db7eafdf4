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

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::iter::Searcher;
use regex_automata::Input;

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

    /// A fixed pattern of the code's own, with regex's defaults.
    pub fn fixed(pattern: &str) -> SharedRegex {
        SharedRegex::new(Regex::new(pattern).unwrap_or_else(|e| panic!("fixed pattern {pattern:?}: {e}")))
    }

    /// Runs `search` with the one cache, holding the lock for it alone.
    fn with_cache<R>(&self, search: impl FnOnce(&Regex, &mut Cache) -> R) -> R {
        let mut slot = self.cache.lock().unwrap_or_else(|poisoned| {
            // A search that panicked may have left its cache half
            // updated: start from a fresh one.
            self.cache.clear_poison();
            let mut slot = poisoned.into_inner();
            *slot = None;
            slot
        });
        let cache = slot.get_or_insert_with(|| self.regex.create_cache());
        search(&self.regex, cache)
    }

    /// The leftmost-first match in `text`, as `regex::Regex::find` gives it.
    pub fn find<'h>(&self, text: &'h str) -> Option<&'h str> {
        self.with_cache(|regex, cache| regex.search_with(cache, &Input::new(text)).map(|m| &text[m.range()]))
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.with_cache(|regex, cache| regex.search_half_with(cache, &Input::new(text).earliest(true)).is_some())
    }

    /// Every match in `text`, as `regex::Regex::find_iter` gives them.
    pub fn find_ranges(&self, text: &str) -> Vec<Range<usize>> {
        self.with_cache(|regex, cache| {
            let mut searcher = Searcher::new(Input::new(text));
            std::iter::from_fn(|| searcher.advance(|input| Ok(regex.search_with(cache, input)))).map(|m| m.range()).collect()
        })
    }

    /// What the compiled pattern holds, without its cache.
    pub fn memory_usage(&self) -> usize {
        self.regex.memory_usage()
    }
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
