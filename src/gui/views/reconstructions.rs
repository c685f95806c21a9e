//! Reconstructions: one row per digit (masked | posterior mean | truth | posterior std) for all
//! N digits in a virtual list. The rows on screen are what the sampler is asked to summarise
//! (`LiveState::wanted_images`), so snapshots carry exactly what is seen.

use egui::{RichText, Vec2};

use super::slot_version;
use crate::gui::live::LiveState;
use crate::gui::texture::{
    ColourMap, TextureCache, cell_side, colour_bar, colour_image, fitted_size, masked_image,
    pixel_image, value_text,
};

/// Pixel values of digits: MNIST's 0..255 (noise pushes a few a little outside; they clamp).
const DIGIT_MAP: ColourMap = ColourMap::Gray { lo: 0.0, hi: 255.0 };
/// Width of the text column (index, label, RMSE).
const TEXT_COLUMN: f32 = 150.0;
/// Gap between images in a row.
const GAP: f32 = 8.0;

/// UI state of the reconstructions view.
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReconstructionsView {
    /// First row on screen, persisted so the list reopens where it was left.
    first_row: usize,
    /// The "go to image" field.
    go_to: usize,
    /// Scroll to `first_row` on the next frame (after a restart or a "go to").
    #[serde(skip)]
    scroll_pending: Option<usize>,
    /// Whether the persisted position has been applied since start.
    #[serde(skip)]
    restored: bool,
    /// The digit whose "Edit mask" button was pressed, for the app to open in the editor.
    #[serde(skip)]
    edit_request: Option<usize>,
}

impl ReconstructionsView {
    /// The digit the user asked to edit the mask of (taken once).
    pub fn take_edit_request(&mut self) -> Option<usize> {
        self.edit_request.take()
    }

    /// Makes image `index` the first row on the next frame.
    pub fn scroll_to(&mut self, index: usize) {
        self.go_to = index;
        self.scroll_pending = Some(index);
        self.restored = true;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, live: &mut LiveState, textures: &mut TextureCache) {
        super::restored_note(ui, live);
        let n = live.n_images();
        if !self.restored {
            self.restored = true;
            if self.first_row > 0 && self.first_row < n {
                self.scroll_pending = Some(self.first_row);
            }
        }
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Go to image:");
            ui.add(egui::DragValue::new(&mut self.go_to).range(0..=n.saturating_sub(1)))
                .labelled_by(label.id);
            if ui.button("Go").clicked() {
                self.scroll_to(self.go_to.min(n.saturating_sub(1)));
            }
            ui.separator();
            ui.label(format!("{n} digits; scroll to see them all."));
        });
        if n == 0 {
            ui.label("No images: load a dataset to see reconstructions.");
            return;
        }
        let std_map = ColourMap::Sequential {
            lo: 0.0,
            hi: live.std_scale(),
        };
        let has_snapshot = live.has_snapshot();
        if !has_snapshot {
            ui.label(
                RichText::new(
                    "The posterior mean and standard deviation appear with the sampler's first \
                     snapshot; until then only the masked digits and the truth are shown.",
                )
                .italics(),
            );
        } else if !live.posterior_started() {
            ui.label(
                RichText::new(format!(
                    "Burn-in (until sweep {}): the mean column shows the current sample and the \
                     std is 0 until posterior averaging starts.",
                    live.burn_in()
                ))
                .italics(),
            );
        }

        let available = ui.available_size();
        let side = cell_side(
            Vec2::new(
                available.x - TEXT_COLUMN - 4.0 * GAP - 20.0,
                available.y - 80.0,
            ),
            4,
            4,
            GAP,
            40.0,
            200.0,
        );
        header(ui, side, &std_map, has_snapshot);

        let row_height = side.max(72.0) + 6.0;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("reconstruction_rows")
            .auto_shrink([false, false]);
        if let Some(row) = self.scroll_pending.take() {
            let step = row_height + ui.spacing().item_spacing.y;
            area = area.vertical_scroll_offset(row as f32 * step);
        }
        let edit = &mut self.edit_request;
        let output = area.show_rows(ui, row_height, n, |ui, rows| {
            for index in rows.clone() {
                if draw_row(ui, live, textures, index, side, &std_map) {
                    *edit = Some(index);
                }
            }
            rows
        });
        let rows = output.inner;
        self.first_row = rows.start;
        live.set_visible_images(rows);
    }
}

/// Column titles and the std colour bar above the list.
fn header(ui: &mut egui::Ui, side: f32, std_map: &ColourMap, has_snapshot: bool) {
    ui.horizontal(|ui| {
        ui.add_sized(
            [TEXT_COLUMN, 18.0],
            egui::Label::new(RichText::new("Image").strong()),
        );
        for (title, short) in COLUMN_TITLES {
            ui.add_space(GAP - ui.spacing().item_spacing.x);
            column_title(ui, side, title, short);
        }
    });
    ui.horizontal(|ui| {
        ui.add_sized(
            [TEXT_COLUMN + 3.0 * (side + GAP), 14.0],
            // Wrapped within the three digit columns, so the colour bar after it stands
            // over the std column.
            egui::Label::new(
                RichText::new("Digits: black 0 to white 255; red pixels are missing.").small(),
            )
            .wrap(),
        );
        if has_snapshot {
            colour_bar(ui, std_map, side, "posterior std (shared scale)");
        }
    });
}

/// The image columns' titles, and a short form for columns too narrow for the full one.
const COLUMN_TITLES: [(&str, &str); 4] = [
    ("Masked", "Masked"),
    ("Posterior mean", "Mean"),
    ("Truth", "Truth"),
    ("Posterior std", "Std"),
];

