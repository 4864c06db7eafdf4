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
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    let Some(interval) = watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id()) else {
        return;
    };
    let every = interval / 2;
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

/// The watchdog interval as sd_watchdog_enabled(3) reads the environment:
/// WATCHDOG_USEC set and positive, and WATCHDOG_PID, when set, naming this
/// process (a child that inherited the variables must not ping for it).
fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_follows_sd_watchdog_enabled() {
        let two = Some(Duration::from_secs(2));
        assert_eq!(watchdog_interval(Some("2000000"), Some("42"), 42), two);
        assert_eq!(watchdog_interval(Some("2000000"), None, 42), two);
        assert_eq!(watchdog_interval(Some("2000000"), Some("43"), 42), None);
        assert_eq!(watchdog_interval(Some("2000000"), Some("x"), 42), None);
        assert_eq!(watchdog_interval(Some("0"), None, 42), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 42), None);
        assert_eq!(watchdog_interval(None, Some("42"), 42), None);
    }
}

/// Large allocations (message bodies, their outlines) straight from the
/// kernel and back to it when freed. glibc's malloc raises its mmap
/// threshold to the size of each large block freed (up to 32 MiB), so
/// after the first 10 MB message every body came from the heaps of
/// whichever threads fetched and parsed it, which kept the freed space:
/// a realistic backlog peaked 19 MiB higher (docs/BENCHMARKS.md, "A
/// realistic backlog"). A fixed threshold turns that adjustment off.
/// Other C libraries: nothing to do.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; called before any
    // thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Blocks of this size or more are mapped on their own (glibc's initial
/// threshold is 128 KiB; 256 KiB keeps the store's and the parser's
/// middle-sized buffers in the heap).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 << 10;

/// Threads of the blocking pool (file reads, name lookups) on top of the
/// workers: tokio's default of 512 would outgrow the unit's TasksMax=.
pub const BLOCKING_THREADS: usize = 8;

/// `run`'s runtime: `workers` threads and at most [`BLOCKING_THREADS`]
/// more. When the system refuses a thread (TasksMax=, ulimit -u), tokio
/// panics inside its thread pool and the process then waited on the
/// threads it had started; this says why and exits at once instead.
pub fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or("");
        if text.contains("can't spawn worker thread") {
            eprintln!(
                "triaged: cannot start {workers} worker threads ({text}); lower [daemon] workers, or raise TasksMax= in the unit (or ulimit -u)"
            );
            std::process::exit(2);
        }
        eprintln!("{info}");
    }));
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build();
    std::panic::set_hook(previous);
    built
}
