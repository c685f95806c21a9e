//! The Model section: M and the hyperparameters eta = (nu0, sigma0^2, kappa0, lambda0), the
//! prior on W, the sweep schedule, the run length and the sampler's seed. Hyperparameters,
//! prior, schedule and run length go to the running sampler as commands; M and the seed need a
//! new chain.

use crate::model::{Hyperparameters, Prior, SamplerSettings, Schedule};
use crate::sampler::Command;
use egui::{RichText, Ui};

use super::{Effect, row};

/// Default column variance scale and decay of the decaying prior when first chosen: tau0 = 100
/// matches the isotropic default kappa0 = 0.01 for the first factor, rho = 0.9 halves the
/// prior variance about every 7 factors.
const DEFAULT_DECAYING: Prior = Prior::Decaying {
    tau0: 100.0,
    rho: 0.9,
};

/// Longest run the Sweeps slider offers.
pub const MAX_SWEEPS: usize = 100_000;

/// The commands that bring a running chain with settings `active` to `edited`, for everything
/// that applies at the next sweep (M and the seed are left to a restart).
pub fn live_commands(active: &SamplerSettings, edited: &SamplerSettings) -> Vec<Command> {
    let mut commands = Vec::new();
    let hyper = Hyperparameters {
        m: active.hyper.m,
        ..edited.hyper.clone()
    };
    if hyper != active.hyper {
        commands.push(Command::SetHyperparameters(hyper));
    }
    if edited.prior != active.prior {
        commands.push(Command::SetPrior(edited.prior.clone()));
    }
    if edited.schedule != active.schedule {
        commands.push(Command::SetSchedule(edited.schedule));
    }
    if edited.recentre != active.recentre {
        commands.push(Command::SetRecentre(edited.recentre));
    }
    if (edited.sweeps, edited.burn_in) != (active.sweeps, active.burn_in) {
        commands.push(Command::SetRunLength {
            sweeps: edited.sweeps,
            burn_in: edited.burn_in,
        });
    }
    commands
}

/// Copies the next-sweep part of `edited` into `active` (after its commands were sent).
pub fn apply_live(active: &mut SamplerSettings, edited: &SamplerSettings) {
    let m = active.hyper.m;
    active.hyper = Hyperparameters {
        m,
        ..edited.hyper.clone()
    };
    active.prior = edited.prior.clone();
    active.schedule = edited.schedule;
    active.recentre = edited.recentre;
    active.sweeps = edited.sweeps;
    active.burn_in = edited.burn_in;
}

/// A logarithmic slider over an f64 hyperparameter, with its number box for typing.
fn log_slider(value: &mut f64, lo: f64, hi: f64) -> egui::Slider<'_> {
    egui::Slider::new(value, lo..=hi)
        .logarithmic(true)
        .max_decimals(4)
}

