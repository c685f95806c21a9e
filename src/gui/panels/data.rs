//! The Data section: where the digits come from (MNIST found by the library's search order, a
//! file or folder the user picks, or the built-in synthetic digits, always labelled as such),
//! how many, how much noise, and the seed; plus downloading MNIST into the cache when it is
//! missing, on a background job with a progress bar and a cancel button.
//!
//! UI thread; file dialogs are asked for as commands (the app opens them on a job), and the
//! only file-system access, the probe for MNIST files in a chosen folder, runs once per path.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::data::DataSource;
use crate::data::download::{DownloadProgress, download_mnist_to_cache};
use crate::data::locate::{SearchPlaces, holds_mnist};
use crate::experiment::NOTEBOOK_SEED;
use egui::{RichText, Ui};
use serde::{Deserialize, Serialize};

use super::{Effect, row};
use crate::gui::command::Purpose;
use crate::gui::command::{AppCommand, Commands};
use crate::gui::job::{Job, Outcome};
use crate::gui::notes::ErrorNote;

/// Images in the MNIST test set: the slider's top end before the file has been read.
const MNIST_TEST_IMAGES: usize = 10_000;
/// Most synthetic digits offered: the protocol's size.
const MAX_SYNTHETIC: usize = 10_000;
/// Most images the N slider offers with "fill to N with shifted copies" on (60,000, MNIST's
/// training-set size, from the 10,000 test digits, with room to spare).
const MAX_SHIFTED_N: usize = 100_000;
/// Fewest images the N slider offers (fewer only when the data has fewer).
const MIN_N: usize = 100;

/// Which data the user chose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceChoice {
    /// MNIST where the library looks for it (`GIBBS_FA_DATA`, then the cache); the synthetic
    /// digits when it is nowhere.
    Auto,
    /// A file or folder the user picked (MNIST folder, IDX, CSV, or a folder of PNGs).
    Path(PathBuf),
    /// The built-in synthetic digits.
    Synthetic,
}

/// The Data settings, remembered between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataSettings {
    pub source: SourceChoice,
    /// Number of images N (the first N of the data).
    pub n: usize,
    /// Standard deviation of the noise added to every pixel (the protocol's 3).
    pub noise_std: f32,
    /// Seed of the noise (and of the synthetic digits, and of the shifts of the copies).
    pub seed: u64,
    /// When N is more than the data holds, fill up to N with copies of its images shifted by
    /// up to 2 pixels ([`crate::data::tile`]); otherwise N stops at the data's size.
    pub tile_shifts: bool,
}

impl Default for DataSettings {
    /// MNIST if found, N = 10,000 (see [`super::Settings::default`]), the protocol's noise.
    fn default() -> Self {
        DataSettings {
            source: SourceChoice::Auto,
            n: 10_000,
            noise_std: 3.0,
            seed: NOTEBOOK_SEED,
            tile_shifts: false,
        }
    }
}

/// The Data section's state that is not a setting: where the library looks, what it found,
/// the download and file-dialog jobs.
pub struct DataPanel {
    places: SearchPlaces,
    /// What `Auto` means now (re-checked after a download).
    auto_source: DataSource,
    /// Images in the data last loaded for the current source, when known.
    available: Option<usize>,
    /// The path being typed.
    path_text: String,
    download: Option<Job<PathBuf>>,
    /// The last path probed for MNIST files and whether it holds them. [`Self::resolve`] runs
    /// several times a frame; the probe reads the folder, so it runs once per chosen path.
    probe: RefCell<Option<(PathBuf, bool)>>,
    /// How many times the file system was probed (tests check the cache).
    probes: Cell<usize>,
}

impl DataPanel {
    /// Looks for MNIST the library's way (`GIBBS_FA_DATA`, then the cache).
    pub fn new() -> Self {
        let places = SearchPlaces::from_environment(None);
        let auto_source = places.resolve();
        DataPanel {
            places,
            auto_source,
            available: None,
            path_text: String::new(),
            download: None,
            probe: RefCell::new(None),
            probes: Cell::new(0),
        }
    }

