"""How long the test suite takes on a fresh clone, idle or beside a CPU burner (a benchmark, not a test).

    python -m scripts.bench.suite                      # ./run.sh test on a fresh clone of HEAD
    python -m scripts.bench.suite --quick              # ./run.sh test --quick
    python -m scripts.bench.suite --burners 8          # beside 8 busy processes: load about 8 more
    python -m scripts.bench.suite --burners 8 tests/server/test_hostile.py   # only these tests

Clones this checkout's HEAD into a temporary folder (with ``../shared`` beside it, as CI has it),
starts ``--burners`` processes that spin on the CPU until the run ends, runs the command there
and prints its wall time, its exit code, pytest's closing line and the load average before and at
the end. Everything the suite installs (Debian's packages, the container engine) stays installed
for the next run, so the first run on a new machine is the slower one: say which this was.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT


def burn() -> None:
    while True:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="run ./run.sh test --quick")
    p.add_argument("--burners", type=int, default=0, help="busy processes beside the run (default: %(default)s)")
    p.add_argument("--limit", type=float, default=5400, help="seconds before the run is stopped (default: %(default)s)")
    p.add_argument("tests", nargs="*", help="test files or folders to run (default: the whole suite)")
    args = p.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="digitpad-suite-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shared = ROOT.parent / "shared"
        if shared.is_dir():
            (Path(tmp) / "shared").symlink_to(shared)
        print(f"{cpu_name()}, {os.cpu_count()} cores; commit {commit}; {args.burners} burners; "
              f"load average {os.getloadavg()[0]:.2f} before", flush=True)
        burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.burners)]
        for b in burners:
            b.start()
        command = ["./run.sh", "test", *(["--quick"] if args.quick else []), "-p", "no:cacheprovider", *args.tests]
        start = time.monotonic()
        try:
            run = subprocess.run(command, cwd=clone, capture_output=True, text=True, timeout=args.limit,
                                 env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"})
        finally:
            load = os.getloadavg()[0]
            for b in burners:
                b.terminate()
        seconds = time.monotonic() - start
    closing = [line for line in run.stdout.splitlines() if " passed" in line or " failed" in line][-1:]
    print(f"{' '.join(command)}: exit {run.returncode} after {seconds / 60:.1f} min; load average {load:.2f} "
          f"at the end; {closing[0].strip('= ') if closing else 'no pytest closing line'}")
    if run.returncode:
        print(run.stdout[-3000:], run.stderr[-2000:], sep="\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
