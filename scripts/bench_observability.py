"""What metrics and request logging cost: ``POST /api/predict`` throughput with both on (the
default) and both off, side by side in one run (a benchmark, not a test).

    python -m scripts.bench_observability                    # wrk if installed, 16 connections, 10 s, 3 rounds
    python -m scripts.bench_observability --log-format json

Two real ``digitpad-serve`` processes (one worker each, the shipped weights) on 127.0.0.1: one
with ``DIGITPAD_METRICS`` and ``DIGITPAD_ACCESS_LOG`` on (its log lines go to a file, as a
container's would go to its log driver), one with both off; they are loaded in turn with the same
784 prepared pixels. Printed per round: requests/s and p99 of each, and the cost in throughput
(goal ≤ 5 %)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from app.api.examples import PIXELS_2
from scripts.bench_serving import python_load, wrk
from scripts.benchmark import cpu_name
from scripts.serverctl import ROOT, serving


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=16, help="(default: %(default)s)")
    p.add_argument("--seconds", type=float, default=10, help="(default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="(default: %(default)s)")
    p.add_argument("--log-format", choices=["text", "json"], default="text", help="(default: %(default)s)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="digitpad-bench-"))
    body = json.dumps({"pixels": PIXELS_2})
    weights = ROOT / "weights" / "digitpad.npz"

    def load(url: str) -> tuple[float, float]:
        r = (wrk(url, body, args.seconds, args.connections, tmp) if shutil.which("wrk")
             else python_load(url, body, args.seconds, args.connections))
        return r.rps, r.p99_ms

    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.connections} "
          f"connections, {args.seconds:g} s a load, log format {args.log_format}")
    costs = []
    with serving(tmp, weights, metrics="true", access_log="true", log_format=args.log_format) as on, \
            serving(tmp, weights, metrics="false", access_log="false") as off:
        for k in range(args.rounds):
            with_, without = load(on.url), load(off.url)
            costs.append(1 - with_[0] / without[0])
            print(f"round {k + 1}: on {with_[0]:7.0f} req/s (p99 {with_[1]:.1f} ms)   off {without[0]:7.0f} req/s "
                  f"(p99 {without[1]:.1f} ms)   cost {costs[-1]:+.1%}")
    print(f"metrics and request logging cost {statistics.median(costs):+.1%} of /api/predict throughput "
          f"(median of {args.rounds} rounds; goal ≤ 5 %)")


if __name__ == "__main__":
    main()
