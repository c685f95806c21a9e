//! Software prefetch hints: ask the CPU to bring cache lines in ahead of loads it cannot
//! predict (the X_miss pass's scattered writes to X~, and the first lines of each block of Z).
//! Hints only: they never fault and change no result. No-ops off x86-64. Pure functions;
//! callable from any thread.

/// Hints to load the cache line holding `value`.
#[inline(always)]
pub fn line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is only a hint; the pointer comes from a reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(value as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
