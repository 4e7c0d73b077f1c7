"""``POST /api/feedback`` under load, beside ``POST /api/predict`` in the same run (a benchmark, not a test).

    python -m scripts.bench.feedback                        # SQLite in a temporary folder, 16 connections, 10 s each
    python -m scripts.bench.feedback --database postgresql://postgres@127.0.0.1:5432/postgres
    python -m scripts.bench.feedback --connections 16 --seconds 20 --rounds 3

A real ``digitpad-serve`` (one worker, the shipped weights) on 127.0.0.1 with its rate limit
raised out of the way; wrk (``apt-get install wrk``; else an asyncio client in this process)
keeps ``--connections`` keep-alive connections busy for ``--seconds``, posting 784 prepared
pixels: to /api/feedback (each a new row: prepare the input, insert, commit) and, as the
baseline, to /api/predict. The two loads
alternate for ``--rounds`` rounds. Printed per load: requests/s, p50 and p99 latency, errors;
then the rows in the database, which must equal the feedback requests answered. The client
shares the 2 cores with the server, so figures compare within one run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from app.api.examples import PIXELS_2
from app.storage import feedback as store
from app.storage.database import connect
from scripts.harness.load import Load, python_load, wrk
from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT, serving


def show(name: str, r: Load) -> str:
    return f"{name:28s} {r.rps:8.0f} req/s   p50 {r.p50_ms:6.2f} ms   p99 {r.p99_ms:6.2f} ms   errors {r.errors}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", help="a database URL (default: SQLite in a temporary folder)")
    p.add_argument("--connections", type=int, default=16, help="(default: %(default)s)")
    p.add_argument("--seconds", type=float, default=10, help="per load (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=2, help="(default: %(default)s)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="digitpad-bench-"))
    url = args.database or f"sqlite:///{tmp}/feedback.db"
    predict = json.dumps({"pixels": PIXELS_2})
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database "
          f"{url.split('@')[-1]}; {args.connections} connections, {args.seconds:g} s a load")
    answered = 0
    with serving(tmp, ROOT / "weights" / "digitpad.npz", database_url=url, feedback_per_minute=10**9) as s:
        with urllib.request.urlopen(f"{s.url}/api/model") as r:  # a correction names a served version
            version = json.load(r)["version"]
        feedback = json.dumps({"pixels": PIXELS_2, "label": 2, "predicted": 7, "model_version": version})
        for k in range(args.rounds):
            if shutil.which("wrk"):
                f = wrk(s.url, feedback, args.seconds, args.connections, tmp, "/api/feedback")
                b = wrk(s.url, predict, args.seconds, args.connections, tmp)
            else:
                f = python_load(s.url, feedback, args.seconds, args.connections, "/api/feedback", ok=201)
                b = python_load(s.url, predict, args.seconds, args.connections)
            answered += f.requests - f.errors
            print(f"round {k + 1}")
            print("  " + show("POST /api/feedback", f))
            print("  " + show("POST /api/predict (baseline)", b)
                  + f"   feedback ÷ predict p99 {f.p99_ms / b.p99_ms:.2f}")
    engine = connect(url)
    rows = store.count(engine)
    print(f"rows in the database: {rows}; feedback answers counted by the client: {answered} "
          f"({'nothing lost' if rows >= answered else 'ROWS MISSING'}; a few more rows than answers are the "
          "requests still in flight when the load's time ran out)")
    engine.dispose()


if __name__ == "__main__":
    main()
