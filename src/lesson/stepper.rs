//! One complete conditional per call, forward and back.

use std::collections::VecDeque;

use super::explain::{Focus, explain};
use super::step::{BlockChange, Conditional, StepReport};
use super::{Explanation, LessonError};
use crate::model::conditionals::{
    sample_mu, sample_sigmasq, sample_w, sample_w_mu_sigmasq_blocked, sample_x_missing, sample_z,
};
use crate::model::init::initialise;
use crate::model::log_joint::log_joint;
use crate::model::rng::StepRng;
use crate::model::{GibbsSampler, ModelState, Problem, SamplerSettings};

/// Where the chain stands between two steps.
#[derive(Clone, Debug)]
struct Snapshot {
    state: ModelState,
    sweeps_done: u64,
    position: usize,
}

/// A history entry: the state before a step and that step's report.
#[derive(Clone, Debug)]
struct Entry {
    before: Snapshot,
    report: StepReport,
}

/// Steps a Gibbs chain one complete conditional at a time.
///
/// Each call of [`Stepper::step`] runs the next conditional of the schedule
/// ([`Conditional::sweep_order`]) with the random stream the full sweep gives it
/// (`StepRng::new(seed, sweep, step)`), on the same state, so after k complete sweeps the
/// state is bit for bit the state of a [`GibbsSampler`] after k sweeps with the same problem
/// and settings. The last step of a sweep also computes the log joint, as the sweep does.
///
/// Before each step the state is copied into a history of at most `history` entries (the
/// oldest is dropped first); [`Stepper::back`] restores the newest, exactly (caches
/// included), so stepping forward again redraws the same values. The step that led to the
/// current state stays explainable ([`Stepper::explain_last`]) as long as the history holds
/// the state before it, after going back too. The settings are fixed for the life of a
/// stepper; to change them, build a new one from the current state.
#[derive(Clone, Debug)]
pub struct Stepper {
    settings: SamplerSettings,
    current: Snapshot,
    history: VecDeque<Entry>,
    capacity: usize,
}

impl Stepper {
    /// A stepper at the notebook's initialisation, as [`GibbsSampler::new`] builds it,
    /// keeping up to `history` earlier states.
    pub fn new(
        problem: &Problem,
        settings: &SamplerSettings,
        history: usize,
    ) -> Result<Stepper, LessonError> {
        problem.validate()?;
        settings.validate(problem.n, problem.d)?;
        let state = initialise(problem, settings.hyper.m, settings.seed)?;
        Ok(Stepper::from_state(state, 0, settings.clone(), history))
    }

    /// A stepper that continues `sampler`'s chain from its current state, settings and sweep
    /// count (the next steps are those of sweep `sampler.iteration() + 1`, the ones the
    /// sampler's next sweep would run). The sampler is not changed; the stepper keeps no
    /// traces or running moments of its own.
    pub fn from_sampler(sampler: &GibbsSampler, history: usize) -> Stepper {
        Stepper::from_state(
            sampler.state().clone(),
            sampler.iteration() as u64,
            sampler.settings().clone(),
            history,
        )
    }

    fn from_state(
        state: ModelState,
        sweeps_done: u64,
        settings: SamplerSettings,
        capacity: usize,
    ) -> Stepper {
        Stepper {
            settings,
            current: Snapshot {
                state,
                sweeps_done,
                position: 0,
            },
            history: VecDeque::with_capacity(capacity.min(64)),
            capacity,
        }
    }

    /// The number of history entries that fit in `bytes` of memory for this stepper's state
    /// (each entry is a full copy of the state, about 84 MB at N = 10,000, D = 784, M = 50
    /// with a fifth of the pixels missing; see [`approx_state_bytes`]).
    pub fn history_for_budget(&self, bytes: usize) -> usize {
        bytes / approx_state_bytes(&self.current.state).max(1)
    }

