//! The conditionals of one sweep, in each schedule's order, and what a step changed.

use crate::model::ModelState;
use crate::model::rng::Step;
use crate::model::{SamplerSettings, Schedule};

/// One complete conditional, as the lesson names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conditional {
    /// Z | W, mu, sigma^2, X.
    Z,
    /// W | Z, mu, sigma^2, X.
    W,
    /// mu | W, Z, sigma^2, X.
    Mu,
    /// sigma^2 | W, Z, mu, X.
    Sigmasq,
    /// (w_d, mu_d, sigma_d^2) | Z, X jointly for every d (the blocked schedule).
    Blocked,
    /// X_miss | W, Z, mu, sigma^2.
    XMissing,
    /// c | Z, W, mu, sigma^2, then z_n -> z_n - c and mu -> mu + W c: the recentring move
    /// ([`crate::model::recentre`]), first in a sweep when the settings ask for it (beyond
    /// SPEC's conditionals).
    Recentre,
}

const NOTEBOOK: [Conditional; 5] = [
    Conditional::Z,
    Conditional::W,
    Conditional::Mu,
    Conditional::Sigmasq,
    Conditional::XMissing,
];
const BLOCKED: [Conditional; 3] = [Conditional::Z, Conditional::Blocked, Conditional::XMissing];
const NOTEBOOK_RECENTRED: [Conditional; 6] = [
    Conditional::Recentre,
    Conditional::Z,
    Conditional::W,
    Conditional::Mu,
    Conditional::Sigmasq,
    Conditional::XMissing,
];
const BLOCKED_RECENTRED: [Conditional; 4] = [
    Conditional::Recentre,
    Conditional::Z,
    Conditional::Blocked,
    Conditional::XMissing,
];

impl Conditional {
    /// The conditionals of one sweep, in the order [`crate::model::GibbsSampler::sweep`]
    /// runs them.
    pub fn sweep_order(schedule: Schedule) -> &'static [Conditional] {
        match schedule {
            Schedule::Notebook => &NOTEBOOK,
            Schedule::Blocked => &BLOCKED,
        }
    }

    /// The steps of one sweep under `settings`: the schedule's conditionals, after the
    /// recentring move when the settings ask for it.
    pub fn sweep_order_of(settings: &SamplerSettings) -> &'static [Conditional] {
        match (settings.schedule, settings.recentre) {
            (schedule, false) => Conditional::sweep_order(schedule),
            (Schedule::Notebook, true) => &NOTEBOOK_RECENTRED,
            (Schedule::Blocked, true) => &BLOCKED_RECENTRED,
        }
    }

    /// The random stream the sweep gives this conditional.
    pub fn rng_step(self) -> Step {
        match self {
            Conditional::Z => Step::Z,
            Conditional::W => Step::W,
            Conditional::Mu => Step::Mu,
            Conditional::Sigmasq => Step::Sigmasq,
            Conditional::Blocked => Step::Blocked,
            Conditional::XMissing => Step::XMissing,
            Conditional::Recentre => Step::Recentre,
        }
    }

    /// The blocks of the state this conditional draws.
    pub fn blocks(self) -> &'static [Block] {
        match self {
            Conditional::Z => &[Block::Z],
            Conditional::W => &[Block::W],
            Conditional::Mu => &[Block::Mu],
            Conditional::Sigmasq => &[Block::Sigmasq],
            Conditional::Blocked => &[Block::W, Block::Mu, Block::Sigmasq],
            Conditional::XMissing => &[Block::XMissing],
            Conditional::Recentre => &[Block::Z, Block::Mu],
        }
    }

    /// A short plain-text name, e.g. "sigma^2 | W, Z, mu, X".
    pub fn title(self) -> &'static str {
        match self {
            Conditional::Z => "Z | W, mu, sigma^2, X",
            Conditional::W => "W | Z, mu, sigma^2, X",
            Conditional::Mu => "mu | W, Z, sigma^2, X",
            Conditional::Sigmasq => "sigma^2 | W, Z, mu, X",
            Conditional::Blocked => "(w_d, mu_d, sigma_d^2) | Z, X",
            Conditional::XMissing => "X_miss | W, Z, mu, sigma^2",
            Conditional::Recentre => "c | Z, W, mu, sigma^2 (the recentring move)",
        }
    }
}

/// The name and shape of one matrix in a conditional's formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixShape {
    pub name: &'static str,
    pub rows: usize,
    pub cols: usize,
}

