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
//! The queue itself is bounded (`queue`): a full one answers 503 like a saturated admission. A
//! forward that panics answers its batch with 500 and the thread goes on with the next one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use infer::{Prediction, Predictor};
use model::Pixels;
use tokio::sync::oneshot;

use crate::ApiError;

/// How batches are formed: every field is a limit of [`crate::ServerLimits`], clamped by
/// [`ForwardBatcher::spawn`] to `1..=`[`MAX_BATCH`], at most [`MAX_BATCH_WAIT`] and
/// `1..=`[`MAX_QUEUE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most images in one forward.
    pub max_batch: usize,
    /// Longest a queued image waits for others to join its batch.
    pub max_wait: Duration,
    /// Most images queued and not yet taken into a batch.
    pub queue: usize,
}

/// Largest batch: 1,024 images' activations are ~90 MB on the lecture's network.
pub const MAX_BATCH: usize = 1024;
/// Longest batch wait: a batch exists to save time, so waiting longer than this never pays.
pub const MAX_BATCH_WAIT: Duration = Duration::from_secs(1);
/// Longest queue (its slots are allocated up front, ~1 KB each).
pub const MAX_QUEUE: usize = 4096;

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
    /// Counts this request as on its way until the batching thread has taken it.
    incoming: Incoming,
}

/// A job the batching thread has taken: no longer counted as on its way.
struct Taken {
    pixels: Pixels,
    answer: oneshot::Sender<Prediction>,
}

impl Job {
    fn take(self) -> Taken {
        let Self {
            pixels,
            answer,
            incoming,
            ..
        } = self;
        drop(incoming);
        Taken { pixels, answer }
    }
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

/// A request on its way (see the module doc): admitted, and not yet taken from the queue by the
/// batching thread. While one exists, a batch waits for it (at most `max_wait`). It stops
/// counting when dropped (a decode that failed) or when the thread takes its image.
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
    /// Starts the batching thread over `predictor`, with `limits` clamped (see [`BatchLimits`]).
    pub fn spawn(predictor: Arc<Predictor>, limits: BatchLimits) -> std::io::Result<Self> {
        let limits = BatchLimits {
            max_batch: limits.max_batch.clamp(1, MAX_BATCH),
            max_wait: limits.max_wait.min(MAX_BATCH_WAIT),
            queue: limits.queue.clamp(1, MAX_QUEUE),
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

    /// Queues `pixels` for the next batch (never blocks); `incoming` counts until the batching
    /// thread takes the image. 503 when the queue is full, 500 if the batching thread is gone.
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
            incoming,
        };
        match self.queue.try_send(job) {
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
        "no prediction: the forward failed",
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
        batch.push(first.take());
        fill(&mut batch, jobs, counters, limits.max_batch, deadline);
        // Clients that went away (closed connection, request timeout) need no forward.
        batch.retain(|job| !job.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        pixels.clear();
        pixels.extend(batch.iter().map(|job| job.pixels));
        // A panicking forward must not end the thread (every later request would get 500): its
        // batch's answers are dropped, so those requests get 500, and the loop goes on.
        let predictions = catch_unwind(AssertUnwindSafe(|| predictor.predict_batch(&pixels)))
            .ok()
            .filter(|predictions| predictions.len() == batch.len());
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.images.fetch_add(batch.len(), Ordering::Relaxed);
        counters.largest.fetch_max(batch.len(), Ordering::Relaxed);
        match predictions {
            Some(predictions) => {
                for (job, prediction) in batch.drain(..).zip(predictions) {
                    // A request that went away meanwhile has dropped its receiver.
                    let _ = job.answer.send(prediction);
                }
            }
            None => batch.clear(),
        }
    }
}

/// Adds queued jobs to `batch`: everything already waiting, then, while a request counted before
/// that drain is still on its way and the deadline has not passed, whatever arrives. The count is
/// read before the queue is drained: a request queued after the read was admitted after it and
/// need not be waited for, while one counted is either drained now or still coming.
fn fill(
    batch: &mut Vec<Taken>,
    jobs: &Receiver<Job>,
    counters: &Counters,
    max_batch: usize,
    deadline: Instant,
) {
    while batch.len() < max_batch {
        let on_the_way = counters.incoming.load(Ordering::Acquire);
        let before = batch.len();
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job.take()),
                Err(_) => break,
            }
        }
        if batch.len() >= max_batch || on_the_way == 0 {
            return;
        }
        if batch.len() > before {
            // Those just taken may have been every request on its way: count again.
            continue;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        match jobs.recv_timeout(left) {
            Ok(job) => batch.push(job.take()),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}
