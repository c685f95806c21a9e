//! UI tests of the mask editor, the draw-a-digit canvas, the PCA view and export: painting
//! with simulated pointer events, undo, the completion following the mask, files written and
//! read back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::data::{DataOrigin, Dataset};
use crate::experiment::{self, Experiment, ExperimentSpec};
use crate::masks::{MaskSet, paint_stroke};
use crate::model::SamplerSettings;
use crate::reconstruct::FactorParams;
use crate::sampler::{Event, RunState, Snapshot};
use crate::session::{DataRecord, Session};
use egui::{Pos2, Rect};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use egui_plot::PlotPoint;
use nalgebra::DMatrix;

use crate::gui::editor::{DrawDigit, DrawTool, EditorAction, Editors, MaskEditor, RecentParams};
use crate::gui::export::{
    SessionParts, session_traces, std_path_for, write_images_idx, write_masks_idx, write_png_crop,
    write_traces_csv,
};
use crate::gui::live::{LiveState, Traces};
use crate::gui::pca_view::{PcaPair, PcaView};

const H: usize = 8;
const W: usize = 10;
const M: usize = 3;

/// Deterministic, non-trivial parameters for H x W images.
fn params(seed: f32) -> FactorParams {
    let d = H * W;
    let w = DMatrix::from_fn(d, M, |i, k| {
        ((i * 7 + k * 13) as f32 * 0.31 + seed).sin() * 20.0
    });
    let mu = (0..d)
        .map(|i| 60.0 + 40.0 * (i as f32 * 0.17).cos())
        .collect();
    let sigma2 = (0..d).map(|i| 4.0 + (i % 5) as f32).collect();
    FactorParams::new(w, mu, sigma2).unwrap()
}

fn recent() -> RecentParams {
    let mut r = RecentParams::new(3);
    r.push(10, Arc::new(params(0.0)));
    r.push(11, Arc::new(params(0.4)));
    r
}

fn digit() -> Vec<f32> {
    (0..H * W).map(|k| ((k * 37) % 256) as f32).collect()
}

/// Screen position of the centre of pixel (row, col) of the canvas labelled `label`.
fn pixel_centre(rect: Rect, row: usize, col: usize) -> Pos2 {
    let cell = rect.width() / W as f32;
    Pos2::new(
        rect.left() + (col as f32 + 0.5) * cell,
        rect.top() + (row as f32 + 0.5) * cell,
    )
}

/// Presses at `from`, moves to `to`, releases: one stroke, one frame per event.
fn drag(harness: &mut Harness<'_, impl Sized>, from: Pos2, to: Pos2) {
    harness.hover_at(from);
    harness.drag_at(from);
    harness.step();
    let mid = from + (to - from) * 0.5;
    harness.hover_at(mid);
    harness.hover_at(to);
    harness.step();
    harness.drop_at(to);
    harness.step();
    harness.step();
}

struct EditorState {
    editor: MaskEditor,
    params: RecentParams,
    actions: Vec<EditorAction>,
}

fn editor_harness(mask: Vec<bool>) -> Harness<'static, EditorState> {
    let mut editor = MaskEditor::open(3, digit(), mask, (H, W)).unwrap();
    editor.brush_radius = 0.8;
    let state = EditorState {
        editor,
        params: recent(),
        actions: Vec::new(),
    };
    Harness::builder()
        .with_size([1100.0, 700.0])
        .build_ui_state(
            |ui, s: &mut EditorState| {
                if let Some(a) = s.editor.ui(ui, &s.params) {
                    s.actions.push(a);
                }
            },
            state,
        )
}

