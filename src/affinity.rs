//! Pinning rayon's worker threads to distinct cores, for the headless runs.
//!
//! Left to the scheduler, the two workers of a 2-core machine shared one core for part of
//! about a third of the sweeps measured on these VMs: the Z step, whose parallel section
//! starts right after a millisecond of serial work, took 17 to 21 ms instead of 12 (per-sweep
//! times of `cargo bench --bench sweep`; with each worker pinned to its own core, 12 to 13 ms
//! every sweep). [`pinned_global_pool`] builds rayon's global pool with worker i pinned to the
//! i-th core the process may use, when there are at least as many such cores as workers.
//! `GIBBS_FA_PIN_THREADS=0` turns it off. Pinning is Linux only; elsewhere the pool is built
//! unpinned. The desktop app does not pin (its UI thread and other programs share the cores).
//!
//! Threads: [`pinned_global_pool`] runs once, on the thread that starts the command, before
//! any parallel work; each worker pins itself as it starts. Nothing here blocks.

/// The CPU worker `index` of `workers` is pinned to, given the CPUs the process may use:
/// None (no pinning) when there are fewer such CPUs than workers.
pub fn cpu_for_worker(allowed: &[usize], index: usize, workers: usize) -> Option<usize> {
    if workers == 0 || allowed.len() < workers {
        return None;
    }
    allowed.get(index).copied()
}

/// True unless `GIBBS_FA_PIN_THREADS` is `0`, `false` or `no`.
pub fn pinning_enabled() -> bool {
    !matches!(
        std::env::var("GIBBS_FA_PIN_THREADS")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref(),
        Ok("0" | "false" | "no")
    )
}

/// Builds rayon's global pool with `threads` workers (rayon's default when None), each pinned
/// to its own core when [`pinning_enabled`] and the process may use enough cores. Errors
/// when the global pool already exists.
pub fn pinned_global_pool(threads: Option<usize>) -> Result<(), rayon::ThreadPoolBuildError> {
    // The count rayon would choose (asking rayon would start its global pool).
    let workers = threads
        .or_else(|| {
            std::env::var("RAYON_NUM_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&t| t > 0)
        })
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |p| p.get()));
    let builder = rayon::ThreadPoolBuilder::new().num_threads(workers);
    let allowed = if pinning_enabled() {
        allowed_cpus()
    } else {
        Vec::new()
    };
    builder
        .start_handler(move |i| {
            if let Some(cpu) = cpu_for_worker(&allowed, i, workers) {
                pin_this_thread(cpu);
            }
        })
        .build_global()
}

/// The CPUs the calling thread may run on, ascending (empty where unknown).
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills a zeroed cpu_set_t of the size passed; CPU_ISSET reads
    // bits of it below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

#[cfg(not(target_os = "linux"))]
pub fn allowed_cpus() -> Vec<usize> {
    Vec::new()
}

/// Pins the calling thread to `cpu`; false (nothing changed) if the system refuses.
#[cfg(target_os = "linux")]
pub fn pin_this_thread(cpu: usize) -> bool {
    if cpu >= libc::CPU_SETSIZE as usize {
        return false;
    }
    // SAFETY: a zeroed cpu_set_t with one bit below CPU_SETSIZE set, passed with its size, for
    // the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

#[cfg(not(target_os = "linux"))]
pub fn pin_this_thread(_cpu: usize) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_get_distinct_allowed_cpus_or_none() {
        let allowed = [2, 3, 6];
        assert_eq!(cpu_for_worker(&allowed, 0, 2), Some(2));
        assert_eq!(cpu_for_worker(&allowed, 1, 2), Some(3));
        assert_eq!(cpu_for_worker(&allowed, 2, 3), Some(6));
        // More workers than CPUs, none allowed, no workers: no pinning at all.
        assert_eq!(cpu_for_worker(&allowed, 0, 4), None);
        assert_eq!(cpu_for_worker(&[], 0, 1), None);
        assert_eq!(cpu_for_worker(&allowed, 0, 0), None);
    }

    /// A thread pinned to one of its allowed CPUs then runs on that CPU only.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pinned_thread_may_run_on_its_cpu_only() {
        let before = allowed_cpus();
        assert!(!before.is_empty());
        let last = *before.last().unwrap();
        let after = std::thread::spawn(move || {
            assert!(pin_this_thread(last));
            allowed_cpus()
        })
        .join()
        .unwrap();
        assert_eq!(after, vec![last]);
        // The spawning thread is untouched, and an impossible CPU is refused.
        assert_eq!(allowed_cpus(), before);
        assert!(!pin_this_thread(usize::MAX));
    }
}
