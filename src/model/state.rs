//! The current values of every unknown (Z, W, mu, sigma^2, X_miss) and the completed data.
//!
//! Threads: the bulk work here (copying the data into column-major X when a state is built,
//! rebuilding the column sums, recomputing the statistics) runs on rayon's current pool in
//! fixed tiles and blocks, so results never depend on the number of threads; the rest runs on
//! the caller's thread. Nothing here blocks.

use super::problem::check_value;
use super::suffstats::{BlockStats, ColumnSums, CrossStats};
use super::{MAX_FACTORS, ModelError};
use nalgebra::DMatrix;

/// Smallest and largest sigma_d^2 the sampler keeps. Draws outside are clamped so a
/// degenerate column (constant pixels, absurd hyperparameters) cannot produce 0, inf or NaN;
/// the bounds are far outside anything real data reach.
pub const SIGMASQ_RANGE: (f32, f32) = (1e-12, 1e30);

/// Images per block of the missing index: the X_miss pass draws a block's entries column by
/// column while the block's rows of Z stay in cache (see [`super::x_missing`]).
pub(crate) const INDEX_BLOCK: usize = 1024;

/// Missing entries in blocked compressed-column order: entry k is pixel `cols[k]` of image
/// `rows[k]`, sorted by block of [`INDEX_BLOCK`] images, then column, then row. The X_miss pass
/// walks the entries block by block, so every array kept in entry order (the current values,
/// the running moments, the truth) is read as one stream instead of D interleaved runs (in
/// column order a block's entries of each column were a separate run, and the pass waited on
/// their first cache lines: X_miss 5.5-5.7 -> 4.8-5.0 ms at N = 10,000).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingIndex {
    n: usize,
    d: usize,
    /// Segment (block b, column j) is entries `seg_ptr[b * d + j]..seg_ptr[b * d + j + 1]`.
    seg_ptr: Vec<usize>,
    rows: Vec<u32>,
    cols: Vec<u32>,
}

impl MissingIndex {
    /// Builds the index from a row-major N x D mask (length already checked).
    pub fn from_row_major(n: usize, d: usize, missing: &[bool]) -> MissingIndex {
        let segments = n.div_ceil(INDEX_BLOCK) * d;
        let mut seg_ptr = vec![0usize; segments + 1];
        for (i, row) in missing.chunks_exact(d.max(1)).take(n).enumerate() {
            let first = (i / INDEX_BLOCK) * d;
            for (j, &m) in row.iter().enumerate() {
                seg_ptr[first + j + 1] += m as usize;
            }
        }
        for s in 0..segments {
            seg_ptr[s + 1] += seg_ptr[s];
        }
        let total = seg_ptr[segments];
        let mut rows = vec![0u32; total];
        let mut cols = vec![0u32; total];
        let mut next = seg_ptr.clone();
        for (i, row) in missing.chunks_exact(d.max(1)).take(n).enumerate() {
            let first = (i / INDEX_BLOCK) * d;
            for (j, _) in row.iter().enumerate().filter(|(_, m)| **m) {
                let k = &mut next[first + j];
                rows[*k] = i as u32;
                cols[*k] = j as u32;
                *k += 1;
            }
        }
        MissingIndex {
            n,
            d,
            seg_ptr,
            rows,
            cols,
        }
    }

    /// Number of missing entries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when nothing is missing.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of blocks of [`INDEX_BLOCK`] images.
    pub fn blocks(&self) -> usize {
        self.n.div_ceil(INDEX_BLOCK)
    }

    /// The images of block `b`.
    pub fn block_rows(&self, b: usize) -> std::ops::Range<usize> {
        (b * INDEX_BLOCK).min(self.n)..((b + 1) * INDEX_BLOCK).min(self.n)
    }

    /// Entry indices of column `j`'s missing entries in block `b` (in row order; empty out of
    /// range).
    pub fn segment(&self, b: usize, j: usize) -> std::ops::Range<usize> {
        if j >= self.d || b >= self.blocks() {
            return 0..0;
        }
        let s = b * self.d + j;
        self.seg_ptr[s]..self.seg_ptr[s + 1]
    }

