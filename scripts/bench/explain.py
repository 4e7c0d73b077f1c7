"""Time ``/api/explain`` in-process, and the explorer page's first render (a benchmark, not a test).

    python -m scripts.bench.explain                       # the served models, 200 runs each
    python -m scripts.bench.explain --page                # also /explore in Debian's Chromium

In-process: ``explain_one`` as ``POST /api/explain`` runs it on its CPU thread (prepare a 280×280
canvas PNG, predict, the network's forward and backward pass, quantise every layer's output,
JSON), beside ``predict_one``, ``/api/predict``'s path, on the same PNG in the same run; median and
90th percentile of ``--repeats`` runs after a warm-up, one BLAS thread, and the answer's size.
The goal: ≤ 10 ms for the CNN.

``--page``: a real ``digitpad-serve`` on 127.0.0.1 and headless Chromium (``/usr/bin/chromium``);
the time from navigation to every panel filled from the API (architecture, curves, confusion,
errors, filters, maths), over ``--loads`` fresh page loads. The goal: ≤ 1 s."""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=200, help="(default: %(default)s)")
    p.add_argument("--page", action="store_true", help="also time the explorer page in Chromium")
    p.add_argument("--loads", type=int, default=5, help="page loads with --page (default: %(default)s)")
    args = p.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    from app.api.routes.explain import explain_one
    from app.api.routes.predict import predict_one
    from app.api.schemas import ExplainRequest, PredictRequest
    from app.imaging.decode import ImageLimits
    from app.serving.executor import Job
    from app.serving.models import load_models
    from app.settings import Settings
    from scripts.datasets.canvas import seven_png
    from scripts.harness.machine import cpu_name

    image = "data:image/png;base64," + base64.b64encode(seven_png()).decode()
    models, job, limits = load_models(Settings()), Job(), ImageLimits()

    def timed(run: Callable[[], object]) -> tuple[float, float]:
        run()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            run()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return statistics.median(times), times[int(0.9 * (len(times) - 1))]

    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}; median (p90) of {args.repeats} runs, ms")
    for name, predictor in models.by_name.items():
        body = ExplainRequest.model_validate({"image": image, "model": name})
        plain = PredictRequest.model_validate({"image": image})
        size = len(explain_one(job, body, limits, predictor))
        e = timed(lambda: explain_one(job, body, limits, predictor))  # noqa: B023
        b = timed(lambda: predict_one(job, plain, limits, predictor, True))  # noqa: B023
        print(f"  {name:10s} explain {e[0]:6.2f} ({e[1]:5.2f})   predict {b[0]:6.2f} ({b[1]:5.2f})   "
              f"ratio {e[0] / b[0]:4.1f}×   answer {size / 1024:5.1f} KB")
    if args.page:
        page_load(args.loads)


def page_load(loads: int) -> None:
    from playwright.sync_api import sync_playwright

    from scripts.harness.server import ROOT, serving

    filled = """() => ['#architecture li', '#curves polyline', '#confusion td', '#errors canvas', '#filters canvas',
                       '#maths li'].every(s => document.querySelector(s))"""
    with serving(Path(tempfile.mkdtemp()), ROOT / "weights" / "digitpad.npz") as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        times = []
        for _ in range(loads):
            context = browser.new_context()
            page = context.new_page()
            t = time.perf_counter()
            page.goto(server.url + "/explore")
            page.wait_for_function(filled, timeout=10_000)
            times.append((time.perf_counter() - t) * 1000)
            context.close()
        browser.close()
    print(f"  /explore first render, every panel filled: median {statistics.median(times):.0f} ms, "
          f"slowest {max(times):.0f} ms of {loads} fresh loads (goal ≤ 1000 ms)")


if __name__ == "__main__":
    main()
