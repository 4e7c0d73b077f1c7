"""Serving efficiency, measured against the work itself: this tree against a baseline commit and a
bare FastAPI app, 1 and 2 workers, side by side in one run.

    python -m scripts.bench.serving                       # baseline 7ed631b, 5 s per load
    python -m scripts.bench.serving --baseline HEAD~3 --seconds 8
    python -m scripts.bench.serving --only png pixels     # some payloads
    python -m scripts.bench.serving --baseline abc1234 --workers 1 --connections 16 --no-batch --rounds 3
                                                          # one change: CPU per request before and after

Needs wrk (``apt-get install wrk``). Every server is started here on 127.0.0.1 with its default
settings but the number of workers: the bare app (``scripts/bench/bare_app.py``: parses the JSON
body, returns a constant; uvicorn, httptools, uvloop as digitpad runs, one worker), the
baseline commit (unpacked with ``git archive`` into a temporary folder and run from there) and this
tree, each with 1 and 2 workers. All run at once, idle but for the one under load, and each load goes to every server in
turn before the next load starts. Last, each server's memory: its supervisor's and each worker's
resident set after the loads, and its peak.

For each payload (a 280×280 canvas PNG as RGBA, the same drawing as the page now sends it, and 784
pixels to /api/predict, a 6-digit number to /api/read, a PNG to /api/explain), printed per server:

- in-process: this tree's CPU per request doing the route's work in this process (parse, prepare,
  predict, the answer's JSON) — the ceiling a server can reach;
- CPU/req: the server's CPU (all its processes, utime + stime from /proc) per 2xx answer, under
  wrk -t2 -c16 keep-alive; efficiency = in-process ÷ that;
- ok/s (2xx a second) at 16, 64 and 256 connections, the ratio 256 ÷ 16, the 503s and any other
  status at 256, and p99 latency at 256 (wrk's, over every answer);
- batch: CPU per item when 64 items come in one /api/predict/batch request (2 connections), and
  batch efficiency = that ÷ CPU/req (1.0: a single request costs no more than an item of a batch);
- where the CPU went at 16 connections, per request: in the processes' main threads (a worker's
  event loop) and in their other threads (the CPU pool), and the voluntary context switches —
  each hand-over between the event loop and the CPU pool, and each wait for the GIL, is one.

wrk's own threads share the cores with the server, so ok/s compare within one run only; CPU per
request counts the server's processes alone."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from app.api.examples import IMAGE_7, PIXELS_2
from scripts.harness.load import Load, wrk
from scripts.harness.machine import cpu_name
from scripts.harness.ports import free_port
from scripts.harness.server import ROOT, Served, descendants, process_memory_mb, running

BATCH = 64
TICK = os.sysconf("SC_CLK_TCK")


def drawing_png() -> str:
    """The /docs example 7, redrawn as a 280×280 canvas PNG (black ink, alpha coverage)."""
    small = Image.open(io.BytesIO(base64.b64decode(IMAGE_7.split(",", 1)[1])))
    buf = io.BytesIO()
    small.resize((280, 280), Image.Resampling.BILINEAR).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def page_png() -> str:
    """The same drawing as the page sends it now: black ink on a palette (``scripts.datasets.canvas``)."""
    from scripts.datasets.canvas import ink_png
    rgba = Image.open(io.BytesIO(base64.b64decode(drawing_png().split(",", 1)[1]))).convert("RGBA")
    return "data:image/png;base64," + base64.b64encode(ink_png(rgba)).decode()


def number_png() -> str:
    from scripts.datasets.canvas import number_png as drawn
    return "data:image/png;base64," + base64.b64encode(drawn(6, 0)[0]).decode()


@dataclass
class Payload:
    name: str
    path: str
    item: dict[str, object]  # the body of one request
    batch: bool = True  # also sent as a batch of BATCH to /api/predict/batch

    @property
    def body(self) -> str:
        return json.dumps(self.item)

    @property
    def batch_body(self) -> str:
        return json.dumps({"inputs": [self.item] * BATCH})


def payloads() -> dict[str, Payload]:
    png = drawing_png()
    return {"png": Payload("280×280 canvas PNG (RGBA)", "/api/predict", {"image": png}),
            "page": Payload("280×280 drawing as the page sends it (palette PNG)", "/api/predict",
                            {"image": page_png()}, batch=False),
            "pixels": Payload("784 pixels", "/api/predict", {"pixels": PIXELS_2}),
            "read": Payload("6-digit read", "/api/read", {"image": number_png()}, batch=False),
            "explain": Payload("explain a PNG", "/api/explain", {"image": png}, batch=False)}


def in_process(kind: str, body: str, repeats: int) -> float:
    """This tree's CPU per request (ms) doing what the route does on its CPU thread, and parsing
    the body: the ceiling a server can reach."""
    from app.api.routes.explain import explain_one
    from app.api.routes.predict import predict_one
    from app.api.routes.read import read_number
    from app.api.schemas import ExplainRequest, PredictRequest
    from app.imaging.decode import ImageLimits, payload_bytes
    from app.serving.executor import Job
    from app.serving.predictor import Predictor

    predictor, limits, job = Predictor.load(ROOT / "weights" / "digitpad.npz"), ImageLimits(), Job()
    runs: dict[str, Callable[[], object]] = {
        "explain": lambda: explain_one(job, ExplainRequest.model_validate_json(body), limits, predictor),
        "read": lambda: read_number(job, payload_bytes(PredictRequest.model_validate_json(body).image or ""),
                                    None, limits, predictor, True),
    }
    run = runs.get(kind, lambda: predict_one(job, PredictRequest.model_validate_json(body), limits, predictor,
                                             True))
    run()
    times = []
    for _ in range(5):
        t = time.process_time()
        for _ in range(repeats):
            run()
        times.append((time.process_time() - t) / repeats * 1000)
    return statistics.median(times)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and all its descendants, from /proc."""
    total = 0.0
    for p in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def thread_split(pid: int) -> tuple[float, float, int]:
    """CPU seconds of the main threads (a worker's event loop; the supervisor's, idle) and of the
    other threads (the CPU pool, logging, storage) of ``pid`` and its descendants, and their
    voluntary context switches (a thread that waits: for I/O, for work, or for the GIL)."""
    main = other = 0.0
    switches = 0
    for p in [pid, *descendants(pid)]:
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / TICK
                if task.name == str(p):
                    main += cpu
                else:
                    other += cpu
                status = (task / "status").read_text()
                switches += int(status.split("voluntary_ctxt_switches:", 1)[1].split()[0])
    return main, other, switches


