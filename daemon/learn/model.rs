//! Multinomial naive Bayes over the features of [`super::features`],
//! kept as counts so that learning or forgetting one example is a few
//! hash-map updates, never a retraining. Each piece of evidence (a word or
//! a pair of words) counts once, as the mean of its features' log
//! likelihoods: the trigrams of one word are not independent witnesses.

use std::collections::HashMap;

use super::features::Features;
pub use crate::classify::opinion::Vote;

/// Additive smoothing of the feature counts.
const ALPHA: f64 = 0.1;

#[derive(Debug, Clone, Default)]
struct Class {
    label: String,
    examples: u32,
    /// The sum of its examples' feature counts.
    features: u64,
}

/// The counts. Compact: one map entry per (feature, class) seen, one per
/// distinct feature.
#[derive(Debug, Clone, Default)]
pub struct Model {
    classes: Vec<Class>,
    /// (feature << 16 | class index) → examples of the class with it.
    counts: HashMap<u64, u32>,
    /// feature → examples with it, all classes: the vocabulary.
    seen: HashMap<u32, u32>,
}

fn key(feature: u32, class: usize) -> u64 {
    (u64::from(feature) << 16) | class as u64
}

impl Model {
    pub fn is_empty(&self) -> bool {
        self.classes.iter().all(|c| c.examples == 0)
    }

    /// Examples per label, labels in the order first learned.
    pub fn examples(&self) -> impl Iterator<Item = (&str, u32)> {
        self.classes.iter().filter(|c| c.examples > 0).map(|c| (c.label.as_str(), c.examples))
    }

    /// About how many bytes the counts take (hash-map slots and control
    /// bytes), for the memory budget.
    pub fn footprint(&self) -> usize {
        self.counts.capacity() * (8 + 4 + 1) + self.seen.capacity() * (4 + 4 + 1)
    }

    fn class_index(&mut self, label: &str) -> usize {
        if let Some(i) = self.classes.iter().position(|c| c.label == label) {
            return i;
        }
        self.classes.push(Class { label: label.to_string(), ..Class::default() });
        self.classes.len() - 1
    }

    /// Counts one example in.
    pub fn add(&mut self, label: &str, features: &[u32]) {
        let c = self.class_index(label);
        self.classes[c].examples += 1;
        self.classes[c].features += features.len() as u64;
        for &f in features {
            *self.counts.entry(key(f, c)).or_insert(0) += 1;
            *self.seen.entry(f).or_insert(0) += 1;
        }
    }

    /// Counts one example out (it was learned before with this label).
    pub fn remove(&mut self, label: &str, features: &[u32]) {
        let Some(c) = self.classes.iter().position(|c| c.label == label) else { return };
        let class = &mut self.classes[c];
        class.examples = class.examples.saturating_sub(1);
        class.features = class.features.saturating_sub(features.len() as u64);
        for &f in features {
            decrement(&mut self.counts, key(f, c));
            decrement(&mut self.seen, f);
        }
    }

    fn log_likelihood(&self, feature: u32, c: usize) -> f64 {
        let n = self.counts.get(&key(feature, c)).copied().unwrap_or(0);
        let vocabulary = self.seen.len() as f64;
        ((f64::from(n) + ALPHA) / (self.classes[c].features as f64 + ALPHA * vocabulary)).ln()
    }

    /// A piece of evidence's weight for class `c`: the mean log likelihood
    /// of its features the model has seen; `None` when it has seen none.
    fn weight(&self, features: &[u32], c: usize) -> Option<f64> {
        let known: Vec<u32> = features.iter().copied().filter(|f| self.seen.contains_key(f)).collect();
        (!known.is_empty()).then(|| known.iter().map(|&f| self.log_likelihood(f, c)).sum::<f64>() / known.len() as f64)
    }