    /// Entry indices of every column's missing entries in blocks `blocks` (one range: block
    /// by block, column by column).
    pub fn span(&self, blocks: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let at = |b: usize| self.seg_ptr[(b * self.d).min(self.seg_ptr.len() - 1)];
        at(blocks.start)..at(blocks.end)
    }

    /// Number of missing entries in column `j`.
    pub fn column_len(&self, j: usize) -> usize {
        (0..self.blocks()).map(|b| self.segment(b, j).len()).sum()
    }

    /// Column `j`'s missing entries in row order: (entry index, image).
    pub fn column_entries(&self, j: usize) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.column_entries_in(j, 0..self.n)
    }

    /// Column `j`'s missing entries among images `images`, in row order: (entry index, image).
    pub fn column_entries_in(
        &self,
        j: usize,
        images: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, u32)> + '_ {
        let images = images.start.min(self.n)..images.end.min(self.n);
        let blocks = if images.is_empty() {
            0..0
        } else {
            images.start / INDEX_BLOCK..(images.end - 1) / INDEX_BLOCK + 1
        };
        blocks.flat_map(move |b| {
            let seg = self.segment(b, j);
            let rows = &self.rows[seg.clone()];
            let from = rows.partition_point(|&r| (r as usize) < images.start);
            let to = rows.partition_point(|&r| (r as usize) < images.end);
            (seg.start + from..seg.start + to).map(move |k| (k, self.rows[k]))
        })
    }

    /// Rows (images) of the missing entries, in entry order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// Columns (pixels) of the missing entries, in entry order.
    pub fn cols(&self) -> &[u32] {
        &self.cols
    }

    /// The index with the missing pixels of image `i` replaced by `row` (length D, true =
    /// missing), every other image unchanged: only `i`'s block is rebuilt.
    pub(crate) fn with_row(&self, i: usize, row: &[bool]) -> MissingIndex {
        let d = self.d;
        if i >= self.n || d == 0 {
            return self.clone();
        }
        let b = i / INDEX_BLOCK;
        let i32_ = i as u32;
        let (before, after) = (self.span(0..b), self.span(b + 1..self.blocks()));
        let mut rows = Vec::with_capacity(self.rows.len() + d);
        let mut cols = Vec::with_capacity(self.rows.len() + d);
        rows.extend_from_slice(&self.rows[before.clone()]);
        cols.extend_from_slice(&self.cols[before]);
        let mut seg_ptr = self.seg_ptr[..=b * d].to_vec();
        for j in 0..d {
            let old = &self.rows[self.segment(b, j)];
            let split = old.partition_point(|&r| r < i32_);
            rows.extend_from_slice(&old[..split]);
            if row.get(j).copied().unwrap_or(false) {
                rows.push(i32_);
            }
            let rest = &old[split..];
            let rest = rest.strip_prefix(&[i32_]).unwrap_or(rest);
            rows.extend_from_slice(rest);
            cols.resize(rows.len(), j as u32);
            seg_ptr.push(rows.len());
        }
        let shift = rows.len() as isize - after.start as isize;
        rows.extend_from_slice(&self.rows[after.clone()]);
        cols.extend_from_slice(&self.cols[after]);
        seg_ptr.extend(
            self.seg_ptr[(b + 1) * d + 1..]
                .iter()
                .map(|&p| (p as isize + shift) as usize),
        );
        MissingIndex {
            n: self.n,
            d,
            seg_ptr,
            rows,
            cols,
        }
    }

    /// Entry index of pixel `d` of image `i`, if it is missing.
    pub fn position(&self, i: usize, d: usize) -> Option<usize> {
        if i >= self.n {
            return None;
        }
        let seg = self.segment(i / INDEX_BLOCK, d);
        let start = seg.start;
        self.rows[seg]
            .binary_search(&(i as u32))
            .ok()
            .map(|p| start + p)
    }
}

