//! The complete conditionals as formulas (see SPEC 4 and [`crate::model::conditionals`]), and
//! the shapes of every matrix in them at the lesson's N, D and M.
//!
//! Plain data for [`super::math`]; runs on the UI thread, never blocks.

use egui::Ui;

use super::math::{Piece, frac, show, show_whole, sub, subsup, sup, t};
use crate::lesson::{Conditional, MatrixShape};

/// The lines of `conditional`'s formula.
pub fn formula(conditional: Conditional) -> Vec<Vec<Piece>> {
    let wt = || subsup("w", "d", "T");
    let s2 = || subsup("σ", "d", "2");
    match conditional {
        Conditional::Z => vec![
            vec![
                sub("z", "n"),
                t(" | W, μ, "),
                sup("σ", "2"),
                t(", "),
                sub("x", "n"),
                t("  ~  N( "),
                sup("J", "−1"),
                t(" "),
                sup("W", "T"),
                t(" "),
                sup("S", "−1"),
                t("("),
                sub("x", "n"),
                t(" − μ),  "),
                sup("J", "−1"),
                t(" ),   n = 1 … N"),
            ],
            vec![
                t("J = "),
                sub("I", "M"),
                t(" + "),
                sup("W", "T"),
                t(" "),
                sup("S", "−1"),
                t(" W,   S = diag("),
                subsup("σ", "1", "2"),
                t(", …, "),
                subsup("σ", "D", "2"),
                t(")"),
            ],
        ],
        Conditional::W => vec![
            vec![
                sub("w", "d"),
                t(" | Z, "),
                sub("μ", "d"),
                t(", "),
                s2(),
                t(", "),
                sub("x", "d"),
                t("  ~  N( "),
                sup("B", "−1"),
                t(" "),
                sup("Z", "T"),
                t("("),
                sub("x", "d"),
                t(" − "),
                sub("μ", "d"),
                t("1),  "),
                s2(),
                t(" "),
                sup("B", "−1"),
                t(" ),   d = 1 … D"),
            ],
            vec![
                t("B = "),
                sup("Z", "T"),
                t("Z + "),
                subsup("Σ", "c", "−1"),
                t(",   "),
                subsup("Σ", "c", "−1"),
                t(" = "),
                sub("κ", "0"),
                sub("I", "M"),
                t(" (isotropic) or diag(1 / "),
                sub("τ", "0"),
                sup("ρ", "m"),
                t(") (decaying)"),
            ],
        ],
        Conditional::Mu => vec![vec![
            sub("μ", "d"),
            t(" | W, Z, "),
            s2(),
            t(", "),
            sub("x", "d"),
            t("  ~  N( "),
            frac(
                vec![
                    sub("Σ", "n"),
                    t(" ("),
                    sub("x", "nd"),
                    t(" − "),
                    wt(),
                    sub("z", "n"),
                    t(")"),
                ],
                vec![t("N + "), sub("λ", "0")],
            ),
            t(" ,  "),
            frac(vec![s2()], vec![t("N + "), sub("λ", "0")]),
            t(" )"),
        ]],
        Conditional::Sigmasq => vec![
            vec![
                s2(),
                t(" | W, Z, μ, X  ~  Scaled-Inv-"),
                sup("χ", "2"),
                t("( "),
                sub("ν", "N"),
                t(", "),
                subsup("s", "d", "2"),
                t(" ),   "),
                sub("ν", "N"),
                t(" = "),
                sub("ν", "0"),
                t(" + N + M + 1"),
            ],
            vec![
                subsup("s", "d", "2"),
                t(" = "),
                frac(
                    vec![
                        sub("ν", "0"),
                        subsup("σ", "0", "2"),
                        t(" + "),
                        sub("Σ", "n"),
                        t(" ("),
                        sub("x", "nd"),
                        t(" − "),
                        wt(),
                        sub("z", "n"),
                        t(" − "),
                        sub("μ", "d"),
                        sup(")", "2"),
                        t(" + "),
                        wt(),
                        subsup("Σ", "c", "−1"),
                        sub("w", "d"),
                        t(" + "),
                        sub("λ", "0"),
                        subsup("μ", "d", "2"),
                    ],
                    vec![sub("ν", "N")],
                ),
                t(",   i.e.  1 / "),
                s2(),
                t(" ~ Gamma( shape "),
                sub("ν", "N"),
                t("/2, rate "),
                sub("ν", "N"),
                subsup("s", "d", "2"),
                t("/2 )"),
            ],
        ],
        Conditional::Blocked => vec![
            vec![
                s2(),
                t(" | Z, "),
                sub("x", "d"),
                t("  ~  Scaled-Inv-"),
                sup("χ", "2"),
                t("( "),
                sub("ν", "0"),
                t(" + N, "),
                frac(
                    vec![
                        sub("ν", "0"),
                        subsup("σ", "0", "2"),
                        t(" + "),
                        subsup("x", "d", "T"),
                        sub("x", "d"),
                        t(" − "),
                        subsup("m", "d", "T"),
                        sub("L", "N"),
                        sub("m", "d"),
                    ],
                    vec![sub("ν", "0"), t(" + N")],
                ),
                t(" )"),
            ],
            vec![
                t("("),
                sub("w", "d"),
                t(", "),
                sub("μ", "d"),
                t(") | "),
                s2(),
                t(", Z, "),
                sub("x", "d"),
                t("  ~  N( "),
                sub("m", "d"),
                t(", "),
                s2(),
                subsup("L", "N", "−1"),
                t(" ),   "),
                sub("m", "d"),
                t(" = "),
                subsup("L", "N", "−1"),
                sup("Y", "T"),
                sub("x", "d"),
                t(",   "),
                sub("L", "N"),
                t(" = "),
                sup("Y", "T"),
                t("Y + "),
                sub("L", "0"),
                t(",   Y = [Z 1]"),
            ],
        ],
        Conditional::XMissing => vec![vec![
            sub("x", "nd"),
            t(" | "),
            sub("z", "n"),
            t(", "),
            sub("w", "d"),
            t(", "),
            sub("μ", "d"),
            t(", "),
            s2(),
            t("  ~  N( "),
            wt(),
            sub("z", "n"),
            t(" + "),
            sub("μ", "d"),
            t(", "),
            s2(),
            t(" )   for every missing pixel (n, d)"),
        ]],
        Conditional::Recentre => vec![
            vec![
                t("c | Z, W, μ, "),
                sup("σ", "2"),
                t("  ~  N( "),
                sup("P", "−1"),
                t(" b, "),
                sup("P", "−1"),
                t(" )"),
            ],
            vec![
                t("then  "),
                sub("z", "n"),
                t(" := "),
                sub("z", "n"),
                t(" − c  for every n,   μ := μ + W c"),
            ],
            vec![
                t("P = N "),
                sub("I", "M"),
                t(" + "),
                sub("λ", "0"),
                t(" "),
                sup("W", "T"),
                t(" "),
                sup("S", "−1"),
                t(" W"),
            ],
            vec![
                t("b = "),
                sub("Σ", "n"),
                t(" "),
                sub("z", "n"),
                t(" − "),
                sub("λ", "0"),
                t(" "),
                sup("W", "T"),
                t(" "),
                sup("S", "−1"),
                t(" μ"),
            ],
        ],
    }
}

