//! systemd integration (sd_notify): READY once the store is open and the
//! workers run, STATUS lines a person can read in `systemctl status`,
//! WATCHDOG pings at half the configured interval, STOPPING on shutdown.
//! Outside systemd (no NOTIFY_SOCKET) every call is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

pub fn ready() {
    let _ = sd_notify::notify(false, &[NotifyState::Ready]);
}

pub fn status(text: &str) {
    let _ = sd_notify::notify(false, &[NotifyState::Status(text)]);
}

pub fn stopping() {
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
}

/// Pings the watchdog until `cancel`, when WatchdogSec= is set. The pings
/// come from the runtime itself, so a wedged runtime stops them and systemd
/// restarts the service.
pub fn spawn_watchdog(cancel: CancellationToken) {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let every = Duration::from_micros(usec / 2);
    tokio::spawn(async move {
        loop {
            let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = cancel.cancelled() => return,
            }
        }
    });
}
