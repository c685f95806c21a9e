//! Software prefetch hints: ask the CPU to bring cache lines in ahead of loads it cannot
//! predict (the X_miss pass walks about a hundred short runs of each array at once, more than
//! the hardware prefetcher follows). Hints only: they never fault and change no result.
//! No-ops off x86-64. Pure functions; callable from any thread.

/// Bytes per cache line on the CPUs we run on.
const LINE: usize = 64;

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

/// Hints to load the cache lines of `values` (one hint per line's worth of elements).
#[inline(always)]
pub fn lines<T>(values: &[T]) {
    let step = (LINE / std::mem::size_of::<T>().max(1)).max(1);
    for value in values.iter().step_by(step) {
        line(value);
    }
}

/// Hints to load the cache lines of `values[first..first + len]`, clipped to the slice (a run
/// that starts or ends past it asks for what exists of it, or nothing).
#[inline(always)]
pub fn run<T>(values: &[T], first: usize, len: usize) {
    let end = first.saturating_add(len).min(values.len());
    lines(values.get(first..end).unwrap_or(&[]));
}
