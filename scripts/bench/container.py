"""Container figures: image size, start-up to /readyz, and `docker stop` with requests in flight.

    python -m scripts.bench.container              # builds digitpad:latest from this checkout first
    python -m scripts.bench.container --no-build --runs 5

Needs a working `docker` (on daemonless machines: eval "$(../shared/container/setup-engine.sh)").
Prints the runtime image size next to the base image's (from `docker image inspect`), then per
run the seconds from `docker run` to the first 200 from /readyz (polled every 20 ms) and the
seconds `docker stop` took while 4 batch requests of 64 drawings were in flight, with how many
of them were answered. Listens on 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid

from app.api.examples import IMAGE_7
from scripts.harness.container import EngineMissing, build, docker, post, require_engine, wait_ready
from scripts.harness.ports import free_port

BASE = "python:3.11-slim-bookworm"


def size_mb(image: str) -> float:
    return int(docker("image", "inspect", image, "--format", "{{.Size}}").stdout.strip()) / 1e6


def one_run(tag: str, png_b64: str) -> tuple[float, float, int]:
    name = f"digitpad-bench-{uuid.uuid4().hex[:8]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", tag)
    try:
        wait_ready(base, deadline_s=60)
        ready = time.perf_counter() - start
        answers: list[int] = []
        batch = {"inputs": [{"image": png_b64}] * 64}
        threads = [threading.Thread(target=lambda: answers.append(post(f"{base}/api/predict/batch", batch)[0]))
                   for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.1)
        stop_start = time.perf_counter()
        docker("stop", "-t", "10", name, timeout=60)
        stopped = time.perf_counter() - stop_start
        for t in threads:
            t.join(timeout=30)
        return ready, stopped, answers.count(200)
    finally:
        docker("rm", "-f", name, check=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tag", default="digitpad:latest", help="(default: %(default)s)")
    p.add_argument("--no-build", action="store_true", help="use the existing image")
    p.add_argument("--runs", type=int, default=3, help="(default: %(default)s)")
    args = p.parse_args(argv)
    try:
        require_engine()
    except EngineMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not args.no_build:
        build(args.tag)
    png_b64 = IMAGE_7  # the OpenAPI example: a canvas-style 7 as a data URL
    engine = docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    image, base = size_mb(args.tag), size_mb(BASE)
    print(f"engine: docker API server {engine}")
    print(f"image {args.tag}: {image:.1f} MB; base {BASE}: {base:.1f} MB; added: {image - base:.1f} MB "
          "(target ≤ 120 MB)")
    results = [one_run(args.tag, png_b64) for _ in range(args.runs)]
    for i, (ready, stopped, answered) in enumerate(results, 1):
        print(f"run {i}: docker run → /readyz 200 in {ready:.2f} s; docker stop in {stopped:.2f} s "
              f"with {answered}/4 in-flight requests answered")
    print(f"median: ready {statistics.median(r[0] for r in results):.2f} s (target ≤ 3 s), "
          f"stop {statistics.median(r[1] for r in results):.2f} s (target ≤ 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
