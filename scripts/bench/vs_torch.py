"""The numpy engine next to PyTorch on the CPU: same networks, data, batch, optimizer, dtype and threads.

    python -m scripts.bench.vs_torch                  # 1 thread, 3 rounds
    python -m scripts.bench.vs_torch --threads 2 --rounds 5

Needs the optional `bench` extra (torch==2.13.0, the CPU wheel, and threadpoolctl):
    pip install -e '.[bench]'

Some machines here set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) to hold OpenBLAS to older
kernels (AVX2 "Haswell" on an AVX-512 CPU) while torch uses its best; for a fair race the numpy
side runs without both unless --keep-coretype, and the table says which kernel each side ran.

Figures (Adam, lr 1e-3, batch 128, float32, the same seeded batches on both sides):
  MLP 784-256-128-10 (ReLU): one epoch of 469 steps (60,000 images).
  The shipped CNN (model.presets.cnn: conv 5×5·32, pool, conv 5×5·64, pool, dense 256,
  dropout 0.4, 10): one training step and one epoch of 430 steps (55,000 images),
  scaled from --cnn-steps; inference on a batch of 256 and on one image (medians).
Data: real MNIST (--data) when its training files are there, else seeded random data of
the same shape. Each side runs in its own subprocess (numpy never loads torch, so the BLAS
and OpenMP pools do not meet), alternated numpy, torch, numpy, torch … for --rounds rounds;
the table gives medians and numpy/torch (≤ 1.00: numpy as fast or faster).
The torch networks are built from the same layer configs as the numpy ones (NCHW).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from model.mnist import find, load_split
from model.network import Network
from model.optimizers import make_optimizer
from model.presets import cnn, mlp
from scripts import project_root
from scripts.harness.machine import cpu_name

if TYPE_CHECKING:
    import torch

ROOT = project_root()
BATCH, LR, SEED = 128, 1e-3, 0
MLP_SIZES = [784, 256, 128, 10]
MLP_EPOCH, CNN_EPOCH = 469, 430  # steps of 128 over 60,000 and over 55,000 (5,000 held out) images
WARMUP = 3  # untimed steps first: torch builds its kernels on the first call
Images = NDArray[np.float32]
Labels = NDArray[np.uint8]
Result = dict[str, Any]


# ---- data, the same on both sides ---------------------------------------------------------------

def load_data(data: str) -> tuple[Images, Labels]:
    """X: (60000, 784) float32 in [0, 1], y: (60000,) uint8; seeded random when ``data`` is 'random'."""
    if data != "random":
        X, y, _ = load_split(Path(data), "train")
        return X, y
    rng = np.random.default_rng(SEED)
    return rng.random((60_000, 784), dtype=np.float32), rng.integers(0, 10, 60_000, dtype=np.uint8)


def batch_indices(n: int, steps: int) -> list[NDArray[np.intp]]:
    """Indices of the first ``steps`` batches of a seeded shuffle of range(n)."""
    order = np.random.default_rng(SEED).permutation(n)
    return [order[(s * BATCH) % n:][:BATCH] for s in range(steps)]


def median_ms(fn: Callable[[], object], reps: int) -> float:
    for _ in range(max(5, reps // 20)):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


# ---- numpy side: the project's public API only --------------------------------------------------

def numpy_train(configs: list[dict[str, Any]], X: Images, y: Labels, steps: int) -> tuple[float, float, int]:
    """(seconds for ``steps`` timed steps, last loss, parameter count), after WARMUP untimed steps."""
    net = Network.from_config(configs, seed=SEED)
    opt = make_optimizer("adam")
    slots = [(layer, name.split(".")[1]) for name, _, layer in net.parameters()]
    params = [layer.params[key] for layer, key in slots]
    loss, start = 0.0, 0.0
    for i, idx in enumerate(batch_indices(X.shape[0], WARMUP + steps)):
        if i == WARMUP:
            start = time.perf_counter()
        loss, _ = net.loss_and_grads(X[idx], y[idx])  # the logits' orientation is not used
        opt.step(params, [layer.grads[key] for layer, key in slots], LR)
    return time.perf_counter() - start, loss, sum(p.size for p in params)


def blas_kernel() -> str:
    """The OpenBLAS kernel this process runs (e.g. Haswell, SkylakeX), as threadpoolctl reads it."""
    from threadpoolctl import threadpool_info
    return ", ".join(f"{i.get('internal_api')} {i.get('architecture', '?')}" for i in threadpool_info())


def numpy_side(X: Images, y: Labels, args: argparse.Namespace) -> Result:
    mlp_s, mlp_loss, mlp_n = numpy_train(mlp(MLP_SIZES), X, y, args.mlp_steps)
    cnn_s, cnn_loss, cnn_n = numpy_train(cnn(), X, y, args.cnn_steps)
    net = Network.from_config(cnn(), seed=SEED)
    X256, X1 = X[:256], X[:1]
    return {"blas": blas_kernel(), "mlp_s": mlp_s, "mlp_loss": mlp_loss, "mlp_params": mlp_n,
            "cnn_s": cnn_s, "cnn_loss": cnn_loss, "cnn_params": cnn_n,
            "infer256_ms": median_ms(lambda: net.predict_proba(X256), max(20, args.reps // 10)),
            "infer1_ms": median_ms(lambda: net.predict_proba(X1), args.reps)}


# ---- torch side: torch.nn built from the same layer configs --------------------------------------

def torch_layer(c: dict[str, Any]) -> torch.nn.Module:
    """The torch.nn module for one ``Layer.config()`` dict; images are NCHW."""
    from torch import nn
    kind = c["type"]
    if kind == "image":
        return nn.Unflatten(1, (c["channels"], c["height"], c["width"]))
    if kind == "conv2d":
        return nn.Conv2d(c["c_in"], c["c_out"], c["k"], padding=c.get("pad", 0))
    if kind == "dense":
        return nn.Linear(c["n_in"], c["n_out"])
    if kind == "dropout":
        return nn.Dropout(c["rate"])
    if kind == "maxpool2d":
        return nn.MaxPool2d(2)
    simple: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "flatten": nn.Flatten}
    return simple[kind]()


def torch_train(configs: list[dict[str, Any]], X: torch.Tensor, y: torch.Tensor,
                steps: int) -> tuple[float, float, int]:
    """As numpy_train: (seconds for ``steps`` timed steps, last loss, parameter count)."""
    import torch
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(*[torch_layer(c) for c in configs]).train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss, start = torch.zeros(()), 0.0
    for i, idx in enumerate(batch_indices(X.shape[0], WARMUP + steps)):
        if i == WARMUP:
            start = time.perf_counter()
        t = torch.from_numpy(idx)
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(X[t]), y[t])
        loss.backward()  # type: ignore[no-untyped-call,unused-ignore]  # untyped in torch; torch absent in CI
        opt.step()
    seconds = time.perf_counter() - start
    return seconds, float(loss.item()), sum(p.numel() for p in model.parameters())


def torch_infer_ms(X: Images, reps: int) -> float:
    """Median ms of softmax(model(X)) for the CNN in eval mode, numpy in, as a server would call it."""
    import torch
    model = torch.nn.Sequential(*[torch_layer(c) for c in cnn()]).eval()
    with torch.no_grad():
        return median_ms(lambda: torch.softmax(model(torch.from_numpy(X)), dim=1), reps)


def torch_side(X: Images, y: Labels, args: argparse.Namespace) -> Result:
    import torch
    torch.set_num_threads(args.threads)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    mlp_s, mlp_loss, mlp_n = torch_train(mlp(MLP_SIZES), Xt, yt, args.mlp_steps)
    cnn_s, cnn_loss, cnn_n = torch_train(cnn(), Xt, yt, args.cnn_steps)
    return {"blas": blas_kernel(), "mlp_s": mlp_s, "mlp_loss": mlp_loss, "mlp_params": mlp_n,
            "cnn_s": cnn_s, "cnn_loss": cnn_loss, "cnn_params": cnn_n,
            "infer256_ms": torch_infer_ms(X[:256], max(20, args.reps // 10)),
            "infer1_ms": torch_infer_ms(X[:1], args.reps),
            "version": f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}, "
                       f"{torch.get_num_threads()} thread(s))"}


# ---- the parent: alternate the two sides, then report ---------------------------------------------

def run_side(side: str, data: str, args: argparse.Namespace) -> Result:
    """One measurement of ``side`` in a fresh subprocess; its last stdout line is the JSON result."""
    env = dict(os.environ)
    if side == "numpy":
        env["OPENBLAS_NUM_THREADS"] = str(args.threads)
        if not args.keep_coretype:
            env.pop("OPENBLAS_CORETYPE", None)
            env.pop("OPENBLAS_L2_SIZE", None)
    cmd = [sys.executable, "-m", "scripts.bench.vs_torch", "--side", side, "--data", data,
           "--threads", str(args.threads), "--mlp-steps", str(args.mlp_steps),
           "--cnn-steps", str(args.cnn_steps), "--reps", str(args.reps)]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {side} side failed:\n{done.stderr}")
    result: Result = json.loads(done.stdout.splitlines()[-1])
    return result


def data_source(directory: Path) -> tuple[str, str]:
    """(what to pass to the sides, how to describe it): the MNIST folder, or 'random' without it."""
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        try:
            find(directory, stem)
        except FileNotFoundError:
            return "random", f"seeded random data, 60,000 × 784 float32 and labels 0–9 (no MNIST in {directory})"
    return str(directory), f"real MNIST training images from {directory}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_line(threads: int, torch_version: str, load_before: str, kernel: str) -> str:
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    return (f"machine: {cpu_name()}, {os.cpu_count()} cores, load average {load_before} before, "
            f"{load_average()} after\n"
            f"         Python {platform.python_version()}, numpy {np.__version__} ({blas.get('name')} "
            f"{blas.get('version')}, kernel {kernel}, OPENBLAS_NUM_THREADS={threads}), {torch_version}")


def print_table(runs: dict[str, list[Result]], args: argparse.Namespace) -> None:
    def med(side: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[side]))

    scale = "" if args.mlp_steps == MLP_EPOCH else f", scaled from {args.mlp_steps}"
    rows = [(f"MLP 784-256-128-10, epoch ({MLP_EPOCH} steps{scale})", "mlp_s", MLP_EPOCH / args.mlp_steps, "s"),
            (f"CNN training step, batch {BATCH} (mean of {args.cnn_steps})", "cnn_s", 1e3 / args.cnn_steps, "ms"),
            (f"CNN epoch ({CNN_EPOCH} steps, scaled from {args.cnn_steps})", "cnn_s", CNN_EPOCH / args.cnn_steps, "s"),
            (f"CNN inference, batch of 256 (median of {max(20, args.reps // 10)})", "infer256_ms", 1.0, "ms"),
            (f"CNN inference, one image (median of {args.reps})", "infer1_ms", 1.0, "ms")]
    print(f"{'median of ' + str(args.rounds) + ' rounds':<52}{'numpy':>12}{'torch':>12}{'numpy/torch':>13}")
    for label, key, factor, unit in rows:
        n, t = med("numpy", key) * factor, med("torch", key) * factor
        print(f"{label:<52}{n:>9.3f} {unit:<2}{t:>9.3f} {unit:<2}{n / t:>13.2f}")
    for net in ("mlp", "cnn"):
        print(f"{net.upper()}: {runs['numpy'][0][net + '_params']:,} / {runs['torch'][0][net + '_params']:,} "
              f"parameters (numpy / torch), loss after the timed steps "
              f"{med('numpy', net + '_loss'):.3f} / {med('torch', net + '_loss'):.3f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="threads per side (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="numpy/torch alternations (default: %(default)s)")
    p.add_argument("--mlp-steps", type=int, default=MLP_EPOCH, help="MLP steps timed (default: %(default)s)")
    p.add_argument("--cnn-steps", type=int, default=50, help="CNN steps timed (default: %(default)s)")
    p.add_argument("--reps", type=int, default=1000,
                   help="one-image inference repetitions; a tenth for the batch (default: %(default)s)")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "mnist", help="(default: %(default)s)")
    p.add_argument("--keep-coretype", action="store_true",
                   help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the numpy side (default: unset them)")
    p.add_argument("--side", choices=["numpy", "torch"], help=argparse.SUPPRESS)  # a child process
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.side:  # a child: measure one side, print one JSON line
        X, y = load_data(str(args.data))
        print(json.dumps((numpy_side if args.side == "numpy" else torch_side)(X, y, args)))
        return 0
    data, description = data_source(args.data)
    load_before = load_average()
    runs: dict[str, list[Result]] = {"numpy": [], "torch": []}
    for r in range(args.rounds):
        for side in runs:
            print(f"round {r + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
            runs[side].append(run_side(side, data, args))
    print(machine_line(args.threads, runs["torch"][0]["version"], load_before, runs["numpy"][0]["blas"]))
    print(f"data: {description}")
    print(f"each side in its own process, {args.threads} thread(s), alternated numpy, torch × {args.rounds}; "
          f"Adam lr {LR:g}, batch {BATCH}, float32, {WARMUP} untimed warm-up steps")
    print_table(runs, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
