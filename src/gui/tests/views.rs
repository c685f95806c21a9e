//! Tests of the live state and the views: events fold into traces in order, the newest snapshot
//! wins, the reconstruction list asks for the rows on screen, every view draws on an empty state
//! and on a snapshot (including NaN and infinities, N below the grid, M below 25) and shows the
//! labels expected in the accessibility tree, and redrawing uploads no texture.

use std::sync::Arc;

use crate::data::{DataOrigin, Dataset};
use crate::experiment::{Experiment, ExperimentSpec, build};
use crate::model::{ImageSummary, MeanStd, SamplerSettings, StepTimes, SweepRecord};
use crate::sampler::{Event, RunState, Snapshot};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::gui::live::LiveState;
use crate::gui::texture::{ColourMap, INVALID, colour_image, max_abs};
use crate::gui::views::{ViewTab, Views};

const H: usize = 28;
const W: usize = 28;
const D: usize = H * W;

/// `n` stripy 28 x 28 images with labels, masked by the notebook's mix.
fn experiment(n: usize) -> Arc<Experiment> {
    let dataset = Dataset {
        n,
        height: H,
        width: W,
        pixels: (0..n * D).map(|k| ((k * 37) % 256) as f32).collect(),
        labels: Some((0..n).map(|i| (i % 10) as u8).collect()),
        origin: DataOrigin::Synthetic,
    };
    let spec = ExperimentSpec {
        n,
        ..ExperimentSpec::default()
    };
    Arc::new(build(&dataset, &spec).expect("a valid experiment"))
}

fn settings() -> SamplerSettings {
    SamplerSettings {
        sweeps: 100,
        burn_in: 50,
        ..SamplerSettings::default()
    }
}

fn record(iter: usize, log_joint: f64, mean: Option<f64>, seconds: f64) -> SweepRecord {
    SweepRecord {
        iter,
        log_joint,
        rmse_sample: Some(100.0 / iter as f64),
        rmse_posterior_mean: mean,
        seconds,
        steps: StepTimes::default(),
        fallbacks: Default::default(),
    }
}

/// A snapshot by hand: M factors with entries scaled by `scale`, summaries of `watched`.
fn snapshot(
    live: &LiveState,
    iteration: usize,
    m: usize,
    watched: &[usize],
    samples: usize,
    scale: f32,
) -> Snapshot {
    let vector = |f: fn(usize) -> f32| (0..D).map(f).collect::<Vec<f32>>();
    let images = watched
        .iter()
        .map(|&i| {
            let truth = live.truth(i).expect("watched image exists").to_vec();
            ImageSummary {
                index: i,
                current: truth.clone(),
                posterior_mean: truth.iter().map(|v| v * 0.9).collect(),
                posterior_std: (0..D).map(|k| (k % 5) as f32 * (i + 1) as f32).collect(),
                rmse: Some(10.0 + i as f64),
            }
        })
        .collect();
    Snapshot {
        iteration,
        n: live.n_images(),
        d: D,
        m,
        image_shape: Some((H, W)),
        w: (0..D * m).map(|k| ((k % 7) as f32 - 3.0) * scale).collect(),
        mu: vector(|k| (k % 28) as f32),
        sigmasq: vector(|k| 1.0 + (k % 3) as f32),
        posterior_mu: MeanStd {
            mean: vector(|k| (k % 28) as f32 * 4.0),
            std: vec![0.0; D],
        },
        posterior_sigmasq: MeanStd {
            mean: vector(|k| 4.0 + (k % 9) as f32),
            std: vec![0.0; D],
        },
        samples_in_moments: samples,
        burn_in_from: 0,
        images,
        rmse_mean_impute: Some(55.0),
        missing_fraction: live.missing_fraction(),
        last_sweep: None,
        settings: settings(),
        state: RunState::Running,
    }
}

/// What a harness draws: one tab of the views over a live state.
struct Screen {
    views: Views,
    live: LiveState,
    tab: ViewTab,
}

