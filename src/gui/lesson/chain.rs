//! The lesson's own chain: a [`Stepper`] on a small problem (the first N images of the
//! current experiment), built and stepped on [`Job`]s, and what the last step showed.
//!
//! Threads: building, stepping, going back and explaining run on a job's thread, which takes
//! the stepper and hands it back with the step's [`Shown`]; the UI thread only polls (never
//! blocks) and keeps the result. While a job holds the stepper, further requests are refused
//! (the buttons are greyed out). At the default N = 500 a step takes a few milliseconds, so
//! the result arrives on the next frame; at N = 10,000 a step takes tens of milliseconds and
//! the frame rate does not suffer either way.

use std::sync::Arc;

use crate::experiment::Experiment;
use crate::lesson::{Conditional, Explanation, Focus, StepReport, Stepper};
use crate::model::{Problem, SamplerSettings};

use super::super::job::{Job, Outcome};

/// Memory the lesson's history of states may take (each entry is a full copy of the state).
const HISTORY_BYTES: usize = 192 << 20;
/// Most steps that can be undone, whatever the memory allows.
const MAX_HISTORY: usize = 200;

/// What the screen shows about the step that led to the current state: its report, the
/// numbers behind it and the before/after of the focus digit and of the per-pixel vectors.
#[derive(Clone, Debug)]
pub struct Shown {
    pub report: StepReport,
    pub explanation: Result<Explanation, String>,
    pub focus: Focus,
    /// mu before and after the step (D each).
    pub mu: [Vec<f32>; 2],
    /// sigma^2 before and after the step.
    pub sigmasq: [Vec<f32>; 2],
    /// The focus digit's row of X before and after the step.
    pub digit: [Vec<f32>; 2],
    /// Which pixels of the focus digit are missing.
    pub digit_missing: Vec<bool>,
    /// Changes with every new value of this struct (texture versions).
    pub version: u64,
}

/// What a job hands back.
struct Done {
    stepper: Box<Stepper>,
    problem: Option<Arc<Problem>>,
    shown: Option<Shown>,
}

/// One operation on the stepper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Step,
    Back,
    /// Finish the current sweep, then this many more minus one.
    Sweeps(usize),
    /// Only recompute what is shown (a new focus).
    Refocus,
}

/// The lesson chain and its jobs.
#[derive(Default)]
pub struct LessonChain {
    stepper: Option<Box<Stepper>>,
    problem: Option<Arc<Problem>>,
    job: Option<Job<Done>>,
    shown: Option<Shown>,
    error: Option<String>,
    versions: u64,
}

/// The first `n` images of `experiment` as a problem (observed values, mask and truth).
pub fn subset(experiment: &Experiment, n: usize) -> Problem {
    let p = &experiment.problem;
    let n = n.clamp(1, p.n);
    let len = n * p.d;
    Problem {
        n,
        d: p.d,
        x_observed: p.x_observed[..len].to_vec(),
        missing: p.missing[..len].to_vec(),
        x_true: p.x_true.as_ref().map(|x| x[..len].to_vec()),
    }
}

fn history_for(problem: &Problem, m: usize) -> usize {
    let missing = problem.missing.iter().filter(|&&b| b).count();
    let bytes = 4 * (2 * problem.n * problem.d + problem.n * m + problem.d * m)
        + 40 * problem.d
        + 12 * missing;
    (HISTORY_BYTES / bytes.max(1)).clamp(1, MAX_HISTORY)
}

/// What is shown after the stepper's last step (None before the first step).
fn shown(stepper: &Stepper, focus: Focus, version: u64) -> Option<Shown> {
    let report = stepper.last_report()?.clone();
    let before = stepper.state_before_last()?;
    let after = stepper.state();
    let (n, d, _) = after.shape();
    let digit = focus.digit.min(n - 1);
    let row = |s: &crate::model::ModelState| -> Vec<f32> { s.completed_row(digit) };
    let missing_of = |k: usize| {
        let idx = after.missing();
        let mut out = vec![false; d];
        for (&i, &j) in idx.rows().iter().zip(idx.cols()) {
            if i as usize == k {
                out[j as usize] = true;
            }
        }
        out
    };
    Some(Shown {
        explanation: stepper.explain_last(&focus).map_err(|e| e.to_string()),
        report,
        focus,
        mu: [before.mu().to_vec(), after.mu().to_vec()],
        sigmasq: [before.sigmasq().to_vec(), after.sigmasq().to_vec()],
        digit: [row(before), row(after)],
        digit_missing: missing_of(digit),
        version,
    })
}