/// Every unknown of the model plus the completed data X (observed values and the current
/// X_miss sample). Matrices are nalgebra column-major: X is N x D, Z is N x M, W is D x M.
///
/// The completed X is kept as the observed values (`x`) beside the current values of the
/// missing entries (`values`, in the missing index's order): the X_miss step rewrites only
/// `values` and X~, not a third N x D matrix (one scattered write a missing entry fewer, 0.5 ms
/// of a 7 ms step at N = 10,000). [`ModelState::x_at`], [`ModelState::completed_x`] and
/// [`ModelState::completed_row`] put the two together.
///
/// Beside them the state keeps X~ = X - 1 c^T, the completed X shifted by its column means,
/// which the big products read (see [`super::suffstats`]), and the sufficient statistics that
/// replace the fitted values Z W^T: no N x D x M product beyond the two GEMMs the Z step runs.
#[derive(Clone, Debug)]
pub struct ModelState {
    /// The observed values; its entries at missing pixels are not kept current (`values` is).
    pub(crate) x: DMatrix<f32>,
    pub(crate) missing: MissingIndex,
    /// The current value of each missing entry, in the missing index's order.
    pub(crate) values: Vec<f32>,
    pub(crate) z: DMatrix<f32>,
    pub(crate) w: DMatrix<f32>,
    pub(crate) mu: Vec<f32>,
    pub(crate) sigmasq: Vec<f32>,
    /// X~ = X - 1 c^T (N x D), c = `columns.shift`; updated with X.
    pub(crate) xs: DMatrix<f32>,
    /// Column sums of X and of X~ in f64, kept up to date as X_miss changes.
    pub(crate) columns: ColumnSums,
    /// Cache of X~^T Z, Z^T Z and sum z for the current X and Z (None when either changed).
    cross: Option<CrossStats>,
    /// sum_n |z_n|^2 for the current Z, in f64: the trace of the Z step's Z^T Z, which the
    /// log joint needs after X_miss has dropped the statistics (None when Z changed since).
    z_sumsq: Option<f64>,
    /// sum_n z_n for the current Z, in f64, from the Z step's statistics (which X_miss drops):
    /// what the recentring move needs of Z (None when Z changed since).
    z_sum: Option<Vec<f64>>,
    /// Cache of the per-column sums of squared residuals for the current X, Z, W and mu
    /// (None when any of them changed since).
    residual: Option<Vec<f64>>,
    /// Numerical fallbacks counted by the conditionals since the sampler last took them
    /// (once per sweep, into its [`super::SweepRecord`]).
    pub(crate) fallbacks: super::Fallbacks,
    /// Work space of the steps, kept between sweeps so a sweep allocates no big buffer.
    pub(crate) scratch: Scratch,
}

/// Work space of the steps. A clone of the state does not copy it (a clone starts empty and
/// the next step fills it again).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The Z step's per-block sums and noise.
    pub z_blocks: Vec<BlockStats>,
    /// The X_miss step's copy of Z^T, one padded row per image.
    pub zt: Vec<f32>,
    /// True when `zt` holds the current Z: the Z step writes it pass by pass while each pass's
    /// rows of Z are in cache, so the X_miss step need not read all of Z again to transpose
    /// it. Cleared whenever Z is replaced (and false in a clone, whose scratch starts empty).
    pub zt_current: bool,
    /// The X~^T Z matrix of statistics the X_miss step dropped, for the next Z step to fill.
    pub spare_xtz: Option<DMatrix<f64>>,
    /// The next Z step's setup, computed ahead by the X_miss step (see [`super::z_setup`]).
    pub z_setup: Option<super::z_setup::ZSetup>,
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

impl ModelState {
    /// Builds a state; `x` is the completed N x D data, row-major.
    pub fn new(
        n: usize,
        d: usize,
        x_row_major: &[f32],
        missing_row_major: &[bool],
        m: usize,
    ) -> Result<ModelState, ModelError> {
        if n == 0 || d == 0 {
            return Err(ModelError::EmptyProblem { n, d });
        }
        check_len("x", n.saturating_mul(d), x_row_major.len())?;
        ModelState::from_fn(n, d, missing_row_major, m, |i, j| x_row_major[i * d + j])
    }

