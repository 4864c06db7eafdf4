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

    /// Only the executable's own read-only mappings are handed back: not
    /// its writable data, not a library, not the heap.
    #[test]
    fn only_the_binarys_read_only_pages_are_handed_back() {
        let maps = "\
55d0c0000000-55d0c0100000 r--p 00000000 fd:01 42 /usr/bin/triaged
55d0c0100000-55d0c1000000 r-xp 00100000 fd:01 42 /usr/bin/triaged
55d0c1000000-55d0c1010000 rw-p 01000000 fd:01 42 /usr/bin/triaged
55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 r-xp 00000000 fd:01 7 /usr/lib/libc.so.6
7f0000200000-7f0000201000 r--p 00000000 fd:01 43 /usr/bin/triaged-other
";
        let got = own_read_only_mappings(maps, std::path::Path::new("/usr/bin/triaged"));
        assert_eq!(got, vec![(0x55d0c0000000, 0x55d0c0100000), (0x55d0c0100000, 0x55d0c1000000)]);
    }

    /// In this very process (the test binary): its code is found and the
    /// kernel takes the advice.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_running_binarys_pages_are_handed_back() {
        assert!(release_startup_pages() > 0);
    }

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

/// malloc's parameters for a long-running daemon (glibc; other C
/// libraries: nothing to do). Called first thing in `main`, before any
/// thread is started.
///
/// Large allocations (message bodies, their outlines) straight from the
/// kernel and back to it when freed. glibc's malloc raises its mmap
/// threshold to the size of each large block freed (up to 32 MiB), so
/// after the first 10 MB message every body came from the heaps of
/// whichever threads fetched and parsed it, which kept the freed space:
/// a realistic backlog peaked 19 MiB higher (docs/BENCHMARKS.md, "A
/// realistic backlog"). A fixed threshold turns that adjustment off.
///
/// One heap for every thread. glibc gives each thread a heap of its own
/// when it first allocates (up to eight a core),
/// and space freed in one is never used by another: a message parsed on
/// one worker and classified on the other left free space in both. One
/// heap took 2.5–3.4 MiB off a realistic backlog's peak at the same
/// speed, and about 2.3 MiB off a stream's, where CPU a message may be
/// up to a tenth higher (docs/BENCHMARKS.md, "One heap"); small blocks
/// still come from each thread's own cache without the lock. An
/// operator's own `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` wins.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let operator_set = |name| std::env::var_os(name).is_some();
        // SAFETY: mallopt only changes malloc's parameters; called before
        // any thread is started.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            if !operator_set("MALLOC_ARENA_MAX") && !operator_set("GLIBC_TUNABLES") {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
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

/// Hands the pages of the daemon's own binary back to the kernel once it
/// has started, and returns how many bytes it asked about. Starting runs
/// code that the running daemon never runs again (reading the config,
/// compiling the packs' rules, opening the store, the command line), and
/// the kernel maps the pages around each one it faults in: after start
/// about 19 MiB of the 25 MB binary stayed resident. The pages the workers
/// need are faulted in again from the page cache as they run; the others
/// stay out until something needs them (docs/BENCHMARKS.md, "The
/// stream's memory, 2026-12-02 afternoon"). `MADV_PAGEOUT` needs Linux 5.4; elsewhere, or if
/// the kernel refuses, nothing changes.
pub fn release_startup_pages() -> usize {
    #[cfg(target_os = "linux")]
    {
        let Ok(exe) = std::fs::read_link("/proc/self/exe") else { return 0 };
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return 0 };
        let mut released = 0;
        for (start, end) in own_read_only_mappings(&maps, &exe) {
            // SAFETY: the range is a whole mapping of our own executable,
            // read-only; paging it out changes no content, only residency.
            if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) } == 0 {
                released += end - start;
            }
        }
        released
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// The address ranges of `exe`'s mappings in `/proc/self/maps` that are
/// not writable (its code and read-only data).
fn own_read_only_mappings(maps: &str, exe: &std::path::Path) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (range, perms) = (fields.next()?, fields.next()?);
            let path = fields.nth(3)?;
            if std::path::Path::new(path) != exe || perms.as_bytes().get(1) != Some(&b'-') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?))
        })
        .collect()
}
