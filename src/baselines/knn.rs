//! k-nearest-neighbour imputation, as scikit-learn's `KNNImputer`: the distance between two
//! images is the squared Euclidean distance over the pixels both observe, scaled by
//! D / (number of shared pixels); a missing pixel of image a is the mean of that pixel in the
//! k images nearest to a among those that observe it (the column mean when none does).
//!
//! All N x N distances come from GEMMs, never a double loop over images: with O the
//! observed indicator, X the column-centred values (0 where missing) and X2 their squares,
//! sum_shared (x_a - x_b)^2 = (X2 O^T)_ab + (O X2^T)_ab - 2 (X X^T)_ab and the shared count
//! is (O O^T)_ab. Centring changes no distance but keeps the f32 sums small. Queries go in
//! blocks of columns (N x block distances at a time), each query's distances contiguous;
//! per query the nearest `shortlist` candidates are picked by selection and sorted, and each
//! missing pixel walks that list for its k observers (falling back to all candidates when the
//! list runs out). One pass serves a whole path of k values.

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::column_means::column_means;
use super::{BaselineError, Control, PathFit, check_problem};
use crate::model::Problem;

/// Work sizes of k-NN (they change speed and memory, not results).
#[derive(Clone, Debug, PartialEq)]
pub struct KnnOptions {
    /// Query images per block of distance products (memory: 2 x N x block f32).
    pub block: usize,
    /// Nearest candidates sorted per query before falling back to all of them.
    pub shortlist: usize,
}

impl Default for KnnOptions {
    fn default() -> Self {
        KnnOptions {
            block: 512,
            shortlist: 256,
        }
    }
}

/// k-NN imputation with one `k`; the completed data, N x D row-major.
pub fn knn_impute(
    problem: &Problem,
    k: usize,
    options: &KnnOptions,
    control: Control,
) -> Result<Vec<f32>, BaselineError> {
    let mut out = Vec::new();
    knn_impute_path(problem, &[k], options, control, |_, c| out = c)?;
    Ok(out)
}

/// k-NN imputation for every k of `ks` from one distance computation; `visit` gets each
/// fit and its completed data (N x D row-major), in the order of `ks`.
pub fn knn_impute_path(
    problem: &Problem,
    ks: &[usize],
    options: &KnnOptions,
    control: Control,
    mut visit: impl FnMut(&PathFit, Vec<f32>),
) -> Result<(), BaselineError> {
    check_problem(problem)?;
    for &k in ks {
        if k == 0 {
            return Err(BaselineError::InvalidParameter {
                name: "k",
                value: 0.0,
                requirement: "at least 1",
            });
        }
    }
    let Some(&k_max) = ks.iter().max() else {
        return Ok(());
    };
    let (n, d) = (problem.n, problem.d);
    let means = column_means(problem)?;
    let missing = &problem.missing;
    // Column-major N x D: centred values (0 where missing), their squares, the indicator.
    let xc = DMatrix::<f32>::from_fn(n, d, |i, j| {
        let k = i * d + j;
        if missing[k] {
            0.0
        } else {
            problem.x_observed[k] - means[j]
        }
    });
    let sq = xc.map(|v| v * v);
    let ob = DMatrix::<f32>::from_fn(n, d, |i, j| if missing[i * d + j] { 0.0 } else { 1.0 });
    let (xct, sqt, obt) = (xc.transpose(), sq.transpose(), ob.transpose());

    let mut outputs: Vec<Vec<f32>> = ks.iter().map(|_| problem.x_observed.clone()).collect();
    let block = options.block.max(1);
    let shortlist = options.shortlist.max(k_max);
    let blocks = n.div_ceil(block);
    let mut dist = DMatrix::<f32>::zeros(n, block.min(n));
    let mut count = DMatrix::<f32>::zeros(n, block.min(n));
    for (b, start) in (0..n).step_by(block).enumerate() {
        control.check()?;
        let width = block.min(n - start);
        if dist.ncols() != width {
            dist = DMatrix::zeros(n, width);
            count = DMatrix::zeros(n, width);
        }
        // Column c holds query image start + c against every image.
        dist.gemm(1.0, &ob, &sqt.columns(start, width), 0.0);
        dist.gemm(1.0, &sq, &obt.columns(start, width), 1.0);
        dist.gemm(-2.0, &xc, &xct.columns(start, width), 1.0);
        count.gemm(1.0, &ob, &obt.columns(start, width), 0.0);
        let rows: Vec<Vec<Vec<f32>>> = (0..width)
            .into_par_iter()
            .map(|c| {
                let a = start + c;
                let neighbours = Neighbours::new(
                    dist.column(c).as_slice(),
                    count.column(c).as_slice(),
                    a,
                    d,
                    shortlist,
                );
                impute_row(problem, &means, a, ks, k_max, neighbours)
            })
            .collect();
        for (c, per_k) in rows.into_iter().enumerate() {
            let a = start + c;
            for (out, row) in outputs.iter_mut().zip(per_k) {
                out[a * d..(a + 1) * d].copy_from_slice(&row);
            }
        }
        control.report(
            "k-NN",
            b + 1,
            blocks,
            format!("{} of {n} images", start + width),
        );
    }
    for (index, (&k, out)) in ks.iter().zip(outputs).enumerate() {
        let fit = PathFit {
            index,
            param: k as f64,
            rank: 0,
            iterations: 1,
            converged: true,
        };
        visit(&fit, out);
    }
    Ok(())
}

