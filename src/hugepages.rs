//! Big buffers backed by 2 MB pages where Linux allows it (transparent huge pages on request,
//! `MADV_HUGEPAGE`), allocated untouched so the first writes fault whole 2 MB pages in.
//!
//! Why: the sampler's GEMMs read X~ (N x D f32, 31 MB at N = 10,000) in panels of rows across
//! all D columns, each column 40 KB from the next, so with 4 KB pages every column of a panel
//! is another page and the TLB misses on most of them. These machines ship with transparent
//! huge pages in `madvise` mode: only memory that asks gets them. A hint only: where it is
//! refused (another OS, THP off) the buffer is the same zeroed memory.
//!
//! [`HugePageAlloc`], the binaries' global allocator, asks the same for every allocation of
//! [`ADVISE_FROM`] bytes or more. Why: on our development machines (KVM guests whose kernel
//! reports the memory it frees to the host, virtio-balloon free page reporting), the app's UI
//! thread stalled while the process built, freed and refilled gigabytes at N = 60,000: a fixed
//! chase through 8 MB of its own memory took up to 100 ms instead of 0.3 ms. With big blocks on
//! huge pages such stalls were rarer (UI benchmark: every frame under 12 ms in six runs of
//! seven, against two of eight), not gone. With the guest's page reporting turned off there
//! were none, with or without this allocator (three alternating pairs: probe max 0.6 to 2.6 ms,
//! every frame under 10 ms): the stalls are the host taking back freed memory, and this
//! allocator only makes them rarer there. Pure functions and a stateless allocator; callable
//! from any thread; never block (madvise is one system call).

use std::alloc::{GlobalAlloc, Layout, System};

/// Size of a transparent huge page on x86-64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// A zeroed `len`-long vector, asked to be backed by huge pages before anything touches it (a
/// zeroed allocation this large is fresh, untouched pages from the system).
pub fn zeroed_f32(len: usize) -> Vec<f32> {
    let v = vec![0.0f32; len];
    advise(&v);
    v
}

/// Asks the kernel to back the 2 MB-aligned pages inside `buf` with huge pages. Returns whether
/// it agreed (false off Linux, for a buffer holding no whole huge page, or when refused).
pub fn advise<T>(buf: &[T]) -> bool {
    advise_range(buf.as_ptr() as usize, std::mem::size_of_val(buf))
}

/// [`advise`] for the `bytes` bytes from address `start`, which must lie inside one allocation.
fn advise_range(start: usize, bytes: usize) -> bool {
    let Some((first, last)) = whole_huge_pages(start, bytes) else {
        return false;
    };
    #[cfg(target_os = "linux")]
    // SAFETY: [first, last) lies inside the caller's allocation; MADV_HUGEPAGE changes how its
    // pages are backed, never their contents.
    unsafe {
        libc::madvise(
            first as *mut libc::c_void,
            last - first,
            libc::MADV_HUGEPAGE,
        ) == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (first, last);
        false
    }
}

/// Allocations from this size up are advised: the sampler's arrays (31 MB and more at the
/// notebook's size) are, the UI's buffers (textures, text, lists) are not, so the UI thread
/// never waits for the kernel to find a free 2 MB page.
pub const ADVISE_FROM: usize = 16 << 20;

/// The system allocator, asking for huge pages for every allocation of [`ADVISE_FROM`] bytes or
/// more (see the module docs). Install it in a binary with
/// `#[global_allocator] static ALLOC: HugePageAlloc = HugePageAlloc;`.
pub struct HugePageAlloc;

impl HugePageAlloc {
    fn advised(ptr: *mut u8, size: usize) -> *mut u8 {
        if !ptr.is_null() && size >= ADVISE_FROM {
            advise_range(ptr as usize, size);
        }
        ptr
    }
}

// SAFETY: every call is passed to the system allocator unchanged; the advice only changes how
// the pages of a block just returned by it are backed, never their contents or ownership.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::advised(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::advised(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    /// Advised too: some of a build's big buffers grow. Without it the UI benchmark at
    /// N = 60,000 kept every frame under 12 ms in three runs of seven, with it in six of seven;
    /// the cost is about 0.1 s of the notebook's run end to end, outside sampling.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::advised(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

/// The addresses [first, last) of the whole huge pages inside `bytes` bytes from `start`, if
/// there is at least one.
fn whole_huge_pages(start: usize, bytes: usize) -> Option<(usize, usize)> {
    let first = start.checked_next_multiple_of(HUGE_PAGE)?;
    let last = start.checked_add(bytes)? / HUGE_PAGE * HUGE_PAGE;
    (first < last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_aligned_pages_are_advised() {
        const P: usize = HUGE_PAGE;
        assert_eq!(whole_huge_pages(P, P), Some((P, 2 * P)));
        assert_eq!(whole_huge_pages(P + 1, 2 * P), Some((2 * P, 3 * P)));
        assert_eq!(whole_huge_pages(P + 1, 2 * P - 2), None);
        assert_eq!(whole_huge_pages(P + 1, 3 * P), Some((2 * P, 4 * P)));
        assert_eq!(whole_huge_pages(3 * P - 8, 2 * P + 8), Some((3 * P, 5 * P)));
        assert_eq!(whole_huge_pages(5, P), None);
        assert_eq!(whole_huge_pages(0, 0), None);
        assert_eq!(whole_huge_pages(usize::MAX - 3, 2), None);
    }

    #[test]
    fn advised_buffers_are_zeroed_and_small_ones_left_alone() {
        let big = zeroed_f32(3 * HUGE_PAGE / 4);
        assert_eq!(big.len(), 3 * HUGE_PAGE / 4);
        assert!(big.iter().all(|&v| v == 0.0));
        assert!(!advise(&[0.0f32; 16]));
        assert!(!advise::<f32>(&[]));
    }

    /// The allocator hands out the system's blocks: aligned, writable, zeroed when asked, kept
    /// through a realloc, for small and advised sizes alike.
    #[test]
    fn the_allocator_is_the_system_allocator() {
        let alloc = HugePageAlloc;
        for size in [
            24,
            4096,
            ADVISE_FROM - 8,
            ADVISE_FROM,
            3 * ADVISE_FROM / 2 + 5,
        ] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            // SAFETY: a non-zero size; every block is freed with the layout it was made with.
            unsafe {
                let zeroed = alloc.alloc_zeroed(layout);
                assert!(!zeroed.is_null());
                assert_eq!(zeroed as usize % 64, 0);
                let bytes = std::slice::from_raw_parts_mut(zeroed, size);
                assert!(bytes.iter().all(|&b| b == 0), "size {size}");
                bytes[0] = 7;
                bytes[size - 1] = 9;
                let grown = alloc.realloc(zeroed, layout, 2 * size);
                assert!(!grown.is_null());
                assert_eq!((*grown, *grown.add(size - 1)), (7, 9));
                alloc.dealloc(grown, Layout::from_size_align(2 * size, 64).unwrap());
                let plain = alloc.alloc(layout);
                assert!(!plain.is_null());
                plain.write_bytes(1, size);
                alloc.dealloc(plain, layout);
            }
        }
    }
}
