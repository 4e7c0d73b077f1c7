"""Speed figures for the numpy network, printed (a benchmark, not a test).

    python -m scripts.bench.network                    # everything
    python -m scripts.bench.network --only train       # the MLP epoch only

train:  one epoch of 784-256-128-10 over the 60,000 training images, batch 128,
        Adam, no augmentation, through the real training loop (model.train),
        next to baselines run in the same process: plain gradient descent
        (the optimizer's share) and the same network in float64.
infer:  single-image inference of the shipped model (median of many runs),
        next to a 784-256-128-10 MLP as the baseline.
Reports the machine (cores, BLAS) and the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from model import weights
from model.mnist import load_split
from model.network import Network
from model.presets import mlp
from model.train import TrainConfig, train
from scripts import project_root
from scripts.harness.machine import cpu_name

ROOT = project_root()




def epoch_seconds(X: np.ndarray, y: np.ndarray, optimizer: str, dtype: type, repeats: int) -> float:
    times = []
    for r in range(repeats):
        net = Network.from_config(mlp([784, 256, 128, 10]), seed=r, dtype=dtype)
        cfg = TrainConfig(epochs=1, batch_size=128, optimizer=optimizer, lr=1e-3 if optimizer == "adam" else 0.1,
                          schedule="constant", seed=r)
        start = time.perf_counter()
        history = train(net, X.astype(dtype), y, X[:1000].astype(dtype), y[:1000], cfg)
        times.append(time.perf_counter() - start)
        assert history[0]["val_accuracy"] > 0.9, history  # it really learned
    return statistics.median(times)


def inference_ms(net: Network, x: np.ndarray, n: int = 2000) -> float:
    for _ in range(50):
        net.predict_proba(x)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        net.predict_proba(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["train", "infer"])
    p.add_argument("--repeats", type=int, default=3, help="(default: %(default)s)")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "mnist", help="(default: %(default)s)")
    p.add_argument("--weights", type=Path, default=ROOT / "weights" / "digitpad.npz", help="(default: %(default)s)")
    args = p.parse_args(argv)
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    print(f"machine: {os.cpu_count()} cores, {cpu_name()}, "
          f"Python {platform.python_version()}, numpy {np.__version__}, BLAS {blas.get('name')} {blas.get('version')}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    if args.only in (None, "train"):
        X, y, _ = load_split(args.data, "train")
        adam = epoch_seconds(X, y, "adam", np.float32, args.repeats)
        gd = epoch_seconds(X, y, "gd", np.float32, args.repeats)
        f64 = epoch_seconds(X, y, "adam", np.float64, args.repeats)
        print("epoch of 784-256-128-10 over 60,000 images, batch 128 (median of "
              f"{args.repeats}):")
        print(f"  Adam, float32        {adam:6.2f} s   (target ≤ 2 s)")
        print(f"  plain GD, float32    {gd:6.2f} s   Adam/GD = {adam / gd:.2f}×")
        print(f"  Adam, float64        {f64:6.2f} s   float64/float32 = {f64 / adam:.2f}×")
    if args.only in (None, "infer"):
        net, meta = weights.load(args.weights)
        x = np.random.default_rng(0).random((1, 784), dtype=np.float32)
        shipped = inference_ms(net, x)
        baseline = inference_ms(Network.from_config(mlp([784, 256, 128, 10])), x)
        print(f"single-image inference, median of 2000 ({meta.get('description', args.weights.name)}):")
        print(f"  shipped model        {shipped:6.3f} ms  (target ≤ 1 ms)")
        print(f"  784-256-128-10 MLP   {baseline:6.3f} ms  shipped/MLP = {shipped / baseline:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
