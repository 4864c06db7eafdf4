//! Flood control: a token bucket, so a burst of notices cannot get the bot
//! kicked for flooding.

use std::time::Duration;

use tokio::time::Instant;

/// Flood control: bursts of four, then `irc.lines_per_second`.
pub(super) const BURST: f64 = 4.0;

pub(super) struct TokenBucket {
    pub(super) tokens: f64,
    pub(super) rate: f64,
    pub(super) burst: f64,
    pub(super) last: Instant,
}

impl TokenBucket {
    pub(super) fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
        }
    }

    pub(super) fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
    }

    /// When the next line may go.
    pub(super) fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }

    pub(super) fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_a_burst_then_one_a_second() {
        let mut b = TokenBucket::new(1.0, 4.0);
        let t0 = b.last;
        for _ in 0..4 {
            assert_eq!(b.ready_at(t0), t0);
            b.take(t0);
        }
        let next = b.ready_at(t0);
        assert!(next >= t0 + Duration::from_millis(999) && next <= t0 + Duration::from_millis(1001));
    }
}

