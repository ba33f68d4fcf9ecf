//! Concurrent requests' forwards run as one batch.
//!
//! One forward of 8 images costs little more than one of 1 (the products are wider, the fixed
//! costs are paid once, and the CPU threads wake once), so under load the server predicts
//! faster in batches. A [`ForwardBatcher`] owns one thread that takes the queued images and runs
//! them through [`Predictor::predict_batch`] together; each request waits on its own answer.
//!
//! How long a batch waits to grow is bounded twice. It never waits for requests that have not
//! arrived: only while some request is between admission and the queue (decoding and
//! preprocessing its picture: [`Incoming`]), so a lone request goes at once. And never longer than
//! `max_wait` from the moment the first image of the batch was queued, so a request is delayed by
//! batching at most that much, whatever the others do (a decode that fails or is slow included).
//! The queue itself is bounded (`queue`): a full one answers 503 like a saturated admission.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use infer::{Prediction, Predictor};
use model::Pixels;
use tokio::sync::oneshot;

use crate::ApiError;

/// How batches are formed: every field is a limit of [`crate::ServerLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most images in one forward.
    pub max_batch: usize,
    /// Longest a queued image waits for others to join its batch.
    pub max_wait: Duration,
    /// Most images queued and not yet taken into a batch.
    pub queue: usize,
}

/// The forwards run so far, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Forward passes run.
    pub batches: usize,
    /// Images predicted in them.
    pub images: usize,
    /// The largest batch.
    pub largest: usize,
}

struct Job {
    pixels: Pixels,
    queued: Instant,
    answer: oneshot::Sender<Prediction>,
}

/// Shared between the requests and the batching thread.
#[derive(Debug, Default)]
struct Counters {
    incoming: AtomicUsize,
    batches: AtomicUsize,
    images: AtomicUsize,
    largest: AtomicUsize,
}

/// The queue in front of the batching thread. Dropping it ends the thread once the queue is
/// empty.
pub struct ForwardBatcher {
    queue: SyncSender<Job>,
    counters: Arc<Counters>,
    limits: BatchLimits,
}

impl std::fmt::Debug for ForwardBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardBatcher")
            .field("limits", &self.limits)
            .field("stats", &self.stats())
            .finish()
    }
}

/// A request on its way to the queue (see the module doc): while one exists, a batch waits for
/// it (at most `max_wait`). Dropped, or consumed by [`ForwardBatcher::enqueue`], it stops counting.
#[derive(Debug)]
pub struct Incoming(Arc<Counters>);

impl Drop for Incoming {
    fn drop(&mut self) {
        self.0.incoming.fetch_sub(1, Ordering::Release);
    }
}

/// The answer to one queued image.
pub type PendingPrediction = oneshot::Receiver<Prediction>;

impl ForwardBatcher {
    /// Starts the batching thread over `predictor`.
    pub fn spawn(predictor: Arc<Predictor>, limits: BatchLimits) -> std::io::Result<Self> {
        let limits = BatchLimits {
            max_batch: limits.max_batch.max(1),
            queue: limits.queue.max(1),
            ..limits
        };
        let (queue, jobs) = mpsc::sync_channel(limits.queue);
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        std::thread::Builder::new()
            .name("forward-batcher".into())
            .spawn(move || run_batches(&predictor, &jobs, &shared, limits))?;
        Ok(Self {
            queue,
            counters,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    /// Marks a request as on its way: call it when the request is admitted, before decoding.
    pub fn incoming(&self) -> Incoming {
        self.counters.incoming.fetch_add(1, Ordering::AcqRel);
        Incoming(self.counters.clone())
    }

    /// Queues `pixels` for the next batch (never blocks); `incoming` stops counting once the
    /// image is in the queue. 503 when the queue is full, 500 if the batching thread is gone.
    pub fn enqueue(
        &self,
        pixels: Pixels,
        incoming: Incoming,
    ) -> Result<PendingPrediction, ApiError> {
        let (answer, pending) = oneshot::channel();
        let job = Job {
            pixels,
            queued: Instant::now(),
            answer,
        };
        let sent = self.queue.try_send(job);
        drop(incoming);
        match sent {
            Ok(()) => Ok(pending),
            Err(TrySendError::Full(_)) => Err(ApiError::busy()),
            Err(TrySendError::Disconnected(_)) => Err(stopped()),
        }
    }

    /// Waits for the prediction of an image queued by [`Self::enqueue`].
    pub async fn answer(pending: PendingPrediction) -> Result<Prediction, ApiError> {
        pending.await.map_err(|_| stopped())
    }

    /// What the thread has done so far.
    pub fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            images: self.counters.images.load(Ordering::Relaxed),
            largest: self.counters.largest.load(Ordering::Relaxed),
        }
    }
}

fn stopped() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the prediction thread stopped",
    )
}

/// The batching thread: one batch per loop, until every sender is gone.
fn run_batches(
    predictor: &Predictor,
    jobs: &Receiver<Job>,
    counters: &Counters,
    limits: BatchLimits,
) {
    let mut batch = Vec::with_capacity(limits.max_batch);
    let mut pixels = Vec::with_capacity(limits.max_batch);
    while let Ok(first) = jobs.recv() {
        let deadline = first.queued + limits.max_wait;
        batch.push(first);
        fill(&mut batch, jobs, counters, limits.max_batch, deadline);
        pixels.clear();
        pixels.extend(batch.iter().map(|job| job.pixels));
        let predictions = predictor.predict_batch(&pixels);
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.images.fetch_add(batch.len(), Ordering::Relaxed);
        counters.largest.fetch_max(batch.len(), Ordering::Relaxed);
        for (job, prediction) in batch.drain(..).zip(predictions) {
            // A request that went away meanwhile has dropped its receiver: nothing to do.
            let _ = job.answer.send(prediction);
        }
    }
}

/// Adds queued jobs to `batch`: everything already waiting, then, while a request is still on
/// its way and the deadline has not passed, whatever arrives.
fn fill(
    batch: &mut Vec<Job>,
    jobs: &Receiver<Job>,
    counters: &Counters,
    max_batch: usize,
    deadline: Instant,
) {
    while batch.len() < max_batch {
        if let Ok(job) = jobs.try_recv() {
            batch.push(job);
            continue;
        }
        if counters.incoming.load(Ordering::Acquire) == 0 {
            return;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        match jobs.recv_timeout(left) {
            Ok(job) => batch.push(job),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}
