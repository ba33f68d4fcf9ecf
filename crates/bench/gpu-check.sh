#!/usr/bin/env bash
# The GPU check, run unchanged on a Linux machine with an NVIDIA GPU (first run 2026-12-04 on an
# H200 with --prebuilt: the README's GPU table).
#
#   crates/bench/gpu-check.sh [--data-dir DIR] [--prebuilt DIR] [--allow-no-gpu]
#
# 1. builds `bench` and `train` in release with the `wgpu` feature (Vulkan; flex stays in as the
#    CPU reference) and tries a `cuda` build, skipped with a note where the project or the machine
#    has none; with --prebuilt DIR it builds nothing and runs DIR/bench and DIR/train instead
#    (built elsewhere by the same cargo command: for a GPU machine without Rust or a network);
# 2. runs the bench's training rows (raw step and a full Learner epoch, batch 64 and 256) and
#    inference rows (batch 1000 throughput, batch-1 latency) on wgpu and flex;
# 3. trains one epoch of real MNIST on the GPU (MNIST_DIR or --data-dir; without data the bench's
#    Learner epoch on synthetic digits stands in), again with `--workers 0`, and on two GPUs
#    through `--devices gpu:0,gpu:1` where nvidia-smi lists two;
# 4. prints one Markdown table (and keeps every log in $GPU_CHECK_DIR, default a temp dir).
#
# Every step has its own time limit; a failed or timed-out step becomes a row saying so, and the
# script goes on. Crates come from crates.io unless they are already in ~/.cargo (a `cargo fetch`
# is tried first; without network the builds run --offline, which works only if an earlier build
# on this machine downloaded them). --allow-no-gpu runs everything on whatever adapter wgpu finds
# (e.g. Mesa's lavapipe on the CPU): a dry run of the script itself, not a GPU figure.
set -euo pipefail

data_dir=${MNIST_DIR:-}
allow_no_gpu=0
prebuilt=
while (($#)); do
  case $1 in
    --data-dir) data_dir=${2:?--data-dir needs a directory}; shift 2 ;;
    --prebuilt) prebuilt=${2:?--prebuilt needs a directory}; shift 2 ;;
    --allow-no-gpu) allow_no_gpu=1; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
# Directories as the caller named them, before moving to the repository's root.
absolute() { if [[ -d $1 ]]; then (cd "$1" && pwd); else echo "$1"; fi; }
[[ -n $data_dir ]] && data_dir=$(absolute "$data_dir")
[[ -n $prebuilt ]] && prebuilt=$(absolute "$prebuilt")
cd "$(dirname "$0")/../.."

# Limits per step, in seconds (a cold release build of Burn with wgpu takes ~10 min on 16 cores).
BUILD_LIMIT=${BUILD_LIMIT:-2400}
BENCH_LIMIT=${BENCH_LIMIT:-1200}
EPOCH_LIMIT=${EPOCH_LIMIT:-1200}
FETCH_LIMIT=${FETCH_LIMIT:-600}

logs=${GPU_CHECK_DIR:-$(mktemp -d -t gpu-check.XXXXXX)}
mkdir -p "$logs"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TERM_COLOR=never
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
note() { echo "gpu-check: $*" >&2; }
# run LIMIT LOG COMMAND...: the command under `timeout`, its output in LOG; its status returned.
run() {
  local limit=$1 log=$2 status=0
  shift 2
  note "$* (limit ${limit}s, log $log)"
  timeout --kill-after=30 "$limit" "$@" >"$log" 2>&1 || status=$?
  if ((status == 124 || status == 137)); then
    note "timed out after ${limit}s: $*"
  elif ((status != 0)); then
    note "failed ($status): $*; last lines of $log:"
    tail -n 15 "$log" >&2
  fi
  return "$status"
}

if [[ -n $prebuilt ]]; then
  bin=$prebuilt
  for binary in bench train; do
    [[ -x $bin/$binary ]] || { note "--prebuilt $bin: no executable $bin/$binary"; exit 1; }
  done
  required=(timeout)
else
  bin=$CARGO_TARGET_DIR/release
  required=(cargo timeout)
fi
for tool in "${required[@]}"; do
  command -v "$tool" >/dev/null || { note "$tool is required"; exit 1; }
done
gpus=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >"$logs/gpus.txt" 2>&1; then
  gpus=$(grep -c '^GPU ' "$logs/gpus.txt" || true)
  note "GPUs: $(tr '\n' ';' <"$logs/gpus.txt")"
fi
if ((gpus == 0 && !allow_no_gpu)); then
  note "no NVIDIA GPU found (nvidia-smi -L lists none); --allow-no-gpu runs a dry run on any wgpu adapter"
  exit 1
fi
gpu_name=$( ((gpus > 0)) && sed -n 's/^GPU 0: \(.*\) (UUID.*/\1/p' "$logs/gpus.txt" || echo "no NVIDIA GPU (dry run)")

if [[ -n $prebuilt ]]; then
  row "build" "wgpu + flex" "-" "prebuilt" "$bin/bench, $bin/train (\`cargo build --release -p bench -p train --features bench/wgpu,train/wgpu\`, built elsewhere)"
  row "build" "cuda" "-" "skipped" "prebuilt binaries: no cuda build tried"
