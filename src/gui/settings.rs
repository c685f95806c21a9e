//! What the user sets up ([`Settings`], remembered between runs) and, in one place, which of
//! it needs a new chain: the [`RestartKey`]. The restart banner's reasons, the caches of
//! loaded data and built experiments, and "Keep this chain" all go through it, so the list of
//! restart settings is written once.
//!
//! Plain data, used on the UI thread and sent to build jobs by value; nothing here blocks.

use serde::{Deserialize, Serialize};

use super::panels::{DataSettings, MaskSettings, PaintedMasks};
use crate::data::DataSource;
use crate::experiment::NOTEBOOK_SEED;
use crate::masks::MaskParams;
use crate::model::SamplerSettings;

/// Everything the user sets up, remembered between runs of the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub data: DataSettings,
    pub masks: MaskSettings,
    pub model: SamplerSettings,
    /// Masks painted by hand, laid over the generated ones.
    pub painted: PaintedMasks,
    /// Number of chains K (1 to 8): chain 1 feeds the views, all K the diagnostics.
    pub chains: usize,
}

/// The app's default number of chains (the CLI's is 1).
pub const DEFAULT_CHAINS: usize = 4;

impl Default for Settings {
    /// The notebook's experiment as the SPEC gives it: N = 10,000, M = 50, its hyperparameters,
    /// 200 sweeps with the second half averaged, its masks. A sweep takes tens of milliseconds,
    /// so the whole run answers within seconds; a smaller N is not cheaper in what matters, since
    /// with M = 50 and a few thousand digits the posterior mean is no better than column means
    /// (a property of the model, checked against an independent implementation).
    fn default() -> Self {
        Settings {
            data: DataSettings::default(),
            masks: MaskSettings {
                params: MaskParams::default(),
                seed: NOTEBOOK_SEED,
            },
            model: SamplerSettings::default(),
            painted: PaintedMasks::default(),
            chains: DEFAULT_CHAINS,
        }
    }
}

/// Most images a remembered setting may ask for (more than any data set the app reads).
pub const MAX_REMEMBERED_N: usize = 1_000_000;
/// Largest noise std the control offers.
pub const MAX_NOISE_STD: f32 = 50.0;

impl Settings {
    /// These settings with every section that a damaged or hand-edited settings file put out
    /// of the controls' ranges set back to its defaults, and one line per section that was
    /// (for a note to the user). Settings the app wrote itself come back unchanged.
    pub fn checked(mut self) -> (Settings, Vec<String>) {
        let defaults = Settings::default();
        let mut notes = Vec::new();
        let data = &self.data;
        if data.n == 0
            || data.n > MAX_REMEMBERED_N
            || !(data.noise_std.is_finite() && (0.0..=MAX_NOISE_STD).contains(&data.noise_std))
        {
            notes.push(format!(
                "data: N = {} and noise std {} are not allowed (N from 1 to {MAX_REMEMBERED_N}, \
                 noise from 0 to {MAX_NOISE_STD})",
                data.n, data.noise_std
            ));
            self.data = DataSettings {
                source: self.data.source.clone(),
                ..defaults.data.clone()
            };
        }
        if let Err(e) = self.masks.params.validate() {
            notes.push(format!("masks: {e}"));
            self.masks = defaults.masks.clone();
        }
        let model = &self.model;
        let checked = model
            .hyper
            .validate()
            .and_then(|()| model.prior.validate())
            .and_then(|()| crate::model::validate_run_length(model.sweeps, model.burn_in));
        let too_long = model.sweeps > super::panels::model::MAX_SWEEPS;
        if checked.is_err() || too_long {
            let why = checked.err().map_or_else(
                || format!("{} sweeps is more than the run length allows", model.sweeps),
                |e| e.to_string(),
            );
            notes.push(format!("model: {why}"));
            self.model = defaults.model.clone();
        }
        if !(1..=crate::chains::MAX_CHAINS).contains(&self.chains) {
            notes.push(format!(
                "chains: {} chains are not allowed (1 to {})",
                self.chains,
                crate::chains::MAX_CHAINS
            ));
            self.chains = DEFAULT_CHAINS;
        }
        if let Err(why) = self.painted.check(MAX_REMEMBERED_N) {
            notes.push(format!("painted masks: {why}"));
            self.painted = PaintedMasks::default();
        }
        (self, notes)
    }
}

/// The settings that decide a chain from sweep 0 (data, masks, M, the sampler's seed), with
/// the data source resolved to what it means now. Two settings with equal keys can share a
/// chain; the rest of [`Settings`] applies to a running chain at its next sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct RestartKey {
    /// What the data choice means (MNIST found where, which file).
    pub source: DataSource,
    pub data: DataSettings,
    pub masks: MaskSettings,
    pub painted: PaintedMasks,
    pub m: usize,
    pub seed: u64,
    /// Number of chains.
    pub chains: usize,
}

/// Which loaded dataset can be reused: the source, plus N and the seed for synthetic digits
/// (they are generated at exactly N).
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetKey {
    pub source: DataSource,
    pub synthetic: Option<(usize, u64)>,
}

/// Which built experiment (data with noise and masks) can be reused: everything in the
/// restart key but M and the sampler's seed.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentKey {
    source: DataSource,
    data: DataSettings,
    masks: MaskSettings,
    painted: PaintedMasks,
}

impl RestartKey {
    /// The key of `settings` with its data choice resolved to `source`.
    pub fn of(settings: &Settings, source: DataSource) -> Self {
        RestartKey {
            source,
            data: settings.data.clone(),
            masks: settings.masks.clone(),
            painted: settings.painted.clone(),
            m: settings.model.hyper.m,
            seed: settings.model.seed,
            chains: settings.chains,
        }
    }

