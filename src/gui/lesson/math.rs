//! A small layout for the handful of formulas the lesson shows: symbols with subscripts and
//! superscripts (smaller text lowered or raised in one [`LayoutJob`]) and fractions (numerator
//! over a rule over denominator). egui has no formula renderer; this is enough for the
//! conditionals of the model.
//!
//! Runs on the UI thread within a frame; builds a few short text layouts, never blocks.

use egui::text::LayoutJob;
use egui::{Align, Color32, FontId, TextFormat, Ui};

/// One piece of a formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Upright text, e.g. "N(" or " + ".
    Text(String),
    /// A symbol with optional subscript and superscript, e.g. sigma_d^2.
    Script {
        base: String,
        sub: Option<String>,
        sup: Option<String>,
    },
    /// Numerator over denominator.
    Frac(Vec<Piece>, Vec<Piece>),
}

/// Plain text.
pub fn t(text: &str) -> Piece {
    Piece::Text(text.to_owned())
}

/// `base` with subscript `sub`.
pub fn sub(base: &str, sub: &str) -> Piece {
    Piece::Script {
        base: base.to_owned(),
        sub: Some(sub.to_owned()),
        sup: None,
    }
}

/// `base` with superscript `sup`.
pub fn sup(base: &str, sup: &str) -> Piece {
    Piece::Script {
        base: base.to_owned(),
        sub: None,
        sup: Some(sup.to_owned()),
    }
}

/// `base` with subscript `lo` and superscript `hi`.
pub fn subsup(base: &str, lo: &str, hi: &str) -> Piece {
    Piece::Script {
        base: base.to_owned(),
        sub: Some(lo.to_owned()),
        sup: Some(hi.to_owned()),
    }
}

/// `num` over `den`.
pub fn frac(num: Vec<Piece>, den: Vec<Piece>) -> Piece {
    Piece::Frac(num, den)
}

/// The plain-text reading of a formula (for screen readers and tests): `_` before a
/// subscript, `^` before a superscript, `(a)/(b)` for a fraction.
pub fn plain(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(s) => out.push_str(s),
            Piece::Script { base, sub, sup } => {
                out.push_str(base);
                if let Some(s) = sub {
                    out.push('_');
                    out.push_str(s);
                }
                if let Some(s) = sup {
                    out.push('^');
                    out.push_str(s);
                }
            }
            Piece::Frac(a, b) => {
                out.push_str(&format!("({})/({})", plain(a), plain(b)));
            }
        }
    }
    out
}

/// Draws one line of a formula at `size` points (scripts at 70 %).
pub fn show(ui: &mut Ui, pieces: &[Piece], size: f32) {
    let colour = ui.visuals().strong_text_color();
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        row(ui, pieces, size, colour);
    });
}

/// Draws `pieces` as one label that a wrapping row places whole, on the next line when the
/// rest of this one is too short (inside [`show`]'s own row, begun near a wrapping row's end,
/// it ran off the window's edge). Fractions are written flat, (a)/(b).
pub fn show_whole(ui: &mut Ui, pieces: &[Piece], size: f32) {
    let colour = ui.visuals().strong_text_color();
    let mut job = LayoutJob::default();
    for p in pieces {
        if let Piece::Frac(..) = p {
            append(
                &mut job,
                &plain(std::slice::from_ref(p)),
                size,
                Align::Center,
                colour,
            );
        } else {
            append_inline(&mut job, p, size, colour);
        }
    }
    ui.add(egui::Label::new(job).wrap_mode(egui::TextWrapMode::Extend));
}

fn row(ui: &mut Ui, pieces: &[Piece], size: f32, colour: Color32) {
    let mut job = LayoutJob::default();
    for p in pieces {
        match p {
            Piece::Frac(num, den) => {
                flush(ui, &mut job);
                fraction(ui, num, den, size, colour);
            }
            _ => append_inline(&mut job, p, size, colour),
        }
    }
    flush(ui, &mut job);
}

/// Appends a piece that sits on the line (text or a script; not a fraction) to `job`.
fn append_inline(job: &mut LayoutJob, piece: &Piece, size: f32, colour: Color32) {
    match piece {
        Piece::Text(s) => append(job, s, size, Align::Center, colour),
        Piece::Script { base, sub, sup } => {
            append(job, base, size, Align::Center, colour);
            if let Some(s) = sub {
                append(job, s, size * 0.7, Align::BOTTOM, colour);
            }
            if let Some(s) = sup {
                append(job, s, size * 0.7, Align::TOP, colour);
            }
        }
        Piece::Frac(..) => {}
    }
}

fn append(job: &mut LayoutJob, text: &str, size: f32, valign: Align, color: Color32) {
    job.append(
        text,
        0.0,
        TextFormat {
            font_id: FontId::proportional(size),
            color,
            valign,
            ..Default::default()
        },
    );
}

fn flush(ui: &mut Ui, job: &mut LayoutJob) {
    if !job.sections.is_empty() {
        ui.label(std::mem::take(job));
    }
}

fn fraction(ui: &mut Ui, num: &[Piece], den: &[Piece], size: f32, colour: Color32) {
    let inner = size * 0.85;
    let response = ui
        .vertical(|ui| {
            ui.spacing_mut().item_spacing.y = 1.0;
            let top = ui.horizontal(|ui| row(ui, num, inner, colour)).response;
            let rule_y = ui.cursor().top() + 1.0;
            ui.add_space(3.0);
            let bottom = ui.horizontal(|ui| row(ui, den, inner, colour)).response;
            (top.rect.union(bottom.rect), rule_y)
        })
        .inner;
    let (rect, y) = response;
    ui.painter().hline(
        (rect.left() - 2.0)..=(rect.right() + 2.0),
        y,
        egui::Stroke::new(1.2, colour),
    );
    ui.add_space(4.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_reads_scripts_and_fractions() {
        let f = vec![
            subsup("σ", "d", "2"),
            t(" = "),
            frac(vec![t("a + "), sub("x", "nd")], vec![sub("ν", "N")]),
        ];
        assert_eq!(plain(&f), "σ_d^2 = (a + x_nd)/(ν_N)");
    }
}