fn harness(live: LiveState, tab: ViewTab) -> Harness<'static, Screen> {
    sized_harness(live, tab, [1400.0, 900.0])
}

/// [`harness`] in a window of `size` points.
fn sized_harness(live: LiveState, tab: ViewTab, size: [f32; 2]) -> Harness<'static, Screen> {
    Harness::builder().with_size(size).build_ui_state(
        |ui, screen: &mut Screen| screen.views.ui(ui, screen.tab, &mut screen.live, None),
        Screen {
            views: Views::default(),
            live,
            tab,
        },
    )
}

#[test]
fn sweeps_fold_into_traces_in_order() {
    let mut live = LiveState::new(experiment(6), &settings());
    assert_eq!(live.iteration(), 0);
    for iter in 1..=60 {
        let mean = (iter > 50).then_some(5.0 + iter as f64);
        live.apply(Event::Sweep(record(
            iter,
            -1000.0 + iter as f64,
            mean,
            0.05,
        )));
    }
    // A repeated (out of order) record is ignored, so the traces stay sorted.
    live.apply(Event::Sweep(record(30, 0.0, None, 0.05)));
    let traces = live.traces();
    assert_eq!(traces.log_joint.len(), 60);
    assert_eq!(traces.rmse_sample.len(), 60);
    assert_eq!(traces.rmse_mean.len(), 10);
    for (k, p) in traces.log_joint.iter().enumerate() {
        assert_eq!(p.x, (k + 1) as f64);
        assert_eq!(p.y, -1000.0 + (k + 1) as f64);
    }
    assert_eq!(traces.rmse_mean[0].x, 51.0);
    assert_eq!(traces.rmse_mean[0].y, 56.0);
    assert_eq!(live.iteration(), 60);
    assert_eq!(live.last_record().map(|r| r.iter), Some(60));
    let speed = live.sweeps_per_second().expect("speed after sweeps");
    assert!((speed - 20.0).abs() < 1e-9, "speed {speed}");
    live.apply(Event::State(RunState::Paused));
    assert_eq!(live.run_state(), Some(RunState::Paused));
    live.apply(Event::Error("bad setting".into()));
    assert_eq!(live.last_error(), Some("bad setting"));
}

#[test]
fn baseline_is_the_column_mean_imputation_rmse() {
    let e = experiment(9);
    let live = LiveState::new(e.clone(), &settings());
    // Brute force over the missing entries, column by column.
    let (mut sq, mut count) = (0.0f64, 0usize);
    for j in 0..D {
        let observed: Vec<f64> = (0..e.n)
            .filter(|&i| !e.mask.missing[i * D + j])
            .map(|i| e.x_true[i * D + j] as f64)
            .collect();
        let mean = if observed.is_empty() {
            0.0
        } else {
            observed.iter().sum::<f64>() / observed.len() as f64
        };
        for i in (0..e.n).filter(|&i| e.mask.missing[i * D + j]) {
            sq += (e.x_true[i * D + j] as f64 - mean).powi(2);
            count += 1;
        }
    }
    assert!(count > 0, "the mix masks something");
    let expected = (sq / count as f64).sqrt();
    let got = live.baseline_rmse().expect("a baseline");
    assert!(
        (got - expected).abs() < 1e-9 * expected,
        "{got} vs {expected}"
    );
}

/// The traces mark the current burn-in: from the start, then, after a live change of schedule
/// or of the recentring move restarted it, from the sweep of the change (the sampler's
/// snapshot says which).
#[test]
fn the_burn_in_marked_follows_a_restart() {
    let mut live = LiveState::new(experiment(6), &settings());
    assert_eq!(live.burn_in_span(), (0, 50));
    let mut later = snapshot(&live, 230, 4, &[0], 0, 1.0);
    later.burn_in_from = 200;
    live.apply(Event::Snapshot(Box::new(later)));
    assert_eq!(live.burn_in_span(), (200, 250));
}