    /// Like [`Self::new`], with entry (i, j) of the completed X given by `x_at(i, j)`: the
    /// same state without an N x D row-major copy of X beside it.
    pub(crate) fn from_fn(
        n: usize,
        d: usize,
        missing_row_major: &[bool],
        m: usize,
        x_at: impl Fn(usize, usize) -> f32 + Sync,
    ) -> Result<ModelState, ModelError> {
        if n == 0 || d == 0 {
            return Err(ModelError::EmptyProblem { n, d });
        }
        if m == 0 || m > MAX_FACTORS {
            return Err(ModelError::InvalidHyperparameter {
                name: "M",
                value: m as f64,
                requirement: "between 1 and 1024",
            });
        }
        let total = n.checked_mul(d).ok_or(ModelError::TooLarge { n, d, m })?;
        if missing_row_major.len() != total {
            return Err(ModelError::ShapeMismatch {
                what: "missing",
                expected: total,
                got: missing_row_major.len(),
            });
        }
        // Row-major values into the column-major X a tile at a time, so the writes of a tile
        // stay within a few cache lines of each column. Tiles of columns in parallel: on one
        // thread this took 60-80 ms of building a run at N = 10,000 (its page faults included).
        let mut x = DMatrix::zeros(n, d);
        const TILE: usize = 32;
        let tiles: Vec<&mut [f32]> = x.as_mut_slice().chunks_mut(TILE * n).collect();
        let checked = super::par::map_items(tiles, total, |t, tile| {
            let columns = t * TILE..(t * TILE + TILE).min(d);
            for i in 0..n {
                for j in columns.clone() {
                    let v = x_at(i, j);
                    check_value("x", v, i * d + j, d)?;
                    tile[(j - columns.start) * n + i] = v;
                }
            }
            Ok(())
        });
        // (The first bad value of the first tile of columns that holds one.)
        checked.into_iter().collect::<Result<(), ModelError>>()?;
        let missing = MissingIndex::from_row_major(n, d, missing_row_major);
        let values = gather(&x, &missing);
        let mut state = ModelState {
            x,
            missing,
            values,
            z: DMatrix::zeros(n, m),
            w: DMatrix::zeros(d, m),
            mu: vec![0.0; d],
            sigmasq: vec![1.0; d],
            xs: DMatrix::zeros(0, 0),
            columns: ColumnSums {
                n,
                shift: Vec::new(),
                sum: Vec::new(),
                shifted_sum: Vec::new(),
                shifted_sumsq: Vec::new(),
            },
            cross: None,
            z_sumsq: None,
            z_sum: None,
            residual: None,
            fallbacks: super::Fallbacks::default(),
            scratch: Scratch::default(),
        };
        state.refresh_columns();
        Ok(state)
    }

