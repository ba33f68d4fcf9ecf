//! Every bound the training crate puts on what a user or a file can ask for, in one place: each
//! is checked before the work it bounds starts, and the error that cites it names the value.
//! (The network's own bounds live with it, in `model`; a served request's in `serve`.)

use std::time::Duration;

// The training configuration (checked by `TrainingConfig::validate` before any work starts).

/// Most epochs a run may ask for. MNIST converges in about a dozen; ten thousand is already
/// absurd, and the bound keeps `steps per epoch x epochs` (the schedule's length) far from
/// overflowing even with batches of one.
pub const MAX_EPOCHS: usize = 10_000;
/// Largest batch: beyond the 60,000 training images a bigger batch changes nothing, and its
/// activations alone would take gigabytes (see [`MAX_BATCH_ACTIVATIONS`]).
pub const MAX_BATCH_SIZE: usize = 8_192;
/// Most data-loader threads: more than any machine this trains on has cores.
pub const MAX_WORKERS: usize = 256;
/// Most images held out for validation: the MNIST training set has 60,000.
pub const MAX_VALID_SIZE: usize = 60_000;
/// Most trainable parameters. Training holds four floats per parameter (weight, gradient and
/// Adam's two moments): 50 million is 800 MB, 59 times the lecture's 843,658.
pub const MAX_PARAMS: u64 = 50_000_000;
/// Most floats of forward activations in one batch (feature maps of every layer times the
/// batch size): 2^30 floats is 4 GiB, before the backward pass doubles it. The lecture's
/// network at batch 64 needs 2.4 million.
pub const MAX_BATCH_ACTIVATIONS: u64 = 1 << 30;

// Files a run reads back.

/// Largest configuration file read (`--config`, a run's `config.json`): a real one is ~1 KB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest `history.jsonl` read back: an epoch is a ~150-byte line, so this is ~100,000
/// epochs; anything bigger is not a history and is refused before it is read.
pub const MAX_HISTORY_BYTES: u64 = 16 << 20;

// `--devices`.

/// The most devices one run takes: a bound on the threads and connections a list opens.
pub const MAX_DEVICES: usize = 16;
/// The longest `remote:` address accepted.
pub const MAX_ADDRESS_LEN: usize = 256;

// The run directory and its pictures.

/// The highest suffix tried for a timestamped run directory (`<time>-2` ... `<time>-1000`):
/// a thousand runs started in one second is a loop gone wrong, not a workload.
pub const MAX_NAME_SUFFIX: usize = 1000;
/// The longest a drawing may take when a training run draws its curves: a few hundred ms is
/// usual; anything past this is a bug, and must not keep the run from its checkpoint.
pub const DRAW_DEADLINE: Duration = Duration::from_secs(30);
