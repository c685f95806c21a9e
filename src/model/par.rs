//! Chunked loops that run on rayon's pool for big inputs and on the calling thread for small
//! ones (waking the pool costs more than a tiny problem's whole sweep). Chunks are fixed-size
//! and results come back in chunk order, so the outcome never depends on the thread count.

use rayon::prelude::*;

/// Inputs with fewer elements than this run on the calling thread.
pub const PARALLEL_MIN: usize = 1 << 15;

/// Calls `f(chunk index, chunk)` on each `size`-element chunk of `data`.
pub fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    size: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let size = size.max(1);
    if data.len() < PARALLEL_MIN {
        data.chunks_mut(size).enumerate().for_each(|(c, x)| f(c, x));
    } else {
        data.par_chunks_mut(size)
            .enumerate()
            .for_each(|(c, x)| f(c, x));
    }
}

/// `f(chunk index, chunk)` for each `size`-element chunk of `data`, in chunk order.
pub fn map_chunks<T: Sync, R: Send>(
    data: &[T],
    size: usize,
    f: impl Fn(usize, &[T]) -> R + Sync + Send,
) -> Vec<R> {
    let size = size.max(1);
    if data.len() < PARALLEL_MIN {
        data.chunks(size)
            .enumerate()
            .map(|(c, x)| f(c, x))
            .collect()
    } else {
        data.par_chunks(size)
            .enumerate()
            .map(|(c, x)| f(c, x))
            .collect()
    }
}

/// `f(chunk index, mutable chunk of a, chunk of b)` over matching chunks, results in order.
pub fn map_chunk_pairs_mut<A: Send, B: Sync, R: Send>(
    a: &mut [A],
    b: &[B],
    size: usize,
    f: impl Fn(usize, &mut [A], &[B]) -> R + Sync + Send,
) -> Vec<R> {
    let size = size.max(1);
    if a.len() < PARALLEL_MIN {
        a.chunks_mut(size)
            .zip(b.chunks(size))
            .enumerate()
            .map(|(c, (x, y))| f(c, x, y))
            .collect()
    } else {
        a.par_chunks_mut(size)
            .zip(b.par_chunks(size))
            .enumerate()
            .map(|(c, (x, y))| f(c, x, y))
            .collect()
    }
}

/// `f(item index, item)` for each of `items`, results in order; on the pool when the work
/// covers at least [`PARALLEL_MIN`] elements (`size`), else on the calling thread.
pub fn map_items<P: Send, R: Send>(
    items: Vec<P>,
    size: usize,
    f: impl Fn(usize, P) -> R + Sync + Send,
) -> Vec<R> {
    if size < PARALLEL_MIN || items.len() < 2 {
        items
            .into_iter()
            .enumerate()
            .map(|(c, p)| f(c, p))
            .collect()
    } else {
        items
            .into_par_iter()
            .enumerate()
            .map(|(c, p)| f(c, p))
            .collect()
    }
}

/// `(a(), b())`, as two tasks on the pool (each may open parallel loops of its own) when their
/// work covers at least [`PARALLEL_MIN`] elements (`size`), else one after the other on the
/// calling thread.
pub fn join<A: Send, B: Send>(
    size: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if size >= PARALLEL_MIN {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}
