//! Delivery: notices leave the store's outbox one line at a time. The
//! line's notices are marked in flight (flushed), the line is sent, then a
//! PING; the server answers the PING only after it has taken the line (one
//! connection is processed in order), and only then are the notices deleted.
//! Replies to staff commands wait beside them, bounded.

use std::collections::VecDeque;

use tokio::sync::mpsc;

use super::flood::TokenBucket;
use super::{Ctx, LINE_BYTES};
use crate::staff::{IRC, next_post, read_queued, sanitise, split_line};

/// Queued notices read at once to choose the next line (a digest covers
/// at most this many).
const OUTBOX_WINDOW: usize = 1000;
/// Replies beyond this backlog are dropped (notices never are), so someone
/// spamming commands cannot grow the queue without bound.
const REPLY_BACKLOG: usize = 50;

/// What outlives a connection: replies not yet posted and the flood
/// budget. Notices wait in the store.
pub(super) struct Queue {
    /// Woken when notices were queued; closed when every notifier is gone.
    pub(super) wake: mpsc::Receiver<()>,
    pub(super) wake_open: bool,
    /// The outbox may hold something to post.
    pub(super) look: bool,
    /// The line being posted and the notices it covers.
    pub(super) flight: Option<Flight>,
    /// Replies to staff commands (not kept across a restart).
    pub(super) outbox: VecDeque<String>,
    pub(super) bucket: TokenBucket,
}

/// Queued notices on their way: marked in flight in the store, sent as
/// `lines`, then confirmed by the PONG to `token`.
pub(super) struct Flight {
    pub(super) seqs: Vec<u64>,
    pub(super) lines: VecDeque<String>,
    pub(super) token: String,
    pub(super) pinged: bool,
    /// The server refused a line (kicked meanwhile): post again.
    pub(super) refused: bool,
}

impl Queue {
    /// The server answered the PING `token`: if it followed the line in
    /// flight, that line is posted and its notices leave the queue.
    pub(super) fn pong(&mut self, ctx: &Ctx, token: &str) {
        let Some(f) = &self.flight else { return };
        if !f.pinged || f.token != token {
            return;
        }
        if f.refused {
            tracing::warn!("irc: the server refused a notice line; posting it again");
        } else if let Err(e) = ctx.store.notices_done(IRC, &f.seqs) {
            // They stay in flight: posted again, marked.
            tracing::error!("irc: posted notices not taken off the queue: {e}");
        }
        self.flight = None;
        self.look = true;
    }

    /// Every notifier is gone (`run --once` is finishing) and nothing is
    /// left to post.
    pub(super) fn finished(&self, ctx: &Ctx) -> bool {
        (!self.wake_open || self.wake.is_closed())
            && self.flight.is_none()
            && self.outbox.is_empty()
            && ctx.store.ready_notices(IRC, 1).is_ok_and(|r| r.is_empty())
    }
}

impl Ctx {
    /// The next line from the outbox, its notices marked in flight
    /// (flushed) before anything is sent.
    pub(super) fn next_flight(&self) -> Result<Option<Flight>, crate::store::StoreError> {
        let queued = self.store.ready_notices(IRC, OUTBOX_WINDOW)?;
        let mut waiting = Vec::with_capacity(queued.len());
        let mut unreadable = Vec::new();
        for (seq, q) in &queued {
            match read_queued(IRC, *seq, q) {
                Some(n) => waiting.push((*seq, n, q.in_flight)),
                None => unreadable.push(*seq),
            }
        }
        self.store.notices_done(IRC, &unreadable)?;
        let Some((seqs, line)) = next_post(&waiting, LINE_BYTES) else {
            return Ok(None);
        };
        self.store.notices_in_flight(IRC, &seqs)?;
        Ok(Some(Flight {
            token: format!("triaged-posted-{}", seqs[0]),
            seqs,
            lines: split_line(&sanitise(&line), LINE_BYTES).into(),
            pinged: false,
            refused: false,
        }))
    }
}

impl Queue {
    pub(super) fn push(&mut self, line: &str) {
        self.outbox.extend(split_line(&sanitise(line), LINE_BYTES));
    }

    pub(super) fn reply(&mut self, line: &str) {
        if self.outbox.len() < REPLY_BACKLOG {
            self.push(line);
        } else {
            tracing::warn!("irc: reply dropped, {} lines already waiting", self.outbox.len());
        }
    }
}