    /// The names of the restart settings that differ from `other` (empty: same chain).
    pub fn reasons(&self, other: &RestartKey) -> Vec<&'static str> {
        let (a, b) = (self, other);
        let mut reasons = Vec::new();
        if a.data.source != b.data.source || a.source != b.source {
            reasons.push("data source");
        }
        let checks = [
            (a.data.n != b.data.n, "N"),
            (a.data.noise_std != b.data.noise_std, "noise"),
            (a.data.seed != b.data.seed, "data seed"),
            (a.data.tile_shifts != b.data.tile_shifts, "shifted copies"),
            (a.masks != b.masks, "masks"),
            (a.painted != b.painted, "painted masks"),
            (a.m != b.m, "M"),
            (a.seed != b.seed, "sampler seed"),
            (a.chains != b.chains, "number of chains"),
        ];
        reasons.extend(
            checks
                .iter()
                .filter(|(differs, _)| *differs)
                .map(|(_, r)| *r),
        );
        reasons
    }

    /// Puts this key's restart settings into `settings`, leaving the rest ("Keep this chain").
    pub fn revert(&self, settings: &mut Settings) {
        settings.data = self.data.clone();
        settings.masks = self.masks.clone();
        settings.painted = self.painted.clone();
        settings.model.hyper.m = self.m;
        settings.model.seed = self.seed;
        settings.chains = self.chains;
    }

    /// The loaded data this key can reuse.
    pub fn dataset(&self) -> DatasetKey {
        DatasetKey {
            source: self.source.clone(),
            synthetic: (self.source == DataSource::Synthetic)
                .then_some((self.data.n, self.data.seed)),
        }
    }

    /// The built experiment this key can reuse.
    pub fn experiment(&self) -> ExperimentKey {
        ExperimentKey {
            source: self.source.clone(),
            data: self.data.clone(),
            masks: self.masks.clone(),
            painted: self.painted.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(settings: &Settings) -> RestartKey {
        RestartKey::of(settings, DataSource::Synthetic)
    }

    #[test]
    fn reasons_name_what_needs_a_restart() {
        let a = Settings::default();
        assert!(key(&a).reasons(&key(&a)).is_empty());

        let mut live = a.clone();
        live.model.hyper.kappa0 = 0.5;
        live.model.sweeps = 500;
        assert!(key(&a).reasons(&key(&live)).is_empty());

        let mut b = a.clone();
        b.model.hyper.m = 7;
        b.masks.seed += 1;
        b.data.n = 300;
        b.painted.set(3, &[true; 4]);
        b.chains = 2;
        let reasons = key(&a).reasons(&key(&b));
        for r in ["N", "masks", "M", "painted masks", "number of chains"] {
            assert!(reasons.contains(&r), "{reasons:?} lacks {r}");
        }
        let moved = RestartKey::of(&a, DataSource::File("/elsewhere".into()));
        assert_eq!(key(&a).reasons(&moved), ["data source"]);
    }

    /// "Keep this chain" puts back every restart setting, painted masks included, and keeps
    /// the edits that apply at the next sweep.
    #[test]
    fn revert_restores_every_restart_setting_and_keeps_live_ones() {
        let chain = Settings::default();
        let mut edited = chain.clone();
        edited.data.n = 123;
        edited.data.noise_std = 7.0;
        edited.data.seed = 9;
        edited.masks.seed = 11;
        edited.painted.set(2, &[true; 4]);
        edited.model.hyper.m = 3;
        edited.model.seed = 99;
        edited.model.hyper.kappa0 = 0.25;
        edited.chains = 7;
        let chain_key = key(&chain);
        assert!(!chain_key.reasons(&key(&edited)).is_empty());
        chain_key.revert(&mut edited);
        assert!(chain_key.reasons(&key(&edited)).is_empty());
        assert_eq!(edited.chains, chain.chains);
        assert_eq!(
            edited.model.hyper.kappa0, 0.25,
            "a live setting was reverted"
        );
    }

    /// Settings the app writes come back unchanged; out-of-range sections go back to their
    /// defaults, each with a line saying why.
    #[test]
    fn checked_settings_repair_only_what_is_out_of_range() {
        let mut good = Settings::default();
        good.data.n = 1234;
        good.painted.set(2, &[true, false, true]);
        good.model.hyper.kappa0 = 0.5;
        let (same, notes) = good.clone().checked();
        assert_eq!(same, good);
        assert!(notes.is_empty(), "{notes:?}");

        let mut bad = good.clone();
        bad.data.noise_std = f32::NAN;
        bad.model.hyper.m = 0;
        bad.model.burn_in = bad.model.sweeps;
        bad.chains = 9;
        let (fixed, notes) = bad.checked();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert_eq!(fixed.chains, DEFAULT_CHAINS);
        assert_eq!(fixed.data, Settings::default().data);
        assert_eq!(fixed.model, Settings::default().model);
        assert_eq!(fixed.masks, good.masks);
        assert_eq!(fixed.painted, good.painted);
    }

    #[test]
    fn cache_keys_follow_the_restart_key() {
        let a = Settings::default();
        let mut b = a.clone();
        b.model.hyper.m = 5;
        assert_eq!(key(&a).experiment(), key(&b).experiment());
        b.masks.seed += 1;
        assert_ne!(key(&a).experiment(), key(&b).experiment());
        assert_eq!(key(&a).dataset(), key(&b).dataset());
        b.data.n = 50;
        // Synthetic digits are generated at exactly N.
        assert_ne!(key(&a).dataset(), key(&b).dataset());
    }
}
