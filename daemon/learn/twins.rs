//! Requests taught before: which learned example a message is nearly the
//! same as. The model's counts say which procedure a message's words lean
//! to; this says whether the team already answered this very request, so
//! that a sensitive procedure the rules saw no sign of may still be routed
//! (docs/CLASSIFICATION.md, "Learning from the team").
//!
//! Alike means the share of features two messages have in common
//! (Jaccard). Comparing a message with every stored example exactly would
//! read them all from the store (about 12 ms at 10,000 examples), and
//! holding every example's features would cost megabytes of memory; so
//! each example is kept as a one-permutation MinHash sketch: its features
//! re-hashed, spread over [`SKETCH`] slots by the hash's top bits, the
//! smallest kept in each. Two sketches agree in a slot about as often as
//! the two sets share features, so comparing them is [`SKETCH`] equal
//! tests, and only the examples the estimate puts anywhere near the
//! threshold are read from the store and compared exactly.

use std::collections::HashMap;

use crate::store::ExampleKey;

/// Slots per sketch. At 32 the estimate of a share of 0.6 is off by
/// about 0.09 (one standard deviation); [`MARGIN`] is about three.
const SKETCH: usize = 32;

/// A sketch: the low half of the smallest re-hash that fell in each slot,
/// or [`EMPTY`]. Two different features agree in 16 bits once in 65,536
/// slots, which moves no estimate; it halves the memory (about 0.9 MiB at
/// 10,000 examples).
type Sketch = [u16; SKETCH];
const EMPTY: u16 = u16::MAX;

/// How far below the threshold an estimate may fall and its example still
/// be compared exactly.
pub const MARGIN: f64 = 0.25;

/// One sketch per learned example, with its label, side by side in one
/// vector: the search walks them all, so they are kept contiguous.
#[derive(Debug, Default)]
pub struct Sketches {
    labels: Vec<String>,
    entries: Vec<Entry>,
    at: HashMap<ExampleKey, usize>,
}

#[derive(Debug)]
struct Entry {
    key: ExampleKey,
    label: u16,
    sketch: Sketch,
}

/// What the sketches say of a message: the examples that may be alike
/// enough, nearest first, and how near the nearest of the asked label
/// came by the estimate.
#[derive(Debug)]
pub struct Near<'a> {
    pub candidates: Vec<(ExampleKey, &'a str, f64)>,
    pub nearest_of_label: f64,
}

impl Sketches {
    /// Keeps `features`' sketch as example `key` of `label`, replacing
    /// what that key held.
    pub fn insert(&mut self, key: ExampleKey, label: &str, features: &[u32]) {
        let index = match self.labels.iter().position(|l| l == label) {
            Some(i) => i,
            None => {
                self.labels.push(label.to_string());
                self.labels.len() - 1
            }
        };
        // More labels than a pack has procedures cannot happen; a store
        // that had them anyway loses no example, only its twin check.
        let Ok(label) = u16::try_from(index) else { return };
        let entry = Entry { key, label, sketch: sketch(features) };
        match self.at.get(&key) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.at.insert(key, self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    pub fn remove(&mut self, key: &ExampleKey) {
        let Some(i) = self.at.remove(key) else { return };
        self.entries.swap_remove(i);
        if let Some(moved) = self.entries.get(i) {
            self.at.insert(moved.key, i);
        }
    }

    /// About how many bytes the sketches take, for the memory budget.
    pub fn footprint(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>() + self.at.capacity() * (8 + 8 + 1)
    }

    /// The examples that may be `least` alike or more to a message with
    /// these features, by the sketches' estimate, and the estimate for the
    /// nearest example of `label`.
    pub fn near(&self, features: &[u32], least: f64, label: &str) -> Near<'_> {
        let mine = sketch(features);
        let wanted = self.labels.iter().position(|l| l == label);
        let mut near = Near { candidates: Vec::new(), nearest_of_label: 0.0 };
        for e in &self.entries {
            let estimated = estimate(&mine, &e.sketch);
            if Some(usize::from(e.label)) == wanted {
                near.nearest_of_label = near.nearest_of_label.max(estimated);
            }
            if estimated >= least - MARGIN {
                near.candidates.push((e.key, self.labels[usize::from(e.label)].as_str(), estimated));
            }
        }
        near.candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
        near
    }
}

/// The share of two sorted, distinct feature lists they have in common
/// (Jaccard): 1 for the same words, 0 for none shared.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let either = a.len() + b.len() - both;
    if either == 0 { 0.0 } else { both as f64 / either as f64 }
}

