"""The event loop only routes, tried on a real ``digitpad-serve``: health checks answer while
clients send the JSON bodies that cost the most to parse, and the header cap holds however the
headers are written.

Timings are compared with a baseline measured on the same server in the same test (the idle
health check), with a floor for a machine so busy that the idle figure is itself noise."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from scripts.harness import costly
from scripts.harness.server import Served, serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # a bounded load on a real server

COSTLY = [costly.empty_inputs(), costly.string_pixels(200_000), costly.deep(),
          b'{"pixels":[' + b",".join([b"0"] * 500_000) + b"]}"]
PROBES = 40
FLOOR = 0.5  # seconds: a probe this fast passes whatever the idle figure was


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("loop")
    with serving(folder, app_weights(folder / "tiny.npz")) as s:
        yield s


def probe_times(c: httpx.Client, n: int, pause: float = 0.05) -> list[float]:
    """Seconds of ``n`` health checks, one after another; each must be a 200."""
    times = []
    for _ in range(n):
        t = time.monotonic()
        r = c.get("/healthz")
        times.append(time.monotonic() - t)
        assert r.status_code == 200, r.text
        time.sleep(pause)
    return times


def p99(times: list[float]) -> float:
    return sorted(times)[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


def send_costly(url: str, stop: threading.Event, statuses: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=60) as c:
        while not stop.is_set():
            for body in COSTLY:
                for path in ("/api/predict/batch", "/api/predict"):
                    r = c.post(path, content=body, headers={"content-type": "application/json"})
                    statuses.append(r.status_code)


def test_health_answers_while_costly_bodies_arrive(server: Served) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        idle = p99(probe_times(c, PROBES))
        stop, statuses = threading.Event(), []  # type: ignore[var-annotated]
        clients = [threading.Thread(target=send_costly, args=(server.url, stop, statuses)) for _ in range(2)]
        for t in clients:
            t.start()
        try:
            time.sleep(0.5)
            busy = probe_times(c, PROBES)
        finally:
            stop.set()
            for t in clients:
                t.join(timeout=120)
    assert statuses and all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    assert p99(busy) <= max(10 * idle, FLOOR), f"/healthz p99 {p99(busy) * 1e3:.0f} ms busy, {idle * 1e3:.1f} ms idle"


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)  # one write: the server may read all the headers at once
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


@pytest.mark.parametrize("kb", [80, 100])
@pytest.mark.parametrize("shape", ["one header", "many headers", "long target"])
def test_headers_over_64_kib_in_one_write_get_431(server: Served, kb: int, shape: str) -> None:
    size = kb * 1000
    if shape == "one header":
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    elif shape == "many headers":
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-%d: %s\r\n" % (i, b"b" * 90) for i in range(size // 100)) + b"\r\n"
    else:
        request = b"GET /healthz?" + b"q" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    head, _, body = raw_exchange(server.port, request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") and json.loads(body)["code"] == "headers_too_large"


def test_headers_under_64_kib_in_one_write_are_served(server: Served) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-%d: %s\r\n" % (i, b"b" * 90) for i in range(600)) + b"Connection: close\r\n\r\n"
    assert raw_exchange(server.port, request).startswith(b"HTTP/1.1 200")
