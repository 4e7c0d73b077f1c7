"""Hostile-traffic figures for docs/benchmarks.md: what cheap, valid, hostile input costs the server.

    python -m scripts.bench.hostile                      # the shipped weights, one worker
    python -m scripts.bench.hostile --slow 1100          # slow connections for the slow-loris probe

Each probe starts a fresh ``digitpad-serve`` on 127.0.0.1 and prints its figure beside a
baseline measured in the same run on the same server (idle memory, idle health latency).
Every load is bounded in count and time.

1. peak RSS while 20 worst-case images (8.3 megapixels in a small WebP or PNG) arrive at once;
2. a batch of two worst-case images (more pixels than a batch may hold) and of one: status and time;
3. ``/healthz`` latency (p50, p99) while every CPU thread is busy and the queue is full;
4. legitimate requests answered while ``--slow`` slow-loris connections are held (fd limit 1024);
5. SIGTERM with 16 slow requests in flight: what each got, and the exit code;
6. the server's CPU seconds for each costly body (``scripts.harness.costly``) to each endpoint,
   beside a typical request to that endpoint (``--only cpu``);
7. 4 clients sending the costliest bodies to /api/read, /api/predict, /api/predict/batch,
   /api/explain and /metrics for ``--seconds``: /healthz p99 and a fifth client's /api/predict
   (``--only goodput``);
8. peak RSS with 4 CPU threads under 20 concurrent costly requests to every endpoint
   (``--only memory4``).

    python -m scripts.bench.hostile --only cpu goodput memory4  # some probes only"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from app.settings import Settings
from scripts.harness import costly
from scripts.harness.machine import cpu_name
from scripts.harness.postgres import hung, postgres_server
from scripts.harness.server import ROOT, Served, huge_image, serving, slow_connections

PIXELS = [[0.0] * 28 for _ in range(10)] + [[0.0] * 12 + [1.0] * 4 + [0.0] * 12 for _ in range(8)] + \
         [[0.0] * 28 for _ in range(10)]


def outcome(r: httpx.Response) -> str:
    if r.status_code < 300:
        return str(r.status_code)
    try:
        return f"{r.status_code} {r.json().get('code') or r.json().get('error', '')[:40]}"
    except ValueError:
        return f"{r.status_code} (not JSON)"


async def burst(url: str, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=len(bodies) + 8)) as c:
        return list(await asyncio.gather(*(c.post(url, json=b) for b in bodies)))


def memory(s: Served) -> None:
    idle = s.memory_mb("VmRSS")
    bodies: list[dict[str, object]] = [{"image": huge_image(fmt="WEBP" if i % 2 else "PNG")} for i in range(20)]
    t = time.perf_counter()
    answers = asyncio.run(burst(f"{s.url}/api/predict", bodies))
    took = time.perf_counter() - t
    time.sleep(1)
    print(f"1. 20 worst-case images at once: peak RSS {s.memory_mb('VmHWM'):.0f} MB (idle {idle:.0f} MB, "
          f"{s.memory_mb('VmRSS'):.0f} MB 1 s later); {dict(Counter(map(outcome, answers)))} in {took:.2f} s")


def batches(s: Served) -> None:
    huge = huge_image()
    for n in (2, 1):  # two are more pixels than a batch may hold; one is the most
        t = time.perf_counter()
        r = httpx.post(f"{s.url}/api/predict/batch", json={"inputs": [{"image": huge}] * n}, timeout=120)
        print(f"2. batch of {n} worst-case images: {outcome(r)} in {time.perf_counter() - t:.2f} s")


async def health_latency(url: str, n: int = 40) -> list[float]:
    out = []
    async with httpx.AsyncClient(timeout=30) as c:
        for _ in range(n):
            t = time.perf_counter()
            (await c.get(f"{url}/healthz")).raise_for_status()
            out.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def health(s: Served) -> None:
    idle = asyncio.run(health_latency(s.url))
    slow: dict[str, object] = {"inputs": [{"image": huge_image()}] * 7}

    async def saturated() -> tuple[list[float], list[httpx.Response]]:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as c:
            work = [asyncio.ensure_future(c.post(f"{s.url}/api/predict/batch", json=slow)) for _ in range(60)]
            await asyncio.sleep(0.5)
            lat = await health_latency(s.url)
            return lat, list(await asyncio.gather(*work))

    busy, answers = asyncio.run(saturated())
    print(f"3. /healthz while saturated (60 slow batches): p50 {pct(busy, 50):.1f} ms, p99 {pct(busy, 99):.1f} ms "
          f"(idle: p50 {pct(idle, 50):.1f} ms, p99 {pct(idle, 99):.1f} ms); the batches got "
          f"{dict(Counter(map(outcome, answers)))}")


def slow_loris(weights: Path, logs: Path, n_slow: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n_slow + 1024), hard))
    with serving(logs, weights, fd_limit=1024, header_timeout=30) as s:
        ok, times = 0, []
        with slow_connections(s.port, n_slow):
            for _ in range(20):
                t = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):
                    ok += httpx.post(f"{s.url}/api/predict", json={"pixels": PIXELS}, timeout=5).status_code == 200
                times.append((time.perf_counter() - t) * 1000)
        log_kb = s.log_path.stat().st_size / 1024
    print(f"4. {n_slow} slow-loris connections, server fd limit 1024: {ok}/20 legitimate requests answered, "
          f"p50 {pct(times, 50):.1f} ms, max {max(times):.0f} ms; server log {log_kb:.0f} KB")


def shutdown(weights: Path, logs: Path) -> None:
    with serving(logs, weights, graceful_timeout=8, max_batch_pixels=10**9) as s:
        slow: dict[str, object] = {"inputs": [{"image": huge_image()}] * 7}

        async def run() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=20)) as c:
                work = [asyncio.ensure_future(c.post(f"{s.url}/api/predict/batch", json=slow)) for _ in range(16)]
                await asyncio.sleep(0.5)
                s.proc.terminate()
                return list(await asyncio.gather(*work))

        t = time.perf_counter()
        answers = asyncio.run(run())
        code = s.proc.wait(timeout=30)
        print(f"5. SIGTERM with 16 slow requests in flight (grace 8 s): {dict(Counter(map(outcome, answers)))}, "
              f"exit code {code} after {time.perf_counter() - t:.1f} s")


TYPICAL_IMAGE = costly.one()
Probed = tuple[list[float], Counter[str]]  # each answer's milliseconds, and what the answers were


def costly_bodies() -> dict[str, list[tuple[str, bytes]]]:
    """Per endpoint: (what, JSON body) pairs, the typical request first."""
    def image(img: str) -> bytes:
        return json.dumps({"image": img}).encode()

    images = {"thin lines": costly.thin_lines(), "specks": costly.specks(), "comb": costly.comb(),
              "checkerboard": costly.checkerboard(), "8.3 MP PNG": huge_image(fmt="PNG"),
              "8.3 MP WebP": huge_image(fmt="WEBP")}
    drawing = [(what, image(img)) for what, img in images.items()]
    json_bodies = [("260k string pixels", costly.string_pixels()), ("nested 100k deep", costly.deep())]
    most, small = Settings().max_batch, costly.comb(side=360, teeth=20)
    combs = Settings().max_batch_pixels // 1024**2  # as many 1-megapixel combs as the pixel budget admits
    batch = [("260k empty inputs", costly.empty_inputs()),
             (f"{combs} combs", json.dumps({"inputs": [{"image": images["comb"]}] * combs}).encode()),
             (f"{most} small combs", json.dumps({"inputs": [{"image": small}] * most}).encode()),
             (f"{most} typical drawings", json.dumps({"inputs": [{"image": TYPICAL_IMAGE}] * most}).encode()),
             ("8.3 MP WebP", json.dumps({"inputs": [{"image": images["8.3 MP WebP"]}]}).encode())]
    typical = image(TYPICAL_IMAGE)

    def batch_of(n: int) -> bytes:
        return json.dumps({"inputs": [{"image": TYPICAL_IMAGE}] * n}).encode()
    return {"/api/predict": [("typical drawing", typical), *drawing, *json_bodies],
            "/api/read": [("typical drawing", typical), *drawing, *json_bodies],
            "/api/explain": [("typical drawing", typical), *drawing],
            "/api/predict/batch": [("typical batch of 8", batch_of(8)), *batch]}


def server_cpu(s: Served) -> float:
    """The server process's CPU seconds so far (user + system, every thread)."""
    fields = Path(f"/proc/{s.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(s: Served, path: str, body: bytes, times: int) -> tuple[float, str]:
    """The server's CPU seconds for one request (the mean of ``times``, one at a time), and its answer."""
    with httpx.Client(timeout=600) as c:
        before = server_cpu(s)
        for _ in range(times):
            r = c.post(s.url + path, content=body, headers={"content-type": "application/json"})
        return (server_cpu(s) - before) / times, outcome(r)


def cpu(s: Served) -> None:
    print("6. server CPU per request (one at a time): endpoint, body, size, answer, CPU, × typical")
    for path, bodies in costly_bodies().items():
        typical = 0.0
        for what, body in bodies:
            seconds, said = cpu_per_request(s, path, body, 40 if not typical else 3)
            typical = typical or max(seconds, 1e-4)
            print(f"   {path:20} {what:22} {len(body) / 1024:8.1f} KB  {said:28} {seconds:7.3f} s "
                  f"{seconds / typical:7.0f}×")
    for _ in range(3):
        before = server_cpu(s)
        httpx.get(f"{s.url}/metrics", timeout=60)
    print(f"   /metrics  GET: {server_cpu(s) - before:.3f} s")


def costliest() -> list[tuple[str, bytes | None]]:
    """What the four hostile clients send, round and round: the costliest body found per endpoint."""
    bodies = costly_bodies()
    pick = {"/api/read": ["thin lines", "specks", "checkerboard", "260k string pixels"],
            "/api/predict": ["comb", "8.3 MP WebP", "nested 100k deep"],
            "/api/predict/batch": ["260k empty inputs", "7 combs", "64 small combs", "8.3 MP WebP"],
            "/api/explain": ["comb", "8.3 MP PNG"]}
    out: list[tuple[str, bytes | None]] = [(path, body) for path, chosen in pick.items()
                                           for what, body in bodies[path] if what in chosen]
    return [*out, ("/metrics", None)]


async def hostile_client(url: str, work: list[tuple[str, bytes | None]], until: float, seen: Counter[str]) -> None:
    async with httpx.AsyncClient(timeout=120) as c:
        k = 0
        while time.monotonic() < until:
            path, body = work[k % len(work)]
            k += 1
            try:
                r = await (c.get(url + path) if body is None else
                           c.post(url + path, content=body, headers={"content-type": "application/json"}))
                seen[f"{path} {outcome(r)}"] += 1
            except httpx.HTTPError as e:
                seen[f"{path} {type(e).__name__}"] += 1


async def prober(url: str, path: str, until: float, body: dict[str, object] | None = None,
                 timeout: float = 3) -> Probed:
    """``path`` asked every 100 ms until ``until``: each answer's milliseconds, and the answers."""
    times: list[float] = []
    said: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=timeout) as c:
        while time.monotonic() < until:
            t = time.perf_counter()
            try:
                r = await (c.get(url + path) if body is None else c.post(url + path, json=body))
                said[outcome(r)] += 1
            except httpx.HTTPError as e:
                said[type(e).__name__] += 1
            times.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.1)
    return times, said