/// Through the burn-in the sampler reports the current sample as the posterior mean's RMSE; the
/// traces' summary does not call it a mean until averaging starts (sweep 51 here).
#[test]
fn the_summary_names_no_posterior_mean_during_the_burn_in() {
    let mut live = LiveState::new(experiment(6), &settings());
    for iter in 1..=40 {
        let sample = 100.0 / iter as f64;
        live.apply(Event::Sweep(record(iter, -1000.0, Some(sample), 0.05)));
    }
    let mut h = harness(live, ViewTab::Traces);
    h.run();
    h.get_by_label_contains("posterior mean from sweep 51");
    assert!(h.query_by_label_contains("(posterior mean)").is_none());
    for iter in 41..=60 {
        let mean = if iter > 50 { 7.5 } else { 100.0 / iter as f64 };
        h.state_mut()
            .live
            .apply(Event::Sweep(record(iter, -1000.0, Some(mean), 0.05)));
    }
    h.run();
    h.get_by_label_contains("7.50 (posterior mean)");
}

#[test]
fn newest_snapshot_replaces_older_ones() {
    let mut live = LiveState::new(experiment(6), &settings());
    assert!(!live.has_snapshot());
    let first = snapshot(&live, 3, 4, &[0, 1], 0, 1.0);
    let second = snapshot(&live, 7, 4, &[2, 3], 5, 1.0);
    live.apply(Event::Snapshot(Box::new(first)));
    assert_eq!(live.snapshot_version(), 1);
    assert!(live.image_summary(0).is_some());
    assert!(!live.posterior_started());
    live.apply(Event::Snapshot(Box::new(second)));
    assert_eq!(live.snapshot_version(), 2);
    assert_eq!(live.snapshot().map(|s| s.iteration), Some(7));
    assert_eq!(live.iteration(), 7);
    assert!(live.image_summary(0).is_none(), "old summaries are gone");
    assert_eq!(live.image_summary(3).map(|s| s.index), Some(3));
    assert!(live.posterior_started());
    assert_eq!(live.baseline_rmse(), Some(55.0));
    // The shared std scale is the largest std of the snapshot: 4 * (3 + 1).
    assert_eq!(live.std_scale(), 16.0);
}

#[test]
fn wanted_images_follow_the_scroll_position() {
    let mut h = harness(
        LiveState::new(experiment(40), &settings()),
        ViewTab::Reconstructions,
    );
    h.run();
    let first = h.state().live.wanted_images();
    assert_eq!(first.first(), Some(&0));
    assert!(first.len() >= 2 && first.len() < 40, "{first:?}");

    h.state_mut().views.scroll_reconstructions_to(20);
    h.run();
    let wanted = h.state().live.wanted_images();
    assert_eq!(wanted.first(), Some(&20), "{wanted:?}");
    assert!(h.query_by_label("masked digit 20").is_some());
    assert!(h.query_by_label("masked digit 0").is_none());

    // The mouse wheel moves the list back up, and the wanted rows with it.
    h.hover_at(egui::pos2(700.0, 600.0));
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 600.0),
        phase: egui::TouchPhase::Move,
        modifiers: egui::Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    // The pointer over an image keeps a tooltip animating: step rather than run to rest.
    h.run_steps(10);
    h.remove_cursor();
    h.run();
    let after = h.state().live.wanted_images();
    let start = *after.first().expect("rows on screen");
    assert!(start < 20, "scrolled up: {after:?}");
    assert!(h.query_by_label(&format!("masked digit {start}")).is_some());
}

