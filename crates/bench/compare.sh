#!/usr/bin/env bash
# Side by side: this project's release bench and crates/bench/pytorch_reference.py, run back to
# back, alternating which goes first, several repeats per thread count; prints medians and the
# ratios (this project / PyTorch). 2-thread figures on small shared machines are noisy, which is
# why nothing here is a single run.
#
#   crates/bench/compare.sh [--repeats N] [--threads "2 1"] [--train-images N] [--out DIR]
#
# Needs python3 (3.9+); creates crates/bench/.venv with torch on first use (a few GB of wheels:
# PyPI's torch pulls its CUDA libraries even though only the CPU is used here).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
repeats=3
threads="2 1"
images=12800
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --train-images) images="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$repeats" "$images"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: '$n' is not a positive integer" >&2; exit 2; }
done
out="${out:-$(mktemp -d /tmp/mnist-cnn-compare.XXXXXX)}"
mkdir -p "$out"

venv="${VENV:-$here/.venv}"
if ! "$venv/bin/python" -c "import torch, numpy, threadpoolctl" 2>/dev/null; then
  echo "== creating $venv with torch (once)" >&2
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy threadpoolctl
fi
py="$venv/bin/python"

echo "== building the release bench (flex + ndarray)" >&2
(cd "$root" && cargo build --quiet --release -p bench --features ndarray)
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  "$py" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bench="$target_dir/release/bench"

# Training is measured on the default CPU backend (flex); inference on both CPU backends, because
# ndarray trains ~20x slower than flex but is the faster one for inference (see README.md).
rust() {
  RAYON_NUM_THREADS="$1" "$bench" --train-backends flex --infer-backends flex,ndarray \
    --train-images "$images" --json "$2" >&2
}
torch() { "$py" "$here/pytorch_reference.py" --threads "$1" --train-images "$images" --json "$2" >&2; }

for t in $threads; do
  for r in $(seq 1 "$repeats"); do
    echo "== $t thread(s), repeat $r/$repeats" >&2
    if (( r % 2 )); then
      rust "$t" "$out/rust-t$t-r$r.json"; torch "$t" "$out/torch-t$t-r$r.json"
    else
      torch "$t" "$out/torch-t$t-r$r.json"; rust "$t" "$out/rust-t$t-r$r.json"
    fi
  done
done

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
"$py" - "$out" "$repeats" "$cpu" $threads <<'EOF'
import glob, json, statistics, sys, datetime
out, repeats, cpu, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]

def load(kind, t):
    return [json.load(open(p)) for p in sorted(glob.glob(f"{out}/{kind}-t{t}-r*.json"))]

def med(values):
    return statistics.median(values)

torch_version = load("torch", threads[0])[0]["torch"]
print(f"{datetime.date.today()}, {cpu}, median of {repeats} alternating runs;"
      f" torch {torch_version}; ratio = this project / PyTorch (latency: PyTorch / this project,"
      f" so > 1 is better everywhere)")
print()
print(f"| threads | measurement | this project | PyTorch | ratio |")
print(f"|---|---|---:|---:|---:|")
for t in threads:
    rust, torch = load("rust", t), load("torch", t)
    def backend(run, name):
        return next(r for r in run["results"] if r["backend"] == name)
    def train(run, name, bs, key):
        return next(x[key] for x in backend(run, name)["train"] if x["batch_size"] == bs)
    def ttrain(run, bs, key):
        return next(x[key] for x in run["train"] if x["batch_size"] == bs)
    rows = []
    steps = {}  # batch size -> median step img/s (this project, PyTorch), for the GFLOP/s rows
    for bs in [x["batch_size"] for x in torch[0]["train"]]:
        r = med([train(x, "flex", bs, "raw_step_img_per_s") for x in rust])
        p = med([ttrain(x, bs, "raw_step_img_per_s") for x in torch])
        steps[bs] = (r, p)
        rows.append((f"train step img/s, batch {bs} (flex)", r, p, r / p))
        r = med([train(x, "flex", bs, "learner_epoch_img_per_s") for x in rust])
        p = med([ttrain(x, bs, "loop_epoch_img_per_s") for x in torch])
        rows.append((f"train epoch img/s, batch {bs} (Learner vs DataLoader loop)", r, p, r / p))
    p = med([x["infer_batch_1000_img_per_s"] for x in torch])
    pl = med([x["latency_batch_1_median_ms"] for x in torch])
    pp = med([x["latency_batch_1_p99_ms"] for x in torch])
    for name in ["flex", "ndarray"]:
        r = med([backend(x, name)["infer"]["batch_1000_img_per_s"] for x in rust])
        rows.append((f"infer img/s, batch 1000 ({name})", r, p, r / p))
        r = med([backend(x, name)["infer"]["latency_batch_1_median_ms"] for x in rust])
        rows.append((f"batch-1 latency median ms ({name})", r, pl, pl / r))
        r = med([backend(x, name)["infer"]["latency_batch_1_p99_ms"] for x in rust])
        rows.append((f"batch-1 latency p99 ms ({name})", r, pp, pp / r))
    r = med([x["peak_rss_mib"] for x in rust])
    p = med([x["peak_rss_mib"] for x in torch])
    rows.append(("peak RSS MiB (whole benchmark process)", r, p, p / r))
    # The machine's limit: the best 2048x2048 sgemm, through the gemm crate (flex's) and through
    # numpy's BLAS, and each side's batch-64 training step in GFLOP/s as a fraction of it.
    gemm = med([x["sgemm_2048_gflops"] for x in rust])
    blas = med([x["numpy_sgemm_2048_gflops"] for x in torch])
    rows.append(("sgemm 2048x2048 GFLOP/s (gemm crate vs numpy's BLAS)", gemm, blas, gemm / blas))
    peak = max(gemm, blas)
    mflop = rust[0]["training_flops_per_image"] / 1e6
    for bs, (r, p) in steps.items():
        r, p = r * mflop / 1e3, p * mflop / 1e3
        rows.append((f"train step GFLOP/s, batch {bs} ({mflop:.2f} MFLOP/img)", r, p, r / p))
        rows.append((f"train step batch {bs}: fraction of the sgemm peak ({peak:.0f} GFLOP/s)",
                     r / peak, p / peak, r / p))
    for name, r, p, ratio in rows:
        fmt = ((lambda v: f"{v:.2f}") if "ms" in name or "fraction" in name
               else (lambda v: f"{v:,.1f}") if "GFLOP" in name else (lambda v: f"{v:,.0f}"))
        print(f"| {t} | {name} | {fmt(r)} | {fmt(p)} | {ratio:.2f}x |")
print()
print(f"raw JSON: {out}")
EOF