#[test]
fn painting_a_stroke_masks_the_pixels_and_updates_the_completion() {
    let mut h = editor_harness(vec![false; H * W]);
    h.step();
    let before = h
        .state()
        .editor
        .reconstruction()
        .cloned()
        .expect("a completion");
    assert!(
        before.std.iter().all(|&s| s == 0.0),
        "nothing masked: nothing uncertain"
    );
    assert_eq!(before.mean, digit());

    let rect = h.get_by_label("mask painting canvas").rect();
    drag(&mut h, pixel_centre(rect, 2, 1), pixel_centre(rect, 2, 6));

    // A horizontal stroke through row 2 from column 1 to 6 with radius 0.8 hides exactly those
    // pixels (neighbouring rows are 1 pixel away).
    let mut expected = vec![false; H * W];
    for col in 1..=6 {
        expected[2 * W + col] = true;
    }
    assert_eq!(h.state().editor.mask(), expected.as_slice());

    // The completion was recomputed at once: uncertain exactly where hidden, and no longer
    // the digit's own values there.
    let after = h
        .state()
        .editor
        .reconstruction()
        .cloned()
        .expect("a completion");
    let truth = digit();
    for (k, &hidden) in expected.iter().enumerate() {
        if hidden {
            assert!(
                after.std[k] > 0.0,
                "pixel {k} is hidden: its std must be positive"
            );
            assert_ne!(
                after.mean[k], truth[k],
                "pixel {k} is filled in by the model"
            );
        } else {
            assert_eq!(after.std[k], 0.0);
            assert_eq!(after.mean[k], truth[k]);
        }
    }
    // The completion equals the library's mixture over the kept samples.
    let direct = recent()
        .reconstruct(&digit(), &expected, true)
        .unwrap()
        .unwrap();
    assert_eq!(after, direct);
    h.check_accessibility();
}

#[test]
fn undo_restores_the_mask_exactly_and_redo_repaints_it() {
    // Start from an irregular mask so "restored" is not just "empty".
    let original: Vec<bool> = (0..H * W).map(|k| k % 7 == 2).collect();
    let mut h = editor_harness(original.clone());
    h.step();
    let rect = h.get_by_label("mask painting canvas").rect();
    drag(&mut h, pixel_centre(rect, 5, 0), pixel_centre(rect, 5, 9));
    let painted = h.state().editor.mask().to_vec();
    assert_ne!(painted, original);
    assert!(h.state().editor.has_unapplied_changes());

    h.get_by_label("Undo").click();
    h.step();
    h.step();
    assert_eq!(h.state().editor.mask(), original.as_slice());
    let rec = h.state().editor.reconstruction().cloned().unwrap();
    let direct = recent()
        .reconstruct(&digit(), &original, true)
        .unwrap()
        .unwrap();
    assert_eq!(rec, direct, "the completion follows the undo");

    h.get_by_label("Redo").click();
    h.step();
    assert_eq!(h.state().editor.mask(), painted.as_slice());

    // Erase mode reveals pixels again; clear then undo brings the painted mask back.
    h.get_by_label("Reveal pixels").click();
    h.step();
    drag(&mut h, pixel_centre(rect, 5, 0), pixel_centre(rect, 5, 9));
    assert!((0..W).all(|c| !h.state().editor.mask()[5 * W + c]));
    h.get_by_label("Clear mask").click();
    h.step();
    assert!(h.state().editor.mask().iter().all(|&m| !m));
    h.get_by_label("Undo").click();
    h.step();
    h.get_by_label("Undo").click();
    h.step();
    assert_eq!(h.state().editor.mask(), painted.as_slice());
}

#[test]
fn apply_hands_the_painted_mask_to_the_app() {
    let mut h = editor_harness(vec![false; H * W]);
    h.step();
    let rect = h.get_by_label("mask painting canvas").rect();
    drag(&mut h, pixel_centre(rect, 0, 0), pixel_centre(rect, 7, 9));
    let painted = h.state().editor.mask().to_vec();
    h.get_by_label("Apply to sampler").click();
    h.step();
    assert_eq!(
        h.state().actions,
        vec![EditorAction::Apply {
            image: 3,
            missing: painted
        }]
    );
    assert!(!h.state().editor.has_unapplied_changes());
}

