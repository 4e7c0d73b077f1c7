"""Live training on a real ``digitpad-serve`` (a benchmark, not a test).

    python -m scripts.bench.training                         # the shipped subset
    python -m scripts.bench.training --mnist /path/to/mnist  # MNIST's folder (DIGITPAD_MNIST_DIR)

One server on 127.0.0.1 with its default workers (one per core), measured from a client, as the
page sees it:

- the tutorial's setting (784-10-10, full-batch gradient descent, α = 0.1, 500 steps), ``--runs``
  times: from the POST to the first progress point, to a validation accuracy of 84 % (the
  tutorial's "~85 %"), and to the end, with the accuracy there, and the CPU seconds its process
  had used by then (/proc: what the run costs, whatever else the machine does). Goals: ≤ 1 s and ≤ 10 s.
- the MLP with Adam (784-128-10, α = 0.001, batches of 64): from the POST to 97 %. Goal: ≤ 30 s.
- ``/api/predict`` on a 280×280 canvas PNG, ``--requests`` requests from ``--clients`` clients at
  once, idle and while one run of the tutorial's setting trains, alternated ``--rounds`` times
  (idle, training, idle, training, …): p50 and p99 of each. Goal: p99 while training ≤ 2× idle.

Each run is bounded by its steps and the server's time limit; the whole takes about a minute."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from scripts.datasets.canvas import seven_png
from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT, Served, descendants, serving

TUTORIAL = {"network": "tutorial", "optimizer": "gd", "learning_rate": 0.1, "batch_size": 0, "steps": 500}
MLP = {"network": "mlp", "optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "steps": 5000}


def events(client: httpx.Client, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = ""
    with client.stream("GET", f"/api/train/{run_id}/events") as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                yield kind, json.loads(line[6:])


def cpu_seconds(pid: int | None) -> float:
    """A process's CPU time so far (user + system, from /proc); NaN once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def training_process(server: Served, run_id: str) -> int | None:
    """The pid of the run's training process, among the server's descendants."""
    for pid in descendants(server.proc.pid):
        try:
            if run_id in Path(f"/proc/{pid}/cmdline").read_text():
                return pid
        except OSError:
            continue
    return None


def timed_run(server: Served, client: httpx.Client, settings: dict[str, Any], goal: float) -> dict[str, Any]:
    """A run watched to its end: seconds from the POST to the first point, to ``goal``, to the end;
    and the CPU seconds its process had used at ``goal`` and at its last point."""
    began = time.perf_counter()
    run_id = client.post("/api/train", json=settings).json()["id"]
    out: dict[str, Any] = {"first": None, "goal": None, "goal_step": None, "goal_cpu": math.nan}
    pid, cpu = None, math.nan
    for kind, data in events(client, run_id):
        now = time.perf_counter() - began
        if kind == "progress":
            pid = pid or training_process(server, run_id)
            cpu = cpu_seconds(pid)
            out["first"] = out["first"] or now
            if out["goal"] is None and (data["val_accuracy"] or 0) >= goal:
                out["goal"], out["goal_step"], out["goal_cpu"] = now, data["step"], cpu
                if settings is MLP:
                    break  # closing the stream stops the run
        elif kind == "stopped":
            out.update(end=now, accuracy=data["val_accuracy"], steps=data["step"], reason=data["reason"], cpu=cpu)
    client.delete(f"/api/train/{run_id}")
    return out


async def predictions(url: str, body: bytes, requests: int, clients: int) -> list[float]:
    """Latencies (ms) of ``requests`` POST /api/predict from ``clients`` connections at once."""
    times: list[float] = []
    left = iter(range(requests))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            for _ in left:
                t = time.perf_counter()
                r = await c.post("/api/predict", content=body, headers={"content-type": "application/json"})
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text

    await asyncio.gather(*(client() for _ in range(clients)))
    return times


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def training_in_background(url: str) -> tuple[threading.Thread, threading.Event, dict[str, str]]:
    """The tutorial's setting trained (and watched) on a thread: the event is set once it has made a
    point; the dict gets its id, to stop it with."""
    started, run = threading.Event(), dict[str, str]()

    def watch() -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            run["id"] = c.post("/api/train", json={**TUTORIAL, "steps": 5000}).json()["id"]
            for kind, _ in events(c, run["id"]):
                if kind == "progress":
                    started.set()
                if kind == "stopped":
                    break
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, started, run


def side_by_side(url: str, args: argparse.Namespace) -> None:
    body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(seven_png()).decode()}).encode()
    asyncio.run(predictions(url, body, 50, args.clients))  # warm-up
    idle: list[float] = []
    busy: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as control:
        for _ in range(args.rounds):
            idle += asyncio.run(predictions(url, body, args.requests, args.clients))
            thread, started, run = training_in_background(url)
            assert started.wait(30), "the run never made progress"
            busy += asyncio.run(predictions(url, body, args.requests, args.clients))
            assert control.get(f"/api/train/{run['id']}").json()["state"] == "running"  # it trained throughout
            control.delete(f"/api/train/{run['id']}")
            thread.join(30)
    for name, times in (("idle", idle), ("while training", busy)):
        print(f"  /api/predict {name:15s} p50 {percentile(times, 0.5):6.2f} ms   p99 {percentile(times, 0.99):6.2f} ms"
              f"   ({len(times)} requests)")
    print(f"  p99 ratio, training / idle: {percentile(busy, 0.99) / percentile(idle, 0.99):.2f}× (goal ≤ 2×); "
          f"p50 ratio {percentile(busy, 0.5) / percentile(idle, 0.5):.2f}×")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mnist", type=Path, default=None, help="MNIST's folder (default: the shipped subset)")
    p.add_argument("--runs", type=int, default=3, help="runs of the tutorial's setting (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="idle/training rounds of predictions (default: %(default)s)")
    p.add_argument("--requests", type=int, default=300, help="predictions per round (default: %(default)s)")
    p.add_argument("--clients", type=int, default=2, help="predictions at once (default: %(default)s)")
    args = p.parse_args()
    settings: dict[str, Any] = {"mnist_dir": args.mnist} if args.mnist else {}
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; data: "
          f"{args.mnist or 'the shipped subset'}")
    with serving(Path(tempfile.mkdtemp()), ROOT / "weights" / "digitpad.npz", workers=None,
                 **settings) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        tutorial = [timed_run(server, client, TUTORIAL, 0.84) for _ in range(args.runs)]
        for r in tutorial:
            print(f"  tutorial: first point {r['first']:.2f} s, 84 % at {r['goal'] or math.nan:.2f} s "
                  f"(step {r['goal_step']}, {r['goal_cpu']:.2f} s of CPU), 500 steps at {r['end']:.2f} s "
                  f"({r['cpu']:.2f} s of CPU), accuracy {r['accuracy']:.4f}")
        print(f"  tutorial, median: first point {statistics.median(r['first'] for r in tutorial):.2f} s (goal ≤ 1 s), "
              f"500 steps {statistics.median(r['end'] for r in tutorial):.2f} s (goal ≤ 10 s)")
        mlp = timed_run(server, client, MLP, 0.97)
        print(f"  MLP + Adam: first point {mlp['first']:.2f} s, 97 % at {mlp['goal'] or math.nan:.2f} s "
              f"(step {mlp['goal_step']}, {mlp['goal_cpu']:.2f} s of CPU; goal ≤ 30 s)")
        side_by_side(server.url, args)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