/// A matrix name of [`Conditional::shapes`] as a formula symbol.
fn symbol(name: &str) -> Vec<Piece> {
    let head = name.split(" = ").next().unwrap_or(name);
    match head {
        "Xc" => vec![sub("X", "c")],
        "Sigma_c" => vec![sub("Σ", "c")],
        "mu" => vec![t("μ")],
        "sigma^2" => vec![sup("σ", "2")],
        "Zh" => vec![t("Y")],
        "L0" => vec![sub("L", "0")],
        "LN" => vec![sub("L", "N")],
        "m_d" => vec![sub("m", "d")],
        other => vec![t(other)],
    }
}

/// The shapes of the matrices of `conditional` at N, D, M, e.g. "Z: 500 × 10".
pub fn shapes_ui(ui: &mut Ui, conditional: Conditional, (n, d, m): (usize, usize, usize)) {
    let size = ui.style().text_styles[&egui::TextStyle::Body].size;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Shapes at N = {n}, D = {d}, M = {m}:"));
        for MatrixShape { name, rows, cols } in conditional.shapes(n, d, m) {
            let mut pieces = symbol(name);
            pieces.push(t(&format!(" {rows} × {cols};")));
            show_whole(ui, &pieces, size);
        }
    });
}

/// Draws the formula of `conditional`, `size` points tall.
pub fn formula_ui(ui: &mut Ui, conditional: Conditional, size: f32) {
    for line in formula(conditional) {
        show(ui, &line, size);
    }
}

#[cfg(test)]
mod tests {
    use super::super::math::plain;
    use super::*;

    #[test]
    fn every_conditional_has_a_formula_naming_what_it_draws() {
        for (c, drawn) in [
            (Conditional::Z, "z_n |"),
            (Conditional::W, "w_d |"),
            (Conditional::Mu, "μ_d |"),
            (Conditional::Sigmasq, "σ_d^2 |"),
            (Conditional::Blocked, "(w_d, μ_d) |"),
            (Conditional::XMissing, "x_nd |"),
            (Conditional::Recentre, "c |"),
        ] {
            let text: Vec<String> = formula(c).iter().map(|l| plain(l)).collect();
            assert!(text.iter().any(|l| l.contains(drawn)), "{c:?}: {text:?}");
        }
        assert_eq!(plain(&symbol("LN = Zh^T Zh + L0")), "L_N");
    }

    /// Every matrix's shape stays whole and inside a narrow view: a shape that does not fit
    /// the rest of a line goes to the next (once the last ones ran off the window's edge).
    #[test]
    fn shapes_wrap_whole_inside_a_narrow_view() {
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;
        for width in [300.0, 420.0, 900.0] {
            for c in [Conditional::Z, Conditional::W, Conditional::Blocked] {
                let mut h = Harness::builder()
                    .with_size([width, 400.0])
                    .build_ui(move |ui| shapes_ui(ui, c, (500, 784, 10)));
                h.run();
                let shapes: Vec<egui::Rect> = h
                    .query_all_by_label_contains(" × ")
                    .map(|n| n.rect())
                    .collect();
                assert_eq!(shapes.len(), c.shapes(500, 784, 10).len(), "{c:?}");
                let line = shapes[0].height();
                for rect in shapes {
                    assert!(rect.right() <= width, "{c:?} at width {width}: {rect:?}");
                    assert!(
                        rect.height() <= line + 0.5,
                        "{c:?}: a shape broken, {rect:?}"
                    );
                }
            }
        }
    }
}
