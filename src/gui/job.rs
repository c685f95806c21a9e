//! The one kind of background work in the app: a [`Job`] runs a closure on its own thread and
//! reports progress (a fraction and a status line), notices cancellation, and ends in an
//! [`Outcome`]. Loading data, building a chain, file dialogs, reading and writing files
//! (sessions, exports) and PCA all run as jobs, so the UI thread never waits for them.
//!
//! Threads: the closure runs on the job's thread; [`Job::poll`] runs on the UI thread once a
//! frame and never blocks. Dropping a job cancels it, and whatever it still produces is
//! dropped on a janitor thread ([`retire`]), never on the UI thread: a finished chain build
//! holds a sampler thread whose drop joins it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
#[cfg(test)]
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

/// One message from a job's thread.
enum Message<T> {
    Progress {
        fraction: Option<f32>,
        status: String,
    },
    Done(Result<T, String>),
}

/// What a job's work function gets: a way to report progress and to notice cancellation.
pub struct Progress<T> {
    tx: Sender<Message<T>>,
    ctx: egui::Context,
    cancel: Arc<AtomicBool>,
}

impl<T> Progress<T> {
    /// Reports how far the job is (`fraction` in 0..=1 when known) and what it is doing.
    pub fn report(&self, fraction: Option<f32>, status: impl Into<String>) {
        let fraction = fraction
            .filter(|f| f.is_finite())
            .map(|f| f.clamp(0.0, 1.0));
        // An unbounded channel: a send fails only when the UI dropped the job, which is fine.
        let _ = self.tx.send(Message::Progress {
            fraction,
            status: status.into(),
        });
        self.ctx.request_repaint();
    }

    /// True once the user asked to cancel; long loops check it and return early.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The flag itself, for library calls that take a cancel flag.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }
}

/// How a finished job ended.
pub enum Outcome<T> {
    Finished(T),
    Failed(String),
    Cancelled,
}

/// A job running on its own thread. Dropping it asks the thread to cancel and forgets it.
pub struct Job<T: Send + 'static> {
    label: String,
    rx: Option<Receiver<Message<T>>>,
    cancel: Arc<AtomicBool>,
    fraction: Option<f32>,
    status: String,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a new thread. Its `Err` text is shown to the user as the failure's detail.
    pub fn spawn(
        label: impl Into<String>,
        ctx: &egui::Context,
        work: impl FnOnce(&Progress<T>) -> Result<T, String> + Send + 'static,
    ) -> Self {
        let label = label.into();
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Progress {
            tx,
            ctx: ctx.clone(),
            cancel: Arc::clone(&cancel),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("gibbs-fa job: {label}"))
            .spawn(move || {
                // Below the UI thread, as is everything this thread starts (samplers, chains).
                super::priority::lower_this_thread();
                let result = work(&progress);
                // If the UI dropped the job, the value comes back here and is dropped on this
                // thread.
                let _ = progress.tx.send(Message::Done(result));
                progress.ctx.request_repaint();
            });
        let status = match &spawned {
            Ok(_) => "starting".to_string(),
            Err(err) => format!("could not start a thread: {err}"),
        };
        Job {
            label,
            rx: Some(rx),
            cancel,
            fraction: None,
            status,
        }
    }

    /// Drains the thread's messages; returns the outcome once the job has ended.
    /// A thread that died without a result (a panic) counts as a failure, never as a UI panic.
    pub fn poll(&mut self) -> Option<Outcome<T>> {
        let rx = self.rx.as_ref()?;
        loop {
            match rx.try_recv() {
                Ok(Message::Progress { fraction, status }) => {
                    self.fraction = fraction;
                    self.status = status;
                }
                Ok(Message::Done(result)) => {
                    return Some(match result {
                        Ok(value) => Outcome::Finished(value),
                        Err(_) if self.is_cancelled() => Outcome::Cancelled,
                        Err(detail) => Outcome::Failed(detail),
                    });
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    return Some(if self.is_cancelled() {
                        Outcome::Cancelled
                    } else {
                        Outcome::Failed(format!(
                            "{} stopped unexpectedly ({})",
                            self.label, self.status
                        ))
                    });
                }
            }
        }
    }

    /// Blocks until the job ends or `timeout` passes (tests only, never per frame).
    #[cfg(test)]
    pub fn wait(&mut self, timeout: Duration) -> Option<Outcome<T>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(outcome) = self.poll() {
                return Some(outcome);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Asks the thread to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// How far it is, when the job knows.
    pub fn fraction(&self) -> Option<f32> {
        self.fraction
    }

    /// Its latest status line.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// What the job is ("building the experiment").
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl<T: Send + 'static> Drop for Job<T> {
    fn drop(&mut self) {
        self.cancel();
        // A result already sent (or sent from now on) would be dropped with the receiver:
        // hand the receiver to the janitor so that never happens on the UI thread.
        if let Some(rx) = self.rx.take() {
            retire(rx);
        }
    }
}

