//! Messages for the user in one place: errors and notes, shown as dismissable banners above the
//! views. Everything that goes wrong anywhere in the app ends up here through [`Notes::push`],
//! which keeps the list short (repeats merged, oldest dropped past [`MAX_NOTES`]).
//!
//! Runs on the UI thread only; nothing here blocks.

use egui::{RichText, Ui};

/// Most banners kept; older ones go.
pub const MAX_NOTES: usize = 4;

/// How a banner is coloured: errors in the error colour, notes in the warning colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Note,
}

/// A problem (or a note) shown to the user in a dismissable banner.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorNote {
    pub title: String,
    pub detail: String,
    pub severity: Severity,
}

impl ErrorNote {
    /// An error: something the user asked for did not happen.
    pub fn new(title: impl Into<String>, detail: impl Into<String>) -> Self {
        ErrorNote {
            title: title.into(),
            detail: detail.into(),
            severity: Severity::Error,
        }
    }

    /// A note: it happened, with something the user should know (titled "Note").
    pub fn note(detail: impl Into<String>) -> Self {
        ErrorNote {
            title: "Note".into(),
            detail: detail.into(),
            severity: Severity::Note,
        }
    }
}

/// The banners on screen.
#[derive(Default)]
pub struct Notes {
    notes: Vec<ErrorNote>,
}

impl Notes {
    /// Adds a banner. One equal to a banner already shown is not repeated (it moves to the
    /// end); past [`MAX_NOTES`] the oldest goes.
    pub fn push(&mut self, note: ErrorNote) {
        self.notes.retain(|n| *n != note);
        self.notes.push(note);
        if self.notes.len() > MAX_NOTES {
            let extra = self.notes.len() - MAX_NOTES;
            self.notes.drain(..extra);
        }
    }

    /// Adds every banner of `notes`, in order.
    pub fn extend(&mut self, notes: impl IntoIterator<Item = ErrorNote>) {
        for note in notes {
            self.push(note);
        }
    }

    /// The banners, oldest first.
    pub fn all(&self) -> &[ErrorNote] {
        &self.notes
    }

    /// Draws the banners, each with a Dismiss button and its details on demand.
    pub fn ui(&mut self, ui: &mut Ui) {
        let mut dismissed = None;
        for (k, note) in self.notes.iter().enumerate() {
            let colour = match note.severity {
                Severity::Note => ui.visuals().warn_fg_color,
                Severity::Error => ui.visuals().error_fg_color,
            };
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.5, colour))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&note.title).strong().color(colour));
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui
                                .button("Dismiss")
                                .on_hover_text("Hide this message")
                                .clicked()
                            {
                                dismissed = Some(k);
                            }
                        });
                    });
                    let first = note.detail.lines().next().unwrap_or_default();
                    ui.label(first);
                    if note.detail.lines().count() > 1 {
                        egui::CollapsingHeader::new("Details")
                            .id_salt(("error_details", k))
                            .show(ui, |ui| {
                                ui.label(RichText::new(&note.detail).monospace().small());
                            });
                    }
                });
        }
        if let Some(k) = dismissed {
            self.notes.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_merge_and_the_list_stays_short() {
        let mut notes = Notes::default();
        for k in 0..10 {
            notes.push(ErrorNote::new(format!("problem {k}"), "detail"));
            notes.push(ErrorNote::new(format!("problem {k}"), "detail"));
        }
        assert_eq!(notes.all().len(), MAX_NOTES);
        assert_eq!(notes.all().last().unwrap().title, "problem 9");
        // A repeat of an older banner (not only of the last one) is not shown twice.
        notes.push(ErrorNote::new("problem 7", "detail"));
        let titles: Vec<_> = notes.all().iter().map(|n| n.title.as_str()).collect();
        assert_eq!(titles, ["problem 6", "problem 8", "problem 9", "problem 7"]);
        notes.extend((0..20).map(|k| ErrorNote::note(format!("n{k}"))));
        assert_eq!(notes.all().len(), MAX_NOTES);
    }
}
