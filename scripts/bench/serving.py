"""Serving speed: digitpad against a bare FastAPI app, side by side in one run, and 1 vs 2 workers.

    python -m scripts.bench.serving                 # wrk if installed (apt-get install wrk), else Python
    python -m scripts.bench.serving --seconds 10 --connections 16

The baseline is ``scripts/bench/bare_app.py`` (parses the JSON body, returns a constant) under the same
uvicorn (httptools, uvloop, no access log, one worker). Both are started here on 127.0.0.1 and
loaded alternately with the same payloads: a 280×280 PNG drawing as a data URL, and 784 prepared
pixels. Printed: requests/s, p50 and p99 latency, errors, and digitpad ÷ bare. Then digitpad with
1 and with 2 workers (the scaling), and the slowest of 200 requests on one idle keep-alive
connection. Every load is bounded in time; wrk's own threads share the 2 cores with the server,
so figures are for comparison within one run, not absolute."""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from app.api.examples import IMAGE_7, PIXELS_2
from scripts.harness.load import Load, python_load, wrk
from scripts.harness.machine import cpu_name
from scripts.harness.ports import free_port
from scripts.harness.server import ROOT, running, serving


def drawing_png() -> str:
    """The /docs example 7, redrawn as a 280×280 canvas PNG (black ink, alpha coverage)."""
    small = Image.open(io.BytesIO(base64.b64decode(IMAGE_7.split(",", 1)[1])))
    buf = io.BytesIO()
    small.resize((280, 280), Image.Resampling.BILINEAR).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@contextmanager
def server(kind: str, logs: Path, workers: int = 1) -> Iterator[str]:
    """digitpad (the shipped weights) or the bare app, on a free port; its address."""
    if kind == "digitpad":
        with serving(logs, ROOT / "weights" / "digitpad.npz", workers=workers) as s:
            yield s.url
        return
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "scripts.bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
           "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    with running(logs, cmd, port, {**os.environ, "OPENBLAS_NUM_THREADS": "1"}, ready_path="/healthz") as s:
        yield s.url


def load(url: str, body: str, args: argparse.Namespace, tmp: Path) -> Load:
    if shutil.which("wrk"):
        return wrk(url, body, args.seconds, args.connections, tmp)
    return python_load(url, body, args.seconds, args.connections)


def idle_keepalive(url: str, body: str, n: int = 200) -> float:
    """The slowest of n requests, one after another, on one keep-alive connection (ms), once the
    server is idle again (a second after any load, so no leftover work is in the queue)."""
    time.sleep(1.0)
    with httpx.Client(timeout=10) as c:
        c.post(f"{url}/api/predict", content=body, headers={"Content-Type": "application/json"})
        worst = 0.0
        for _ in range(n):
            t = time.perf_counter()
            c.post(f"{url}/api/predict", content=body, headers={"Content-Type": "application/json"})
            worst = max(worst, (time.perf_counter() - t) * 1000)
    return worst


def show(name: str, r: Load) -> str:
    return f"{name}: {r.rps:7.0f} req/s, p50 {r.p50_ms:5.1f} ms, p99 {r.p99_ms:5.1f} ms, {r.errors} errors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="bare/digitpad alternations per payload")
    args = parser.parse_args()
    tool = "wrk -t2" if shutil.which("wrk") else "a Python asyncio client"
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {tool}, "
          f"{args.connections} connections, {args.seconds:g} s per load")
    payloads = {"280×280 PNG": json.dumps({"image": drawing_png()}), "784 pixels": json.dumps({"pixels": PIXELS_2})}
    with tempfile.TemporaryDirectory() as tmp, server("bare", Path(tmp)) as bare, server("digitpad", Path(tmp)) as ours:
        for name, body in payloads.items():
            runs: dict[str, list[Load]] = {"bare": [], "digitpad": []}
            for _ in range(args.rounds):
                runs["bare"].append(load(bare, body, args, Path(tmp)))
                runs["digitpad"].append(load(ours, body, args, Path(tmp)))
            b = max(runs["bare"], key=lambda r: r.rps)
            d = max(runs["digitpad"], key=lambda r: r.rps)
            print(f"{name}:\n  {show('bare    ', b)}\n  {show('digitpad', d)}\n  digitpad ÷ bare: {d.rps / b.rps:.2f}×")
        worst = idle_keepalive(ours, payloads["784 pixels"])
    print(f"one idle keep-alive connection, 1 worker: slowest of 200 requests {worst:.1f} ms")
    body = payloads["280×280 PNG"]
    with tempfile.TemporaryDirectory() as tmp:
        with server("digitpad", Path(tmp), workers=1) as one:
            r1 = load(one, body, args, Path(tmp))
        with server("digitpad", Path(tmp), workers=2) as two:
            r2 = load(two, body, args, Path(tmp))
            worst2 = idle_keepalive(two, payloads["784 pixels"])
    print(f"workers (280×280 PNG):\n  {show('1 worker ', r1)}\n  {show('2 workers', r2)}\n"
          f"  2 ÷ 1: {r2.rps / r1.rps:.2f}×; one idle keep-alive connection, 2 workers: slowest of 200 "
          f"{worst2:.1f} ms")


if __name__ == "__main__":
    main()