#[test]
fn every_view_draws_before_any_snapshot() {
    for tab in ViewTab::ALL {
        let mut h = harness(LiveState::new(experiment(5), &settings()), tab);
        h.run();
        match tab {
            ViewTab::Traces => {
                h.get_by_label("Hide the first sweeps");
                h.get_by_label_contains("No sweeps yet");
            }
            ViewTab::Reconstructions => {
                h.get_by_label("masked digit 0");
                h.get_by_label("true digit 4");
                h.get_by_label_contains("until then only the masked digits");
                assert!(h.query_by_label("posterior mean of digit 0").is_none());
            }
            ViewTab::Factors => {
                h.get_by_label_contains("columns of W appear with the sampler's first snapshot");
            }
            ViewTab::MeanVariance => {
                h.get_by_label_contains("appear with the sampler's first snapshot");
            }
            ViewTab::Masks => {
                // N = 5 is below the default grid of 100: only 5 masks.
                h.get_by_label("masks of the first 5 digits");
                h.get_by_label_contains("Overall missing fraction");
            }
            ViewTab::Diagnostics => {
                h.get_by_label_contains("need 2 or more chains");
            }
        }
    }
}

/// Sixty sweeps (ten after burn-in) and a snapshot of M = 3 factors summarising all 5 images.
fn live_with_snapshot() -> LiveState {
    let mut live = LiveState::new(experiment(5), &settings());
    for iter in 1..=60 {
        let mean = (iter > 50).then_some(20.0);
        live.apply(Event::Sweep(record(iter, -5e5 + iter as f64, mean, 0.02)));
    }
    let snap = snapshot(&live, 60, 3, &[0, 1, 2, 3, 4], 10, 0.5);
    live.apply(Event::Snapshot(Box::new(snap)));
    live
}

#[test]
fn every_view_draws_a_snapshot() {
    for tab in ViewTab::ALL {
        let live = live_with_snapshot();
        let mut h = harness(live, tab);
        h.run();
        match tab {
            ViewTab::Traces => {
                h.get_by_label_contains("Sweep 60 of 100 (20 ms): log joint");
                h.get_by_label_contains("(column means)");
            }
            ViewTab::Reconstructions => {
                h.get_by_label("posterior mean of digit 0");
                h.get_by_label("posterior std of digit 4");
                h.get_by_label("RMSE 14.00");
                h.get_by_label_contains("posterior std (shared scale): colour bar from 0 to 20");
            }
            ViewTab::Factors => {
                // M = 3 is below the default of 25: three factors, no fourth.
                h.get_by_label("factor 0");
                h.get_by_label("factor 2");
                assert!(h.query_by_label("factor 3").is_none());
                h.get_by_label_contains("current sample at sweep 60");
                h.get_by_label_contains("each factor on its own symmetric range");
            }
            ViewTab::MeanVariance => {
                h.get_by_label("Posterior mean of mu (10 samples after burn-in)");
                h.get_by_label_contains("square root of the posterior mean of sigma^2");
                h.get_by_label_contains("mu (pixel intensity): colour bar");
                h.get_by_label("image of mu");
                h.get_by_label("image of sigma");
            }
            ViewTab::Masks => {
                h.get_by_label("masks of the first 5 digits");
            }
            ViewTab::Diagnostics => {
                h.get_by_label_contains("need 2 or more chains");
            }
        }
    }
}

#[test]
fn burn_in_snapshot_is_labelled_as_the_current_sample() {
    let mut live = LiveState::new(experiment(3), &settings());
    live.apply(Event::Snapshot(Box::new(snapshot(
        &live,
        5,
        2,
        &[0],
        0,
        1.0,
    ))));
    let mut h = harness(live, ViewTab::MeanVariance);
    h.run();
    h.get_by_label("mu: current sample at sweep 5 (burn-in)");
    h.get_by_label("sigma: current sample at sweep 5 (burn-in)");
    h.state_mut().tab = ViewTab::Reconstructions;
    h.run();
    h.get_by_label_contains("Burn-in (until sweep 50)");
    // A sampler error is shown with the run state, on the traces.
    h.state_mut()
        .live
        .apply(Event::Error("M must stay the same".into()));
    h.state_mut().tab = ViewTab::Traces;
    h.run();
    h.get_by_label("Sampler (running): M must stay the same");
}