/// A feature hash mixed again, so that the smallest values are a fair
/// sample of the features whatever the first hash favoured.
fn rehash(f: u32) -> u32 {
    ((u64::from(f) ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32
}

/// The smallest re-hash of `features` in each slot (slot: the top bits).
fn sketch(features: &[u32]) -> Sketch {
    let mut least = [u32::MAX; SKETCH];
    for &f in features {
        let h = rehash(f);
        let slot = (h >> (32 - SKETCH.trailing_zeros())) as usize;
        least[slot] = least[slot].min(h);
    }
    least.map(|h| if h == u32::MAX { EMPTY } else { (h & 0xffff) as u16 })
}

/// The share two sketches estimate: of the slots either filled, the part
/// where both hold the same value. Branch-free, so ten thousand examples
/// are compared in a fraction of a millisecond.
fn estimate(a: &Sketch, b: &Sketch) -> f64 {
    let (mut both, mut either) = (0u32, 0u32);
    for (x, y) in a.iter().zip(b) {
        either += u32::from(*x != EMPTY || *y != EMPTY);
        both += u32::from(*x == *y && *x != EMPTY);
    }
    if either == 0 { 0.0 } else { f64::from(both) / f64::from(either) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::Features;

    #[test]
    fn similarity_is_the_share_of_features_in_common() {
        assert_eq!(similarity(&[1, 2, 3], &[1, 2, 3]), 1.0);
        assert_eq!(similarity(&[1, 2, 3], &[4, 5]), 0.0);
        // Two shared of four in either: one half.
        assert_eq!(similarity(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(similarity(&[], &[]), 0.0);
        // The same request with one word changed is a twin; the same wish
        // in other words is not.
        let taught = Features::of_text("leaving", "Please make my account go away for good, I do not use it any more.").hashes();
        let again = Features::of_text("leaving", "Please make my account go away for good, I do not use it anymore.").hashes();
        let other = Features::of_text("bye", "I'm through with this site; could my profile and all that's under it disappear for good?").hashes();
        assert!(similarity(&taught, &again) >= crate::config::TWIN_SIMILARITY, "{}", similarity(&taught, &again));
        assert!(similarity(&taught, &other) < 0.4, "{}", similarity(&taught, &other));
    }

    /// The sketch's estimate is near the true share: within the margin on
    /// real sentences.
    #[test]
    fn the_sketch_estimates_the_share_within_the_margin() {
        assert_eq!(estimate(&sketch(&[]), &sketch(&[])), 0.0);
        assert_eq!(estimate(&sketch(&[7, 8, 9]), &sketch(&[7, 8, 9])), 1.0);
        let texts = [
            "Please make my account go away for good, I do not use it any more.",
            "Please make my account go away for good, I do not use it anymore.",
            "I want my account gone for good, please make it go away.",
            "I'm through with this site; could my profile and all that's under it disappear for good?",
            "I was billed for a yearly plan I never used. Could you return what I paid to my card?",
            "You billed my card for a plan I did not want. Please return the payment.",
            "git push over ssh fails with permission denied on my repository.",
        ];
        let sets: Vec<Vec<u32>> = texts.iter().map(|t| Features::of_text("", t).hashes()).collect();
        for a in &sets {
            assert!(a.len() > SKETCH, "long enough to be sampled: {}", a.len());
            for b in &sets {
                let (exact, est) = (similarity(a, b), estimate(&sketch(a), &sketch(b)));
                assert!((exact - est).abs() < MARGIN, "exact {exact}, estimated {est}");
            }
        }
    }

    #[test]
    fn candidates_are_the_examples_near_enough_nearest_first() {
        let mut s = Sketches::default();
        let taught = Features::of_text("leaving", "Please make my account go away for good, I do not use it any more.").hashes();
        let other = Features::of_text("push fails", "git push over ssh fails with permission denied on my repository.").hashes();
        let third = Features::of_text("builds stuck", "My builds are stuck in the queue since yesterday, is the build service down?").hashes();
        s.insert(ExampleKey::of(&taught), "account-deletion", &taught);
        s.insert(ExampleKey::of(&other), "unclassified", &other);
        s.insert(ExampleKey::of(&third), "unclassified", &third);
        let again = Features::of_text("leaving", "Please make my account go away for good, I do not use it anymore.").hashes();
        let near = s.near(&again, 0.6, "account-deletion");
        assert_eq!(near.candidates.len(), 1, "{near:?}");
        assert_eq!((near.candidates[0].0, near.candidates[0].1), (ExampleKey::of(&taught), "account-deletion"));
        assert!(near.nearest_of_label >= 0.6, "{near:?}");
        // Removing one example keeps the others findable.
        s.remove(&ExampleKey::of(&taught));
        let near = s.near(&again, 0.6, "account-deletion");
        assert!(near.candidates.is_empty() && near.nearest_of_label == 0.0, "{near:?}");
        let near = s.near(&third, 0.6, "unclassified");
        assert_eq!(near.candidates.first().map(|c| c.0), Some(ExampleKey::of(&third)), "{near:?}");
        // Learned again under another label: one entry, the new label.
        s.insert(ExampleKey::of(&third), "refund", &third);
        let near = s.near(&third, 0.6, "refund");
        assert_eq!(near.candidates.iter().map(|c| c.1).collect::<Vec<_>>(), ["refund"], "{near:?}");
    }
}
