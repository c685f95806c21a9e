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
//! every frame under 10 ms): the stalls are the host taking back freed memory.
//!
//! So in the desktop app the allocator also keeps freed big blocks for reuse ([`Keeper`],
//! switched on by [`HugePageAlloc::keep_freed_blocks_for_app`]): a restart or an export then
//! frees little for the guest to report. UI benchmark at N = 60,000 with reporting on, six
//! alternating pairs: wall max 6.7 to 25.2 ms with it, 10.3 to 62.6 ms without (three runs of
//! six over 33 ms); peak RSS 5.90 GB against 5.44.
//!
//! Threads: pure functions and an allocator callable from any thread; madvise is one system
//! call, and the keeper's lock is held only to scan its slots.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

    /// Keeps big blocks freed from now on for later allocations, up to `limit` bytes in all
    /// (see [`Keeper`]). For the desktop app only: the CLI frees little and is held to a peak
    /// memory budget.
    pub fn keep_freed_blocks(limit: usize) {
        KEPT.enable(limit);
    }

    /// Blocks kept now and their bytes (the UI benchmark prints them).
    pub fn kept() -> (usize, usize) {
        KEPT.held()
    }

    /// [`Self::keep_freed_blocks`] with the desktop app's limit: a quarter of the machine's
    /// memory (1 GB where it cannot be read), enough for a restart at N = 60,000 to reuse the
    /// old chains' blocks (about 3.5 GB at K = 4, M = 50).
    pub fn keep_freed_blocks_for_app() {
        Self::keep_freed_blocks(physical_memory().map_or(1 << 30, |bytes| bytes / 4));
    }
}

/// The machine's memory in bytes, where the system says.
fn physical_memory() -> Option<usize> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        (pages > 0 && page > 0).then(|| (pages as usize).saturating_mul(page as usize))
    }
    #[cfg(not(unix))]
    None
}