#[test]
fn a_drawn_digit_gets_ink_then_a_mask_and_a_completion() {
    struct S {
        draw: DrawDigit,
        params: RecentParams,
    }
    let mut h = Harness::builder()
        .with_size([1100.0, 700.0])
        .build_ui_state(
            |ui, s: &mut S| s.draw.ui(ui, &s.params),
            S {
                draw: DrawDigit::new((H, W)),
                params: recent(),
            },
        );
    h.step();
    let rect = h.get_by_label("digit drawing canvas").rect();
    drag(&mut h, pixel_centre(rect, 1, 4), pixel_centre(rect, 6, 4));
    let ink = h.state().draw.drawing().ink.clone();
    // Full ink on the stroke's pixel centres, soft (partial) ink beside it, none far away.
    for row in 1..=6 {
        assert_eq!(ink[row * W + 4], 255.0, "row {row}");
    }
    assert!(
        ink.iter().any(|&v| v > 0.0 && v < 255.0),
        "anti-aliased edge"
    );
    assert!(ink[W * 7 + 9] == 0.0 && ink[0] == 0.0);
    assert!(h.state().draw.drawing().missing.iter().all(|&m| !m));

    h.get_by_label("Hide pixels").click();
    h.step();
    assert_eq!(h.state().draw.tool, DrawTool::Hide);
    drag(&mut h, pixel_centre(rect, 3, 0), pixel_centre(rect, 3, 9));
    let missing = h.state().draw.drawing().missing.clone();
    assert!((0..W).all(|c| missing[3 * W + c]));
    assert_eq!(
        h.state().draw.drawing().ink,
        ink,
        "masking does not change the ink"
    );
    let rec = h.state().draw.reconstruction().cloned().unwrap();
    for (std, &hidden) in rec.std.iter().zip(&missing) {
        assert_eq!(*std > 0.0, hidden);
    }
    h.get_by_label("Undo").click();
    h.step();
    assert!(h.state().draw.drawing().missing.iter().all(|&m| !m));
    assert_eq!(h.state().draw.drawing().ink, ink);
    h.check_accessibility();
}

fn small_dataset(n: usize) -> Dataset {
    Dataset {
        n,
        height: H,
        width: W,
        pixels: (0..n * H * W)
            .map(|k| (((k / (H * W)) * 31 + (k % (H * W)) * 7) % 256) as f32)
            .collect(),
        labels: Some((0..n).map(|i| (i % 10) as u8).collect()),
        origin: DataOrigin::Synthetic,
    }
}

fn small_experiment(n: usize) -> Arc<Experiment> {
    let spec = ExperimentSpec {
        n,
        ..ExperimentSpec::default()
    };
    Arc::new(experiment::build(&small_dataset(n), &spec).unwrap())
}

fn live_state(experiment: &Arc<Experiment>) -> LiveState {
    LiveState::new(Arc::clone(experiment), &SamplerSettings::default())
}

fn snapshot(iteration: usize, p: &FactorParams, n: usize) -> Snapshot {
    let d = H * W;
    let stats = crate::model::MeanStd {
        mean: p.mu().to_vec(),
        std: vec![0.0; d],
    };
    Snapshot {
        iteration,
        n,
        d,
        m: M,
        image_shape: Some((H, W)),
        w: p.w().as_slice().to_vec(),
        mu: p.mu().to_vec(),
        sigmasq: p.sigma2().to_vec(),
        posterior_mu: stats.clone(),
        posterior_sigmasq: stats,
        samples_in_moments: 0,
        burn_in_from: 0,
        images: Vec::new(),
        rmse_mean_impute: None,
        missing_fraction: 0.1,
        last_sweep: None,
        settings: SamplerSettings::default(),
        state: RunState::Running,
    }
}

#[test]
fn editors_follow_snapshots_and_open_live_images() {
    let n = 12;
    let experiment = small_experiment(n);
    let mut live = live_state(&experiment);
    let mut editors = Editors::default();
    editors.observe(&live);
    assert!(editors.params().is_empty(), "no snapshot yet");
    live.apply(Event::Snapshot(Box::new(snapshot(5, &params(0.0), n))));
    editors.observe(&live);
    live.apply(Event::Snapshot(Box::new(snapshot(6, &params(0.2), n))));
    editors.observe(&live);
    assert_eq!(editors.params().len(), 2);
    assert_eq!(editors.params().newest_iteration(), Some(6));
    assert!(editors.open_image(&live, n).is_err());
    editors.open_image(&live, 4).unwrap();
    let editor = editors.mask_editor_mut().unwrap();
    assert_eq!(editor.values(), live.truth(4).unwrap());
    assert_eq!(editor.mask(), live.mask(4).unwrap());
    editor.brush_radius = 0.8;
    editor.paint(&[(0.5, 0.5), (0.5, 9.5)]);
    let params = editors.params().clone();
    editors.mask_editor_mut().unwrap().refresh(&params);
    let rec = editors.mask_editor().unwrap().reconstruction().unwrap();
    assert!((0..W).all(|c| rec.std[c] > 0.0));

    // A restart with the painted mask applied: the editor learns the sampler has it.
    let painted = editors.mask_editor().unwrap().mask().to_vec();
    let mut masks = experiment.mask.clone();
    masks.image_mut(4).copy_from_slice(&painted);
    let spec = experiment.spec.clone();
    let rebuilt = experiment::build_with_masks(&small_dataset(n), &spec, masks).unwrap();
    let live2 = LiveState::new(Arc::new(rebuilt), &SamplerSettings::default());
    editors.observe(&live2);
    assert!(
        editors.params().is_empty(),
        "samples of the old chain are dropped"
    );
    assert!(!editors.mask_editor().unwrap().has_unapplied_changes());
}