    /// The most probable label for `msg`, with its probability and the
    /// words behind it; `None` before anything was learned.
    pub fn vote(&self, msg: &Features) -> Option<Vote> {
        let live: Vec<usize> = (0..self.classes.len()).filter(|&c| self.classes[c].examples > 0).collect();
        if live.is_empty() {
            return None;
        }
        let total: u32 = live.iter().map(|&c| self.classes[c].examples).sum();
        let mut scores: Vec<(usize, f64)> = live
            .iter()
            .map(|&c| {
                // Laplace-smoothed prior: one example is not certainty.
                let prior = ((f64::from(self.classes[c].examples) + 1.0) / f64::from(total + live.len() as u32)).ln();
                let evidence: f64 = msg.evidence.iter().filter_map(|e| self.weight(&e.features, c)).sum();
                (c, prior + evidence)
            })
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = scores[0];
        // Softmax, shifted by the best score so exp() cannot overflow.
        let sum: f64 = scores.iter().map(|s| (s.1 - best.1).exp()).sum();
        let probability = 1.0 / sum;
        let words = match scores.get(1) {
            Some(&(other, _)) => self.strongest_words(msg, best.0, other),
            None => Vec::new(),
        };
        let none = scores.iter().find(|s| self.classes[s.0].label == crate::classify::UNCLASSIFIED);
        let log_odds = none.filter(|n| n.0 != best.0).map(|n| ((best.1 - n.1) * 10.0).round() / 10.0);
        Some(Vote {
            log_odds,
            procedure: self.classes[best.0].label.clone(),
            probability: (probability * 1000.0).round() / 1000.0,
            examples: self.classes[best.0].examples,
            words,
        })
    }

    /// The words that speak most for `c` against `other`.
    fn strongest_words(&self, msg: &Features, c: usize, other: usize) -> Vec<String> {
        let mut weighed: Vec<(f64, &str)> = msg
            .evidence
            .iter()
            .filter_map(|e| Some((self.weight(&e.features, c)? - self.weight(&e.features, other)?, e.word.as_str())))
            .filter(|(w, _)| *w > 0.0)
            .collect();
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0));
        weighed.into_iter().take(5).map(|(_, w)| w.to_string()).collect()
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, k: K) {
    if let std::collections::hash_map::Entry::Occupied(mut e) = map.entry(k) {
        *e.get_mut() -= 1;
        if *e.get() == 0 {
            e.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(m: &mut Model, label: &str, text: &str) -> Vec<u32> {
        let h = Features::of_text("", text).hashes();
        m.add(label, &h);
        h
    }

    fn vote(m: &Model, text: &str) -> Vote {
        m.vote(&Features::of_text("", text)).unwrap()
    }

    #[test]
    fn a_paraphrase_goes_to_the_class_whose_words_it_shares() {
        let mut m = Model::default();
        assert!(m.vote(&Features::of_text("", "anything")).is_none());
        learn(&mut m, "refund", "I was charged twice, please refund the second payment");
        learn(&mut m, "refund", "Can I get my money back for last month's charge?");
        learn(&mut m, "unclassified", "How do I push to a git repository over ssh?");
        learn(&mut m, "unclassified", "The build service is failing on my project");
        let v = vote(&m, "I would like my money back, you charged me twice");
        assert_eq!(v.procedure, "refund");
        assert!(v.probability > 0.9, "{v:?}");
        assert_eq!(v.examples, 2);
        assert!(v.words.iter().any(|w| w.contains("charged") || w.contains("money")), "{v:?}");
        // How much more the model believes it than "no procedure".
        assert!(v.log_odds.is_some_and(|l| l > 2.0), "{v:?}");
        let v = vote(&m, "my ssh push to the repository fails");
        assert_eq!(v.procedure, "unclassified");
        assert_eq!(v.log_odds, None);
    }

    #[test]
    fn forgetting_an_example_undoes_it_exactly() {
        let mut m = Model::default();
        learn(&mut m, "a", "alpha beta gamma");
        let before = (m.counts.clone(), m.seen.clone());
        let h = learn(&mut m, "b", "delta epsilon alpha");
        m.remove("b", &h);
        assert_eq!((m.counts.clone(), m.seen.clone()), before);
        assert_eq!(m.examples().collect::<Vec<_>>(), [("a", 1)]);
    }

    #[test]
    fn with_one_class_learned_the_vote_names_no_words() {
        let mut m = Model::default();
        learn(&mut m, "refund", "refund please");
        let v = vote(&m, "refund please");
        assert_eq!((v.procedure.as_str(), v.probability, v.words.len()), ("refund", 1.0, 0));
    }
}
