"""What metrics and request logging cost: ``POST /api/predict`` throughput with both on (the
default) and both off, side by side in one run (a benchmark, not a test).

    python -m scripts.bench.observability                    # wrk if installed, 16 connections, 10 s, 3 rounds
    python -m scripts.bench.observability --log-format json

Three real ``digitpad-serve`` processes (one worker each, the shipped weights) on 127.0.0.1: one
with ``DIGITPAD_METRICS`` and ``DIGITPAD_ACCESS_LOG`` on (its log lines go to a file, as a
container's would go to its log driver) and two with both off, the second a control: the
difference between the two identical ones is what this machine's noise alone gives. They are
loaded in turn, in short loads over many rounds, with the same 784 prepared pixels. Printed per
round: requests/s of each; then the median cost in throughput (goal ≤ 5 %) beside the median
difference between the identical pair, and the memory the first server holds after its loads."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from app.api.examples import PIXELS_2
from scripts.harness.load import python_load, wrk
from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT, serving


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=16, help="(default: %(default)s)")
    p.add_argument("--seconds", type=float, default=4, help="(default: %(default)s)")
    p.add_argument("--rounds", type=int, default=10, help="(default: %(default)s)")
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
    costs, noise = [], []
    with serving(tmp, weights, metrics="true", access_log="true", log_format=args.log_format) as on, \
            serving(tmp, weights, metrics="false", access_log="false") as off, \
            serving(tmp, weights, metrics="false", access_log="false") as control:
        for k in range(args.rounds):
            order = [("on", on), ("off", off), ("control", control)]
            order = order[k % 3:] + order[:k % 3]  # each server goes first in turn
            rps = {name: load(s.url)[0] for name, s in order}
            costs.append(1 - rps["on"] / rps["off"])
            noise.append(abs(1 - rps["control"] / rps["off"]))
            print(f"round {k + 1:2d}: on {rps['on']:6.0f}   off {rps['off']:6.0f}   control {rps['control']:6.0f} "
                  f"req/s   cost {costs[-1]:+.1%}")
        memory = f"{on.memory_mb('VmRSS'):.0f} MB resident, {on.memory_mb('VmHWM'):.0f} MB at most"
    print(f"the server with metrics and logs on, after its loads, its three models loaded: {memory}")
    print(f"metrics and request logging cost {statistics.median(costs):+.1%} of /api/predict throughput "
          f"(median of {args.rounds} rounds; goal ≤ 5 %); two identical servers differed by "
          f"{statistics.median(noise):.1%} (median), this machine's noise")


if __name__ == "__main__":
    main()