#[test]
fn a_session_of_the_live_experiment_reopens_with_its_painted_masks() {
    let n = 12;
    let dataset = small_dataset(n);
    let mut masks = small_experiment(n).mask.clone();
    paint_stroke(
        masks.image_mut(7),
        H,
        W,
        &[(2.0, 0.0), (6.0, 9.0)],
        1.5,
        true,
    )
    .unwrap();
    let spec = ExperimentSpec {
        n,
        ..ExperimentSpec::default()
    };
    let experiment = Arc::new(experiment::build_with_masks(&dataset, &spec, masks).unwrap());
    let mut live = live_state(&experiment);
    live.apply(Event::Snapshot(Box::new(snapshot(9, &params(0.1), n))));
    let settings = SamplerSettings {
        seed: 99,
        ..SamplerSettings::default()
    };
    let data = DataRecord::Synthetic { n, seed: 4 };
    let session = SessionParts::of(
        data.clone(),
        Some(Arc::new(dataset.clone())),
        &settings,
        &live,
    )
    .build();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gibbsfa");
    session.save(&path).unwrap();
    let back = Session::load(&path).unwrap();
    assert_eq!(back.data, data);
    assert_eq!(back.settings, settings);
    assert_eq!(back.posterior.as_ref().map(|p| p.iteration), Some(9));
    assert_eq!(
        back.posterior.as_ref().map(|p| p.w.clone()),
        Some(params(0.1).w().as_slice().to_vec())
    );
    let rebuilt = back.rebuild(&dataset).unwrap();
    assert_eq!(rebuilt.mask, experiment.mask);
    assert_eq!(rebuilt.x_true, experiment.x_true);
}

