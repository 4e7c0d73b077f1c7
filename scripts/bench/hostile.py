"""Hostile-traffic figures for docs/benchmarks.md: what cheap, valid, hostile input costs the server.

    python -m scripts.bench.hostile                      # the shipped weights, one worker
    python -m scripts.bench.hostile --slow 1100          # slow connections for the slow-loris probe

Each probe starts a fresh ``digitpad-serve`` on 127.0.0.1 and prints its figure beside a
baseline measured in the same run on the same server (idle memory, idle health latency).
Every load is bounded in count and time.

1. peak RSS while 20 worst-case images (8.3 megapixels in a small WebP or PNG) arrive at once;
2. a 256-image worst-case batch: status and time; and the largest batch the budget admits;
3. ``/healthz`` latency (p50, p99) while every CPU thread is busy and the queue is full;
4. legitimate requests answered while ``--slow`` slow-loris connections are held (fd limit 1024);
5. SIGTERM with 16 slow requests in flight: what each got, and the exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT, Served, huge_image, serving, slow_connections

PIXELS = [[0.0] * 28 for _ in range(10)] + [[0.0] * 12 + [1.0] * 4 + [0.0] * 12 for _ in range(8)] + \
         [[0.0] * 28 for _ in range(10)]


def outcome(r: httpx.Response) -> str:
    return str(r.status_code) if r.status_code == 200 else f"{r.status_code} {r.json().get('code')}"


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
    for n in (256, 7):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=ROOT / "weights" / "digitpad.npz")
    parser.add_argument("--slow", type=int, default=1100, help="slow-loris connections to hold")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.2f} "
          f"at start; weights {args.weights.name}")
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        with serving(logs, args.weights) as s:
            memory(s)
        with serving(logs, args.weights) as s:
            batches(s)
            health(s)
        slow_loris(args.weights, logs, args.slow)
        shutdown(args.weights, logs)


if __name__ == "__main__":
    main()
