"""Which serving stack survives slow clients: uvicorn, Hypercorn, Granian, and digitpad-serve.

    pip install -e '.[bench]'                 # Hypercorn and Granian, only for this comparison
    python -m scripts.bench.servers

Each stack serves on 127.0.0.1 with its open-file limit at 1024 (a common container default):
uvicorn, Hypercorn and Granian serve the bare app (``scripts/bench/bare_app.py``) with a 10 s header
timeout where they have one; digitpad-serve serves digitpad (DIGITPAD_HEADER_TIMEOUT 10 s).
A stack that is not installed is skipped and says so. Probes, bounded in count and time:

1. headers sent one byte a second: when is the connection cut, and what does the client get;
2. 1,100 slow-loris connections held open: how many of 20 real requests (5 s timeout each)
   are answered, the slowest, and how much the server logged;
3. SIGTERM on an idle server: the exit code."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import resource
import select
import socket
import sys
import tempfile
import time
from pathlib import Path

from scripts.harness.machine import cpu_name
from scripts.harness.ports import free_port
from scripts.harness.server import running

TIMEOUT = 10  # the header timeout given to every stack that has one


def command(stack: str, port: int) -> list[str]:
    py, app, host = sys.executable, "scripts.bench.bare_app:app", "127.0.0.1"
    return {
        "uvicorn": [py, "-m", "uvicorn", app, "--host", host, "--port", str(port), "--http", "httptools",
                    "--loop", "uvloop", "--no-access-log"],
        "hypercorn": [py, "-m", "hypercorn", app, "-b", f"{host}:{port}", "-k", "asyncio",
                      "--keep-alive", str(TIMEOUT)],
        "granian": [py, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port),
                    "--http1-header-read-timeout", str(TIMEOUT * 1000), "--no-access-log", app],
        "digitpad-serve": [py, "-m", "app.runtime.cli"],
    }[stack]


def installed(stack: str) -> bool:
    return stack == "digitpad-serve" or importlib.util.find_spec(stack) is not None


def env_for(port: int) -> dict[str, str]:
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "DIGITPAD_HOST": "127.0.0.1", "DIGITPAD_PORT": str(port),
            "DIGITPAD_HEADER_TIMEOUT": str(TIMEOUT)}


def request(port: int, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


def trickle(port: int, limit: float = 40) -> str:
    """Send a request's headers one byte a second; when is the connection cut?"""
    line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        t0, got = time.monotonic(), b""
        for byte in line:
            if time.monotonic() - t0 > limit:
                return f"still open after {limit:.0f} s"
            try:
                s.send(bytes([byte]))
                if select.select([s], [], [], 1.0)[0]:
                    chunk = s.recv(65536)
                    got += chunk
                    if not chunk:
                        break
            except OSError:
                break
        took = time.monotonic() - t0
    answer = got.split(b"\r\n", 1)[0].decode(errors="replace") or "nothing"
    return f"cut after {took:.1f} s; the client got {answer}"


def loris(port: int, log: Path, n: int = 1100) -> str:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    time.sleep(1)
    for s in socks:
        with contextlib.suppress(OSError):
            s.send(b"POST /api/predict HTTP/1.1\r\nHost: x\r\n")
    ok, slowest = 0, 0.0
    for _ in range(20):
        t = time.monotonic()
        with contextlib.suppress(OSError):
            ok += request(port, 5).startswith(b"HTTP/1.1 200")
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.2)
    for s in socks:
        s.close()
    return f"{ok}/20 answered, slowest {slowest * 1000:.0f} ms, log {log.stat().st_size / 1024:.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", nargs="+", default=["uvicorn", "hypercorn", "granian", "digitpad-serve"])
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        for stack in args.stacks:
            if not installed(stack):
                print(f"{stack}: not installed (pip install -e '.[bench]'), skipped")
                continue
            port = free_port()
            with running(Path(tmp), command(stack, port), port, env_for(port), ready_path="/healthz",
                         fd_limit=1024) as served:
                print(f"{stack}: 1. slow headers: {trickle(port)}")
                print(f"{stack}: 2. 1,100 slow connections: {loris(port, served.log_path)}")
                code = served.stop(timeout=30)
            print(f"{stack}: 3. SIGTERM when idle: exit code {code}")


if __name__ == "__main__":
    main()