/// One query's candidates: (scaled distance, image), the nearest `sorted` of them in order.
struct Neighbours {
    pairs: Vec<(f32, u32)>,
    sorted: usize,
}

impl Neighbours {
    fn new(dist: &[f32], count: &[f32], query: usize, d: usize, shortlist: usize) -> Self {
        let mut pairs: Vec<(f32, u32)> = dist
            .iter()
            .zip(count)
            .enumerate()
            .filter(|&(b, (_, &c))| b != query && c > 0.5)
            .map(|(b, (&s, &c))| (s.max(0.0) * d as f32 / c, b as u32))
            .collect();
        let cmp = |x: &(f32, u32), y: &(f32, u32)| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1));
        let sorted = shortlist.min(pairs.len());
        if sorted < pairs.len() && sorted > 0 {
            pairs.select_nth_unstable_by(sorted - 1, cmp);
        }
        pairs[..sorted].sort_unstable_by(cmp);
        Neighbours { pairs, sorted }
    }

    /// Sorts every candidate (when a pixel's observers run out of the shortlist).
    fn sort_all(&mut self) {
        if self.sorted < self.pairs.len() {
            self.pairs
                .sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            self.sorted = self.pairs.len();
        }
    }
}

/// Image `a` completed once per k of `ks` (each a row of D values).
fn impute_row(
    problem: &Problem,
    means: &[f32],
    a: usize,
    ks: &[usize],
    k_max: usize,
    mut neighbours: Neighbours,
) -> Vec<Vec<f32>> {
    let d = problem.d;
    let row = &problem.x_observed[a * d..(a + 1) * d];
    let mut out: Vec<Vec<f32>> = ks.iter().map(|_| row.to_vec()).collect();
    let mut found: Vec<f32> = Vec::with_capacity(k_max);
    for j in (0..d).filter(|&j| problem.missing[a * d + j]) {
        loop {
            found.clear();
            for &(_, b) in &neighbours.pairs[..neighbours.sorted] {
                let k = b as usize * d + j;
                if !problem.missing[k] {
                    found.push(problem.x_observed[k]);
                    if found.len() == k_max {
                        break;
                    }
                }
            }
            if found.len() == k_max || neighbours.sorted == neighbours.pairs.len() {
                break;
            }
            // The shortlist ran out: walk again over every candidate in order.
            neighbours.sort_all();
        }
        let mut sum = 0.0f64;
        let mut taken = 0usize;
        // Running sums give every k's mean in one pass over the found values.
        let mut prefix = Vec::with_capacity(found.len());
        for &v in &found {
            sum += f64::from(v);
            taken += 1;
            prefix.push(sum / taken as f64);
        }
        for (o, &k) in out.iter_mut().zip(ks) {
            // Fewer than k observers: the mean of all there are; none: the column mean.
            o[j] = match k.min(prefix.len()) {
                0 => means[j],
                taken => prefix[taken - 1] as f32,
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_util::poisoned;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand_distr::{Distribution, Uniform};

    fn random_problem(n: usize, d: usize, p: f64, seed: u64) -> Problem {
        let mut rng = SmallRng::seed_from_u64(seed);
        let u = Uniform::new(0.0f32, 1.0).unwrap();
        let truth: Vec<f32> = (0..n * d).map(|_| 255.0 * u.sample(&mut rng)).collect();
        let missing: Vec<bool> = (0..n * d)
            .map(|_| f64::from(u.sample(&mut rng)) < p)
            .collect();
        Problem {
            n,
            d,
            x_observed: truth
                .iter()
                .zip(&missing)
                .map(|(&t, &m)| if m { f32::NAN } else { t })
                .collect(),
            missing,
            x_true: Some(truth),
        }
    }

    /// The definition, with a double loop in f64.
    fn brute_force(problem: &Problem, k: usize) -> Vec<f32> {
        let (n, d) = (problem.n, problem.d);
        let means = column_means(problem).unwrap();
        let obs = |i: usize, j: usize| !problem.missing[i * d + j];
        let x = |i: usize, j: usize| f64::from(problem.x_observed[i * d + j]);
        let mut out = problem.x_observed.clone();
        for a in 0..n {
            let mut cand: Vec<(f64, usize)> = (0..n)
                .filter(|&b| b != a)
                .filter_map(|b| {
                    let shared: Vec<usize> = (0..d).filter(|&j| obs(a, j) && obs(b, j)).collect();
                    (!shared.is_empty()).then(|| {
                        let ss: f64 = shared.iter().map(|&j| (x(a, j) - x(b, j)).powi(2)).sum();
                        (ss * d as f64 / shared.len() as f64, b)
                    })
                })
                .collect();
            cand.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
            for j in (0..d).filter(|&j| !obs(a, j)) {
                let vals: Vec<f64> = cand
                    .iter()
                    .filter(|&&(_, b)| obs(b, j))
                    .take(k)
                    .map(|&(_, b)| x(b, j))
                    .collect();
                out[a * d + j] = if vals.is_empty() {
                    means[j]
                } else {
                    (vals.iter().sum::<f64>() / vals.len() as f64) as f32
                };
            }
        }
        out
    }

    #[test]
    fn knn_returns_the_neighbours_value_when_one_image_is_a_copy_of_another() {
        let mut problem = random_problem(12, 20, 0.0, 4);
        let d = problem.d;
        // Image 7 is image 2 with pixels 3 and 11 missing; image 2 observes them.
        for j in 0..d {
            problem.x_observed[7 * d + j] = problem.x_observed[2 * d + j];
        }
        for j in [3, 11] {
            problem.missing[7 * d + j] = true;
            problem.x_observed[7 * d + j] = f32::NAN;
        }
        let out = knn_impute(&problem, 1, &KnnOptions::default(), Control::none()).unwrap();
        assert_eq!(out[7 * d + 3], problem.x_observed[2 * d + 3]);
        assert_eq!(out[7 * d + 11], problem.x_observed[2 * d + 11]);
        // Everything else is returned as given.
        for (k, &m) in problem.missing.iter().enumerate() {
            if !m {
                assert_eq!(out[k], problem.x_observed[k]);
            }
        }
    }

    #[test]
    fn knn_matches_the_double_loop_definition() {
        let problem = random_problem(40, 15, 0.3, 9);
        // Tiny blocks and shortlists exercise the block edges and the fallback to all.
        let options = KnnOptions {
            block: 7,
            shortlist: 2,
        };
        let mut got = Vec::new();
        knn_impute_path(&problem, &[1, 3, 50], &options, Control::none(), |f, c| {
            got.push((f.param, c))
        })
        .unwrap();
        for (k, out) in got {
            let want = brute_force(&problem, k as usize);
            for (g, w) in out.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-3 * w.abs().max(1.0),
                    "k = {k}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn knn_never_reads_the_values_at_missing_entries() {
        let problem = random_problem(30, 10, 0.3, 2);
        let o = KnnOptions::default();
        let a = knn_impute(&problem, 3, &o, Control::none()).unwrap();
        let b = knn_impute(&poisoned(&problem), 3, &o, Control::none()).unwrap();
        assert_eq!(a, b);
        assert!(knn_impute(&problem, 0, &o, Control::none()).is_err());
    }
}