#[test]
fn non_finite_values_are_drawn_not_fatal() {
    let mut live = LiveState::new(experiment(4), &settings());
    let mut snap = snapshot(&live, 9, 30, &[0, 1], 3, 1.0);
    snap.w[0] = f32::NAN;
    snap.w[5] = f32::INFINITY;
    snap.posterior_mu.mean[3] = f32::NEG_INFINITY;
    snap.posterior_sigmasq.mean[4] = f32::NAN;
    snap.posterior_sigmasq.mean[5] = -1.0;
    snap.images[0].posterior_mean[7] = f32::NAN;
    snap.images[0].posterior_std[8] = f32::INFINITY;
    live.apply(Event::Sweep(record(
        1,
        f64::NAN,
        Some(f64::INFINITY),
        f64::NAN,
    )));
    live.apply(Event::Snapshot(Box::new(snap)));
    assert!(live.std_scale().is_finite());
    assert_eq!(
        live.sweeps_per_second(),
        None,
        "no speed from a NaN duration"
    );
    let mut h = harness(live, ViewTab::Traces);
    for tab in ViewTab::ALL {
        h.state_mut().tab = tab;
        h.run();
    }
    h.state_mut().tab = ViewTab::Masks;
    h.run();
    h.get_by_label("masks of the first 4 digits");

    let map = ColourMap::diverging_over(&[f32::NAN, -2.0, f32::INFINITY, 1.0]);
    assert_eq!(map, ColourMap::Diverging { max_abs: 2.0 });
    assert_eq!(map.colour(f32::NAN), INVALID);
    assert_eq!(map.colour(f32::NEG_INFINITY), INVALID);
    let image = colour_image(&[0.0, f32::NAN], 2, 2, &map);
    // The missing values of a short slice are marked too.
    assert_eq!(image.pixels[1..], [INVALID, INVALID, INVALID]);
    assert_eq!(max_abs(&[f32::NAN, 0.0]), 1.0, "an empty range still maps");
}

#[test]
fn diverging_map_is_white_at_zero_and_signed() {
    let map = ColourMap::Diverging { max_abs: 3.0 };
    let zero = map.colour(0.0);
    assert!(
        zero.r() > 240 && zero.g() > 240 && zero.b() > 240,
        "{zero:?}"
    );
    let (neg, pos) = (map.colour(-3.0), map.colour(3.0));
    assert!(neg.b() > neg.r(), "negative is blue: {neg:?}");
    assert!(pos.r() > pos.b(), "positive is red: {pos:?}");
    assert_eq!(map.colour(-30.0), neg, "clamped beyond the range");
}

#[test]
fn redrawing_uploads_no_texture_until_data_changes() {
    let mut live = LiveState::new(experiment(12), &settings());
    live.apply(Event::Snapshot(Box::new(snapshot(
        &live,
        2,
        5,
        &[0, 1, 2, 3, 4, 5],
        0,
        1.0,
    ))));
    let mut h = harness(live, ViewTab::Reconstructions);
    for tab in ViewTab::ALL {
        h.state_mut().tab = tab;
        h.run();
        let uploads = h.state().views.texture_uploads();
        assert!(uploads > 0 || tab == ViewTab::Traces);
        h.run_steps(5);
        assert_eq!(
            h.state().views.texture_uploads(),
            uploads,
            "{tab:?} re-uploaded"
        );
    }
    // A new snapshot re-uploads the images that show it, and only once.
    h.state_mut().tab = ViewTab::Factors;
    h.run();
    let before = h.state().views.texture_uploads();
    let screen = h.state_mut();
    let next = snapshot(&screen.live, 3, 5, &[0, 1], 0, 2.0);
    screen.live.apply(Event::Snapshot(Box::new(next)));
    h.run();
    let after = h.state().views.texture_uploads();
    assert_eq!(after - before, 5, "one upload per factor");
    h.run_steps(3);
    assert_eq!(h.state().views.texture_uploads(), after);
    assert!(h.state().views.texture_slots() > 0);
}

