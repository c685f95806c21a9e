//! Masks painted by hand in the mask editor, kept in the settings as overrides laid over the
//! generated masks: they survive restarts (a new M, a reset) and runs of the app.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::experiment::Experiment;
use egui::{RichText, Ui};
use serde::{Deserialize, Serialize};

/// Hand-painted masks by image number. Each is stored packed as a string of '0' and '1'
/// (one per pixel, row-major, '1' = missing) so the remembered settings stay small. The map is
/// shared: settings are cloned and compared every frame, and a mask file can paint thousands
/// of images, so a clone is a pointer copy and equal clones compare by pointer first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaintedMasks {
    images: Arc<BTreeMap<usize, String>>,
}

impl PaintedMasks {
    /// Records `missing` as the mask of image `image` (replacing an earlier one).
    pub fn set(&mut self, image: usize, missing: &[bool]) {
        let packed = missing.iter().map(|&m| if m { '1' } else { '0' }).collect();
        Arc::make_mut(&mut self.images).insert(image, packed);
    }

    /// The painted mask of `image`, if any.
    pub fn get(&self, image: usize) -> Option<Vec<bool>> {
        self.images
            .get(&image)
            .map(|s| s.chars().map(|c| c == '1').collect())
    }

    /// Number of painted images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// The painted image numbers, ascending.
    pub fn images(&self) -> impl Iterator<Item = usize> + '_ {
        self.images.keys().copied()
    }

    /// Lays the painted masks over `experiment`'s masks. Masks of images beyond N or of
    /// another image size are skipped; returns how many were applied.
    pub fn lay_over(&self, experiment: &mut Experiment) -> usize {
        let mut applied = 0;
        for image in self.images() {
            if let Some(mask) = self.get(image)
                && experiment.set_image_mask(image, &mask).is_ok()
            {
                applied += 1;
            }
        }
        applied
    }

    /// Checks masks read from a settings file: image numbers below `max_images`, masks made
    /// only of '0' and '1' and of at most a million pixels.
    pub fn check(&self, max_images: usize) -> Result<(), String> {
        for (image, packed) in self.images.iter() {
            if *image >= max_images {
                return Err(format!("image {image} is beyond the {max_images} allowed"));
            }
            if packed.len() > 1 << 20 || packed.chars().any(|c| c != '0' && c != '1') {
                return Err(format!(
                    "the mask of image {image} is not a string of 0 and 1"
                ));
            }
        }
        Ok(())
    }

    /// The painted masks that differ from `generated` (row-major N x D masks of `d` pixels):
    /// what turns generated masks into `wanted` ones (opening a saved session).
    pub fn difference(generated: &[bool], wanted: &[bool], d: usize) -> PaintedMasks {
        let mut out = PaintedMasks::default();
        if d == 0 || generated.len() != wanted.len() {
            return out;
        }
        for (i, (g, w)) in generated.chunks(d).zip(wanted.chunks(d)).enumerate() {
            if g != w {
                out.set(i, w);
            }
        }
        out
    }

    /// One line saying that painted masks are in effect, with a button to drop them.
    /// Returns true when the user cleared them.
    pub fn ui(&mut self, ui: &mut Ui) -> bool {
        if self.is_empty() {
            return false;
        }
        let list: Vec<String> = self.images().take(8).map(|i| format!("#{i}")).collect();
        let more = if self.len() > 8 { ", …" } else { "" };
        let mut cleared = false;
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "Painted masks in effect on {} image{}: {}{more}.",
                    self.len(),
                    if self.len() == 1 { "" } else { "s" },
                    list.join(", ")
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .on_hover_text(
                "These digits use the mask painted in the mask editor instead of the generated \
                 one; they are kept across restarts and runs of the app.",
            );
            if ui
                .small_button("Clear painted masks")
                .on_hover_text("Go back to the generated masks (restarts the chain)")
                .clicked()
            {
                self.images = Arc::default();
                cleared = true;
            }
        });
        cleared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_and_finds_differences() {
        let mut p = PaintedMasks::default();
        let mask = vec![true, false, false, true];
        p.set(3, &mask);
        assert_eq!(p.get(3), Some(mask.clone()));
        assert_eq!(p.get(2), None);
        let json = serde_json::to_string(&p).unwrap();
        let back: PaintedMasks = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);

        let generated = vec![false; 12];
        let mut wanted = generated.clone();
        wanted[5] = true;
        let diff = PaintedMasks::difference(&generated, &wanted, 4);
        assert_eq!(diff.images().collect::<Vec<_>>(), vec![1]);
        assert_eq!(diff.get(1), Some(vec![false, true, false, false]));
    }
}
