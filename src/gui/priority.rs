//! Thread priorities: the UI thread keeps the normal priority, every background thread of the
//! app runs at a lower one, so a frame gets a core as soon as it is due even while a chain is
//! built and K chains sample on a 2-core machine (with equal priorities the UI thread got a
//! third of a core then, and frames that need 6 ms of CPU took 40 to 160 ms).
//!
//! On Linux the nice value is per thread and a new thread inherits its creator's, so lowering
//! a job's thread also lowers the sampler, the K chains and any pool they
//! start; [`background_rayon_pool`] lowers rayon's global pool, which may be started from the
//! UI thread. `GIBBS_FA_BACKGROUND_NICE` (0 to 19, default [`BACKGROUND_NICE`]) sets the value;
//! 0 keeps the old behaviour (for measuring). Elsewhere these calls do nothing.
//!
//! Threads: [`lower_this_thread`] runs on the thread it lowers, first thing, and never
//! blocks; [`background_rayon_pool`] runs once on the UI thread before the window opens.

/// The nice value of background threads, unless `GIBBS_FA_BACKGROUND_NICE` says otherwise
/// (the UI thread stays at 0: about ten times the weight of a background thread).
pub const BACKGROUND_NICE: i32 = 10;

/// The nice value background threads get: [`BACKGROUND_NICE`] or the environment's.
pub fn background_nice() -> i32 {
    std::env::var("GIBBS_FA_BACKGROUND_NICE")
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .map_or(BACKGROUND_NICE, |v| v.clamp(0, 19))
}

/// Lowers the calling thread to the background priority (never raises it).
pub fn lower_this_thread() {
    let nice = background_nice();
    if let Some(now) = this_thread_nice()
        && now < nice
    {
        set_this_thread_nice(nice);
    }
}

/// Builds rayon's global pool with its threads at the background priority. Does nothing if
/// the pool already exists.
pub fn background_rayon_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("gibbs-fa rayon {i}"))
        .start_handler(|_| lower_this_thread())
        .build_global();
}

/// The calling thread's nice value (None where threads have none of their own).
#[cfg(target_os = "linux")]
pub fn this_thread_nice() -> Option<i32> {
    // SAFETY: gettid takes no arguments; getpriority reads the thread's nice value. A result
    // of -1 is also a valid nice value, so errno is cleared first and checked after.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        (nice != -1 || *libc::__errno_location() == 0).then_some(nice)
    }
}

#[cfg(not(target_os = "linux"))]
pub fn this_thread_nice() -> Option<i32> {
    None
}

#[cfg(target_os = "linux")]
fn set_this_thread_nice(nice: i32) {
    // SAFETY: setpriority on the calling thread's own id; raising the nice value needs no
    // privilege, and a failure only leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
}

#[cfg(not(target_os = "linux"))]
fn set_this_thread_nice(_nice: i32) {}