#[test]
fn hovering_a_pixel_shows_its_row_column_and_value() {
    let mut live = LiveState::new(experiment(3), &settings());
    live.apply(Event::Snapshot(Box::new(snapshot(
        &live,
        4,
        2,
        &[0, 1, 2],
        1,
        1.0,
    ))));
    let truth = live.truth(0).expect("image 0").to_vec();
    let mut h = harness(live, ViewTab::Reconstructions);
    h.run();
    let rect = h.get_by_label("true digit 0").rect();
    // The centre of pixel (row 3, col 5) of a 28 x 28 image.
    let pos = egui::pos2(
        rect.left() + rect.width() * (5.5 / W as f32),
        rect.top() + rect.height() * (3.5 / H as f32),
    );
    h.hover_at(pos);
    h.run_steps(4);
    let expected = format!("row 3, col 5: {:.3}", truth[3 * W + 5]);
    h.get_by_label_contains(&expected);

    // Factors: the tooltip names the factor too.
    h.remove_cursor();
    h.state_mut().tab = ViewTab::Factors;
    h.run();
    let rect = h.get_by_label("factor 1").rect();
    h.hover_at(rect.left_top() + egui::vec2(1.0, 1.0));
    h.run_steps(4);
    h.get_by_label_contains("factor 1, row 0, col 0:");
}

#[test]
fn per_image_baselines_add_up_to_the_overall_one() {
    let e = experiment(10);
    let live = LiveState::new(e.clone(), &settings());
    let (mut sq, mut count) = (0.0f64, 0usize);
    for i in 0..e.n {
        let missing = e.mask.image(i).iter().filter(|&&m| m).count();
        match live.baseline_rmse_of(i) {
            Some(r) => {
                assert!(missing > 0);
                sq += r * r * missing as f64;
                count += missing;
            }
            None => assert_eq!(missing, 0),
        }
    }
    let overall = live.baseline_rmse().expect("something is missing");
    let combined = (sq / count as f64).sqrt();
    assert!(
        (overall - combined).abs() < 1e-9 * overall,
        "{overall} vs {combined}"
    );
    assert_eq!(live.baseline_rmse_of(10), None, "out of range");
}

#[test]
fn the_scroll_position_survives_a_restart() {
    let mut h = harness(
        LiveState::new(experiment(40), &settings()),
        ViewTab::Reconstructions,
    );
    h.run();
    h.state_mut().views.scroll_reconstructions_to(25);
    h.run();
    let saved = serde_json::to_string(&h.state().views).expect("views serialise");
    let restored: Views = serde_json::from_str(&saved).expect("views deserialise");
    let mut h = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(
            |ui, screen: &mut Screen| screen.views.ui(ui, screen.tab, &mut screen.live, None),
            Screen {
                views: restored,
                live: LiveState::new(experiment(40), &settings()),
                tab: ViewTab::Reconstructions,
            },
        );
    h.run();
    assert_eq!(h.state().live.wanted_images().first(), Some(&25));
    // Missing fields fall back to defaults rather than failing.
    let _: Views = serde_json::from_str("{}").expect("defaults");
}

#[test]
fn colour_range_and_overlay_toggles_redraw_their_images() {
    let mut live = LiveState::new(experiment(6), &settings());
    live.apply(Event::Snapshot(Box::new(snapshot(
        &live,
        3,
        4,
        &[0],
        1,
        1.0,
    ))));
    let mut h = harness(live, ViewTab::Factors);
    h.run();
    h.get_by_label_contains("each factor on its own symmetric range");
    let before = h.state().views.texture_uploads();
    h.get_by_label("Same colour range for all factors").click();
    h.run();
    h.get_by_label_contains("shared by all factors");
    assert_eq!(
        h.state().views.texture_uploads() - before,
        4,
        "each factor redrawn once"
    );

    h.state_mut().tab = ViewTab::Masks;
    h.run();
    h.get_by_label_contains("missing pixels white, observed black");
    let before = h.state().views.texture_uploads();
    h.get_by_label("Show the digit under the mask").click();
    h.run();
    h.get_by_label_contains("missing pixels in red over the digit");
    assert_eq!(h.state().views.texture_uploads() - before, 1, "one atlas");
}