/// A column's title in a cell exactly as wide as its images (`side`), so the titles stand over
/// their columns at any size: the full title when it fits, else the short one, with the full
/// one on hover. (Sized only from below, the titles were wider than small images and pushed
/// the later ones a column to the right, in projector mode at 1280 x 720.)
fn column_title(ui: &mut egui::Ui, side: f32, title: &str, short: &str) {
    let fits = crate::gui::wrap::text_width(ui, title) <= side;
    let text = if fits { title } else { short };
    let label = egui::Label::new(RichText::new(text).strong()).truncate();
    let response = ui.add_sized([side, 18.0], label);
    if !fits {
        response.on_hover_text(title);
    }
}

/// One digit: its text column and four images. Returns true when its "Edit mask" button
/// was clicked.
fn draw_row(
    ui: &mut egui::Ui,
    live: &LiveState,
    textures: &mut TextureCache,
    index: usize,
    side: f32,
    std_map: &ColourMap,
) -> bool {
    let mut edit = false;
    let (height, width) = live.image_shape();
    let size = fitted_size(side, (width, height));
    let fixed = slot_version(live, 0);
    let changing = slot_version(live, live.snapshot_version());
    let ctx = ui.ctx().clone();
    let truth = live.truth(index).unwrap_or(&[]);
    let mask = live.mask(index).unwrap_or(&[]);
    let summary = live.image_summary(index);
    ui.horizontal(|ui| {
        ui.allocate_ui(Vec2::new(TEXT_COLUMN, side), |ui| {
            ui.set_width(TEXT_COLUMN);
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(format!("#{index}")).strong());
                    edit = ui
                        .small_button("Edit mask")
                        .on_hover_text("Open this digit in the mask editor")
                        .clicked();
                });
                if let Some(label) = live.label(index) {
                    ui.label(format!("label {label}"));
                }
                let missing = mask.iter().filter(|&&m| m).count();
                ui.small(format!("{missing} missing pixels"));
                match summary.map(|s| s.rmse) {
                    Some(Some(rmse)) => {
                        ui.label(format!("RMSE {rmse:.2}")).on_hover_text(
                            "RMSE of the posterior mean on this digit's missing pixels",
                        );
                    }
                    Some(None) => {
                        ui.small("no RMSE (no missing pixel)");
                    }
                    None => {
                        ui.small("RMSE when summarised");
                    }
                }
                if let Some(base) = live.baseline_rmse_of(index) {
                    ui.small(format!("column means: {base:.2}"))
                        .on_hover_text("RMSE of filling the missing pixels with pixel means");
                }
            });
        });

        ui.add_space(GAP - ui.spacing().item_spacing.x);
        let tex = textures.texture(&ctx, &format!("recon/masked/{index}"), fixed, || {
            masked_image(truth, mask, width, height, &DIGIT_MAP)
        });
        pixel_image(
            ui,
            tex,
            size,
            (width, height),
            &format!("masked digit {index}"),
            |r, c| {
                let k = r * width + c;
                if mask.get(k).copied().unwrap_or(false) {
                    format!("row {r}, col {c}: missing")
                } else {
                    value_text(r, c, truth.get(k).copied())
                }
            },
        );

        ui.add_space(GAP - ui.spacing().item_spacing.x);
        match summary {
            Some(s) => {
                let tex = textures.texture(&ctx, &format!("recon/mean/{index}"), changing, || {
                    colour_image(&s.posterior_mean, width, height, &DIGIT_MAP)
                });
                pixel_image(
                    ui,
                    tex,
                    size,
                    (width, height),
                    &format!("posterior mean of digit {index}"),
                    |r, c| {
                        let k = r * width + c;
                        let text = value_text(r, c, s.posterior_mean.get(k).copied());
                        if mask.get(k).copied().unwrap_or(false) {
                            format!("{text} (imputed)")
                        } else {
                            format!("{text} (observed)")
                        }
                    },
                );
            }
            None => placeholder(ui, size, live.has_snapshot()),
        }

        ui.add_space(GAP - ui.spacing().item_spacing.x);
        let tex = textures.texture(&ctx, &format!("recon/truth/{index}"), fixed, || {
            colour_image(truth, width, height, &DIGIT_MAP)
        });
        pixel_image(
            ui,
            tex,
            size,
            (width, height),
            &format!("true digit {index}"),
            |r, c| value_text(r, c, truth.get(r * width + c).copied()),
        );

        ui.add_space(GAP - ui.spacing().item_spacing.x);
        match summary {
            Some(s) => {
                let tex = textures.texture(&ctx, &format!("recon/std/{index}"), changing, || {
                    colour_image(&s.posterior_std, width, height, std_map)
                });
                pixel_image(
                    ui,
                    tex,
                    size,
                    (width, height),
                    &format!("posterior std of digit {index}"),
                    |r, c| value_text(r, c, s.posterior_std.get(r * width + c).copied()),
                );
            }
            None => placeholder(ui, size, live.has_snapshot()),
        }
    });
    edit
}

/// An empty frame where an image will appear once the sampler has summarised it.
fn placeholder(ui: &mut egui::Ui, size: Vec2, has_snapshot: bool) {
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let stroke = egui::Stroke::new(1.0, ui.visuals().weak_text_color());
    ui.painter()
        .rect_stroke(rect, 2.0, stroke, egui::StrokeKind::Inside);
    let text = if has_snapshot {
        "next snapshot"
    } else {
        "no snapshot yet"
    };
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(11.0),
        ui.visuals().weak_text_color(),
    );
}