    /// The data a setting means right now.
    pub fn resolve(&self, choice: &SourceChoice) -> DataSource {
        match choice {
            SourceChoice::Auto => self.auto_source.clone(),
            SourceChoice::Path(p) if self.probe_mnist(p) => DataSource::Mnist(p.clone()),
            SourceChoice::Path(p) => DataSource::File(p.clone()),
            SourceChoice::Synthetic => DataSource::Synthetic,
        }
    }

    /// Whether `path` holds MNIST, probed once per path (see `probe`).
    fn probe_mnist(&self, path: &Path) -> bool {
        if let Some((probed, mnist)) = &*self.probe.borrow()
            && probed == path
        {
            return *mnist;
        }
        let mnist = holds_mnist(path);
        self.probes.set(self.probes.get() + 1);
        *self.probe.borrow_mut() = Some((path.to_path_buf(), mnist));
        mnist
    }

    /// How many times the file system was probed for MNIST.
    #[cfg(test)]
    pub fn probe_count(&self) -> usize {
        self.probes.get()
    }

    /// Told by the app once a dataset was loaded: the N slider's top end.
    pub fn set_available(&mut self, available: Option<usize>) {
        self.available = available;
    }

    /// The largest N the slider offers for this source (with shifted copies or not).
    fn max_n(&self, source: &DataSource, tile_shifts: bool) -> usize {
        if tile_shifts {
            return MAX_SHIFTED_N.max(self.available.unwrap_or(0));
        }
        match (source, self.available) {
            (DataSource::Synthetic, _) => MAX_SYNTHETIC,
            (_, Some(n)) => n.max(1),
            _ => MNIST_TEST_IMAGES,
        }
    }

    /// Checks the background jobs; a finished download makes `Auto` mean the downloaded MNIST,
    /// a picked path becomes the source.
    fn poll_jobs(&mut self, settings: &mut DataSettings, errors: &mut Vec<ErrorNote>) {
        if let Some(job) = &mut self.download
            && let Some(outcome) = job.poll()
        {
            self.download = None;
            match outcome {
                Outcome::Finished(_) => {
                    self.auto_source = self.places.resolve();
                    settings.source = SourceChoice::Auto;
                }
                Outcome::Cancelled => {}
                Outcome::Failed(detail) => errors.push(ErrorNote::new(
                    "Downloading MNIST failed",
                    format!(
                        "{detail}\n\nThe app keeps working on the data it has. You can also \
                         download t10k-images-idx3-ubyte.gz yourself and pick its folder."
                    ),
                )),
            }
        }
    }

    /// Makes `path` the data source (a path typed, picked in a dialog or dropped).
    pub fn choose_path(&mut self, settings: &mut DataSettings, path: PathBuf) {
        self.path_text = path.display().to_string();
        // Chosen again: look again (files may have been added since).
        *self.probe.get_mut() = None;
        if settings.source != SourceChoice::Path(path.clone()) {
            self.available = None;
            settings.source = SourceChoice::Path(path);
        }
    }