    /// Runs the next conditional and reports what it drew and changed.
    pub fn step(&mut self) -> StepReport {
        let order = Conditional::sweep_order_of(&self.settings);
        let position = self.current.position;
        let conditional = order[position];
        let sweep = self.current.sweeps_done + 1;
        let before = self.current.state.clone();
        let rng = StepRng::new(self.settings.seed, sweep, conditional.rng_step());
        let (hyper, prior) = (&self.settings.hyper, &self.settings.prior);
        let st = &mut self.current.state;
        match conditional {
            Conditional::Z => sample_z(st, &rng),
            Conditional::W => sample_w(st, hyper, prior, &rng),
            Conditional::Mu => sample_mu(st, hyper, &rng),
            Conditional::Sigmasq => sample_sigmasq(st, hyper, prior, &rng),
            Conditional::Blocked => sample_w_mu_sigmasq_blocked(st, hyper, prior, &rng),
            Conditional::XMissing => sample_x_missing(st, &rng),
            Conditional::Recentre => {
                crate::model::recentre::recentre(st, hyper.lambda0, &rng);
            }
        }
        let changes = conditional
            .blocks()
            .iter()
            .map(|&b| BlockChange::between(b, &before, st))
            .collect();
        let log_joint = if position + 1 == order.len() {
            self.current.sweeps_done = sweep;
            self.current.position = 0;
            Some(log_joint(st, hyper, prior))
        } else {
            self.current.position = position + 1;
            None
        };
        let report = StepReport {
            sweep,
            position,
            conditional,
            changes,
            log_joint,
        };
        if self.capacity > 0 {
            if self.history.len() == self.capacity {
                self.history.pop_front();
            }
            self.history.push_back(Entry {
                before: Snapshot {
                    state: before,
                    sweeps_done: sweep - 1,
                    position,
                },
                report: report.clone(),
            });
        }
        report
    }

    /// Runs the remaining conditionals of the current sweep (a whole sweep when at its
    /// start) and returns their reports.
    pub fn finish_sweep(&mut self) -> Vec<StepReport> {
        let mut out = vec![self.step()];
        while self.current.position != 0 {
            out.push(self.step());
        }
        out
    }

    /// Goes back one step, restoring the state before it exactly. Returns the conditional
    /// that was undone, or None when the history is empty.
    pub fn back(&mut self) -> Option<Conditional> {
        let entry = self.history.pop_back()?;
        self.current = entry.before;
        Some(entry.report.conditional)
    }

    /// The numbers behind the step that led to the current state (see [`explain`]) for the
    /// digit, pixel and factor pair of `focus`. Needs the state before that step: fails with
    /// [`LessonError::NothingToExplain`] when the history is empty (at the start, with no
    /// history, or after going back as far as it reaches).
    pub fn explain_last(&self, focus: &Focus) -> Result<Explanation, LessonError> {
        let entry = self.history.back().ok_or(LessonError::NothingToExplain)?;
        explain(
            entry.report.conditional,
            &entry.before.state,
            &self.current.state,
            &self.settings,
            focus,
        )
    }

    /// The report of the step that led to the current state (None when the history is
    /// empty).
    pub fn last_report(&self) -> Option<&StepReport> {
        self.history.back().map(|e| &e.report)
    }

    /// The state before the step that led to the current state (None when the history is
    /// empty): with [`Stepper::state`], the before and after of that step, e.g. for the mu
    /// and sigma^2 images and their difference.
    pub fn state_before_last(&self) -> Option<&ModelState> {
        self.history.back().map(|e| &e.before.state)
    }

    /// The conditional the next [`Stepper::step`] will draw.
    pub fn next_conditional(&self) -> Conditional {
        Conditional::sweep_order_of(&self.settings)[self.current.position]
    }

    /// Complete sweeps done so far.
    pub fn sweeps_done(&self) -> u64 {
        self.current.sweeps_done
    }

    /// Position within the current sweep of the next step (0 at a sweep boundary).
    pub fn position(&self) -> usize {
        self.current.position
    }

