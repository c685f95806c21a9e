//! A background [`Job`] computed for one data version, and what the last one left: its result
//! or its error, each tagged with the data version it describes. Views that compute something
//! slow from the experiment (PCA, the comparison of imputers) keep one, start a job when their
//! data version has no result yet, and poll it once per frame.
//!
//! Everything here runs on the UI thread and never blocks: [`JobSlot::poll`] only looks at the
//! job's channel; a dropped job is retired off the UI thread by [`Job`]'s own drop.

use std::sync::Arc;

use super::job::{Job, Outcome};

/// The running job, the newest result and the last error, each with its data version.
pub struct JobSlot<T: Send + 'static> {
    /// The job in progress and the data version it was started on.
    pub pending: Option<(u64, Job<T>)>,
    pub result: Option<(u64, Arc<T>)>,
    pub error: Option<(u64, String)>,
    /// Bumped with every new result (textures are rebuilt once per result).
    pub version: u64,
}

impl<T: Send + 'static> Default for JobSlot<T> {
    fn default() -> Self {
        JobSlot {
            pending: None,
            result: None,
            error: None,
            version: 0,
        }
    }
}

impl<T: Send + 'static> JobSlot<T> {
    /// Collects a finished job, if any: a result replaces the previous one (and clears the
    /// error), a failure is kept as the error. Returns true when the job ended cancelled.
    pub fn poll(&mut self) -> bool {
        let Some((data, job)) = &mut self.pending else {
            return false;
        };
        let data = *data;
        let Some(outcome) = job.poll() else {
            return false;
        };
        self.pending = None;
        match outcome {
            Outcome::Finished(value) => {
                self.result = Some((data, Arc::new(value)));
                self.error = None;
                self.version += 1;
                false
            }
            Outcome::Failed(message) => {
                self.error = Some((data, message));
                false
            }
            Outcome::Cancelled => true,
        }
    }
}