#[test]
fn a_real_sampler_run_folds_and_draws() {
    use crate::model::Hyperparameters;
    use crate::sampler::{Command, HandleOptions, SamplerHandle};
    use std::time::{Duration, Instant};

    let e = experiment(12);
    let settings = SamplerSettings {
        hyper: Hyperparameters {
            m: 4,
            ..Hyperparameters::default()
        },
        sweeps: 30,
        burn_in: 10,
        ..SamplerSettings::default()
    };
    let mut live = LiveState::new(e.clone(), &settings);
    let options = HandleOptions {
        watch: live.wanted_images(),
        image_shape: Some((H, W)),
        ..HandleOptions::default()
    };
    let mut handle = SamplerHandle::spawn(e.problem.clone(), settings.clone(), options, None)
        .expect("the sampler starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.run_state() != Some(RunState::Finished) || !live.has_snapshot() {
        assert!(Instant::now() < deadline, "the run did not finish");
        if let Some(event) = handle.recv_timeout(Duration::from_millis(50)) {
            live.apply(event);
        }
    }
    handle.send(Command::RequestSnapshot);
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && live.snapshot().map(|s| s.iteration) != Some(30) {
        if let Some(event) = handle.recv_timeout(Duration::from_millis(50)) {
            live.apply(event);
        }
    }
    handle.stop();
    assert_eq!(live.iteration(), 30);
    let traces = live.traces();
    assert_eq!(traces.log_joint.len(), 30);
    assert!(traces.log_joint.windows(2).all(|w| w[1].x == w[0].x + 1.0));
    assert!(live.posterior_started());
    assert!(
        live.image_summary(0).is_some(),
        "watched images are summarised"
    );
    let baseline = live.baseline_rmse().expect("a baseline");
    assert!(baseline.is_finite() && baseline > 0.0);

    let mut h = harness(live, ViewTab::Traces);
    for tab in ViewTab::ALL {
        h.state_mut().tab = tab;
        h.run();
    }
    h.state_mut().tab = ViewTab::Factors;
    h.run();
    h.get_by_label("factor 3");
    assert!(h.query_by_label("factor 4").is_none());
    h.state_mut().tab = ViewTab::Reconstructions;
    h.run();
    h.get_by_label("posterior mean of digit 0");
}

/// The reconstruction list's column titles stand over their images' columns and the std colour
/// bar over the std column, at a large window and at sizes whose images are narrower than the
/// full titles (where "Posterior mean" once pushed "Truth" a column to the right).
#[test]
fn column_titles_stand_over_their_images_at_any_size() {
    for size in [[1400.0, 900.0], [760.0, 520.0], [560.0, 420.0]] {
        let mut h = sized_harness(live_with_snapshot(), ViewTab::Reconstructions, size);
        h.run();
        h.run();
        let left = |label: &str| h.get_by_label(label).rect().left();
        let column = |full: &str, short: &str| {
            h.query_by_label(full)
                .or_else(|| h.query_by_label(short))
                .unwrap_or_else(|| panic!("no title {full} or {short} at {size:?}"))
                .rect()
        };
        for ((full, short), image) in [
            (("Masked", "Masked"), "masked digit 0"),
            (("Posterior mean", "Mean"), "posterior mean of digit 0"),
            (("Truth", "Truth"), "true digit 0"),
            (("Posterior std", "Std"), "posterior std of digit 0"),
        ] {
            let title = column(full, short);
            let image = h.get_by_label(image).rect();
            assert!(
                (title.left() - image.left()).abs() < 2.0 && title.right() <= image.right() + 2.0,
                "{full} at {size:?}: title {title:?}, images {image:?}"
            );
        }
        let bar = left("posterior std (shared scale)");
        let std_column = left("posterior std of digit 0");
        assert!(
            (bar - std_column).abs() < 2.0,
            "colour bar at {bar}, std column at {std_column}, at {size:?}"
        );
    }
}

