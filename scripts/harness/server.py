"""A real ``digitpad-serve`` (or any other server command) in a subprocess on 127.0.0.1, for the
tests and benchmarks that need the server itself (slow clients, shutdown, workers, memory), and
the worst-case images they send."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from scripts.harness.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    ready_path: str = "/readyz"  # answers 200 once the server can take requests

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def memory_mb(self, field: str = "VmHWM") -> float:
        """The server's peak (VmHWM) or current (VmRSS) resident memory in MB: its process's, plus
        its workers' if it has any (for peaks, an upper bound of theirs at one moment)."""
        return sum(process_memory_mb(pid, field) for pid in [self.proc.pid, *descendants(self.proc.pid)])

    def workers(self) -> list[int]:
        """The processes the server started: its workers (none: the server is its one worker)."""
        return descendants(self.proc.pid)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, and by those, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [c for c, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


def process_memory_mb(pid: int, field: str = "VmHWM") -> float:
    """One process's peak (VmHWM) or current (VmRSS) resident memory, in MB; 0 once it has gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _limit_fds(n: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


@contextmanager
def running(log_dir: Path, command: list[str], port: int, env: dict[str, str], *, ready_path: str = "/readyz",
            fd_limit: int | None = None, wait: bool = True, cwd: Path = ROOT) -> Iterator[Served]:
    """Any server ``command`` listening on 127.0.0.1:``port``, run from ``cwd`` (the repository's
    root, or another checkout of it) with ``env`` and its output in ``log_dir``; waited for
    (``ready_path`` answers 200) and stopped (SIGTERM, then killed) after."""
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_limit_fds(fd_limit) if fd_limit else None)
    served = Served(f"http://127.0.0.1:{port}", port, proc, log_path, ready_path)
    try:
        if wait:
            wait_ready(served)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def serving(log_dir: Path, weights: Path, *, fd_limit: int | None = None, wait: bool = True, cwd: Path = ROOT,
            workers: int | None = 1, **settings: object) -> Iterator[Served]:
    """``digitpad-serve`` with ``DIGITPAD_<NAME>`` set from ``settings``, from the checkout ``cwd``;
    stopped (or killed) after. One worker unless ``workers`` says otherwise (None: the server's
    default, one per core), so that a test sees one process's memory, metrics and limits."""
    if workers is not None:
        settings["workers"] = workers
    port = free_port()
    env = {"OPENBLAS_NUM_THREADS": "1", **os.environ, "DIGITPAD_WEIGHTS": str(weights),
           "DIGITPAD_HOST": "127.0.0.1", "DIGITPAD_PORT": str(port),
           **{f"DIGITPAD_{k.upper()}": str(v) for k, v in settings.items()}}
    with running(log_dir, [sys.executable, "-m", "app.runtime.cli"], port, env, fd_limit=fd_limit, wait=wait,
                 cwd=cwd) as s:
        yield s


def wait_ready(served: Served, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"{served.url}{served.ready_path}", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if served.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the server did not become ready:\n{served.log()}")
        time.sleep(0.1)


@contextmanager
def slow_connections(port: int, n: int) -> Iterator[list[socket.socket]]:
    """``n`` connections to 127.0.0.1:``port`` that send the start of a request's headers and then
    nothing more (slow loris); closed after. A server may close some to make room."""
    socks = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            socks.append(sock)
        time.sleep(0.5)  # let the connections be accepted
        for sock in socks:
            with contextlib.suppress(OSError):  # already closed by the server to make room
                sock.send(b"POST /api/predict HTTP/1.1\r\nHost: x\r\n")
        yield socks
    finally:
        for sock in socks:
            sock.close()


def huge_image(side: int = 2880, fmt: str = "WEBP") -> str:
    """A few hundred bytes of lossless WebP (or a few KB of PNG) that decode to side×side pixels:
    the cheapest request that costs a server the most. Base64, ready for ``{"image": …}``."""
    im = Image.new("RGB", (side, side), "white")
    ImageDraw.Draw(im).line([(side * 0.3, side * 0.2), (side * 0.5, side * 0.8)], fill="black", width=side // 30)
    buf = io.BytesIO()
    im.save(buf, fmt, **({"lossless": True, "method": 6} if fmt == "WEBP" else {"optimize": True}))
    return base64.b64encode(buf.getvalue()).decode()