    /// How many steps [`Stepper::back`] can undo.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// The current state.
    pub fn state(&self) -> &ModelState {
        &self.current.state
    }

    /// The settings the chain runs with.
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }
}

/// Bytes one copy of `state` takes, roughly: X and its cache of Z W^T (N x D each), Z, W,
/// the per-pixel vectors and the missing index.
pub fn approx_state_bytes(state: &ModelState) -> usize {
    let (n, d, m) = state.shape();
    4 * (2 * n * d + n * m + d * m) + 8 * 5 * d + 12 * state.missing().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::test_problem::tiny_problem;
    use crate::model::Schedule;

    fn settings(schedule: Schedule, seed: u64) -> SamplerSettings {
        let mut s = SamplerSettings {
            schedule,
            seed,
            ..SamplerSettings::default()
        };
        s.hyper.m = 4;
        s
    }

    /// Every value of the state, as bits.
    fn bits(state: &ModelState) -> Vec<u32> {
        let mut out: Vec<u32> = state.completed_x().iter().map(|v| v.to_bits()).collect();
        out.extend(state.z().iter().map(|v| v.to_bits()));
        out.extend(state.w().iter().map(|v| v.to_bits()));
        out.extend(state.mu().iter().map(|v| v.to_bits()));
        out.extend(state.sigmasq().iter().map(|v| v.to_bits()));
        out
    }

    #[test]
    fn stepping_conditionals_gives_the_chain_of_full_sweeps_bitwise() {
        // M = 4 takes nalgebra's small-matrix products, M = 8 the threaded GEMM.
        for (schedule, m) in [
            (Schedule::Notebook, 4),
            (Schedule::Blocked, 4),
            (Schedule::Notebook, 8),
            (Schedule::Blocked, 8),
        ] {
            // With the recentring move too: it is the first step of each sweep.
            for recentre in [false, true] {
                let problem = tiny_problem(40, 36, 7);
                let mut s = settings(schedule, 11);
                s.hyper.m = m;
                s.recentre = recentre;
                steps_match_sweeps(&problem, &s);
            }
        }
    }

    fn steps_match_sweeps(problem: &Problem, s: &SamplerSettings) {
        let schedule = s.schedule;
        {
            let mut sampler = GibbsSampler::new(problem, s).unwrap();
            let mut stepper = Stepper::new(problem, s, 3).unwrap();
            assert_eq!(bits(stepper.state()), bits(sampler.state()));
            let order = Conditional::sweep_order_of(s);
            assert_eq!(
                order.len(),
                Conditional::sweep_order(schedule).len() + s.recentre as usize
            );
            let per_sweep = order.len();
            for sweep in 1..=5u64 {
                let record = sampler.sweep();
                let mut lj = None;
                for (k, &expected) in order.iter().enumerate() {
                    assert_eq!(stepper.next_conditional(), expected);
                    let report = stepper.step();
                    assert_eq!((report.sweep, report.position), (sweep, k));
                    assert_eq!(report.completes_sweep(), k + 1 == per_sweep);
                    lj = report.log_joint;
                }
                assert_eq!(stepper.sweeps_done(), sweep);
                assert!(record.log_joint.is_finite());
                assert_eq!(lj.map(f64::to_bits), Some(record.log_joint.to_bits()));
                let (a, b) = (bits(stepper.state()), bits(sampler.state()));
                let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
                assert_eq!(
                    differ, 0,
                    "{schedule:?} (recentre {}), sweep {sweep}: {differ} values differ",
                    s.recentre
                );
            }
        }
    }

    #[test]
    fn a_stepper_continues_a_running_sampler_bitwise() {
        let problem = tiny_problem(30, 25, 3);
        let s = settings(Schedule::Notebook, 5);
        let mut sampler = GibbsSampler::new(&problem, &s).unwrap();
        sampler.sweep();
        sampler.sweep();
        let mut stepper = Stepper::from_sampler(&sampler, 0);
        sampler.sweep();
        let reports = stepper.finish_sweep();
        assert_eq!(reports.len(), 5);
        assert_eq!(stepper.sweeps_done(), 3);
        assert_eq!(bits(stepper.state()), bits(sampler.state()));
        // No history: nothing to go back to or explain.
        assert_eq!(stepper.back(), None);
        assert!(matches!(
            stepper.explain_last(&Focus::default()),
            Err(LessonError::NothingToExplain)
        ));
    }

    #[test]
    fn going_back_restores_the_earlier_state_exactly() {
        for schedule in [Schedule::Notebook, Schedule::Blocked] {
            let problem = tiny_problem(30, 25, 5);
            let mut stepper = Stepper::new(&problem, &settings(schedule, 2), 4).unwrap();
            stepper.finish_sweep();
            let mut saved = vec![(bits(stepper.state()), stepper.next_conditional())];
            for _ in 0..4 {
                let report = stepper.step();
                assert!(report.changes.iter().all(|c| c.changed > 0), "{report:?}");
                saved.push((bits(stepper.state()), stepper.next_conditional()));
            }
            let after = saved.pop().unwrap();
            for k in (0..4).rev() {
                let undone = stepper.back().unwrap();
                let (state, next) = &saved[k];
                assert_eq!(undone, *next);
                assert_eq!(stepper.next_conditional(), *next);
                assert_eq!(bits(stepper.state()), *state, "{schedule:?}, back to {k}");
                // The step before is still reported, except at the history's first entry.
                let previous = (k > 0).then(|| saved[k - 1].1);
                assert_eq!(stepper.last_report().map(|r| r.conditional), previous);
                let before = stepper.state_before_last().map(bits);
                assert_eq!(before.as_ref(), (k > 0).then(|| &saved[k - 1].0));
            }
            // The history held 4 entries, so a fifth back is refused.
            assert_eq!(stepper.back(), None);
            assert_eq!(stepper.history_len(), 0);
            // Forward again redraws the same values.
            for _ in 0..4 {
                stepper.step();
            }
            assert_eq!(bits(stepper.state()), after.0);
        }
    }

    #[test]
    fn the_history_is_bounded() {
        let problem = tiny_problem(20, 16, 1);
        let mut stepper = Stepper::new(&problem, &settings(Schedule::Notebook, 1), 2).unwrap();
        for _ in 0..7 {
            stepper.step();
        }
        assert_eq!(stepper.history_len(), 2);
        assert_eq!(stepper.back(), Some(Conditional::W));
        assert_eq!(stepper.back(), Some(Conditional::Z));
        assert_eq!(stepper.back(), None);
        assert_eq!((stepper.sweeps_done(), stepper.position()), (1, 0));
        let bytes = approx_state_bytes(stepper.state());
        assert_eq!(stepper.history_for_budget(10 * bytes), 10);
    }

    #[test]
    fn a_stepper_can_move_to_a_worker_thread() {
        fn send<T: Send + 'static>(_: &T) {}
        let problem = tiny_problem(12, 9, 2);
        let mut stepper = Stepper::new(&problem, &settings(Schedule::Blocked, 3), 1).unwrap();
        send(&stepper);
        let report = std::thread::spawn(move || stepper.step()).join().unwrap();
        assert_eq!(report.conditional, Conditional::Z);
    }

    #[test]
    fn bad_problems_and_settings_are_refused() {
        let problem = tiny_problem(10, 9, 1);
        let mut s = settings(Schedule::Notebook, 1);
        s.hyper.kappa0 = f64::NAN;
        assert!(matches!(
            Stepper::new(&problem, &s, 1),
            Err(LessonError::Model(_))
        ));
        let mut bad = problem.clone();
        bad.missing.pop();
        assert!(Stepper::new(&bad, &settings(Schedule::Notebook, 1), 1).is_err());
    }
}