def goodput(s: Served, seconds: float) -> None:
    drawing: dict[str, object] = {"image": TYPICAL_IMAGE}

    async def run(hostile: int) -> tuple[Probed, Probed, Counter[str]]:
        until, seen = time.monotonic() + seconds, Counter[str]()
        work = costliest()
        clients = [hostile_client(s.url, work[k:] + work[:k], until, seen) for k in range(hostile)]
        health = asyncio.ensure_future(prober(s.url, "/healthz", until))
        predict = asyncio.ensure_future(prober(s.url, "/api/predict", until, drawing, timeout=10))
        await asyncio.gather(*clients)
        return await health, await predict, seen

    for hostile in (0, 4):
        (health, h_said), (predict, p_said), seen = asyncio.run(run(hostile))
        print(f"7. {hostile} hostile clients for {seconds:g} s: /healthz p50 {pct(health, 50):.1f} ms, "
              f"p99 {pct(health, 99):.1f} ms {dict(h_said)}; a fifth client's /api/predict p50 "
              f"{pct(predict, 50):.1f} ms, p99 {pct(predict, 99):.1f} ms {dict(p_said)}")
        if seen:
            print(f"   the hostile requests got {dict(sorted(seen.items()))}")


def memory4(s: Served) -> None:
    idle = s.memory_mb("VmRSS")
    work = [(path, body) for path, body in costliest() if body is not None]

    async def burst() -> Counter[str]:
        seen: Counter[str] = Counter()
        async with httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=64)) as c:
            async def one(path: str, body: bytes) -> None:
                r = await c.post(s.url + path, content=body, headers={"content-type": "application/json"})
                seen[f"{path} {outcome(r)}"] += 1
            for path, body in work:
                await asyncio.gather(*(one(path, body) for _ in range(20)))
        return seen

    seen = asyncio.run(burst())
    print(f"8. 20 concurrent costly requests to each endpoint, 4 CPU threads: peak RSS {s.memory_mb('VmHWM'):.0f} MB "
          f"(idle {idle:.0f} MB); {dict(sorted(seen.items()))}")