    /// N, D, M.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.x.nrows(), self.x.ncols(), self.z.ncols())
    }

    /// Entry (i, j) of the completed data X: the observed value, or the current sample of a
    /// missing entry (a binary search of the column's missing rows).
    pub fn x_at(&self, i: usize, j: usize) -> f32 {
        match self.missing.position(i, j) {
            Some(k) => self.values[k],
            None => self.x[(i, j)],
        }
    }

    /// The current samples of the missing entries, in the order of [`Self::missing`].
    pub fn missing_values(&self) -> &[f32] {
        &self.values
    }

    /// A copy of the completed data X (N x D): observed values and the current samples.
    pub fn completed_x(&self) -> DMatrix<f32> {
        let mut x = self.x.clone();
        scatter(&mut x, &self.missing, &self.values);
        x
    }

    /// Pixel `j` of every image of the completed data (length N). Panics when `j` is out of
    /// range.
    pub fn completed_column(&self, j: usize) -> Vec<f32> {
        let mut column: Vec<f32> = self.x.column(j).iter().copied().collect();
        for (k, i) in self.missing.column_entries(j) {
            column[i as usize] = self.values[k];
        }
        column
    }

    /// Image `i` of the completed data (length D). Panics when `i` is out of range.
    pub fn completed_row(&self, i: usize) -> Vec<f32> {
        (0..self.x.ncols()).map(|j| self.x_at(i, j)).collect()
    }

    /// X~ = X - 1 c^T (N x D): the completed data shifted by the column means c, the matrix
    /// the Z step's two products read.
    pub fn shifted_x(&self) -> &DMatrix<f32> {
        &self.xs
    }
    /// Latent factors Z (N x M).
    pub fn z(&self) -> &DMatrix<f32> {
        &self.z
    }
    /// Loadings W (D x M).
    pub fn w(&self) -> &DMatrix<f32> {
        &self.w
    }
    /// Means mu (D).
    pub fn mu(&self) -> &[f32] {
        &self.mu
    }
    /// Noise variances sigma^2 (D).
    pub fn sigmasq(&self) -> &[f32] {
        &self.sigmasq
    }
    /// The missing entries.
    pub fn missing(&self) -> &MissingIndex {
        &self.missing
    }

    /// Numerical fallbacks counted since the last [`ModelState::take_fallbacks`] (the
    /// conditionals add to it; the sampler takes it once per sweep).
    pub fn fallbacks(&self) -> &super::Fallbacks {
        &self.fallbacks
    }

    /// Returns the fallbacks counted so far and resets the count.
    pub fn take_fallbacks(&mut self) -> super::Fallbacks {
        std::mem::take(&mut self.fallbacks)
    }

    /// Replaces all of X (observed entries too) from a row-major N x D vector of finite values.
    pub fn set_x(&mut self, x_row_major: &[f32]) -> Result<(), ModelError> {
        let (n, d) = (self.x.nrows(), self.x.ncols());
        check_len("x", n * d, x_row_major.len())?;
        for (k, &v) in x_row_major.iter().enumerate() {
            check_value("x", v, k, d)?;
        }
        for i in 0..n {
            for j in 0..d {
                self.x[(i, j)] = x_row_major[i * d + j];
            }
        }
        self.values = gather(&self.x, &self.missing);
        self.refresh_columns();
        Ok(())
    }

    /// Replaces Z (N x M, finite).
    pub fn set_z(&mut self, z: DMatrix<f32>) -> Result<(), ModelError> {
        check_matrix("z", &self.z, &z)?;
        self.z = z;
        self.scratch.zt_current = false;
        self.z_changed();
        Ok(())
    }

    /// Replaces W (D x M, finite).
    pub fn set_w(&mut self, w: DMatrix<f32>) -> Result<(), ModelError> {
        check_matrix("w", &self.w, &w)?;
        self.w = w;
        self.invalidate_residual();
        Ok(())
    }

    /// Replaces mu (length D, finite).
    pub fn set_mu(&mut self, mu: &[f32]) -> Result<(), ModelError> {
        check_len("mu", self.mu.len(), mu.len())?;
        if let Some(k) = mu.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFiniteInput {
                what: "mu",
                row: 0,
                col: k,
            });
        }
        self.mu.copy_from_slice(mu);
        self.residual = None;
        Ok(())
    }

    /// Replaces sigma^2 (length D, finite and positive; clamped to [`SIGMASQ_RANGE`]).
    pub fn set_sigmasq(&mut self, s: &[f32]) -> Result<(), ModelError> {
        check_len("sigmasq", self.sigmasq.len(), s.len())?;
        if let Some(k) = s.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(ModelError::NonFiniteInput {
                what: "sigmasq (must be positive)",
                row: 0,
                col: k,
            });
        }
        for (t, &v) in self.sigmasq.iter_mut().zip(s) {
            *t = v.clamp(SIGMASQ_RANGE.0, SIGMASQ_RANGE.1);
        }
        Ok(())
    }

    /// Gives image `i` a new mask `missing` (length D): pixels it reveals take their value from
    /// `values` (the image's data, length D; read only where `missing` is false), pixels it
    /// hides keep their current value until the next X_miss step draws them. The column sums,
    /// X~ and its sums are recomputed and the caches dropped. Returns the index
    /// the state had before.
    pub(crate) fn set_row_mask(
        &mut self,
        i: usize,
        missing: &[bool],
        values: &[f32],
    ) -> Result<MissingIndex, ModelError> {
        let (n, d) = (self.x.nrows(), self.x.ncols());
        if i >= n {
            return Err(ModelError::ImageOutOfRange { index: i, n });
        }
        check_len("missing", d, missing.len())?;
        check_len("values", d, values.len())?;
        for (j, (&v, &miss)) in values.iter().zip(missing).enumerate() {
            if !miss {
                check_value("values", v, i * d + j, d)?;
            }
        }
        // The completed X as it stands, then the revealed pixels' data: hidden pixels keep
        // their current value (a sample, or the data of a pixel hidden just now).
        scatter(&mut self.x, &self.missing, &self.values);
        for (j, (&v, &miss)) in values.iter().zip(missing).enumerate() {
            if !miss {
                self.x[(i, j)] = v;
            }
        }
        let new_index = self.missing.with_row(i, missing);
        self.values = gather(&self.x, &new_index);
        let old = std::mem::replace(&mut self.missing, new_index);
        self.refresh_columns();
        Ok(old)
    }

    /// Marks Z as changed by a conditional: the statistics and residual sums are stale.
    pub(crate) fn z_changed(&mut self) {
        self.cross = None;
        self.z_sumsq = None;
        self.z_sum = None;
        self.residual = None;
    }

    /// Stores the statistics the Z step formed beside its draws of Z, for the new Z and the
    /// current X (the residual sums are stale).
    pub(crate) fn z_drawn(&mut self, stats: CrossStats) {
        self.z_sumsq = Some(stats.ztz.trace());
        self.z_sum = Some(stats.sumz.clone());
        self.cross = Some(stats);
        self.residual = None;
    }

    /// Marks W, mu or sigma^2's inputs as changed by a conditional: the residual sums are stale
    /// (X~^T Z and Z^T Z depend on X and Z only and stay).
    pub(crate) fn invalidate_residual(&mut self) {
        self.residual = None;
    }

    /// The statistics as cached (for tests of who fills the cache).
    #[cfg(test)]
    pub(crate) fn cached_stats(&self) -> Option<&CrossStats> {
        self.cross.as_ref()
    }

    /// X~^T Z, Z^T Z and sum z for the current X and Z, computed at most once per change.
    pub(crate) fn cross_stats(&mut self) -> &CrossStats {
        self.stats_and_columns().0
    }

    /// [`ModelState::cross_stats`] with the column sums beside them (one borrow of the state).
    pub(crate) fn stats_and_columns(&mut self) -> (&CrossStats, &ColumnSums) {
        let stats = self
            .cross
            .get_or_insert_with(|| CrossStats::compute(&self.xs, &self.z));
        (stats, &self.columns)
    }

    /// Split borrows for the per-pixel steps (W, mu, sigma^2): the statistics (computed if
    /// needed) and column sums to read, W, mu, sigma^2 and the fallback counts to write. The
    /// residual sums are dropped; the steps store the new ones ([`Self::set_residual`]).
    pub(crate) fn pixel_parts(&mut self) -> PixelParts<'_> {
        self.residual = None;
        let stats = self
            .cross
            .get_or_insert_with(|| CrossStats::compute(&self.xs, &self.z));
        PixelParts {
            stats,
            columns: &self.columns,
            w: &mut self.w,
            mu: &mut self.mu,
            sigmasq: &mut self.sigmasq,
            fallbacks: &mut self.fallbacks,
        }
    }

    /// Caches the residual sums of the current X, Z, W and mu, formed by a step that already
    /// had them.
    pub(crate) fn set_residual(&mut self, residual: Vec<f64>) {
        self.residual = Some(residual);
    }

    /// Split borrows for the X_miss step: X and X~, the column sums, the missing index, the
    /// residual sums (computed if needed) and the parameters. The statistics are dropped, since
    /// the step changes X.
    pub(crate) fn x_missing_parts(&mut self) -> XMissingParts<'_> {
        let residual = self.residual_sums();
        if let Some(stats) = self.cross.take() {
            self.scratch.spare_xtz = Some(stats.xtz);
        }
        self.residual = None;
        XMissingParts {
            values: &mut self.values,
            xs: &mut self.xs,
            columns: &mut self.columns,
            missing: &self.missing,
            residual,
            residual_out: &mut self.residual,
            z: &self.z,
            w: &self.w,
            mu: &self.mu,
            sigmasq: &self.sigmasq,
            fallbacks: &mut self.fallbacks,
            scratch: &mut self.scratch,
        }
    }

    /// sum_n z_n in f64: as the last Z step summed it, else summed now.
    pub(crate) fn z_sum(&self) -> Vec<f64> {
        match &self.z_sum {
            Some(sum) => sum.clone(),
            None => {
                let n = self.z.nrows();
                self.z
                    .as_slice()
                    .chunks_exact(n.max(1))
                    .map(|column| column.iter().map(|&v| v as f64).sum())
                    .collect()
            }
        }
    }

    /// sum_n |z_n|^2 in f64: the trace of the Z step's Z^T Z when Z is its draw, else summed.
    pub(crate) fn z_sumsq(&self) -> f64 {
        self.z_sumsq
            .unwrap_or_else(|| super::linalg::sum_of_squares(self.z.as_slice()))
    }

    /// Per-column sums of squared residuals sum_n (x_nd - w_d^T z_n - mu_d)^2, in f64, from the
    /// sufficient statistics (cached until X, Z, W or mu change). A sum that rounding made
    /// negative is clamped to 0 and counted as a fallback.
    pub(crate) fn residual_sums(&mut self) -> Vec<f64> {
        if let Some(r) = &self.residual {
            return r.clone();
        }
        self.cross_stats();
        let stats = self.cross.as_ref().expect("computed above");
        let (sums, clamped) = stats.residual_sums(&self.columns, &self.w, &self.mu);
        self.fallbacks.residual_clamped += clamped;
        self.residual = Some(sums.clone());
        sums
    }

    /// Rebuilds X~ and the column sums from `x` and drops the caches. Its callers have just
    /// made `x` the completed X (the samples written in, or gathered from it).
    fn refresh_columns(&mut self) {
        self.columns = ColumnSums::rebuild(&self.x, &mut self.xs);
        self.cross = None;
        self.residual = None;
    }
}