#[test]
fn pca_view_computes_off_the_ui_thread_and_shows_both_curves() {
    let experiment = small_experiment(40);
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_ui_state(
            |ui, (view, experiment, data): &mut (PcaView, Arc<Experiment>, u64)| {
                view.ui(ui, experiment, *data)
            },
            (PcaView::default(), Arc::clone(&experiment), 1),
        );
    h.step();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().0.result().is_none() {
        assert!(Instant::now() < deadline, "PCA did not finish");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    h.step();
    let (of, pair) = h.state().0.result().unwrap();
    assert_eq!(of, 1);
    assert_eq!(pair.masked.len(), H * W);
    assert_eq!(pair.truth.len(), H * W);
    assert!(!h.state().0.is_computing());
    let _ = h.get_by_label_contains("Components needed for 90%");
    let _ = h.get_by_label("masked principal component 1");
    let _ = h.get_by_label("truth principal component 25");
    h.check_accessibility();

    // Same data and masks in a new experiment (say a new seed: the chain keeps the data
    // version): the PCA is kept, not redone.
    let copy = Arc::new((*experiment).clone());
    h.state_mut().1 = Arc::clone(&copy);
    h.step();
    assert!(!h.state().0.is_computing());
    assert_eq!(h.state().0.result().unwrap().0, 1);
    // Other masks: recomputed, and the result differs.
    let mut masks = experiment.mask.clone();
    masks.image_mut(0).iter_mut().for_each(|m| *m = true);
    let spec = experiment.spec.clone();
    let remasked =
        Arc::new(experiment::build_with_masks(&small_dataset(40), &spec, masks).unwrap());
    h.state_mut().1 = Arc::clone(&remasked);
    h.state_mut().2 = 2;
    h.step();
    assert!(h.state().0.is_computing());
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().0.is_computing() {
        assert!(Instant::now() < deadline, "PCA did not finish");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    let (of, pair) = h.state().0.result().unwrap();
    assert_eq!(of, 2);
    let before = PcaPair::compute(&experiment).unwrap();
    assert_ne!(pair.masked.cumulative, before.masked.cumulative);
    assert_eq!(pair.truth.cumulative, before.truth.cumulative);
}

#[test]
fn exports_write_files_that_read_back_equal() {
    let dir = tempfile::tempdir().unwrap();

    // Traces as CSV: sweeps joined, missing values empty, numbers exact.
    let traces = Traces {
        log_joint: (1..=4)
            .map(|s| PlotPoint::new(s as f64, -1000.0 / s as f64))
            .collect(),
        rmse_sample: (2..=4)
            .map(|s| PlotPoint::new(s as f64, 0.1 + s as f64))
            .collect(),
        rmse_mean: vec![PlotPoint::new(4.0, 1.0 / 3.0)],
    };
    let csv = dir.path().join("traces.csv");
    write_traces_csv(&csv, &traces).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        ["sweep", "log_joint", "rmse_sample", "rmse_posterior_mean"]
    );
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[1], ["1", "-1000", "", ""]);
    assert_eq!(rows[4][3].parse::<f64>().unwrap(), 1.0 / 3.0);
    assert_eq!(rows[3][1].parse::<f64>().unwrap(), -1000.0 / 3.0);

    // Images and masks as IDX.
    let n = 3;
    let values: Vec<f32> = (0..n * H * W).map(|k| k as f32 * 0.25 - 7.5).collect();
    let idx = dir.path().join("imputed-idx3-float");
    write_images_idx(&idx, (n, H, W), &values).unwrap();
    let back = crate::data::idx::read_idx_array(&idx).unwrap();
    assert_eq!(back.dims, vec![n, H, W]);
    assert_eq!(back.to_f32(), values);
    assert!(write_images_idx(&idx, (n, H, W), &values[1..]).is_err());
    assert_eq!(
        std_path_for(&idx),
        dir.path().join("imputed-idx3-float-std")
    );

    let mut masks = MaskSet::none_missing(n, H, W).unwrap();
    paint_stroke(
        masks.image_mut(1),
        H,
        W,
        &[(1.0, 1.0), (6.0, 8.0)],
        1.2,
        true,
    )
    .unwrap();
    let mask_path = dir.path().join("masks-idx3-ubyte");
    write_masks_idx(&mask_path, &masks).unwrap();
    let read = crate::masks::read_mask_file(&mask_path, n, H, W).unwrap();
    assert_eq!(read, masks);

    // PNG crop of a screenshot at 2 pixels per point.
    let size = [40, 30];
    let pixels = (0..size[0] * size[1])
        .map(|k| egui::Color32::from_rgb((k % 40) as u8 * 5, (k / 40) as u8 * 8, 77))
        .collect();
    let shot = egui::ColorImage::new(size, pixels);
    let png = dir.path().join("view.png");
    let rect = Rect::from_min_max(Pos2::new(5.0, 4.0), Pos2::new(15.0, 12.0));
    write_png_crop(&png, &shot, rect, 2.0).unwrap();
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (20, 16));
    assert_eq!(img.get_pixel(0, 0).0, [50, 64, 77, 255]);
    assert_eq!(img.get_pixel(19, 15).0, [(29 * 5) as u8, 23 * 8, 77, 255]);
    let outside = Rect::from_min_max(Pos2::new(50.0, 50.0), Pos2::new(60.0, 60.0));
    assert!(write_png_crop(&png, &shot, outside, 1.0).is_err());

    // The live traces become a session's traces, value for value.
    let for_session = session_traces(&traces);
    assert_eq!(
        for_session.log_joint,
        vec![-1000.0, -500.0, -1000.0 / 3.0, -250.0]
    );
    assert_eq!(for_session.rmse_posterior_mean, vec![1.0 / 3.0]);
}