def correction(_: int) -> dict[str, object]:
    return {"pixels": PIXELS, "label": 1}


async def post_many(url: str, body: Callable[[int], dict[str, object]], n: int,
                    clients: int = 4) -> tuple[list[float], Counter[str]]:
    """``n`` posts (the i-th of ``body(i)``) from ``clients`` clients: each one's milliseconds, and the
    answers."""
    times: list[float] = []
    said: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=60) as c:
        async def client(k: int) -> None:
            for i in range(k, n, clients):
                t = time.perf_counter()
                try:
                    r = await c.post(url, json=body(i))
                    said[outcome(r)] += 1
                except httpx.HTTPError as e:
                    said[type(e).__name__] += 1
                times.append((time.perf_counter() - t) * 1000)
        await asyncio.gather(*(client(k) for k in range(clients)))
    return times, said


def database_hung(weights: Path, logs: Path, seconds: float) -> None:
    with postgres_server() as url, serving(logs, weights, database_url=url, feedback_per_minute=10**6) as s:
        async def run() -> tuple[Probed, Probed, Probed, tuple[list[float], Counter[str]]]:
            until = time.monotonic() + seconds
            asked: list[tuple[str, dict[str, object] | None]] = [("/api/predict", {"pixels": PIXELS}),
                                                                 ("/healthz", None), ("/readyz", None)]
            probes = [asyncio.ensure_future(prober(s.url, path, until, body, timeout=30)) for path, body in asked]
            feedback = asyncio.ensure_future(post_many(f"{s.url}/api/feedback", correction, 12))
            predict, health, ready = [await p for p in probes]
            return predict, health, ready, await feedback

        idle, *_ = asyncio.run(run())
        with hung(url):
            predict, health, ready, (feedback, said) = asyncio.run(run())
        after = httpx.post(f"{s.url}/api/feedback", json=correction(0), timeout=60)
    print(f"9a. PostgreSQL hung (SIGSTOP) for {seconds:g} s: /api/predict p99 {pct(predict[0], 99):.0f} ms "
          f"(idle {pct(idle[0], 99):.0f} ms) {dict(predict[1])}; /healthz p99 {pct(health[0], 99):.0f} ms "
          f"{dict(health[1])}; /readyz {dict(ready[1])}; 12 corrections: {dict(said)}, slowest answer "
          f"{max(feedback) / 1000:.1f} s; after SIGCONT: {outcome(after)}")