else
  offline=()
  if ! run "$FETCH_LIMIT" "$logs/fetch.log" cargo fetch --locked; then
    note "cargo fetch failed (no registry access?): building --offline from ~/.cargo's cache"
    offline=(--offline)
  fi

  # --- builds ---------------------------------------------------------------------------------
  t0=$SECONDS
  if run "$BUILD_LIMIT" "$logs/build-wgpu.log" \
    cargo build "${offline[@]}" --locked --release -p bench -p train --features bench/wgpu,train/wgpu; then
    row "build" "wgpu + flex" "-" "ok" "release, $((SECONDS - t0)) s"
  else
    row "build" "wgpu + flex" "-" "FAILED" "see $logs/build-wgpu.log"
    printf '%s\n' "| step | backend | batch | result | notes |" "|---|---|---:|---:|---|" "${rows[@]}"
    exit 1
  fi
  if grep -q '^cuda *=' crates/train/Cargo.toml; then
    t0=$SECONDS
    if run "$BUILD_LIMIT" "$logs/build-cuda.log" \
      cargo build "${offline[@]}" --locked --release -p train --features cuda; then
      row "build" "cuda" "-" "ok" "release, $((SECONDS - t0)) s"
    else
      row "build" "cuda" "-" "skipped" "did not build here: see $logs/build-cuda.log"
    fi
  else
    row "build" "cuda" "-" "skipped" "crates/train has no \`cuda\` feature yet (Burn's \`burn/cuda\` needs a Backend::Cuda arm in src/device.rs)"
  fi
fi

# --- the bench's rows ------------------------------------------------------------------------
bench_json=$logs/bench.json
if run "$BENCH_LIMIT" "$logs/bench.log" "$bin/bench" \
  --train-backends wgpu,flex --infer-backends wgpu,flex --batch-sizes 64,256 --json "$bench_json"; then
  if command -v python3 >/dev/null; then
    while IFS= read -r line; do rows+=("$line"); done < <(python3 - "$bench_json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for r in report["results"]:
    for t in r.get("train", []):
        learner = t.get("learner_epoch_img_per_s")
        overhead = t.get("learner_overhead_percent")
        print(f"| train raw step | {r['backend']} | {t['batch_size']} | {t['raw_step_img_per_s']:.0f} img/s | {t['shards']} shard(s), synthetic digits |")
        if learner is not None:
            print(f"| train Learner epoch | {r['backend']} | {t['batch_size']} | {learner:.0f} img/s | overhead {overhead:.1f} % |")
    i = r.get("infer")
    if i:
        print(f"| inference | {r['backend']} | 1000 | {i['batch_1000_img_per_s']:.0f} img/s | batch 1: median {i['latency_batch_1_median_ms']:.3f} ms, p99 {i['latency_batch_1_p99_ms']:.3f} ms |")
EOF
    )
  else
    row "bench" "wgpu, flex" "64, 256" "ok" "no python3 to tabulate: see $logs/bench.log"
  fi
else
  row "bench" "wgpu, flex" "64, 256" "FAILED" "see $logs/bench.log"
fi

# --- one epoch of real MNIST -----------------------------------------------------------------
# epoch NAME DEVICE-FLAGS...: one epoch on the GPU, a row with its time and test accuracy.
epoch() {
  local name=$1 dir=$logs/run-$1
  shift
  if run "$EPOCH_LIMIT" "$logs/epoch-$name.log" "$bin/train" "$@" \
    --epochs 1 --plain --data-dir "$data_dir" --artifact-dir "$dir"; then
    local metrics
    metrics=$(tr -d ' \n' <"$dir/metrics.json")
    local seconds accuracy
    seconds=$(sed -n 's/.*"seconds_per_epoch":\([0-9.]*\).*/\1/p' <<<"$metrics")
    accuracy=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<<"$metrics")
    row "train 1 epoch, MNIST" "$name" "64" "${seconds:-?} s/epoch" "test accuracy ${accuracy:-?} (10,000 images); $logs/epoch-$name.log"
  else
    row "train 1 epoch, MNIST" "$name" "64" "FAILED" "see $logs/epoch-$name.log"
  fi
}
if [[ -n $data_dir && -d $data_dir ]]; then
  epoch wgpu --device gpu
  # The first H200 run trained at 650 img/s against a raw step of 21,894: batches built on the
  # loader's thread are one suspect (README, "GPU"). The same epoch with them built on the
  # training thread:
  epoch wgpu-workers0 --device gpu --workers 0
  if ((gpus >= 2)); then
    epoch "wgpu gpu:0,gpu:1" --devices gpu:0,gpu:1
  fi
else
  row "train 1 epoch, MNIST" "wgpu" "64" "skipped" "no MNIST_DIR / --data-dir (no download attempted); the Learner epoch rows above are on synthetic digits"
fi

echo
echo "GPU: $gpu_name; $(nproc) CPU threads; burn $(sed -n 's/^burn = { version = "\([^"]*\)".*/\1/p' Cargo.toml); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
printf '%s\n' "| step | backend | batch | result | notes |" "|---|---|---:|---:|---|" "${rows[@]}"