/// The pieces of the state the per-pixel steps read and write, borrowed together.
pub(crate) struct PixelParts<'a> {
    pub stats: &'a CrossStats,
    pub columns: &'a ColumnSums,
    pub w: &'a mut DMatrix<f32>,
    pub mu: &'a mut [f32],
    pub sigmasq: &'a mut [f32],
    pub fallbacks: &'a mut super::Fallbacks,
}

/// The pieces of the state the X_miss step reads and writes, borrowed together.
pub(crate) struct XMissingParts<'a> {
    /// The current values of the missing entries (entry order).
    pub values: &'a mut [f32],
    pub xs: &'a mut DMatrix<f32>,
    pub columns: &'a mut ColumnSums,
    pub missing: &'a MissingIndex,
    /// The residual sums before the step.
    pub residual: Vec<f64>,
    /// Where the step stores the residual sums after it.
    pub residual_out: &'a mut Option<Vec<f64>>,
    pub z: &'a DMatrix<f32>,
    pub w: &'a DMatrix<f32>,
    pub mu: &'a [f32],
    pub sigmasq: &'a [f32],
    pub fallbacks: &'a mut super::Fallbacks,
    pub scratch: &'a mut Scratch,
}

/// The entries of `x` at the missing pixels, in entry order.
fn gather(x: &DMatrix<f32>, missing: &MissingIndex) -> Vec<f32> {
    missing
        .rows()
        .iter()
        .zip(missing.cols())
        .map(|(&i, &j)| x[(i as usize, j as usize)])
        .collect()
}

/// Writes `values` (entry order) into `x` at the missing pixels.
fn scatter(x: &mut DMatrix<f32>, missing: &MissingIndex, values: &[f32]) {
    for ((&i, &j), &v) in missing.rows().iter().zip(missing.cols()).zip(values) {
        x[(i as usize, j as usize)] = v;
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), ModelError> {
    if expected == got {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

fn check_matrix(
    what: &'static str,
    current: &DMatrix<f32>,
    new: &DMatrix<f32>,
) -> Result<(), ModelError> {
    if current.shape() != new.shape() {
        return Err(ModelError::ShapeMismatch {
            what,
            expected: current.len(),
            got: new.len(),
        });
    }
    if let Some(k) = new.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::NonFiniteInput {
            what,
            row: k % current.nrows(),
            col: k / current.nrows(),
        });
    }
    Ok(())
}