/// The real app on a small synthetic problem: "Edit mask" in the reconstructions opens the
/// digit in the editor, a painted stroke applied goes to the running chain without a restart
/// (the sweep count goes on, the views show the new mask) and is kept in the settings.
#[test]
fn apply_in_the_app_continues_the_chain_with_the_painted_mask() {
    use crate::gui::app::GibbsApp;
    use crate::gui::views::ViewTab;
    use crate::gui::views::Workspace;
    use egui::accesskit::Role;

    let mut h = super::support::synthetic_app(120, 4, 100_000, 5, |app| {
        app.set_tab(ViewTab::Reconstructions)
    });
    let patience = Duration::from_secs(60);
    let step_until =
        |h: &mut Harness<'_, GibbsApp>, what: &str, done: &dyn Fn(&GibbsApp) -> bool| {
            let deadline = Instant::now() + patience;
            while !done(h.state()) {
                assert!(Instant::now() < deadline, "timed out waiting for {what}");
                h.step();
                std::thread::sleep(Duration::from_millis(5));
            }
        };
    let iteration = |a: &GibbsApp| a.live().map_or(0, |l| l.iteration());
    step_until(&mut h, "the first chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    h.get_by_role_and_label(Role::Button, "Start").click();
    step_until(&mut h, "ten sweeps", &|a| iteration(a) >= 10);
    let generation = h.state().live().map(|l| l.generation());

    // "Edit mask" on the first row opens image 0 in the mask editor. (Clicked through the
    // accessibility tree: rows can move between frames while snapshots arrive, and a
    // pointer click aimed at last frame's position could miss.)
    h.get_all_by_label("Edit mask")
        .next()
        .unwrap()
        .click_accesskit();
    h.step();
    h.step();
    assert_eq!(h.state().workspace(), Workspace::MaskEditor);
    assert_eq!(
        h.state().editors().mask_editor().map(|e| e.image()),
        Some(0)
    );
    let before = h.state().live().unwrap().mask(0).unwrap().to_vec();
    let rect = h.get_by_label("mask painting canvas").rect();
    let from = rect.left_center() + egui::vec2(rect.width() * 0.2, 0.0);
    let to = rect.right_center() - egui::vec2(rect.width() * 0.2, 0.0);
    drag(&mut h, from, to);
    let painted = h.state().editors().mask_editor().unwrap().mask().to_vec();
    assert_ne!(painted, before, "the stroke changed the mask");

    let at_apply = iteration(h.state());
    h.get_by_label("Apply to sampler").click();
    h.step();
    assert_eq!(
        h.state().live().unwrap().mask(0),
        Some(painted.as_slice()),
        "the views show the applied mask"
    );
    assert_eq!(h.state().settings().painted.get(0), Some(painted.clone()));
    assert_eq!(
        h.state().chain_settings().and_then(|s| s.painted.get(0)),
        Some(painted.clone())
    );
    step_until(&mut h, "sweeps after the apply", &|a| {
        iteration(a) >= at_apply + 5
    });
    // Same chain: no rebuild, the counter went on from where it was, the moments restarted.
    assert_eq!(h.state().live().map(|l| l.generation()), generation);
    assert!(!h.state().is_building());
    let snapshot_ok = |a: &GibbsApp| {
        a.live().and_then(|l| l.snapshot()).is_some_and(|s| {
            s.iteration > at_apply + 2 && s.samples_in_moments <= s.iteration - at_apply
        })
    };
    step_until(&mut h, "a snapshot after the apply", &snapshot_ok);
    let lj = h
        .state()
        .live()
        .unwrap()
        .traces()
        .log_joint
        .last()
        .unwrap()
        .y;
    assert!(lj.is_finite());
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());

    // A new M rebuilds the chain; the painted mask is laid over the generated ones again.
    h.state_mut().settings_mut().model.hyper.m = 3;
    step_until(&mut h, "the chain with M = 3", &|a| {
        a.live().map(|l| l.generation()) != generation
            && !a.is_building()
            && a.chain_settings().is_some_and(|s| s.model.hyper.m == 3)
    });
    assert_eq!(
        h.state().live().unwrap().mask(0),
        Some(painted.as_slice()),
        "the painted mask survived the restart"
    );
    h.step();
    assert!(
        h.query_all_by_label_contains("painted mask").count() >= 2,
        "the side panel and the status bar say painted masks are in effect"
    );
}

