"""Time preprocessing + prediction of one 280×280 canvas PNG, in-process (a benchmark, not a test).

    python -m scripts.bench.preprocess                            # weights/digitpad.npz
    python -m scripts.bench.preprocess --weights /tmp/dev-weights.npz --repeats 500
    python -m scripts.bench.preprocess --blas-threads 0           # BLAS's own default thread count

The PNG is what the drawing page sends: a 280×280 canvas, black ink with alpha
coverage on transparent, a round pen 7% of the canvas wide (as static/pad.js
draws). Reported: the median of --repeats runs (after a warm-up) of decode +
preprocess (``prepare_image``), of the network alone, and of both together,
which is the figure the goal (≤ 2 ms) is about; then the whole HTTP round trip
through the in-process app (base64, JSON, validation, response) for context.
Each figure is wall-clock time with, beside it, the CPU time of this process
(all its threads): a gap means waiting or spinning threads. The machine's cores
and load average are printed too, since other work slows every figure.

BLAS threads: one image is a tiny matrix product, and OpenBLAS's worker threads
spin-wait for each other; when other processes hold the cores (a training run,
other requests) that wait can cost far more than the product itself. ``--blas-threads 1`` (the
default) sets OPENBLAS_NUM_THREADS before numpy loads, as a server should.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 20) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of one call."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"),
                   help="weights file (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=300, help="timed runs per figure (default: %(default)s)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="OPENBLAS_NUM_THREADS, 0 to leave it alone (default: %(default)s)")
    args = p.parse_args()
    if args.blas_threads:
        if "numpy" in sys.modules:
            p.error("numpy is already loaded; run as python -m scripts.bench.preprocess")
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)

    from fastapi.testclient import TestClient

    from app.imaging.preprocess import prepare_image
    from app.main import create_app
    from app.serving.predictor import Predictor
    from app.settings import Settings
    from scripts.datasets.canvas import seven_png  # numpy: after OPENBLAS_NUM_THREADS is set

    png = seven_png()
    predictor = Predictor.load(args.weights)
    x = prepare_image(png)

    prep = median_ms(lambda: prepare_image(png), args.repeats)
    net = median_ms(lambda: predictor.predict(x[None]), args.repeats)
    both = median_ms(lambda: predictor.predict(prepare_image(png)[None]), args.repeats)

    body = {"image": "data:image/png;base64," + base64.b64encode(png).decode()}
    with TestClient(create_app(Settings(weights=args.weights))) as client:
        http = median_ms(lambda: client.post("/api/predict", json=body), max(args.repeats // 3, 20))

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(BLAS default)")
    print(f"machine: {os.cpu_count()} cores, load average {load}; OPENBLAS_NUM_THREADS={threads}")
    print(f"model: {predictor.name} {predictor.version} ({predictor.net.n_params():,} parameters)")
    print(f"input: 280×280 RGBA PNG, {len(png):,} bytes; median of {args.repeats} runs, wall (CPU) ms")
    for name, (wall, cpu), note in (("decode + preprocess", prep, ""), ("network", net, ""),
                                    ("preprocess + prediction", both, "   goal ≤ 2 ms"),
                                    ("POST /api/predict in-process", http, "   HTTP, JSON and base64 included")):
        print(f"  {name:29s} {wall:6.3f} ({cpu:6.3f}){note}")


if __name__ == "__main__":
    main()
