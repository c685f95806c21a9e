//! Big buffers backed by 2 MB pages where Linux allows it (transparent huge pages on request,
//! `MADV_HUGEPAGE`), allocated untouched so the first writes fault whole 2 MB pages in.
//!
//! Why: the sampler's GEMMs read X~ (N x D f32, 31 MB at N = 10,000) in panels of rows across
//! all D columns, each column 40 KB from the next, so with 4 KB pages every column of a panel
//! is another page and the TLB misses on most of them. These machines ship with transparent
//! huge pages in `madvise` mode: only memory that asks gets them. A hint only: where it is
//! refused (another OS, THP off) the buffer is the same zeroed memory. Pure functions; callable
//! from any thread; never block.

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
    let Some((first, last)) = whole_huge_pages(buf.as_ptr() as usize, std::mem::size_of_val(buf))
    else {
        return false;
    };
    #[cfg(target_os = "linux")]
    // SAFETY: [first, last) lies inside `buf`'s allocation; MADV_HUGEPAGE changes how its pages
    // are backed, never their contents.
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
}