/// "Posterior mean and std as IDX" writes the chain's own posterior summary: the app asks the
/// sampler (RequestSummary), the answer lands in the live state, the exporter writes it.
#[test]
fn the_posterior_export_writes_the_chains_own_summary() {
    use crate::sampler::{Command, HandleOptions, SamplerHandle};

    let n = 6;
    let experiment = small_experiment(n);
    let mut settings = SamplerSettings {
        sweeps: 12,
        burn_in: 4,
        ..SamplerSettings::default()
    };
    settings.hyper.m = 2;
    let mut live = LiveState::new(Arc::clone(&experiment), &settings);
    let handle = SamplerHandle::spawn(
        experiment.problem.clone(),
        settings,
        HandleOptions::default(),
        None,
    )
    .unwrap();
    let ctx = egui::Context::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("posterior-idx3-float");
    let mut exporter = crate::gui::export::Exporter::default();
    exporter.request_summary_to(path.clone());
    assert!(exporter.take_summary_request());
    assert!(!exporter.take_summary_request(), "asked once");

    let deadline = Instant::now() + Duration::from_secs(30);
    while live.iteration() < 12 || live.run_state() != Some(RunState::Finished) {
        assert!(Instant::now() < deadline, "the run did not finish");
        for e in handle.drain(Duration::from_millis(5)) {
            live.apply(e);
        }
    }
    live.clear_full_summary();
    handle.send(Command::RequestSummary);
    while live.full_summary().is_none() {
        assert!(Instant::now() < deadline, "no summary");
        if let Some(e) = handle.recv_timeout(Duration::from_millis(20)) {
            live.apply(e);
        }
    }
    exporter.poll_summary(&ctx, &live);
    let outcome = exporter.wait_for_outcome(&ctx).expect("an outcome");
    assert!(
        outcome
            .as_ref()
            .is_ok_and(|m| m.contains("8 sweeps averaged")),
        "{outcome:?}"
    );

    let summary = live.full_summary().unwrap();
    assert_eq!(summary.samples_in_moments, 8);
    let mean = crate::data::idx::read_idx_array(&path).unwrap();
    assert_eq!(mean.dims, vec![n, H, W]);
    assert_eq!(mean.to_f32(), summary.mean);
    let std = crate::data::idx::read_idx_array(&std_path_for(&path)).unwrap();
    assert_eq!(std.to_f32(), summary.std);
    // Observed pixels keep their data with std 0; missing ones have a spread.
    let missing = &experiment.mask.missing;
    for (k, &miss) in missing.iter().enumerate() {
        if !miss {
            assert_eq!(summary.mean[k], experiment.x_true[k]);
            assert_eq!(summary.std[k], 0.0);
        }
    }
    assert!(
        missing
            .iter()
            .zip(&summary.std)
            .any(|(&m, &s)| m && s > 0.0)
    );
}

/// Opening a session in the app: its settings become the app's, its masks where they differ
/// from the generated ones become painted overrides, and the rebuilt chain uses them.
#[test]
fn opening_a_session_rebuilds_the_chain_with_its_masks() {
    use crate::gui::app::GibbsApp;

    // The default run length (200 sweeps, burn-in 100).
    let mut h = super::support::synthetic_app(60, 3, 200, 100, |_| {});
    let wait = |h: &mut Harness<'_, GibbsApp>, what: &str, done: &dyn Fn(&GibbsApp) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(h.state()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            h.step();
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait(&mut h, "the first chain", &|a| {
        a.live().is_some() && !a.is_building()
    });
    let mut session = h.state().current_session().unwrap();
    // The session was saved with another M and a hand-painted mask on image 4.
    session.settings.hyper.m = 2;
    let d = session.masks.d();
    let painted: Vec<bool> = (0..d).map(|j| j % 5 == 0).collect();
    session.masks.image_mut(4).copy_from_slice(&painted);
    let generation = h.state().live().map(|l| l.generation());
    let wanted = session.masks.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.gibbsfa");
    session.save(&path).unwrap();
    h.state_mut()
        .queue(crate::gui::command::AppCommand::OpenSession(path));
    wait(&mut h, "the session's chain", &|a| {
        a.live().map(|l| l.generation()) != generation && !a.is_building()
    });
    let app = h.state();
    assert_eq!(app.chain_settings().map(|s| s.model.hyper.m), Some(2));
    assert_eq!(app.live().map(|l| l.n_images()), Some(wanted.n));
    assert_eq!(
        app.settings().painted.images().collect::<Vec<_>>(),
        vec![4],
        "only the painted image differs from the generated masks"
    );
    assert_eq!(app.live().unwrap().mask(4), Some(painted.as_slice()));
    for i in 0..wanted.n {
        assert_eq!(
            app.live().unwrap().mask(i),
            Some(wanted.image(i)),
            "image {i}"
        );
    }
    assert!(app.errors().is_empty(), "{:?}", app.errors());
}

