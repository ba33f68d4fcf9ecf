//! The forward batcher: a lone request goes at once, a batch waits for requests still being
//! decoded but never longer than its bound, and images batched together get their own answers,
//! equal to predicting each alone.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use infer::{Prediction, Predictor};
use model::{IMAGE_SIZE, Pixels};
use serve::batching::{MAX_BATCH_WAIT, MAX_QUEUE, PendingPrediction};
use serve::{BatchLimits, BatchStats, ForwardBatcher};

/// A batcher of batches up to 64 waiting at most `max_wait`.
fn batcher(max_wait: Duration) -> (ForwardBatcher, Arc<Predictor>) {
    batcher_with(BatchLimits {
        max_batch: 64,
        max_wait,
        queue: 16,
    })
}

fn batcher_with(limits: BatchLimits) -> (ForwardBatcher, Arc<Predictor>) {
    let predictor = Arc::new(Predictor::shipped(&Device::flex()).unwrap());
    (
        ForwardBatcher::spawn(predictor.clone(), limits).unwrap(),
        predictor,
    )
}

/// `count` requests admitted before any is queued, then queued one after another: image `seed`
/// for the `seed`-th.
fn admit_then_queue(batcher: &ForwardBatcher, count: usize) -> Vec<PendingPrediction> {
    let incoming: Vec<_> = (0..count).map(|_| batcher.incoming()).collect();
    incoming
        .into_iter()
        .enumerate()
        .map(|(seed, incoming)| batcher.enqueue(picture(seed), incoming).unwrap())
        .collect()
}

/// Each answer equals the prediction of its image alone.
fn assert_each_as_alone(pending: Vec<PendingPrediction>, predictor: &Predictor) {
    for (seed, pending) in pending.into_iter().enumerate() {
        assert_same(&answer(pending), &predictor.predict(&picture(seed)));
    }
}

/// A different picture for each `seed`: a bar, a box and a diagonal, thick and bright.
fn picture(seed: usize) -> Pixels {
    let mut pixels = [0u8; IMAGE_SIZE * IMAGE_SIZE];
    for y in 4..24 {
        for x in 4..24usize {
            let ink = match seed % 3 {
                0 => (12..16).contains(&x),
                1 => !(8..20).contains(&x) || !(8..20).contains(&y),
                _ => x.abs_diff(y) < 3 + seed / 3,
            };
            if ink {
                pixels[y * IMAGE_SIZE + x] = 255;
            }
        }
    }
    pixels
}

fn answer(pending: PendingPrediction) -> Prediction {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(ForwardBatcher::answer(pending))
        .unwrap()
}

fn assert_same(batched: &Prediction, alone: &Prediction) {
    assert_eq!(batched.label, alone.label);
    for (b, a) in batched.probabilities.iter().zip(&alone.probabilities) {
        assert!((b - a).abs() < 1e-5, "{batched:?} vs {alone:?}");
    }
}

#[test]
fn a_lone_request_is_not_delayed() {
    // The longest wait there is: a batch that waited for company would take a second.
    let (batcher, predictor) = batcher(MAX_BATCH_WAIT);
    for seed in 0..3 {
        let start = Instant::now();
        let pending = batcher.enqueue(picture(seed), batcher.incoming()).unwrap();
        let prediction = answer(pending);
        let took = start.elapsed();
        assert!(took < MAX_BATCH_WAIT / 2, "answered after {took:?}");
        assert_same(&prediction, &predictor.predict(&picture(seed)));
    }
    assert_eq!(
        batcher.stats(),
        BatchStats {
            batches: 3,
            images: 3,
            largest: 1
        }
    );
}

#[test]
fn a_batch_waits_for_a_decoding_request_at_most_the_bound() {
    let max_wait = Duration::from_millis(300);
    let (batcher, _) = batcher(max_wait);
    // A request admitted and never queued (a decode that takes forever, say).
    let stuck = batcher.incoming();
    let start = Instant::now();
    let pending = batcher.enqueue(picture(0), batcher.incoming()).unwrap();
    answer(pending);
    let took = start.elapsed();
    assert!(
        took >= max_wait && took < max_wait + Duration::from_secs(3),
        "answered after {took:?} (bound {max_wait:?})"
    );
    drop(stuck);
    assert_eq!(batcher.stats().largest, 1);
}

#[test]
fn images_decoded_together_share_one_forward_and_keep_their_own_answers() {
    let (batcher, predictor) = batcher(MAX_BATCH_WAIT);
    // Six requests admitted before any is queued: the first one's batch waits for the others,
    // and goes as soon as the last is in.
    let start = Instant::now();
    assert_each_as_alone(admit_then_queue(&batcher, 6), &predictor);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        batcher.stats(),
        BatchStats {
            batches: 1,
            images: 6,
            largest: 6
        }
    );
    // The pictures really differ in what the network says about them.
    let labels: std::collections::BTreeSet<_> = (0..6)
        .map(|seed| predictor.predict(&picture(seed)).label)
        .collect();
    assert!(labels.len() > 1, "{labels:?}");
}

#[test]
fn a_batch_holds_at_most_max_batch_images() {
    let (batcher, predictor) = batcher_with(BatchLimits {
        max_batch: 4,
        max_wait: MAX_BATCH_WAIT,
        queue: 16,
    });
    assert_each_as_alone(admit_then_queue(&batcher, 10), &predictor);
    let stats = batcher.stats();
    assert_eq!(stats.images, 10);
    assert_eq!(stats.largest, 4);
    assert!(stats.batches >= 3, "{stats:?}");
}

#[test]
fn limits_are_clamped() {
    let (batcher, _) = batcher_with(BatchLimits {
        max_batch: 0,
        max_wait: Duration::from_secs(3600),
        queue: usize::MAX,
    });
    assert_eq!(
        batcher.limits(),
        BatchLimits {
            max_batch: 1,
            max_wait: MAX_BATCH_WAIT,
            queue: MAX_QUEUE,
        }
    );
}

#[test]
fn a_full_queue_answers_busy() {
    // One queued image at most: while the thread runs a forward, the next images find it full.
    let (batcher, _) = batcher_with(BatchLimits {
        max_batch: 64,
        max_wait: Duration::ZERO,
        queue: 1,
    });
    let outcomes: Vec<_> = (0..2000)
        .map(|seed| batcher.enqueue(picture(seed), batcher.incoming()))
        .collect();
    let busy = outcomes
        .iter()
        .filter(|o| o.as_ref().is_err_and(|e| e.0 == 503))
        .count();
    assert!(busy > 0, "no image was refused");
    let queued: Vec<_> = outcomes.into_iter().filter_map(Result::ok).collect();
    assert_eq!(queued.len() + busy, 2000, "every refusal is a 503");
    for pending in queued {
        answer(pending);
    }
}
