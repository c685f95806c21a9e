//! What the app remembers between runs, read back with care: eframe keeps it as RON in its
//! storage file, which may be damaged, hand-edited or from another version. Reading never
//! panics; whatever cannot be used is replaced by defaults and the user is told.
//!
//! UI thread, once at start-up (eframe has already read the small file).

use serde::{Deserialize, Serialize};

use super::notes::ErrorNote;
use super::settings::Settings;
use super::views::{ViewTab, Views, Workspace};

/// What is remembered between runs (egui remembers the theme, zoom and window state itself).
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Persisted {
    pub(crate) settings: Settings,
    pub(crate) tab: Option<ViewTab>,
    pub(crate) workspace: Option<Workspace>,
    pub(crate) views: Views,
    pub(crate) show_frame_times: bool,
}

/// Reads the remembered state. A file that cannot be read, or whose settings are out of the
/// controls' ranges, gives defaults (for the damaged part only, where it can be told apart)
/// and a note saying so; never a panic.
pub(crate) fn remembered(storage: Option<&dyn eframe::Storage>) -> (Persisted, Vec<ErrorNote>) {
    let Some(storage) = storage else {
        return (Persisted::default(), Vec::new());
    };
    let Some(mut persisted) = eframe::get_value::<Persisted>(storage, eframe::APP_KEY) else {
        let notes = storage
            .get_string(eframe::APP_KEY)
            .map(|_| {
                ErrorNote::note(
                    "The remembered settings could not be read (the file is damaged or from \
                     another version); the defaults are used.",
                )
            })
            .into_iter()
            .collect();
        return (Persisted::default(), notes);
    };
    let (settings, problems) = std::mem::take(&mut persisted.settings).checked();
    persisted.settings = settings;
    let notes = (!problems.is_empty())
        .then(|| {
            ErrorNote::note(format!(
                "Some remembered settings were out of range and are back to their defaults:\n{}",
                problems.join("\n")
            ))
        })
        .into_iter()
        .collect();
    (persisted, notes)
}