impl Conditional {
    /// The matrices of this conditional's formula with their shapes for N images, D pixels
    /// and M factors (S = diag(sigma^2), Xc = X - 1 mu^T, Zh = [Z 1]).
    pub fn shapes(self, n: usize, d: usize, m: usize) -> Vec<MatrixShape> {
        let s = |name, rows, cols| MatrixShape { name, rows, cols };
        match self {
            Conditional::Z => vec![
                s("Z", n, m),
                s("Xc", n, d),
                s("W", d, m),
                s("S", d, d),
                s("J = I + W^T S^-1 W", m, m),
            ],
            Conditional::W => vec![
                s("W", d, m),
                s("Xc", n, d),
                s("Z", n, m),
                s("Sigma_c", m, m),
                s("B = Z^T Z + Sigma_c^-1", m, m),
            ],
            Conditional::Mu => vec![s("mu", d, 1), s("X", n, d), s("Z", n, m), s("W", d, m)],
            Conditional::Sigmasq => vec![
                s("sigma^2", d, 1),
                s("X", n, d),
                s("Z", n, m),
                s("W", d, m),
                s("mu", d, 1),
            ],
            Conditional::Blocked => vec![
                s("Zh = [Z 1]", n, m + 1),
                s("X", n, d),
                s("L0", m + 1, m + 1),
                s("LN = Zh^T Zh + L0", m + 1, m + 1),
                s("m_d = LN^-1 Zh^T x_d", m + 1, 1),
            ],
            Conditional::XMissing => vec![
                s("X", n, d),
                s("Z", n, m),
                s("W", d, m),
                s("mu", d, 1),
                s("sigma^2", d, 1),
            ],
            Conditional::Recentre => vec![
                s("c", m, 1),
                s("Z", n, m),
                s("W", d, m),
                s("mu", d, 1),
                s("P = N I + lambda0 W^T S^-1 W", m, m),
            ],
        }
    }
}

/// A block of unknowns of the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Block {
    /// Z (N x M).
    Z,
    /// W (D x M).
    W,
    /// mu (D).
    Mu,
    /// sigma^2 (D).
    Sigmasq,
    /// The missing entries of X.
    XMissing,
}

impl Block {
    /// The block's values in a fixed order (column-major for matrices, the missing index's
    /// order for X_miss).
    fn values(self, state: &ModelState) -> Vec<f32> {
        match self {
            Block::Z => state.z().as_slice().to_vec(),
            Block::W => state.w().as_slice().to_vec(),
            Block::Mu => state.mu().to_vec(),
            Block::Sigmasq => state.sigmasq().to_vec(),
            Block::XMissing => state.missing_values().to_vec(),
        }
    }
}

/// How one block moved in one step.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockChange {
    pub block: Block,
    /// Number of values in the block.
    pub entries: usize,
    /// How many of them differ after the step.
    pub changed: usize,
    /// Largest |after - before|.
    pub max_abs: f64,
    /// Root mean square of after - before.
    pub rms: f64,
}

impl BlockChange {
    /// Compares `block` between two states of the same shape.
    pub fn between(block: Block, before: &ModelState, after: &ModelState) -> BlockChange {
        let (a, b) = (block.values(before), block.values(after));
        let mut changed = 0usize;
        let (mut max_abs, mut sq) = (0.0f64, 0.0f64);
        for (&x, &y) in a.iter().zip(&b) {
            if x.to_bits() != y.to_bits() {
                changed += 1;
            }
            let diff = (y as f64 - x as f64).abs();
            max_abs = max_abs.max(diff);
            sq += diff * diff;
        }
        let entries = a.len();
        let rms = if entries > 0 {
            (sq / entries as f64).sqrt()
        } else {
            0.0
        };
        BlockChange {
            block,
            entries,
            changed,
            max_abs,
            rms,
        }
    }
}

/// What one step did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The sweep this step belongs to (1-based, as [`crate::model::GibbsSampler::iteration`]
    /// counts after that sweep).
    pub sweep: u64,
    /// Position of the step within its sweep (0-based).
    pub position: usize,
    /// The conditional drawn.
    pub conditional: Conditional,
    /// One entry per block the conditional draws.
    pub changes: Vec<BlockChange>,
    /// The log joint after the step when it completed the sweep (SPEC 6), as the sweep
    /// records it; None for the other steps.
    pub log_joint: Option<f64>,
}

impl StepReport {
    /// True when this step was the last of its sweep.
    pub fn completes_sweep(&self) -> bool {
        self.log_joint.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conditional_of_a_sweep_draws_its_own_blocks_with_its_own_stream() {
        for schedule in [Schedule::Notebook, Schedule::Blocked] {
            let order = Conditional::sweep_order(schedule);
            let mut blocks: Vec<Block> = order.iter().flat_map(|c| c.blocks().to_vec()).collect();
            let mut streams: Vec<u64> = order.iter().map(|c| c.rng_step() as u64).collect();
            assert_eq!(order[0], Conditional::Z);
            assert_eq!(order.last(), Some(&Conditional::XMissing));
            // Every block drawn once per sweep, every stream used once.
            assert_eq!(blocks.len(), 5);
            blocks.sort_by_key(|b| *b as u8);
            blocks.dedup();
            assert_eq!(blocks.len(), 5);
            streams.sort();
            streams.dedup();
            assert_eq!(streams.len(), order.len());
        }
        let shapes = Conditional::Blocked.shapes(100, 784, 50);
        assert!(shapes.contains(&MatrixShape {
            name: "LN = Zh^T Zh + L0",
            rows: 51,
            cols: 51
        }));
        let z = Conditional::Z.shapes(100, 784, 50);
        assert_eq!((z[0].rows, z[0].cols), (100, 50));
    }
}
