"""The shipped CNN's forward pass, numpy against onnxruntime, one thread each (a benchmark).

    python -m scripts.bench.engine                        # weights/digitpad.npz, 5 rounds
    python -m scripts.bench.engine --rounds 9
    git archive 66daaa6 model | tar -x -C /tmp/base       # an older model/ beside this one:
    python -m scripts.bench.engine --baseline /tmp/base
    python -m scripts.bench.engine --cold                 # and without model.inference.warm_blas

What is timed: probabilities for a batch of 256 real MNIST test images (the committed sample in
tests/data) and for one of them. The numpy side is ``Network.predict_proba`` of the network
``model.weights.load`` gives (what the server runs), with OPENBLAS_NUM_THREADS=1. The onnxruntime
side runs the same weights exported by ``scripts/export.py`` (softmax and temperature included),
CPU provider, intra_op_num_threads=1, inter_op_num_threads=1, sequential execution, its default
graph optimizations. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are left as the environment has them.

--baseline adds a side: the numpy side with another tree's model/ package. --cold adds one: this
tree's numpy side without ``model.inference.warm_blas``, to show what that warm-up is worth.
Each side runs in its own process, alternated numpy, onnxruntime (and those) for --rounds
rounds; each process reports the median CPU time (``time.process_time``) of one call after a few
untimed ones, and the table gives the median over rounds and numpy ÷ onnxruntime (≤ 1.5 is the
goal). The numpy side also times each inference step (``model/inference.py``) on its own, for
the same batch in the same slices and for the one image, to show which layer costs what. Both
sides' probabilities are compared, so a fast wrong answer cannot pass unnoticed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scripts import project_root
from scripts.harness.machine import cpu_name

ROOT = project_root()
SAMPLE = ROOT / "tests" / "data" / "t10k-sample-images-idx3-ubyte.gz"
BATCH = 256
Result = dict[str, Any]
Images = NDArray[np.float32]


def images() -> Images:
    """The first BATCH images of the committed MNIST test sample: (256, 784) float32 in [0, 1]."""
    from model.mnist import read_idx
    return (read_idx(SAMPLE)[:BATCH].reshape(BATCH, 784) / 255).astype(np.float32)


def cpu_ms(fn: Callable[[], object], reps: int) -> float:
    """Median CPU milliseconds of one call of ``fn``, after a few untimed calls."""
    for _ in range(max(3, reps // 20)):
        fn()
    times = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def timings(predict: Callable[[Images], Any], X: Images, args: argparse.Namespace) -> Result:
    return {"batch_ms": cpu_ms(lambda: predict(X), args.batch_reps),
            "one_ms": cpu_ms(lambda: predict(X[:1]), args.one_reps)}


# ---- the sides, each in a process of its own ------------------------------------------------------

def numpy_side(X: Images, args: argparse.Namespace, steps: bool) -> Result:
    from model import weights
    if args.side == "cold":  # this tree as it is, but OpenBLAS's buffer left unmapped
        from model import inference
        inference.warm_blas = lambda: None  # type: ignore[assignment]
    net, _ = weights.load(args.weights)
    result = timings(net.predict_proba, X, args)
    result["P"] = net.predict_proba(X).tolist()
    if steps:
        result["steps"] = step_timings(net, X, args)
    return result


def step_timings(net: Any, X: Images, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    """(step, ms for the batch, ms for one image) for each step of ``net.plan`` and the softmax,
    each timed on its own inputs as ``model.inference.run`` makes them: the image steps on the
    batch's slices, the steps after the flatten on all its rows. Medians."""
    from model.inference import SLICE
    from model.losses import softmax
    plan = net.plan
    steps = [*plan.images, *plan.rows, ("softmax / T", lambda Z: softmax(Z / net.temperature))]
    batch = [[X[i:i + SLICE] for i in range(0, X.shape[0], SLICE)] if plan.images else [X]]  # inputs, made once
    one = [X[:1]]
    for k, (_, step) in enumerate(steps):
        outputs = [step(A) for A in batch[-1]]
        batch.append([np.concatenate(outputs)] if k + 1 == len(plan.images) else outputs)
        one.append(step(one[-1]))
    out = []
    for k, (name, step) in enumerate(steps):
        def on_batch(k: int = k, step: Callable[[Any], Any] = step) -> object:
            return [step(A) for A in batch[k]]

        def on_one(k: int = k, step: Callable[[Any], Any] = step) -> object:
            return step(one[k])

        out.append((name, cpu_ms(on_batch, max(5, args.batch_reps // 2)), cpu_ms(on_one, args.one_reps)))
    return out


def onnxruntime_side(X: Images, args: argparse.Namespace) -> Result:
    import onnxruntime as ort

    from model import weights
    from scripts.export import to_onnx
    net, meta = weights.load(args.weights)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(to_onnx(net, str(meta.get("name") or "digitpad")).SerializeToString(),
                                   options, providers=["CPUExecutionProvider"])
    result = timings(lambda x: session.run(["probabilities"], {"input": x}), X, args)
    result["P"] = session.run(["probabilities"], {"input": X})[0].tolist()
    result["version"] = f"onnxruntime {ort.__version__}"
    return result


def child(args: argparse.Namespace) -> Result:
    X = images()
    if args.side == "onnxruntime":
        return onnxruntime_side(X, args)
    return numpy_side(X, args, steps=args.side == "numpy")


# ---- the parent: alternate the sides, then report ---------------------------------------------------

def run_side(side: str, args: argparse.Namespace) -> Result:
    """One measurement of ``side`` in a fresh process; its last stdout line is the JSON result. The
    baseline runs in the --baseline folder, so its ``model`` package is found before this one's."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cwd = ROOT
    if side == "baseline":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        cwd = args.baseline
    cmd = [sys.executable, "-m", "scripts.bench.engine", "--side", side, "--weights", str(args.weights.resolve()),
           "--batch-reps", str(args.batch_reps), "--one-reps", str(args.one_reps)]
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {side} side failed:\n{done.stderr}")
    result: Result = json.loads(done.stdout.splitlines()[-1])
    return result


def header(args: argparse.Namespace, runs: dict[str, list[Result]], load_before: str) -> None:
    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "(not a git checkout)"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, load average {load_before} before, "
          f"{load_average()} after; commit {commit}")
    print(f"numpy {np.__version__} ({blas.get('name')} {blas.get('version')}, OPENBLAS_NUM_THREADS=1, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}), "
          f"{runs['onnxruntime'][0]['version']} (1 intra-op thread, sequential)")
    print(f"weights: {args.weights}; data: the first {BATCH} images of {SAMPLE.relative_to(ROOT)}")
    print(f"each side in its own process, alternated {', '.join(runs)} × {args.rounds}; "
          f"median CPU time of one call (batch: {args.batch_reps} calls, one image: {args.one_reps}), "
          "then the median over rounds")


def print_table(runs: dict[str, list[Result]]) -> None:
    def med(side: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[side]))

    sides = list(runs)
    print(f"\n{'forward pass, probabilities':<30}" + "".join(f"{s:>14}" for s in sides)
          + "".join(f"{s + '/ort':>16}" for s in sides if s != "onnxruntime"))
    for label, key in ((f"batch of {BATCH}", "batch_ms"), ("one image", "one_ms")):
        ort_ms = med("onnxruntime", key)
        print(f"{label:<30}" + "".join(f"{med(s, key):>11.3f} ms" for s in sides)
              + "".join(f"{med(s, key) / ort_ms:>16.2f}" for s in sides if s != "onnxruntime"))
    P = {s: np.array(runs[s][0]["P"]) for s in sides}
    for s, other in [(s, "onnxruntime") for s in sides if s != "onnxruntime"] + \
            [("numpy", s) for s in sides if s in ("baseline", "cold")]:
        same = int((P[s].argmax(axis=1) == P[other].argmax(axis=1)).sum())
        print(f"{s} against {other}: max |ΔP| {np.abs(P[s] - P[other]).max():.1e}, "
              f"the same answer for {same} of {BATCH} images")


def print_steps(runs: list[Result]) -> None:
    """The numpy side's steps: median over rounds, and each step's share of their sum."""
    names = [name for name, _, _ in runs[0]["steps"]]
    batch = [statistics.median(r["steps"][i][1] for r in runs) for i in range(len(names))]
    one = [statistics.median(r["steps"][i][2] for r in runs) for i in range(len(names))]
    print(f"\n{'numpy, step by step':<30}{'batch of ' + str(BATCH):>16}{'share':>8}{'one image':>14}{'share':>8}")
    for name, b, o in zip(names, batch, one, strict=True):
        print(f"{name:<30}{b:>13.3f} ms{b / sum(batch):>8.0%}{o:>11.3f} ms{o / sum(one):>8.0%}")
    print(f"{'sum of the steps':<30}{sum(batch):>13.3f} ms{'':>8}{sum(one):>11.3f} ms")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5, help="alternations of the sides (default: %(default)s)")
    p.add_argument("--batch-reps", type=int, default=15,
                   help="timed calls on the batch per process (default: %(default)s)")
    p.add_argument("--one-reps", type=int, default=400,
                   help="timed calls on one image per process (default: %(default)s)")
    p.add_argument("--weights", type=Path, default=ROOT / "weights" / "digitpad.npz", help="(default: %(default)s)")
    p.add_argument("--baseline", type=Path,
                   help="a folder holding another model/ package, run as a third side (default: none)")
    p.add_argument("--cold", action="store_true",
                   help="also run this tree without model.inference.warm_blas, as another side")
    p.add_argument("--side", choices=["numpy", "onnxruntime", "baseline", "cold"], help=argparse.SUPPRESS)  # a child
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.side:
        print(json.dumps(child(args)))
        return 0
    if args.baseline and not (args.baseline / "model" / "network.py").is_file():
        sys.exit(f"--baseline {args.baseline}: no model/network.py there")
    load_before = load_average()
    sides = ["numpy", "onnxruntime"] + (["baseline"] if args.baseline else []) + (["cold"] if args.cold else [])
    runs: dict[str, list[Result]] = {side: [] for side in sides}
    for r in range(args.rounds):
        for side in sides:
            print(f"round {r + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
            runs[side].append(run_side(side, args))
    header(args, runs, load_before)
    print_table(runs)
    print_steps(runs["numpy"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
