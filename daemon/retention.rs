//! Drops the message content of tickets closed longer than `[store]
//! retention_days` (the store's `drop_old_content`): once at start, then
//! every hour, so content goes at most an hour late.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(store: Store, retention: Option<Duration>, cancel: CancellationToken) {
    let Some(retention) = retention else { return };
    tokio::spawn(async move {
        loop {
            let s = store.clone();
            match tokio::task::spawn_blocking(move || s.drop_old_content(retention, jiff::Timestamp::now())).await {
                Ok(Ok(p)) if p.tickets + p.quarantine > 0 => info!(
                    tickets = p.tickets,
                    quarantine = p.quarantine,
                    "message content dropped after [store] retention_days"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!("dropping old message content: {e}; tried again in an hour"),
                Err(e) => warn!("dropping old message content: {e}; tried again in an hour"),
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = cancel.cancelled() => return,
            }
        }
    });
}