impl LessonChain {
    /// Builds a stepper for the first `n` images of `experiment` with `settings`, on a job.
    /// A build or step in progress is dropped.
    pub fn build(
        &mut self,
        ctx: &egui::Context,
        experiment: Arc<Experiment>,
        n: usize,
        settings: SamplerSettings,
    ) {
        self.stepper = None;
        self.shown = None;
        self.error = None;
        self.job = Some(Job::spawn("building the lesson", ctx, move |p| {
            p.report(None, format!("taking the first {n} images"));
            let problem = subset(&experiment, n);
            let history = history_for(&problem, settings.hyper.m);
            let stepper = Stepper::new(&problem, &settings, history).map_err(|e| e.to_string())?;
            Ok(Done {
                stepper: Box::new(stepper),
                problem: Some(Arc::new(problem)),
                shown: None,
            })
        }));
    }

    /// Runs `op` on a job; refused (false) while another job holds the stepper or before a
    /// stepper exists.
    pub fn run(&mut self, ctx: &egui::Context, op: Op, focus: Focus) -> bool {
        if self.job.is_some() {
            return false;
        }
        let Some(mut stepper) = self.stepper.take() else {
            return false;
        };
        self.versions += 1;
        let version = self.versions;
        let label = match op {
            Op::Step => "drawing one conditional",
            Op::Back => "going back one step",
            Op::Sweeps(_) => "running sweeps",
            Op::Refocus => "explaining the draw",
        };
        self.job = Some(Job::spawn(label, ctx, move |p| {
            match op {
                Op::Step => {
                    stepper.step();
                }
                Op::Back => {
                    stepper.back();
                }
                Op::Sweeps(count) => {
                    for k in 0..count.max(1) {
                        if p.cancelled() {
                            break;
                        }
                        p.report(
                            Some(k as f32 / count.max(1) as f32),
                            format!("sweep {} of {count}", k + 1),
                        );
                        stepper.finish_sweep();
                    }
                }
                Op::Refocus => {}
            }
            let shown = shown(&stepper, focus, version);
            Ok(Done {
                stepper,
                problem: None,
                shown,
            })
        }));
        true
    }

    /// Collects a finished job (once a frame).
    pub fn poll(&mut self) {
        let Some(job) = &mut self.job else {
            return;
        };
        let Some(outcome) = job.poll() else {
            return;
        };
        self.job = None;
        match outcome {
            Outcome::Finished(done) => {
                self.stepper = Some(done.stepper);
                if let Some(problem) = done.problem {
                    self.problem = Some(problem);
                }
                self.shown = done.shown;
                self.error = None;
            }
            Outcome::Failed(detail) => self.error = Some(detail),
            Outcome::Cancelled => {}
        }
    }

    /// True while a job runs.
    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// The job's label and status while one runs.
    pub fn busy_status(&self) -> Option<String> {
        self.job
            .as_ref()
            .map(|j| format!("{}: {}", j.label(), j.status()))
    }

    /// The stepper, when no job holds it.
    pub fn stepper(&self) -> Option<&Stepper> {
        self.stepper.as_deref()
    }

    /// The problem the stepper runs on.
    pub fn problem(&self) -> Option<&Arc<Problem>> {
        self.problem.as_ref()
    }

    pub fn shown(&self) -> Option<&Shown> {
        self.shown.as_ref()
    }

    /// Why the last build or step failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The conditional the next step draws (None without a stepper at hand).
    pub fn next_conditional(&self) -> Option<Conditional> {
        self.stepper().map(Stepper::next_conditional)
    }
}