/// Both editors in a window of `size` points, showing the mask editor when `mask_tab`, else
/// Draw a digit; text wraps as in the app's central panel (the harness's own root Ui leaves a
/// long label on one line).
fn both_editors(size: [f32; 2], mask_tab: bool) -> Harness<'static, BothEditors> {
    Harness::builder().with_size(size).build_ui_state(
        |ui, s: &mut BothEditors| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Wrap);
            if s.mask_tab {
                s.editor.ui(ui, &s.params);
            } else {
                s.draw.ui(ui, &s.params);
            }
        },
        BothEditors {
            draw: DrawDigit::new((H, W)),
            editor: MaskEditor::open(3, digit(), vec![false; H * W], (H, W)).unwrap(),
            params: recent(),
            mask_tab,
        },
    )
}

struct BothEditors {
    draw: DrawDigit,
    editor: MaskEditor,
    params: RecentParams,
    mask_tab: bool,
}

/// In a window as small as projector mode's (853 x 480 points, the side panel's width taken
/// away: about 480 points for the view) and in a large one, both editors keep their brush
/// slider, canvas, completion and std inside the window, the canvas's title wrapping under it
/// (once the title widened the canvas's column and the std image and the slider's text ran
/// off the right edge).
#[test]
fn the_editors_fit_a_small_view() {
    for width in [480.0, 1100.0] {
        for mask_tab in [false, true] {
            let mut h = both_editors([width, 700.0], mask_tab);
            h.step();
            h.step();
            let (canvas, slider) = if mask_tab {
                ("mask painting canvas", "Brush radius (pixels)")
            } else {
                ("digit drawing canvas", "Ink brush radius (pixels)")
            };
            let slider = h
                .get_by_role_and_label(egui::accesskit::Role::Slider, slider)
                .rect();
            assert!(slider.right() <= width + 0.5, "the slider at {slider:?}");
            for label in [canvas, "model's completion", "posterior standard deviation"] {
                let rect = h.get_by_label(label).rect();
                assert!(
                    rect.right() <= width + 0.5,
                    "{label} at {rect:?} in a view {width} wide"
                );
            }
            let canvas = h.get_by_label(canvas).rect();
            let completion = h.get_by_label("model's completion").rect();
            assert!(
                completion.left() - canvas.right() < 40.0,
                "the completion at {completion:?} far right of the canvas at {canvas:?}"
            );
        }
    }
}

/// In a view as short as projector mode leaves the editors (1280 x 720 at 150%: about 150
/// points below their toolbar), the canvas keeps its smallest side and the preview's colour bar
/// and status line are scrolled to, not cut off at the window's bottom (they were, in the real
/// window, with nothing to scroll).
#[test]
fn the_editors_scroll_to_their_preview_in_a_short_view() {
    let size = [480.0, 260.0];
    for mask_tab in [false, true] {
        let mut h = both_editors(size, mask_tab);
        h.step();
        h.step();
        let status = h.get_by_label_contains("computed in").rect();
        assert!(
            status.bottom() > size[1],
            "the test's view should be too short for the whole editor: status at {status:?}"
        );
        // The wheel over the completion, as a person would scroll.
        h.hover_at(h.get_by_label("model's completion").rect().center());
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -400.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
            source: egui::MouseWheelSource::Wheel,
        });
        h.run_steps(10);
        let status = h.get_by_label_contains("computed in").rect();
        assert!(
            status.top() >= 0.0 && status.bottom() <= size[1] + 0.5,
            "the status line at {status:?}, out of a view {size:?} (mask tab {mask_tab})"
        );
        let canvas = if mask_tab {
            "mask painting canvas"
        } else {
            "digit drawing canvas"
        };
        let canvas = h.get_by_label(canvas).rect();
        assert!(
            canvas.width().max(canvas.height()) >= 139.5,
            "the canvas shrank to {canvas:?}"
        );
    }
}