def database_deleted(weights: Path, logs: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "feedback.db"
        with serving(logs, weights, database_url=f"sqlite:///{db}", feedback_per_minute=10**6) as s:
            _, before = asyncio.run(post_many(f"{s.url}/api/feedback", correction, 5))
            for path in Path(tmp).glob("feedback.db*"):
                path.unlink()
            _, after = asyncio.run(post_many(f"{s.url}/api/feedback", correction, 50))
        with serving(logs, weights, database_url=f"sqlite:///{db}") as s:
            kept = httpx.get(f"{s.url}/api/feedback/summary", timeout=60).json()["total"]
    print(f"9b. SQLite file deleted while serving ({before['201']} corrections in it): 50 more corrections got "
          f"{dict(after)}; after a restart {kept} rows: {after['201'] - kept} of the {after['201']} acknowledged "
          f"after the deletion lost")


def made_up_versions(weights: Path, logs: Path) -> None:
    def made_up(i: int) -> dict[str, object]:
        return {**correction(i), "model_version": f"made-up-{i}"}

    with tempfile.TemporaryDirectory() as tmp, \
            serving(logs, weights, database_url=f"sqlite:///{tmp}/f.db", feedback_per_minute=10**6) as s:
        _, said = asyncio.run(post_many(f"{s.url}/api/feedback", made_up, 2000))
        listed = len(httpx.get(f"{s.url}/api/feedback/summary", timeout=60).json()["models"])
    print(f"9c. 2,000 corrections with made-up model versions: {dict(said)}; the public summary lists {listed}")


def raw(port: int, request: bytes) -> str:
    """The status line the server answers a raw request, sent in one write, with."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        try:
            return sock.recv(65536).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as e:
            return type(e).__name__


def protocol(weights: Path, logs: Path) -> None:
    with serving(logs, weights) as s:
        deep = httpx.post(f"{s.url}/v2/models/digitpad/infer", content=costly.deep(),
                          headers={"content-type": "application/json"}, timeout=60)
        heads = {kb: raw(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(kb)) + b"\r\n") for kb in (60, 80, 100, 200)}
    print(f"10a. /v2 infer with JSON nested 100k deep: {deep.status_code} {deep.text[:80]!r}")
    print("10b. headers sent in one write: " + "; ".join(f"{kb} KB → {line}" for kb, line in heads.items()))


def respawn_sigterm(weights: Path, logs: Path, runs: int = 3) -> None:
    def workers(s: Served) -> set[int]:
        return set(map(int, Path(f"/proc/{s.proc.pid}/task/{s.proc.pid}/children").read_text().split()))

    codes = []
    for _ in range(runs):
        with serving(logs, weights, workers=2) as s:
            first = workers(s)
            os.kill(min(first), signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not workers(s) - first and time.monotonic() < deadline:  # until its replacement exists
                time.sleep(0.005)
            codes.append(s.stop())
    print(f"10c. two workers, SIGTERM the moment a killed worker's replacement exists: exit codes {codes}")


def reload_other_architecture(weights: Path, logs: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "digitpad.npz"
        shutil.copy(weights, served)
        with serving(logs, served) as s:
            before = [m["name"] for m in httpx.get(f"{s.url}/api/models", timeout=30).json()["models"]]
            shutil.copy(ROOT / "weights" / "mlp.npz", served)
            s.proc.send_signal(signal.SIGHUP)
            time.sleep(3)
            after = [m["name"] for m in httpx.get(f"{s.url}/api/models", timeout=30).json()["models"]]
            named = httpx.post(f"{s.url}/api/predict", json={"pixels": PIXELS, "model": before[0]}, timeout=30)
    print(f"10d. SIGHUP with weights of another architecture: models {before} → {after}; a request naming "
          f"{before[0]!r}: {outcome(named)}")


PROBES = ("memory", "batches", "health", "slow_loris", "shutdown", "cpu", "goodput", "memory4",
          "database_hung", "database_deleted", "made_up_versions", "protocol", "respawn_sigterm",
          "reload_other_architecture")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=ROOT / "weights" / "digitpad.npz")
    parser.add_argument("--slow", type=int, default=1100, help="slow-loris connections to hold")
    parser.add_argument("--seconds", type=float, default=30, help="how long the goodput probe's clients send")
    parser.add_argument("--only", nargs="+", choices=PROBES, default=PROBES, help="the probes to run")
    args = parser.parse_args()
    only = set(args.only)
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.2f} "
          f"at start; weights {args.weights.name}")
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        if "memory" in only:
            with serving(logs, args.weights) as s:
                memory(s)
        if "batches" in only:
            with serving(logs, args.weights) as s:
                batches(s)
        if "health" in only:  # batches of 7 such images: saturation, not the batch budget, is measured
            with serving(logs, args.weights, max_batch_pixels=10**9) as s:
                health(s)
        if "slow_loris" in only:
            slow_loris(args.weights, logs, args.slow)
        if "shutdown" in only:
            shutdown(args.weights, logs)
        if "cpu" in only:
            with serving(logs, args.weights, cpu_threads=1) as s:
                cpu(s)
        if "goodput" in only:
            with serving(logs, args.weights) as s:
                goodput(s, args.seconds)
        if "memory4" in only:
            with serving(logs, args.weights, cpu_threads=4) as s:
                memory4(s)
        if "database_hung" in only:
            database_hung(args.weights, logs, 20)
        for name in ("database_deleted", "made_up_versions", "protocol", "respawn_sigterm",
                     "reload_other_architecture"):
            if name in only:
                globals()[name](args.weights, logs)


if __name__ == "__main__":
    main()