@dataclass
class Measured:
    load: Load
    cpu_s: float  # the server's CPU over the load
    split: tuple[float, float, int] = (0.0, 0.0, 0)  # thread_split's difference over the load

    def cpu_per_ok_ms(self, items: int = 1) -> float:
        return self.cpu_s * 1000 / max(1, self.load.ok * items)

    @property
    def ok_per_s(self) -> float:
        return self.load.ok / max(self.load.requests, 1) * self.load.rps


@dataclass
class Server:
    label: str
    served: Served
    results: dict[tuple[str, str], Measured] = field(default_factory=dict)


def median_run(runs: list[Measured]) -> Measured:
    """The run whose CPU per answer is the median (the first of two)."""
    return sorted(runs, key=lambda m: m.cpu_per_ok_ms())[(len(runs) - 1) // 2]


def measure(server: Server, url_path: str, body: str, seconds: float, connections: int, tmp: Path) -> Measured:
    pid = server.served.proc.pid
    before, split = tree_cpu(pid), thread_split(pid)
    load = wrk(server.served.url, body, seconds, connections, tmp, url_path)
    after = thread_split(pid)
    return Measured(load, tree_cpu(pid) - before, tuple(b - a for a, b in zip(split, after, strict=True)))  # type: ignore[arg-type]


def unpack(ref: str, into: Path) -> Path:
    """Commit ``ref`` of this repository, unpacked (``git archive``) into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def serve_command(tree: Path) -> list[str]:
    """The tree's own ``digitpad-serve``, from its pyproject's entry point."""
    target = tomllib.loads((tree / "pyproject.toml").read_text())["project"]["scripts"]["digitpad-serve"]
    module, fn = target.split(":")
    return [sys.executable, "-c", f"import sys; sys.argv[0] = 'digitpad-serve'; from {module} import {fn}; {fn}()"]


@contextmanager
def digitpad(tree: Path, logs: Path, workers: int | None) -> Iterator[Served]:
    """The tree's server, on its shipped weights and default settings (``workers`` set unless None)."""
    port = free_port()
    env = {"OPENBLAS_NUM_THREADS": "1", **{k: v for k, v in os.environ.items() if not k.startswith("DIGITPAD_")},
           "DIGITPAD_HOST": "127.0.0.1", "DIGITPAD_PORT": str(port),
           "DIGITPAD_DATABASE_URL": f"sqlite:///{logs}/feedback-{port}.db"}
    if workers is not None:
        env["DIGITPAD_WORKERS"] = str(workers)
    with running(logs, serve_command(tree), port, env, cwd=tree) as s:
        yield s


@contextmanager
def bare(logs: Path) -> Iterator[Served]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "scripts.bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
           "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    with running(logs, cmd, port, {**os.environ, "OPENBLAS_NUM_THREADS": "1"}, ready_path="/healthz") as s:
        yield s


def row(server: Server, name: str, ceiling: float | None, full: bool) -> str:
    """One server's line: CPU per request at the first connection count (stored as "16"), then,
    when measured, goodput at the other two, the 503s and p99 at the last, and the batch."""
    first = server.results[name, "16"]
    cpu = first.cpu_per_ok_ms()
    eff = f"{ceiling / cpu:5.2f}" if ceiling else "    —"
    cells = f"{cpu:8.2f} {eff} {first.ok_per_s:8.0f}"
    more = sorted((k for k in server.results if k[0] == name and k[1] not in ("16", "batch")), key=lambda k: int(k[1]))
    if not full or len(more) < 2:
        return f"  {server.label:28s} {cells}"
    mid, last = server.results[more[0]], server.results[more[1]]
    batch = server.results.get((name, "batch"))
    b = f"{batch.cpu_per_ok_ms(BATCH):8.2f} {batch.cpu_per_ok_ms(BATCH) / cpu:5.2f}" if batch else f"{'—':>8} {'—':>5}"
    return (f"  {server.label:28s} {cells} {mid.ok_per_s:7.0f} {last.ok_per_s:7.0f} "
            f"{last.ok_per_s / max(first.ok_per_s, 1e-9):5.2f} {last.load.refused:6d} "
            f"{last.load.other + last.load.errors:5d} {last.load.p99_ms:7.0f} {b}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="7ed631b", help="the commit to compare with (default: %(default)s)")
    parser.add_argument("--tree", help="a commit to measure instead of this checkout (for one change: its "
                        "parent as --baseline)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load (default: %(default)s)")
    parser.add_argument("--only", nargs="*", default=["png", "page", "pixels", "read", "explain"],
                        help="payloads: png page pixels read explain (default: all)")
    parser.add_argument("--workers", nargs="*", type=int, default=[1, 2], help="worker counts (default: 1 2)")
    parser.add_argument("--connections", nargs="*", type=int, default=[16, 64, 256],
                        help="the first gives CPU per request (default: 16 64 256)")
    parser.add_argument("--no-batch", action="store_true", help="leave out the batches")
    parser.add_argument("--rounds", type=int, default=1, help="loads per server and measure, medians (default: 1)")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported: as the servers run
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; this tree {commit} "
          f"(+ uncommitted changes if any), baseline {args.baseline}; wrk -t2, {args.seconds:g} s per load")
    chosen = {k: v for k, v in payloads().items() if k in args.only}
    ceilings = {} if args.tree else {k: in_process(k, p.body, 20 if k == "read" else 100) for k, p in chosen.items()}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        base = unpack(args.baseline, tmp_path / "baseline")
        ours = unpack(args.tree, tmp_path / "tree") if args.tree else ROOT
        servers = [Server("bare FastAPI app", stack.enter_context(bare(tmp_path)))]
        for label, tree in ((args.baseline, base), (args.tree or "this tree", ours)):
            for workers in args.workers:
                servers.append(Server(f"{label}, {workers} worker{'s' if workers > 1 else ''}",
                                      stack.enter_context(digitpad(tree, tmp_path, workers))))
        servers.append(Server(f"{args.tree or 'this tree'}, default settings",
                              stack.enter_context(digitpad(ours, tmp_path, None))))
        for key, p in chosen.items():
            full = p.path == "/api/predict" and len(args.connections) == 3
            counts = args.connections if full else args.connections[:1]
            loads = [(str(n), p.body, n) for n in counts]
            for label, body, connections in loads + ([("batch", p.batch_body, 2)] if p.batch and not args.no_batch
                                                     else []):
                for s in servers:
                    if s.label.startswith("bare") and (p.path != "/api/predict" or label != str(counts[0])):
                        continue
                    path = "/api/predict/batch" if label == "batch" else p.path
                    runs = [measure(s, path, body, args.seconds, connections, tmp_path) for _ in range(args.rounds)]
                    s.results[key, "16" if label == str(counts[0]) else label] = median_run(runs)
            ceiling = ceilings.get(key)
            print(f"\n{p.name} → {p.path}" + (f": in-process {ceiling:.2f} ms of CPU per request" if ceiling else ""))
            head = f"  {'server':28s} {'CPU/req':>8} {'eff.':>5} {f'ok/s@{counts[0]}':>8}"
            if full:
                head += (f" {f'@{counts[1]}':>7} {f'@{counts[2]}':>7} {'last÷1st':>5} {'503s':>6} {'other':>5} "
                         f"{'p99 ms':>7} {'batch/item':>8} {'b.eff':>5}")
            print(head)
            for s in servers:
                if (key, "16") in s.results:
                    print(row(s, key, None if s.label.startswith("bare") else ceiling, full))
            print(f"  where the CPU went at {counts[0]} connections, per request: ms in main threads (the event "
                  "loops) + ms in other threads (the CPU pool); voluntary context switches")
            for s in servers:
                if (key, "16") in s.results and not s.label.startswith("bare"):
                    print(f"    {s.label:26s} {split_cells(s.results[key, '16'])}")
            sys.stdout.flush()
        print("\nmemory after the loads: RSS now (peak), MB, of the supervisor and each worker")
        for s in servers:
            print(f"  {s.label:28s} {memory(s.served)}")


def split_cells(m: Measured) -> str:
    main, other, switches = m.split
    n = max(1, m.load.ok)
    return f"{main * 1000 / n:6.2f} + {other * 1000 / n:6.2f}   {switches / n:6.1f}"


def memory(served: Served) -> str:
    pids = [served.proc.pid, *descendants(served.proc.pid)]
    return ", ".join(f"{process_memory_mb(p, 'VmRSS'):.0f} ({process_memory_mb(p, 'VmHWM'):.0f})" for p in pids)


if __name__ == "__main__":
    main()