    /// Draws the section. Problems (a failed download) are pushed to `errors`; file dialogs
    /// are asked for through `commands`.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut DataSettings,
        errors: &mut Vec<ErrorNote>,
        commands: &mut Commands,
        dialog_open: bool,
    ) {
        self.poll_jobs(settings, errors);
        let before = settings.source.clone();
        self.source_ui(ui, settings, commands, dialog_open);
        if settings.source != before {
            self.available = None;
        }
        ui.add_space(4.0);
        let source = self.resolve(&settings.source);
        let max_n = self.max_n(&source, settings.tile_shifts);
        // The slider's low end: 100, or all of a smaller data set (copies or not).
        let min_n = MIN_N.min(self.max_n(&source, false));
        if settings.n > max_n {
            settings.n = max_n;
        }
        egui::Grid::new("data_grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                row(
                    ui,
                    "Images N",
                    "How many images (the first N of the data). Logarithmic: drag for \
                     100 .. all, or click the number to type.",
                    Effect::Restart,
                    |ui| {
                        ui.add(egui::Slider::new(&mut settings.n, min_n..=max_n).logarithmic(true))
                    },
                );
                row(
                    ui,
                    "Shifted copies",
                    "When N is more than the data holds, fill up to N with copies of its images \
                     shifted by up to 2 pixels in each direction (random per copy, from the data \
                     seed): N = 60,000 from the 10,000 MNIST test digits. Synthetic digits are \
                     drawn at any N, all different.",
                    Effect::Restart,
                    |ui| ui.checkbox(&mut settings.tile_shifts, "fill to N"),
                );
                if let Some(have) = self.available
                    && settings.tile_shifts
                    && settings.n > have
                {
                    ui.label("");
                    ui.label(
                        RichText::new(format!(
                            "{} shifted copies of the {have} images",
                            settings.n - have
                        ))
                        .small(),
                    );
                    ui.end_row();
                }
                row(
                    ui,
                    "Noise std",
                    "Standard deviation of the Gaussian noise added to every pixel, so values \
                     are not integers (the notebook uses 3).",
                    Effect::Restart,
                    |ui| {
                        ui.add(
                            egui::Slider::new(&mut settings.noise_std, 0.0..=50.0).max_decimals(2),
                        )
                    },
                );
                row(
                    ui,
                    "Data seed",
                    "Seed of the noise (and of the synthetic digits).",
                    Effect::Restart,
                    |ui| ui.add(egui::DragValue::new(&mut settings.seed)),
                );
            });
    }

    fn source_ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut DataSettings,
        commands: &mut Commands,
        dialog_open: bool,
    ) {
        let auto_label = match &self.auto_source {
            DataSource::Mnist(_) => "MNIST (found automatically)",
            _ => "MNIST (not found: synthetic digits)",
        };
        ui.radio_value(&mut settings.source, SourceChoice::Auto, auto_label)
            .on_hover_ui(|ui| {
                ui.label(self.places.describe());
            });
        let is_path = matches!(settings.source, SourceChoice::Path(_));
        if ui.radio(is_path, "A file or folder").clicked() && !is_path {
            let path = PathBuf::from(self.path_text.trim());
            if !self.path_text.trim().is_empty() {
                self.choose_path(settings, path);
            } else {
                commands.push(AppCommand::Ask(Purpose::OpenData { folder: false }));
            }
        }
        ui.radio_value(
            &mut settings.source,
            SourceChoice::Synthetic,
            "Synthetic digits (built in, not MNIST)",
        );
        ui.add_space(4.0);
        match settings.source.clone() {
            SourceChoice::Auto => self.auto_status_ui(ui),
            SourceChoice::Path(path) => self.path_ui(ui, settings, &path, commands, dialog_open),
            SourceChoice::Synthetic => {
                ui.label(
                    RichText::new(
                        "Handwriting-like digits drawn by the app. Good for trying things \
                         offline; results are not MNIST results.",
                    )
                    .small(),
                );
            }
        }
        if settings.source != SourceChoice::Auto
            || !matches!(self.auto_source, DataSource::Mnist(_))
        {
            self.download_ui(ui);
        }
    }

    fn auto_status_ui(&mut self, ui: &mut Ui) {
        match &self.auto_source {
            DataSource::Mnist(path) => {
                ui.label(RichText::new(format!("Using {}", path.display())).small())
                    .on_hover_ui(|ui| {
                        ui.label(self.places.describe());
                    });
            }
            _ => {
                ui.label(
                    RichText::new(
                        "MNIST was not found in GIBBS_FA_DATA or the cache: running on the \
                         built-in synthetic digits (not MNIST).",
                    )
                    .small()
                    .color(ui.visuals().warn_fg_color),
                )
                .on_hover_ui(|ui| {
                    ui.label(self.places.describe());
                });
            }
        }
    }

    fn path_ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut DataSettings,
        path: &Path,
        commands: &mut Commands,
        dialog_open: bool,
    ) {
        if self.path_text.is_empty() {
            self.path_text = path.display().to_string();
        }
        ui.horizontal(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("path to a file or folder")
                    .desired_width(ui.available_width() - 50.0),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Use").on_hover_text("Load this path").clicked() || enter)
                && !self.path_text.trim().is_empty()
            {
                let typed = PathBuf::from(self.path_text.trim());
                self.choose_path(settings, typed);
            }
        });
        ui.horizontal(|ui| {
            let idle = !dialog_open;
            if ui
                .add_enabled(idle, egui::Button::new("Browse file…"))
                .on_hover_text("An IDX file (gzipped or raw) or a CSV file")
                .clicked()
            {
                commands.push(AppCommand::Ask(Purpose::OpenData { folder: false }));
            }
            if ui
                .add_enabled(idle, egui::Button::new("Browse folder…"))
                .on_hover_text("A folder holding MNIST files, or a folder of PNG images")
                .clicked()
            {
                commands.push(AppCommand::Ask(Purpose::OpenData { folder: true }));
            }
            if !idle {
                ui.spinner();
            }
        });
        ui.label(
            RichText::new(
                "MNIST folders, IDX files (.gz or raw), CSV files, or a folder of PNG images.",
            )
            .small()
            .weak(),
        );
    }

    fn download_ui(&mut self, ui: &mut Ui) {
        ui.add_space(4.0);
        match &self.download {
            Some(job) => {
                ui.label(RichText::new(job.status()).small());
                ui.horizontal(|ui| {
                    let bar = match job.fraction() {
                        Some(f) => egui::ProgressBar::new(f).show_percentage(),
                        None => egui::ProgressBar::new(0.0).animate(true),
                    };
                    ui.add(bar.desired_width(ui.available_width() - 70.0));
                    if ui
                        .button("Cancel")
                        .on_hover_text("Stop the download")
                        .clicked()
                    {
                        job.cancel();
                    }
                });
            }
            None if !matches!(self.auto_source, DataSource::Mnist(_)) => {
                let target = crate::data::locate::cache_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "the cache folder".into());
                if ui
                    .button("Download MNIST test set (10,000 digits, about 2 MB)")
                    .on_hover_text(format!(
                        "Fetches the MNIST test images and labels (checked by MD5) into \
                         {target}; afterwards the app finds them by itself."
                    ))
                    .clicked()
                {
                    self.start_download(ui.ctx());
                }
            }
            None => {}
        }
    }

    fn start_download(&mut self, ctx: &egui::Context) {
        self.download = Some(Job::spawn("downloading MNIST", ctx, |progress| {
            let flag = progress.cancel_flag();
            let mut report = |p: &DownloadProgress| {
                let per_file = match p.bytes_total {
                    Some(total) if total > 0 => p.bytes_done as f32 / total as f32,
                    _ => 0.0,
                };
                let count = p.file_count.max(1) as f32;
                let fraction = (p.file_index as f32 + per_file.min(1.0)) / count;
                let kb = p.bytes_done / 1024;
                progress.report(
                    Some(fraction),
                    format!(
                        "Downloading {} ({}/{}): {kb} KiB",
                        p.file,
                        p.file_index + 1,
                        p.file_count
                    ),
                );
            };
            let result = download_mnist_to_cache(&mut report, &flag);
            match result {
                Ok(path) => Ok(path),
                Err(_) if flag.load(Ordering::Relaxed) => Err("cancelled".into()),
                Err(err) => Err(err.to_string()),
            }
        }));
    }

    /// A one-line description of the data a setting means, for the status bar.
    pub fn describe(&self, choice: &SourceChoice) -> String {
        match self.resolve(choice) {
            DataSource::Mnist(_) => "MNIST".into(),
            DataSource::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            DataSource::Synthetic => "synthetic digits (not MNIST)".into(),
        }
    }

    /// The warning colour for synthetic data in the status bar.
    pub fn is_synthetic(&self, choice: &SourceChoice) -> bool {
        self.resolve(choice) == DataSource::Synthetic
    }
}

impl Default for DataPanel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolving a chosen folder many times (several times a frame) probes the file system
    /// once; choosing it again probes again.
    #[test]
    fn the_mnist_probe_runs_once_per_chosen_path() {
        let dir = std::env::temp_dir();
        let mut panel = DataPanel::new();
        let choice = SourceChoice::Path(dir.clone());
        let first = panel.resolve(&choice);
        for _ in 0..100 {
            assert_eq!(panel.resolve(&choice), first);
        }
        assert_eq!(panel.probe_count(), 1);
        let mut settings = DataSettings::default();
        panel.choose_path(&mut settings, dir);
        panel.resolve(&choice);
        assert_eq!(panel.probe_count(), 2);
    }
}