/// The Mean and variance tab's two images and their titles stay inside the window at any size
/// (a long title once widened the first column and pushed the sigma image off the right edge).
#[test]
fn mean_and_variance_images_stay_inside_the_window() {
    for size in [[1400.0, 900.0], [700.0, 500.0], [480.0, 420.0]] {
        let mut h = sized_harness(live_with_snapshot(), ViewTab::MeanVariance, size);
        h.run();
        h.run();
        let mu = h.get_by_label("image of mu").rect();
        let sigma = h.get_by_label("image of sigma").rect();
        let title = h.get_by_label_contains("sigma: square root").rect();
        assert!(mu.right() < sigma.left(), "{size:?}: {mu:?} then {sigma:?}");
        for (what, rect) in [("sigma image", sigma), ("sigma title", title)] {
            assert!(
                rect.right() <= size[0] + 0.5,
                "{what} at {rect:?} in a window {size:?}"
            );
        }
    }
}

/// The diagnostics of 4 chains by hand: mu_d's per-pixel R-hat up to `mu_max`, no scalars.
fn diagnostics_with_mu(mu_max: f64) -> crate::chains::ChainsDiagnostics {
    use crate::diagnostics::RhatSummary;
    crate::chains::ChainsDiagnostics {
        chains: 4,
        draws_per_chain: 100,
        since: 0,
        restarts: vec![0; 4],
        scalars: Vec::new(),
        pixel_split: true,
        missing: RhatSummary::new(&[1.0, 1.005]),
        sigmasq: RhatSummary::new(&[1.0, 1.005]),
        mu: RhatSummary::new(&[1.0, mu_max]),
        images: crate::chains::RhatImages {
            sigmasq: vec![1.0; D],
            mu: vec![1.0; D],
            digits: Vec::new(),
        },
    }
}

/// The ridge hint carries a button that asks the app for the recentring move (taken once),
/// and neither appears when mu_d's chains agree or the move is already on.
#[test]
fn the_ridge_hint_offers_the_recentring_move() {
    use crate::chains::ChainsEvent;
    use crate::gui::chains_live::ChainsLive;

    struct Both {
        views: Views,
        live: LiveState,
        chains: ChainsLive,
    }
    let with = |mu_max: Option<f64>, recentre: bool| {
        let model = SamplerSettings {
            recentre,
            ..settings()
        };
        let mut chains = ChainsLive::new(4, &model);
        match mu_max {
            Some(mu_max) => chains.apply(ChainsEvent::Diagnostics(Box::new(diagnostics_with_mu(
                mu_max,
            )))),
            None => chains.apply(ChainsEvent::State(RunState::Finished)),
        }
        let mut h = Harness::builder()
            .with_size([1400.0, 900.0])
            .build_ui_state(
                |ui, s: &mut Both| {
                    s.views
                        .ui(ui, ViewTab::Diagnostics, &mut s.live, Some(&mut s.chains))
                },
                Both {
                    views: Views::default(),
                    live: LiveState::new(experiment(6), &model),
                    chains,
                },
            );
        h.run();
        h
    };
    let mut h = with(Some(3.0), false);
    h.get_by_label_contains("sit at different points of a ridge");
    assert!(!h.state_mut().views.take_recentre_request());
    h.get_by_label("Recentre each sweep").click();
    h.run();
    assert!(h.state_mut().views.take_recentre_request());
    assert!(!h.state_mut().views.take_recentre_request(), "taken once");
    for (mu_max, recentre) in [(1.02, false), (3.0, true)] {
        let h = with(Some(mu_max), recentre);
        assert!(h.query_by_label("Recentre each sweep").is_none());
    }
    // Pressed after the run ended, the move restarts the diagnostics beyond its last sweep:
    // the view says how to go on.
    with(None, true).get_by_label_contains("The run has ended: Run on, at the top, lengthens it");
}
