"""Time reading a drawn number in-process: a 6-digit drawing on a 900×300 canvas (a benchmark, not a test).

    python -m scripts.bench.read                          # weights/digitpad.npz, 200 runs per figure
    python -m scripts.bench.read --repeats 500 --digits 4

The drawing is what the page sends in number mode: black ink with alpha coverage on a
transparent canvas, a round pen 7% of the canvas's height wide, the digits stroke-drawn from
``model.glyphs`` templates (each with its own slant and wobble) side by side with random gaps.
Several such drawings (``--drawings``, fixed seeds) are timed in turn.

Reported, each the median (and 90th percentile) of ``--repeats`` runs after a warm-up:

* the whole read, ``read_number`` as ``POST /api/read`` runs it on its CPU thread: PNG decode,
  ink map, segmentation (every candidate digit read by the network in one batch), the
  answers and their JSON (the goal: ≤ 10 ms);
* its parts: decode + ink map, segmentation;
* the baseline beside it, in the same run: ``/api/predict``'s path (``predict_one``) on the same
  PNG, one 28×28 reading of the whole drawing; the ratio is what reading a number costs over that.

BLAS threads: as ``scripts.bench.preprocess``, one by default (as ``./run.sh start``)."""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and 90th percentile of fn's wall-clock time, ms."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"), help="(default: %(default)s)")
    p.add_argument("--digits", type=int, default=6, help="digits in the number (default: %(default)s)")
    p.add_argument("--drawings", type=int, default=5, help="drawings, seeds 0… (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=200, help="timed runs per figure (default: %(default)s)")
    p.add_argument("--blas-threads", type=int, default=1, help="0 = BLAS's default (default: %(default)s)")
    args = p.parse_args()
    if args.blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)

    import json

    from app.api.routes.predict import predict_one
    from app.api.routes.read import number_ink, read_number
    from app.api.schemas import PredictRequest
    from app.imaging.decode import ImageLimits
    from app.imaging.segment import segment
    from app.serving.executor import Job
    from app.serving.predictor import Predictor
    from scripts.datasets.canvas import number_png

    predictor = Predictor.load(args.weights)
    limits, job = ImageLimits(), Job()

    def confidence(X):  # type: ignore[no-untyped-def]
        P, none = predictor.predict(X)
        return P.max(axis=1) * (1.0 - none)

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.weights}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; "
          f"median (p90) of {args.repeats} runs, ms")
    print(f"{'drawing':>8} {'read as':>10} {'read':>14} {'decode+ink':>14} {'segment':>14} "
          f"{'predict (baseline)':>20} {'ratio':>6}")
    reads = []
    for seed in range(args.drawings):
        png, truth = number_png(args.digits, seed)
        body = PredictRequest.model_validate({"image": "data:image/png;base64," + base64.b64encode(png).decode()})
        text = json.loads(read_number(job, png, None, limits, predictor, True))["text"]
        ink = number_ink(png, None, limits)[0]
        read = timed(lambda: read_number(job, png, None, limits, predictor, True), args.repeats)  # noqa: B023
        decode = timed(lambda: number_ink(png, None, limits), args.repeats)  # noqa: B023
        seg = timed(lambda: segment(ink, confidence), args.repeats)  # noqa: B023
        base = timed(lambda: predict_one(job, body, limits, predictor, True), args.repeats)  # noqa: B023
        reads.append(read[0])
        mark = "" if text == truth else f" (drawn {truth})"
        print(f"{seed:>8} {text:>10} {read[0]:7.2f} ({read[1]:5.2f}) {decode[0]:7.2f} ({decode[1]:5.2f}) "
              f"{seg[0]:7.2f} ({seg[1]:5.2f}) {base[0]:12.2f} ({base[1]:5.2f}) {read[0] / base[0]:5.1f}×{mark}")
    print(f"reading a {args.digits}-digit 900×300 drawing: median {statistics.median(reads):.2f} ms, "
          f"slowest drawing {max(reads):.2f} ms (goal ≤ 10 ms)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
