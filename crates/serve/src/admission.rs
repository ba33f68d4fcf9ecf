//! The bounded queue in front of decoding and inference.
//!
//! Decoding an image and running the network are CPU work, so they run on Tokio's blocking pool,
//! which by itself grows to 512 threads, each with its own buffers: under load, memory grew with
//! the number of clients. A semaphore sized to the cores admits that many jobs at a time. A
//! request that finds every slot taken waits at most [`Admission::max_wait`], then gets 503 with
//! `Retry-After`.
//!
//! Why a short wait rather than none: the page sends one request per stroke and a job takes a few
//! milliseconds, so a burst of a few dozen requests would otherwise be refused while a core is
//! about to be free. The wait is bounded in time (this field) and in count (every waiter holds a
//! connection, and connections are capped by [`crate::server::ServerLimits`]), so nothing queues
//! without end. With `max_wait` zero the answer is immediate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{ApiError, ServerLimits};

/// Seconds a client is told to wait (`Retry-After`) when every slot is taken.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Admits at most `slots` decode-and-infer jobs at a time.
#[derive(Debug, Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    max_wait: Duration,
}

impl Admission {
    /// `slots` concurrent jobs (at least 1); a request waits at most `max_wait` for one.
    pub fn new(slots: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            max_wait,
        }
    }

    /// One slot per core (`std::thread::available_parallelism`), waiting at most
    /// [`ServerLimits::DEFAULT`]'s `queue_wait`.
    pub fn per_core() -> Self {
        Self::new(cores(), ServerLimits::DEFAULT.queue_wait)
    }

    /// The semaphore itself: the tests hold its permits to saturate the server.
    pub fn slots(&self) -> &Arc<Semaphore> {
        &self.slots
    }

    /// Longest wait for a slot.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// A slot, or 503 (`Retry-After`) once `max_wait` has passed without one. The permit is
    /// moved into the blocking job, so a slot stays taken for as long as the job really runs,
    /// even if the request is dropped meanwhile.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if !self.max_wait.is_zero()
            && let Ok(Ok(permit)) =
                tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned()).await
        {
            return Ok(permit);
        }
        Err(ApiError::busy())
    }
}

/// The number of cores this process may use (1 if unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Set when the request that started a blocking job is dropped: the client went away, or the
/// request timed out. The job checks it between decoding and inference, so a departed client
/// does not keep a core busy (a dropped future cannot stop `spawn_blocking` work by itself).
#[derive(Debug, Default)]
pub struct ClientGone(Arc<AtomicBool>);

impl ClientGone {
    /// A flag for the job to read.
    pub fn watch(&self) -> GoneFlag {
        GoneFlag(self.0.clone())
    }
}

impl Drop for ClientGone {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The job's side of [`ClientGone`].
#[derive(Debug, Clone)]
pub struct GoneFlag(Arc<AtomicBool>);

impl GoneFlag {
    /// Whether the request was dropped.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