// SAFETY: every block comes from the system allocator and goes back to it (or is kept whole
// and handed out again, to one owner at a time, for a layout it fits: at least the size, an
// address of the alignment). The advice only changes how pages are backed; MADV_FREE only
// applies to whole pages of a block no one owns while it is kept.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(ptr) = KEPT.take(layout) {
            return ptr;
        }
        Self::advised(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(ptr) = KEPT.take(layout) {
            // SAFETY: the block holds at least layout.size() bytes and is now the caller's.
            unsafe { ptr.write_bytes(0, layout.size()) };
            return ptr;
        }
        Self::advised(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr is a live block of the system allocator, given up by its owner.
        if !unsafe { KEPT.keep(ptr, layout) } {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// Advised too: some of a build's big buffers grow. Without it the UI benchmark at
    /// N = 60,000 kept every frame under 12 ms in three runs of seven, with it in six of seven;
    /// the cost is about 0.1 s of the notebook's run end to end, outside sampling.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::advised(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

/// Freed big blocks kept for the next allocations that fit them, instead of going back to the
/// system at once.
///
/// Why: our development machines' kernel reports memory freed to it to the host, and while
/// the host takes it back the app's frames stall (up to 60 ms at N = 60,000, in bursts every
/// 2 s after a restart freed the old chains). A restart or an export frees and allocates blocks
/// of the same sizes (N x D f32 arrays and the like), so kept blocks are mostly reused. While
/// kept, a block's whole pages are marked `MADV_FREE`: the kernel may take them back when
/// memory runs short (they then read as zeros), and otherwise leaves them mapped, so nothing
/// is freed to report and nothing new is faulted in on reuse. A block is reused for requests
/// from four fifths of its size up; at most 64 blocks and `limit` bytes are kept.
///
/// Threads: any thread; the lock is held only to scan or fill the slots (no allocation, no
/// system call inside it), and only for blocks of [`ADVISE_FROM`] bytes or more.
pub struct Keeper {
    enabled: AtomicBool,
    limit: AtomicUsize,
    /// (address, usable bytes) of each kept block; (0, 0) for an empty slot.
    slots: Mutex<[(usize, usize); SLOTS]>,
}

/// Most blocks kept at once.
const SLOTS: usize = 64;

impl Default for Keeper {
    fn default() -> Self {
        Keeper::new()
    }
}

/// The keeper behind [`HugePageAlloc`] (off until [`HugePageAlloc::keep_freed_blocks`]).
static KEPT: Keeper = Keeper::new();

impl Keeper {
    pub const fn new() -> Keeper {
        Keeper {
            enabled: AtomicBool::new(false),
            limit: AtomicUsize::new(0),
            slots: Mutex::new([(0, 0); SLOTS]),
        }
    }

    /// Keeps freed blocks from now on, up to `limit` bytes in all.
    pub fn enable(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
        self.enabled.store(true, Ordering::Release);
    }

    fn with_slots<R>(&self, f: impl FnOnce(&mut [(usize, usize); SLOTS]) -> R) -> R {
        // Nothing inside can panic, so a poisoned lock still holds whole slots.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut slots)
    }

    /// Blocks kept and their bytes.
    pub fn held(&self) -> (usize, usize) {
        self.with_slots(|slots| {
            slots
                .iter()
                .filter(|s| s.0 != 0)
                .fold((0, 0), |(n, b), s| (n + 1, b + s.1))
        })
    }

    /// The smallest kept block that fits `layout` (at least its size, at most a quarter more;
    /// an address of its alignment), now the caller's.
    pub fn take(&self, layout: Layout) -> Option<*mut u8> {
        let size = layout.size();
        if size < ADVISE_FROM || !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        self.with_slots(|slots| {
            let best = slots
                .iter_mut()
                .filter(|s| {
                    s.0 != 0
                        && s.1 >= size
                        && s.1 - size <= size / 4
                        && s.0.is_multiple_of(layout.align())
                })
                .min_by_key(|s| s.1)?;
            let ptr = best.0 as *mut u8;
            *best = (0, 0);
            Some(ptr)
        })
    }

    /// Keeps the block at `ptr` (freed by its owner, allocated for `layout`) if it is big, the
    /// keeper is on and there is room; returns whether it was kept.
    ///
    /// # Safety
    /// `ptr` must be a live block of the system allocator that no one will use again.
    pub unsafe fn keep(&self, ptr: *mut u8, layout: Layout) -> bool {
        if layout.size() < ADVISE_FROM || !self.enabled.load(Ordering::Acquire) {
            return false;
        }
        // The block may be bigger than this layout says (a kept block handed out again).
        // SAFETY: ptr is a live block of the system allocator (malloc's, on Linux).
        let usable = unsafe { usable_size(ptr, layout.size()) };
        // Marked before it is put in a slot: once there, another thread may take it and write
        // to it, and MADV_FREE after that write could drop it. (A block then not kept goes
        // back to the system, where the mark does no harm.)
        lazy_free(ptr as usize, usable);
        let limit = self.limit.load(Ordering::Relaxed);
        self.with_slots(|slots| {
            let held: usize = slots.iter().map(|s| s.1).sum();
            if held.saturating_add(usable) > limit {
                return false;
            }
            match slots.iter_mut().find(|s| s.0 == 0) {
                Some(slot) => {
                    *slot = (ptr as usize, usable);
                    true
                }
                None => false,
            }
        })
    }
}

/// Bytes usable at `ptr`, a block of the system allocator asked for with `size` bytes.
///
/// # Safety
/// `ptr` must be a live block of the system allocator.
unsafe fn usable_size(ptr: *mut u8, size: usize) -> usize {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: as the caller promises, ptr is a live block of malloc's.
    let usable = unsafe { libc::malloc_usable_size(ptr.cast()) };
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let usable = {
        let _ = ptr;
        size
    };
    usable.max(size)
}

/// Marks the whole pages inside `bytes` bytes from `start` as free to take back
/// (`MADV_FREE`): the kernel reclaims them only when memory runs short.
fn lazy_free(start: usize, bytes: usize) {
    const PAGE: usize = 4096;
    let (Some(first), Some(end)) = (
        start.checked_next_multiple_of(PAGE),
        start.checked_add(bytes),
    ) else {
        return;
    };
    let last = end / PAGE * PAGE;
    if first >= last {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: [first, last) lies inside a block no one uses while it is kept; MADV_FREE may
    // zero those pages, which a kept block's next owner never relies on (alloc_zeroed zeroes).
    unsafe {
        libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_FREE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (first, last);
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

    /// A kept block goes to the next layout it fits (its size or up to a quarter less, its
    /// alignment) and to one taker only; blocks too small, too many bytes or a keeper that is
    /// off keep nothing.
    #[test]
    fn a_kept_block_goes_once_to_a_layout_it_fits() {
        let size = 2 * ADVISE_FROM;
        let layout = Layout::from_size_align(size, 64).unwrap();
        let keeper = Keeper::new();
        // SAFETY: blocks of the system allocator, each freed once: kept ones by the keeper's
        // taker, the others here.
        unsafe {
            let block = System.alloc(layout);
            assert!(!block.is_null());
            assert!(
                !keeper.keep(block, layout),
                "a keeper that is off keeps nothing"
            );
            keeper.enable(size - 1);
            assert!(!keeper.keep(block, layout), "over the limit");
            keeper.enable(4 * size);
            let small = Layout::from_size_align(ADVISE_FROM - 1, 64).unwrap();
            assert!(!keeper.keep(block, small), "small blocks go back at once");
            assert!(keeper.keep(block, layout));
            let (count, bytes) = keeper.held();
            assert_eq!(count, 1);
            assert!(bytes >= size);

            let half = Layout::from_size_align(size / 2, 64).unwrap();
            assert_eq!(keeper.take(half), None, "more than a quarter to spare");
            let more = Layout::from_size_align(bytes + 1, 64).unwrap();
            assert_eq!(keeper.take(more), None, "bigger than the block");
            let misaligned = Layout::from_size_align(size, 1 << 30).unwrap();
            if !(block as usize).is_multiple_of(1 << 30) {
                assert_eq!(keeper.take(misaligned), None, "not of the alignment");
            }
            let fits = Layout::from_size_align(size - size / 8, 32).unwrap();
            assert_eq!(keeper.take(fits), Some(block));
            assert_eq!(keeper.take(fits), None, "handed out once");
            assert_eq!(keeper.held(), (0, 0));
            // The taker owns the whole block.
            block.write_bytes(3, bytes);
            System.dealloc(block, layout);
        }
    }

    /// Through the allocator with the keeper on: a freed big block comes back for the next
    /// allocation of its size, and zeroed when asked, though it was written before.
    #[test]
    fn a_reused_block_is_zeroed_when_asked() {
        HugePageAlloc::keep_freed_blocks(usize::MAX / 2);
        let alloc = HugePageAlloc;
        // A size no other test asks for, so no other test takes the block.
        let size = 5 * ADVISE_FROM + 12_345;
        let layout = Layout::from_size_align(size, 16).unwrap();
        // SAFETY: a non-zero size; every block is freed once with its layout.
        unsafe {
            let first = alloc.alloc(layout);
            assert!(!first.is_null());
            first.write_bytes(0xab, size);
            alloc.dealloc(first, layout);
            let again = alloc.alloc_zeroed(layout);
            assert_eq!(again, first, "the freed block was kept and reused");
            let bytes = std::slice::from_raw_parts(again, size);
            assert!(bytes.iter().all(|&b| b == 0));
            alloc.dealloc(again, layout);
            // Kept again; a plain allocation takes it as it is.
            let plain = alloc.alloc(layout);
            assert_eq!(plain, first);
            plain.write_bytes(1, size);
            System.dealloc(plain, layout);
        }
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
