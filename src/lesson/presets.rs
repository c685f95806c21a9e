//! Experiments to show a class, one value each: a title, what to look for and why, and the
//! runs it makes (data, masks, prior, schedule, run length, seeds, chains). Every seed is
//! fixed, so a preset gives the same numbers every time it is run.

use crate::chains::MAX_CHAINS;
use crate::experiment::{ExperimentSpec, NOTEBOOK_SEED};
use crate::masks::{MaskError, MaskKind, MaskParams};
use crate::model::{Hyperparameters, ModelError, Prior, SamplerSettings, Schedule};

/// One run of a preset: the data and masks it builds and the sampler settings it applies.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetRun {
    /// Short label shown beside the run's results, e.g. "M = 10".
    pub label: &'static str,
    /// Images, noise and masks (with their seeds).
    pub experiment: ExperimentSpec,
    /// Factors, hyperparameters, prior, schedule, sweeps, burn-in and seed.
    pub settings: SamplerSettings,
    /// Number of chains ([`crate::chains::MultiChain`] when more than one).
    pub chains: usize,
}

/// An experiment for a class.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// Stable identifier (for keyboard shortcuts, tests and saved sessions).
    pub id: &'static str,
    pub title: &'static str,
    /// A short paragraph: what to look for and why it happens.
    pub look_for: &'static str,
    /// One run, or several to compare side by side (same seeds unless the seed is the point).
    pub runs: Vec<PresetRun>,
}

/// Why a preset cannot run.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("preset {preset}, run {run}: {reason}")]
    Invalid {
        preset: &'static str,
        run: &'static str,
        reason: &'static str,
    },
    #[error("preset {preset}, run {run}: {source}")]
    Model {
        preset: &'static str,
        run: &'static str,
        source: ModelError,
    },
    #[error("preset {preset}, run {run}: {source}")]
    Mask {
        preset: &'static str,
        run: &'static str,
        source: MaskError,
    },
}

impl Preset {
    /// Checks every run for images of `d` pixels: at least one image, finite non-negative
    /// noise, valid masks and sampler settings, 1 to [`MAX_CHAINS`] chains. (Whether the
    /// dataset has N images is checked when the experiment is built.)
    pub fn validate(&self, d: usize) -> Result<(), PresetError> {
        if self.runs.is_empty() {
            return Err(PresetError::Invalid {
                preset: self.id,
                run: "-",
                reason: "a preset needs at least one run",
            });
        }
        for r in &self.runs {
            let invalid = |reason| PresetError::Invalid {
                preset: self.id,
                run: r.label,
                reason,
            };
            if r.experiment.n == 0 {
                return Err(invalid("it takes no images"));
            }
            if !(r.experiment.noise_std.is_finite() && r.experiment.noise_std >= 0.0) {
                return Err(invalid("the noise must be a finite std >= 0"));
            }
            if r.chains == 0 || r.chains > MAX_CHAINS {
                return Err(invalid("the number of chains must be 1 to 8"));
            }
            r.experiment
                .mask
                .validate()
                .map_err(|source| PresetError::Mask {
                    preset: self.id,
                    run: r.label,
                    source,
                })?;
            r.settings
                .validate(r.experiment.n, d)
                .map_err(|source| PresetError::Model {
                    preset: self.id,
                    run: r.label,
                    source,
                })?;
        }
        Ok(())
    }
}

fn experiment(n: usize, mask: MaskParams) -> ExperimentSpec {
    ExperimentSpec {
        n,
        mask,
        ..ExperimentSpec::default()
    }
}

fn settings(m: usize, sweeps: usize, burn_in: usize) -> SamplerSettings {
    SamplerSettings {
        hyper: Hyperparameters {
            m,
            ..Hyperparameters::default()
        },
        sweeps,
        burn_in,
        seed: NOTEBOOK_SEED,
        ..SamplerSettings::default()
    }
}

fn run(label: &'static str, experiment: ExperimentSpec, settings: SamplerSettings) -> PresetRun {
    PresetRun {
        label,
        experiment,
        settings,
        chains: 1,
    }
}