/// Draws the section.
pub fn ui(ui: &mut Ui, s: &mut SamplerSettings) {
    let decaying = matches!(s.prior, Prior::Decaying { .. });
    egui::Grid::new("model_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            row(
                ui,
                "Factors M",
                "Number of latent factors (columns of W). The notebook uses 50.",
                Effect::Restart,
                |ui| ui.add(egui::Slider::new(&mut s.hyper.m, 1..=400).logarithmic(true)),
            );
            row(
                ui,
                "nu0",
                "Prior degrees of freedom of each pixel's noise variance sigma_d^2.",
                Effect::NextSweep,
                |ui| ui.add(log_slider(&mut s.hyper.nu0, 0.01, 1000.0)),
            );
            row(
                ui,
                "sigma0^2",
                "Prior scale of each pixel's noise variance sigma_d^2.",
                Effect::NextSweep,
                |ui| ui.add(log_slider(&mut s.hyper.sigmasq0, 0.001, 10_000.0)),
            );
            row(
                ui,
                "kappa0",
                "Prior precision of the rows of W relative to sigma_d^2 (isotropic prior). \
                 Larger values shrink the factors.",
                Effect::NextSweep,
                |ui| {
                    ui.add_enabled(!decaying, log_slider(&mut s.hyper.kappa0, 1e-4, 1000.0))
                        .on_disabled_hover_text("Unused under the decaying prior (tau0, rho).")
                },
            );
            row(
                ui,
                "lambda0",
                "Prior precision of the mean mu_d relative to sigma_d^2.",
                Effect::NextSweep,
                |ui| ui.add(log_slider(&mut s.hyper.lambda0, 1e-4, 1000.0)),
            );
        });
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.label("Prior on W").on_hover_text(
            "Isotropic: every factor shrunk alike (kappa0). Decaying: the prior variance of \
             factor m is tau0 rho^m, which orders the factors by importance.",
        );
        let mut is_decaying = decaying;
        ui.radio_value(&mut is_decaying, false, "isotropic");
        ui.radio_value(&mut is_decaying, true, "decaying");
        if is_decaying != decaying {
            s.prior = if is_decaying {
                DEFAULT_DECAYING
            } else {
                Prior::Isotropic
            };
        }
        Effect::NextSweep.badge(ui);
    });
    if let Prior::Decaying { tau0, rho } = &mut s.prior {
        egui::Grid::new("prior_grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                row(
                    ui,
                    "tau0",
                    "Prior variance scale of the first factor (relative to sigma_d^2).",
                    Effect::NextSweep,
                    |ui| ui.add(log_slider(tau0, 1e-3, 1e4)),
                );
                row(
                    ui,
                    "rho",
                    "Decay of the prior variance from one factor to the next (0 < rho <= 1).",
                    Effect::NextSweep,
                    |ui| ui.add(egui::Slider::new(rho, 0.01..=1.0).max_decimals(3)),
                );
            });
    }
    ui.horizontal(|ui| {
        ui.label("Schedule").on_hover_text(
            "Notebook: Z, W, mu, sigma^2, then the missing pixels, one after another. Blocked: \
             (w_d, mu_d, sigma_d^2) drawn jointly, which mixes better.",
        );
        ui.radio_value(&mut s.schedule, Schedule::Notebook, "notebook");
        ui.radio_value(&mut s.schedule, Schedule::Blocked, "blocked");
        Effect::NextSweep.badge(ui);
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.recentre, "Recentre each sweep")
            .on_hover_text(
                "Starts every sweep with a draw along the one direction the data cannot see: \
             z_n -> z_n - c for every image and mu -> mu + W c give the same fit. The Gibbs \
             steps cross it slowly, so chains whose mu starts apart stay apart for hundreds of \
             sweeps; with this move they meet within about fifty. Same posterior; not in the \
             notebook's sampler, so off by default.",
            );
        Effect::NextSweep.badge(ui);
    });
    ui.add_space(6.0);
    egui::Grid::new("run_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            row(
                ui,
                "Sweeps",
                "Length of the run; the sampler pauses when it gets there. Raise it to run on.",
                Effect::NextSweep,
                |ui| ui.add(egui::Slider::new(&mut s.sweeps, 2..=MAX_SWEEPS).logarithmic(true)),
            );
            let max_burn = s.sweeps.saturating_sub(1);
            row(
                ui,
                "Burn-in",
                "Sweeps discarded before the posterior means and standard deviations start \
                 (the notebook: the first half).",
                Effect::NextSweep,
                |ui| ui.add(egui::Slider::new(&mut s.burn_in, 0..=max_burn)),
            );
            row(
                ui,
                "Sampler seed",
                "Seed of the Gibbs sampler: the same seed gives the same chain.",
                Effect::Restart,
                |ui| ui.add(egui::DragValue::new(&mut s.seed)),
            );
        });
    s.burn_in = s.burn_in.min(s.sweeps.saturating_sub(1));
    if ui
        .small_button("Half of the run as burn-in")
        .on_hover_text("The notebook's choice: average the second half of the sweeps")
        .clicked()
    {
        s.burn_in = s.sweeps / 2;
    }
    if let Err(err) = s.hyper.validate().and_then(|_| s.prior.validate()) {
        ui.label(RichText::new(err.to_string()).color(ui.visuals().error_fg_color));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_changes_become_commands_and_m_does_not() {
        let active = SamplerSettings::default();
        assert!(live_commands(&active, &active).is_empty());
        let mut edited = active.clone();
        edited.hyper.kappa0 = 2.0;
        edited.hyper.m = 3;
        edited.schedule = Schedule::Blocked;
        edited.recentre = true;
        edited.sweeps = 400;
        let commands = live_commands(&active, &edited);
        assert_eq!(commands.len(), 4);
        assert!(
            commands.contains(&Command::SetRecentre(true)),
            "{commands:?}"
        );
        match &commands[0] {
            Command::SetHyperparameters(h) => {
                assert_eq!(h.m, active.hyper.m);
                assert_eq!(h.kappa0, 2.0);
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut after = active.clone();
        apply_live(&mut after, &edited);
        assert_eq!(after.hyper.m, active.hyper.m);
        assert!(live_commands(&after, &edited).is_empty());
        assert_ne!(after.hyper.m, edited.hyper.m, "M is left to a restart");
    }
}
