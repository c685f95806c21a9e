//! Background threads run below the UI thread: a job's thread, and a thread it starts (as the
//! build job starts the samplers), run at the background nice value; the caller's is unchanged.

use std::time::Duration;

use crate::gui::job::{Job, Outcome};
use crate::gui::priority::{background_nice, this_thread_nice};

#[cfg(target_os = "linux")]
#[test]
fn jobs_and_the_threads_they_start_run_below_the_ui_thread() {
    let ui = this_thread_nice().expect("a nice value on Linux");
    let ctx = egui::Context::default();
    let mut job = Job::spawn("nice", &ctx, |_| {
        let own = this_thread_nice();
        let started = std::thread::spawn(this_thread_nice)
            .join()
            .map_err(|_| "the inner thread panicked".to_string())?;
        Ok((own, started))
    });
    let Some(Outcome::Finished((own, started))) = job.wait(Duration::from_secs(10)) else {
        panic!("the job did not finish");
    };
    let expected = ui.max(background_nice());
    assert_eq!(own, Some(expected), "the job's thread");
    assert_eq!(started, Some(expected), "a thread the job started");
    assert_eq!(
        this_thread_nice(),
        Some(ui),
        "the calling thread kept its priority"
    );
    if background_nice() > ui {
        assert!(expected > ui);
    }
}
