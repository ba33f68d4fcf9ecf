#!/usr/bin/env python3
"""PyTorch twin of `cargo run --release -p bench`: the same network, optimiser, batch sizes,
thread count and measurements, so `compare.sh` can print honest ratios.

What is identical to the Rust side (crates/bench/src/main.rs):
  * the lecture's network: conv 32@3x3 -> ReLU -> max-pool 2 -> conv 64@3x3 -> ReLU -> max-pool 2
    -> flatten 1600 -> dense 512 -> ReLU -> dropout 0.5 -> dense 10 (843,658 parameters), trained
    with cross-entropy and Adam (lr 1e-3, betas 0.9/0.999, eps 1e-5 as Burn's AdamConfig);
  * synthetic u8 digits pre-loaded in memory (throughput does not depend on pixel values);
  * raw step = forward + backward + Adam over pre-built normalised batches, 3 warm-up steps;
  * "loop epoch" = what a user's PyTorch training loop does per epoch: DataLoader over the
    in-memory u8 tensors (shuffled, batched, normalised per batch), step, loss/accuracy
    bookkeeping: the counterpart of Burn's Learner epoch;
  * inference: u8 pixels -> normalised tensor -> logits -> host, eval mode, no autograd;
    batch 1000 throughput and batch-1 latency (median, p99);
  * peak RSS of the process (ru_maxrss);
  * the machine's limit for the products: the best GFLOP/s of a 2048x2048 float32 matmul through
    numpy's BLAS at the same thread count (threadpoolctl sets it), beside the Rust side's `gemm`.

Run it through compare.sh, which creates the venv this needs; by hand:
  python3 pytorch_reference.py --threads 2 --json out.json
"""

import argparse
import json
import resource
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.1307, 0.3081


def network() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),  # 28 -> 26: floor((28 - 3) / 1) + 1
        nn.ReLU(),
        nn.MaxPool2d(2, 2),  # 26 -> 13
        nn.Conv2d(32, 64, 3),  # 13 -> 11
        nn.ReLU(),
        nn.MaxPool2d(2, 2),  # 11 -> 5
        nn.Flatten(),  # 5 * 5 * 64 = 1600
        nn.Linear(1600, 512),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(512, 10),
    )


def synthetic(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), dtype=torch.int64, generator=g)
    return images, labels


def normalise(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.float() / 255.0 - MEAN) / STD


def optimiser(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-5)


def raw_steps(images, labels, batch_size: int) -> float:
    torch.manual_seed(0)
    model = network().train()
    optim = optimiser(model)
    loss_fn = nn.CrossEntropyLoss()
    count = len(images) // batch_size
    batches = [
        (normalise(images[b * batch_size : (b + 1) * batch_size]).contiguous(),
         labels[b * batch_size : (b + 1) * batch_size])
        for b in range(count)
    ]
    warmup = min(3, count)

    def step(x, y):
        optim.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()
        return loss

    for x, y in batches[:warmup]:
        step(x, y)
    start = time.perf_counter()
    for x, y in batches[warmup:]:
        loss = step(x, y)
    loss.item()
    return (count - warmup) * batch_size / (time.perf_counter() - start)


def loop_epoch(images, labels, batch_size: int) -> float:
    torch.manual_seed(0)
    model = network().train()
    optim = optimiser(model)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True,
                        drop_last=True)
    seen, loss_sum, correct = 0, 0.0, 0
    start = time.perf_counter()
    for pixels, y in loader:
        x = normalise(pixels)
        optim.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optim.step()
        seen += len(y)
        loss_sum += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
    return seen / (time.perf_counter() - start)


@torch.inference_mode()
def inference(images, latency_runs: int):
    torch.manual_seed(0)
    model = network().eval()
    pixels = images[:1000]

    def run(p):
        return model(normalise(p)).numpy().copy()

    # As crates/bench: 3 unmeasured batches, then the median of 10.
    for _ in range(3):
        run(pixels)
    batch_ms = []
    for _ in range(10):
        t = time.perf_counter()
        run(pixels)
        batch_ms.append(time.perf_counter() - t)
    throughput = 1000 / sorted(batch_ms)[len(batch_ms) // 2]
    for i in range(20):
        run(images[i : i + 1])
    latencies = []
    for i in range(latency_runs):
        one = images[i % 1000 : i % 1000 + 1]
        t = time.perf_counter()
        run(one)
        latencies.append((time.perf_counter() - t) * 1e3)
    latencies.sort()

    def pct(p):
        return latencies[round((len(latencies) - 1) * p)]

    return throughput, pct(0.5), pct(0.99)


def numpy_sgemm_gflops(threads: int, runs: int = 5) -> float:
    """Best GFLOP/s of a 2048x2048 float32 product through numpy's BLAS on `threads` threads."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    n = 2048
    rng = np.random.default_rng(0)
    a = rng.uniform(-1.0, 1.0, (n, n)).astype(np.float32)
    b = rng.uniform(-1.0, 1.0, (n, n)).astype(np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--batch-sizes", default="64,256", help="training batch sizes")
    parser.add_argument("--train-images", type=int, default=12_800)
    parser.add_argument("--latency-runs", type=int, default=300)
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    images, labels = synthetic(max(args.train_images, 1000), 1)
    train = []
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        raw = raw_steps(images, labels, batch_size)
        loop = loop_epoch(images, labels, batch_size)
        train.append({
            "batch_size": batch_size,
            "raw_step_img_per_s": raw,
            "loop_epoch_img_per_s": loop,
            "loop_overhead_percent": 100.0 * (raw / loop - 1.0),
        })
    throughput, median, p99 = inference(images, args.latency_runs)
    report = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "train": train,
        "infer_batch_1000_img_per_s": throughput,
        "latency_batch_1_median_ms": median,
        "latency_batch_1_p99_ms": p99,
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    report["numpy_sgemm_2048_gflops"] = numpy_sgemm_gflops(args.threads)
    print(f"torch {report['torch']}, {report['threads']} threads")
    for t in train:
        print(f"  batch {t['batch_size']}: raw {t['raw_step_img_per_s']:.0f} img/s, "
              f"loop epoch {t['loop_epoch_img_per_s']:.0f} img/s")
    print(f"  infer b1000 {throughput:.0f} img/s, b1 median {median:.3f} ms, p99 {p99:.3f} ms, "
          f"peak RSS {report['peak_rss_mib']:.0f} MiB")
    print(f"  sgemm 2048x2048 through numpy's BLAS: {report['numpy_sgemm_2048_gflops']:.1f} GFLOP/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
