//! The one reconnect policy every network client shares: capped
//! exponential backoff with full jitter, so a fleet of daemons restarted by
//! the same outage does not reconnect in lockstep.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The delay before the next attempt: a random point in the upper half
    /// of `base * 2^attempt`, capped at `max`. Never zero, so a server that
    /// accepts and drops at once cannot make the client spin.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .base
            .checked_mul(1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=ceiling - half)
    }

    /// A connection worked: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<_> = (0..8).map(|_| b.next_delay()).collect();
        assert!(
            d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100),
            "{d:?}"
        );
        assert!(
            d[3] >= Duration::from_millis(400) && d[3] <= Duration::from_millis(800),
            "{d:?}"
        );
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)), "{d:?}");
        assert!(d[7] >= Duration::from_secs(1), "{d:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(300));
        }
    }
}