/// Every preset, in the order a lesson shows them.
pub fn presets() -> Vec<Preset> {
    let mix = MaskParams::default();
    let small = experiment(2_000, mix.clone());
    vec![
        Preset {
            id: "notebook",
            title: "The notebook's experiment",
            look_for: "10,000 digits with lines, circles and speckle removed, 50 factors, 200 \
                sweeps. Watch the log joint climb steeply and then level off: the chain has \
                left its random start and wanders around the posterior. The RMSE of the \
                posterior mean then falls well below that of filling each pixel with its \
                column mean, and the posterior std is largest where a line or circle cut \
                through a stroke, because there the data say least.",
            runs: vec![run(
                "notebook",
                ExperimentSpec::default(),
                settings(50, 200, 100),
            )],
        },
        Preset {
            id: "too-many-factors",
            title: "Too many factors for too little data",
            look_for: "1,000 digits and 50 factors: each pixel's loading row has 50 \
                coefficients learnt from at most 1,000 partly hidden values, so the factors \
                start to fit the noise. Watch the RMSE of the current sample: it falls for \
                about ten sweeps, then climbs steadily as the loadings grow to explain noise, \
                and the posterior mean ends up no better than filling in column means. \
                Then run M = 10 on the same digits: the sample RMSE levels off and stays \
                flat, and the posterior mean comes out well below the column-mean baseline. \
                (A single sample carries the full posterior noise, so its RMSE sits above \
                the posterior mean's in both runs.)",
            runs: vec![
                run(
                    "M = 50",
                    experiment(1_000, mix.clone()),
                    settings(50, 300, 150),
                ),
                run(
                    "M = 10",
                    experiment(1_000, mix.clone()),
                    settings(10, 300, 150),
                ),
            ],
        },
        Preset {
            id: "burn-in",
            title: "Why burn-in matters",
            look_for: "The same 40 sweeps twice, once averaging every sweep and once dropping \
                the first 20. The chain starts from column means, column variances and random \
                factors; the log joint shows it needs about 20 sweeps to forget that start. \
                Averaging the early sweeps in biases the summaries towards the start: the \
                posterior mean of sigma^2 comes out larger, pulled up by the column variances \
                it started from. Yet the RMSE of the posterior mean is here slightly better \
                with every sweep in, because averaging 40 draws instead of 20 cuts Monte \
                Carlo noise more than a few early draws add bias. Burn-in removes bias from \
                the start; it matters most when the start is far off and the run is short.",
            runs: vec![
                run("all sweeps", small.clone(), settings(20, 40, 0)),
                run("burn-in 20", small.clone(), settings(20, 40, 20)),
            ],
        },
        Preset {
            id: "prior-strength",
            title: "A strong versus a weak prior on W",
            look_for: "kappa0 is the prior precision of each loading relative to sigma_d^2. \
                With kappa0 = 0.01 the prior is nearly flat and the data decide; with \
                kappa0 = 1,000 it weighs as much as 1,000 digits and pulls every loading \
                towards 0: the loadings come out far smaller, reconstructions lean towards \
                the mean digit, and sigma^2 grows to absorb what the factors may no longer \
                explain. With only 1,000 digits the weak prior lets 20 factors chase noise, \
                and here the strong prior's shrinkage even lowers the RMSE: a prior is also \
                a guard against overfitting. Compare the imputed digits, sigma^2 and the RMSE.",
            runs: vec![
                run(
                    "kappa0 = 0.01",
                    experiment(1_000, mix.clone()),
                    settings(20, 200, 100),
                ),
                run("kappa0 = 1000", experiment(1_000, mix.clone()), {
                    let mut s = settings(20, 200, 100);
                    s.hyper.kappa0 = 1_000.0;
                    s
                }),
            ],
        },
        Preset {
            id: "decaying-prior",
            title: "The matrix-normal prior with decaying column variances",
            look_for: "Under the isotropic prior the factors are interchangeable: any rotation \
                of W and Z fits equally well, so the columns of W come in no order and drift \
                from sweep to sweep. The decaying prior gives column m the variance \
                tau0 rho^m (here 100 x 0.5^m), so later columns are shrunk ever harder and \
                the sampler puts the strongest directions first, as PCA orders its \
                components. Look at the loadings as images: the first columns show strokes, \
                the last ones are faint. The fit (RMSE) is no worse for it: often a little \
                better, as the isotropic chain sometimes settles a few points higher.",
            runs: vec![
                run("isotropic", small.clone(), settings(20, 200, 100)),
                run("decaying", small.clone(), {
                    let mut s = settings(20, 200, 100);
                    s.prior = Prior::Decaying {
                        tau0: 100.0,
                        rho: 0.5,
                    };
                    s
                }),
            ],
        },
        Preset {
            id: "schedule",
            title: "The notebook's schedule versus the blocked step",
            look_for: "Both schedules have the same target. The notebook draws W given mu and \
                sigma^2, then mu given W, then sigma^2 given both; the blocked step draws \
                (w_d, mu_d, sigma_d^2) jointly given Z, which removes the dependence among \
                those three. Compare the autocorrelation (or effective sample size) of the \
                log joint after burn-in: on these digits the two come out about the same, \
                sometimes one ahead, sometimes the other. The chain's slow moves are then \
                elsewhere, most likely in Z and the rotation it shares with W, which both \
                schedules update alike: speeding up one block does not speed up a chain held \
                back by another.",
            runs: vec![
                run("notebook", small.clone(), settings(20, 300, 100)),
                run("blocked", small.clone(), {
                    let mut s = settings(20, 300, 100);
                    s.schedule = Schedule::Blocked;
                    s
                }),
            ],
        },
        Preset {
            id: "masks",
            title: "Easy versus hard masks: speckle versus lines",
            look_for: "Both masks hide a similar share of the pixels (about one in six), yet \
                they are not equally hard. A speckled pixel has observed neighbours that the \
                factors tie it to, so it is filled in well and with a small posterior std. A \
                line through the centre removes whole stretches of stroke, and the factors \
                must guess them from the rest of the digit: a higher RMSE and a posterior std \
                that lights up along the line.",
            runs: vec![
                run(
                    "speckle",
                    experiment(
                        2_000,
                        MaskParams {
                            kind: MaskKind::Speckle,
                            speckle_p: 0.16,
                            ..MaskParams::default()
                        },
                    ),
                    settings(20, 200, 100),
                ),
                run(
                    "lines",
                    experiment(
                        2_000,
                        // speckle_p is unused by lines: kept equal so that the two runs
                        // differ in the kind of mask only.
                        MaskParams {
                            kind: MaskKind::Line,
                            speckle_p: 0.16,
                            ..MaskParams::default()
                        },
                    ),
                    settings(20, 200, 100),
                ),
            ],
        },
        Preset {
            id: "chains",
            title: "Several chains that start apart: do they meet?",
            look_for: "Four chains: chain 1 starts where the notebook does, with mu at the \
                column means; the other three from their own random starts, with mu and \
                sigma^2 spread far wider than the posterior. Each trace climbs and then looks \
                settled, yet the three stay about 10,000 below chain 1 in log joint for the \
                whole run, and R-hat, which compares the spread between chains with the spread \
                within each, stays far above 1. The cause is mu: the data fix mu plus W times \
                the average z_n (the mean image), not how it splits between the two, and a \
                Gibbs sampler that draws each given the other creeps along that ridge a little \
                every sweep. (Started with mu at the column means, the same chains end level \
                with chain 1.) A trace that looks flat is not a chain that has converged: only \
                several chains show it. The second run adds one move to every sweep, \
                'Recentre each sweep' in the Model settings: it shifts all z_n by c and mu by W \
                c, which changes no fit, with c drawn from what the priors say about it. The \
                same four chains then meet chain 1 within the burn-in, and R-hat of the log \
                joint falls from about 7 to about 1.15: one move along the ridge does what \
                hundreds of sweeps across it could not.",
            runs: vec![
                PresetRun {
                    chains: 4,
                    ..run("4 chains", small.clone(), settings(20, 200, 100))
                },
                PresetRun {
                    chains: 4,
                    ..run(
                        "4 chains, recentred",
                        small,
                        SamplerSettings {
                            recentre: true,
                            ..settings(20, 200, 100)
                        },
                    )
                },
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: usize = 784;

    fn preset(id: &str) -> Preset {
        presets().into_iter().find(|p| p.id == id).unwrap()
    }

    #[test]
    fn every_preset_validates_and_has_text() {
        let all = presets();
        assert_eq!(all.len(), 8);
        let mut ids: Vec<_> = all.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for p in &all {
            p.validate(D).unwrap_or_else(|e| panic!("{e}"));
            assert!(!p.title.is_empty() && p.look_for.len() > 100, "{}", p.id);
            for r in &p.runs {
                assert!(r.experiment.n <= 10_000, "{} fits the MNIST test set", p.id);
                assert_eq!(r.settings.seed, NOTEBOOK_SEED);
            }
        }
        // Validation catches a broken preset.
        let mut bad = preset("masks");
        bad.runs[0].experiment.mask.speckle_p = 2.0;
        assert!(matches!(bad.validate(D), Err(PresetError::Mask { .. })));
        let mut bad = preset("burn-in");
        bad.runs[1].settings.burn_in = 200;
        assert!(matches!(bad.validate(D), Err(PresetError::Model { .. })));
        let mut bad = preset("chains");
        bad.runs[0].chains = MAX_CHAINS + 1;
        assert!(matches!(bad.validate(D), Err(PresetError::Invalid { .. })));
    }

    /// The runs of a comparison differ in exactly the setting it is about.
    #[test]
    fn comparisons_change_one_thing() {
        let same_but = |id: &str, change: &dyn Fn(&mut PresetRun)| {
            let p = preset(id);
            assert_eq!(p.runs.len(), 2, "{id}");
            let mut first = p.runs[0].clone();
            assert_ne!(first, p.runs[1], "{id}");
            change(&mut first);
            first.label = p.runs[1].label;
            assert_eq!(first, p.runs[1], "{id}");
        };
        same_but("too-many-factors", &|r| r.settings.hyper.m = 10);
        same_but("burn-in", &|r| r.settings.burn_in = 20);
        same_but("prior-strength", &|r| r.settings.hyper.kappa0 = 1_000.0);
        same_but("decaying-prior", &|r| {
            r.settings.prior = Prior::Decaying {
                tau0: 100.0,
                rho: 0.5,
            }
        });
        same_but("schedule", &|r| r.settings.schedule = Schedule::Blocked);
        same_but("masks", &|r| r.experiment.mask.kind = MaskKind::Line);
        let p = preset("too-many-factors");
        assert_eq!(
            (p.runs[0].experiment.n, p.runs[0].settings.hyper.m),
            (1_000, 50)
        );
        assert_eq!(preset("chains").runs[0].chains, 4);
        assert_eq!(
            preset("notebook").runs[0].experiment,
            ExperimentSpec::default()
        );
    }
}