/// Something whose drop may block (a sampler handle joins its thread, a big buffer frees
/// slowly): dropped on the janitor thread instead of the caller's.
type Garbage = Box<dyn Send>;

/// Drops `value` on the app's janitor thread, so the caller (the UI thread) never waits for
/// it. If the janitor cannot run, the value is dropped here: correct, only slower.
pub fn retire<T: Send + 'static>(value: T) {
    static JANITOR: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    let janitor = JANITOR.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Garbage>();
        std::thread::Builder::new()
            .name("gibbs-fa janitor".into())
            .spawn(move || {
                super::priority::lower_this_thread();
                for garbage in rx {
                    drop(garbage);
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = janitor {
        let _ = tx.send(Box::new(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_progress_then_result() {
        let ctx = egui::Context::default();
        let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(0);
        let mut job = Job::spawn("counting", &ctx, move |p| {
            p.report(Some(0.5), "half way");
            go_rx.recv().map_err(|e| e.to_string())?;
            Ok(42)
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while job.status() != "half way" && Instant::now() < deadline {
            assert!(job.poll().is_none());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(job.fraction(), Some(0.5));
        go_tx.send(()).unwrap();
        match job.wait(Duration::from_secs(5)) {
            Some(Outcome::Finished(v)) => assert_eq!(v, 42),
            _ => panic!("job did not finish with its value"),
        }
    }

    #[test]
    fn failure_panic_and_cancel_are_outcomes() {
        let ctx = egui::Context::default();
        let mut failed = Job::<()>::spawn("failing", &ctx, |_| Err("bad file".into()));
        assert!(
            matches!(failed.wait(Duration::from_secs(5)), Some(Outcome::Failed(d)) if d == "bad file")
        );

        let mut panicked = Job::<()>::spawn("panicking", &ctx, |_| panic!("boom"));
        assert!(matches!(
            panicked.wait(Duration::from_secs(5)),
            Some(Outcome::Failed(d)) if d.contains("stopped unexpectedly")
        ));

        let mut cancelled = Job::<()>::spawn("waiting", &ctx, |p| {
            while !p.cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err("cancelled".into())
        });
        cancelled.cancel();
        assert!(matches!(
            cancelled.wait(Duration::from_secs(5)),
            Some(Outcome::Cancelled)
        ));
    }

    /// A value whose drop takes long, standing for a sampler handle that joins its thread.
    struct SlowDrop(Arc<std::sync::Mutex<Option<std::thread::ThreadId>>>);

    impl Drop for SlowDrop {
        fn drop(&mut self) {
            std::thread::sleep(Duration::from_millis(300));
            *self.0.lock().unwrap() = Some(std::thread::current().id());
        }
    }

    /// A job dropped after its result arrived but before anyone claimed it: the result is
    /// dropped on another thread, not the one dropping the job (the UI thread).
    #[test]
    fn an_unclaimed_result_is_never_dropped_on_the_caller_thread() {
        let ctx = egui::Context::default();
        let dropped_on = Arc::new(std::sync::Mutex::new(None));
        let slot = Arc::clone(&dropped_on);
        let job = Job::spawn("slow to drop", &ctx, move |_| Ok(SlowDrop(slot)));
        // Let the result arrive in the channel, unclaimed.
        std::thread::sleep(Duration::from_millis(100));
        drop(job);
        let deadline = Instant::now() + Duration::from_secs(5);
        while dropped_on.lock().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the result was never dropped");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_ne!(
            *dropped_on.lock().unwrap(),
            Some(std::thread::current().id())
        );
    }
}
