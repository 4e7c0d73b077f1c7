"""Reloading the weights without downtime: SIGHUP to a real ``digitpad-serve``.

Two weights files that differ (the same network and name, another description in the metadata,
so another SHA-256 and version) are swapped into ``DIGITPAD_WEIGHTS`` in turn, atomically, each swap
followed by a SIGHUP, while 16 clients keep calling /api/predict: no request may fail, and
the clients must see the version change. Bounded: 10 reloads, each awaited at most 60 s."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from model import weights
from scripts.harness.server import Served, serving, wait_ready
from tests.paths import ROOT

SHIPPED = ROOT / "weights" / "digitpad.npz"
PIXELS = [[1.0 if 4 <= y < 24 and 13 <= x < 15 else 0.0 for x in range(28)] for y in range(28)]


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    shutil.copy(SHIPPED, a)
    net, meta = weights.load(SHIPPED)
    weights.save(b, net, {**meta, "description": "the same network, saved again"})
    return a, b


def swap(source: Path, target: Path) -> None:
    """Replace the served file atomically, as `mv NEW.npz weights/digitpad.npz` does."""
    tmp = target.with_suffix(".swap")
    shutil.copy(source, tmp)
    os.replace(tmp, target)


def served_version(url: str) -> str:
    return str(httpx.get(f"{url}/api/model", timeout=30).json()["version"])


def await_version(server: Served, version: str, times: int = 1) -> None:
    """Until /api/model says ``version`` ``times`` in a row (with several workers, every worker)."""
    deadline = time.monotonic() + 60
    streak = 0
    while streak < times:
        assert time.monotonic() < deadline, f"still not serving {version}:\n{server.log()}"
        streak = streak + 1 if served_version(server.url) == version else 0
        if streak == 0:
            time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_ten_reloads_under_load_fail_no_request(tmp_path: Path, workers: int) -> None:
    a, b = two_versions(tmp_path)
    served = tmp_path / "served.npz"
    swap(a, served)
    versions = {a: weights.version(a), b: weights.version(b)}
    with serving(tmp_path, served, workers=workers) as server:
        stop = threading.Event()
        statuses: Counter[int] = Counter()
        seen: Counter[str] = Counter()
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                while not stop.is_set():
                    r = c.post("/api/predict?preview=false", json={"pixels": PIXELS})
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 200:
                            seen[r.json()["model"]["version"]] += 1

        threads = [threading.Thread(target=client) for _ in range(16)]
        for t in threads:
            t.start()
        try:
            for k in range(10):
                source = b if k % 2 == 0 else a
                swap(source, served)
                server.proc.send_signal(signal.SIGHUP)
                await_version(server, versions[source], times=4 * workers)
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert set(statuses) == {200}, (statuses, server.log())
        assert sum(statuses.values()) > 100
        assert seen[versions[a]] > 0 and seen[versions[b]] > 0  # the clients saw the version change
        assert server.log().count("now serving version") == 10 * workers


def test_a_reload_asked_while_the_workers_start_kills_none(tmp_path: Path) -> None:
    """SIGHUPs sent while two workers are still starting are held until each has loaded its
    weights, then honoured: no worker dies of them (a SIGHUP's default action ends a process), and
    both end up serving the file swapped in before them."""
    a, b = two_versions(tmp_path)
    served = tmp_path / "served.npz"
    swap(a, served)
    with serving(tmp_path, served, wait=False, workers=2) as server:
        deadline = time.monotonic() + 60
        while "Started parent process" not in server.log():  # the parent passes SIGHUP on from here
            assert time.monotonic() < deadline and server.proc.poll() is None, server.log()
            time.sleep(0.02)
        swap(b, served)
        for _ in range(20):  # 2 s of reloads asked while the workers import, load and start
            server.proc.send_signal(signal.SIGHUP)
            time.sleep(0.1)
        wait_ready(server)
        await_version(server, weights.version(b), times=8)
        assert "exited with" not in server.log(), server.log()


def held_unhandled(pid: int) -> bool:
    """Whether the process has SIGHUP (signal 1) blocked and no handler for it yet: bit 0 of SigBlk
    set and of SigCgt clear, in /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return bool(int(fields["SigBlk"], 16) & 1) and not int(fields["SigCgt"], 16) & 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_reload_asked_while_the_server_starts_is_not_fatal(tmp_path: Path, workers: int) -> None:
    """A SIGHUP sent to ``digitpad-serve`` while it is still importing and checking its weights,
    before it has a handler, is held, not fatal (Python's default is to die of it): the server
    starts and serves the file swapped in, and with one worker honours the reload once started."""
    a, b = two_versions(tmp_path)
    served = tmp_path / "served.npz"
    swap(a, served)
    with serving(tmp_path, served, wait=False, workers=workers) as server:
        deadline = time.monotonic() + 60
        while not held_unhandled(server.proc.pid):  # from the first line of app/runtime/cli.py
            assert time.monotonic() < deadline and server.proc.poll() is None, server.log()
            time.sleep(0.005)
        swap(b, served)
        server.proc.send_signal(signal.SIGHUP)
        wait_ready(server)
        await_version(server, weights.version(b), times=4 * workers)
        assert server.proc.poll() is None
        if workers == 1:  # the held signal, delivered once started
            deadline = time.monotonic() + 60
            while "now serving version" not in server.log():
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.05)


def test_a_broken_file_keeps_the_old_model(tmp_path: Path) -> None:
    a, _ = two_versions(tmp_path)
    served = tmp_path / "served.npz"
    swap(a, served)
    with serving(tmp_path, served) as server:
        before = served_version(server.url)
        served.write_bytes(b"not weights at all")
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while "reload failed" not in server.log():
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert served_version(server.url) == before
        assert httpx.post(f"{server.url}/api/predict", json={"pixels": PIXELS}).status_code == 200
        line = next(line for line in server.log().splitlines() if "reload failed" in line)
        assert str(served) in line and f"still serving version {before}" in line
        assert "Traceback" not in server.log()
        served.unlink()  # a missing file: the same
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while server.log().count("reload failed") < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert "no such file" in server.log() and served_version(server.url) == before


def await_line(server: Served, text: str, times: int = 1) -> str:
    """The ``times``-th log line holding ``text``, once it is there."""
    deadline = time.monotonic() + 60
    while (found := [ln for ln in server.log().splitlines() if text in ln])[times - 1:] == []:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    return found[times - 1]


def answered_by(url: str, model: str) -> str:
    r = httpx.post(f"{url}/api/predict?preview=false", json={"pixels": PIXELS, "model": model}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["model"]["version"])


def test_a_model_keeps_its_name_whatever_file_it_is_given(tmp_path: Path) -> None:
    """Another architecture under the same name is served; a file naming another model is refused
    with one line and the old model keeps answering to its name."""
    served = tmp_path / "served.npz"
    swap(SHIPPED, served)
    mlp, _ = weights.load(ROOT / "weights" / "mlp.npz")
    _, meta = weights.load(SHIPPED)
    renamed = tmp_path / "mlp.npz"
    weights.save(renamed, mlp, {**meta, "name": "mlp"})
    same_name = tmp_path / "digitpad-mlp.npz"
    weights.save(same_name, mlp, meta)  # another architecture, the same name
    with serving(tmp_path, served) as server:
        before = answered_by(server.url, "digitpad")
        swap(renamed, served)
        server.proc.send_signal(signal.SIGHUP)
        line = await_line(server, "reload refused")
        assert "'mlp'" in line and "'digitpad'" in line and f"still serving version {before}" in line
        assert answered_by(server.url, "digitpad") == before
        assert [m["name"] for m in httpx.get(f"{server.url}/api/models").json()["models"]] == ["digitpad"]

        swap(same_name, served)
        server.proc.send_signal(signal.SIGHUP)
        await_line(server, "now serving version")
        assert answered_by(server.url, "digitpad") == weights.version(same_name)
        info = httpx.get(f"{server.url}/api/model").json()
        assert info["name"] == "digitpad" and info["layers"] == weights.load(same_name)[1]["layers"]
        assert "Traceback" not in server.log()


def test_every_name_in_a_folder_survives_a_reload(tmp_path: Path) -> None:
    """A file gone from DIGITPAD_MODELS's folder keeps its model serving; a new file whose name is
    taken is refused; a new file with a new name is served."""
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("digitpad", "mlp"):
        swap(ROOT / "weights" / f"{name}.npz", folder / f"{name}.npz")
    with serving(tmp_path, folder / "digitpad.npz", models=folder) as server:
        mlp_version = answered_by(server.url, "mlp")
        (folder / "mlp.npz").unlink()
        swap(ROOT / "weights" / "digitpad.npz", folder / "copy.npz")  # a second "digitpad"
        swap(ROOT / "weights" / "blog.npz", folder / "blog.npz")
        server.proc.send_signal(signal.SIGHUP)
        assert "mlp.npz" in await_line(server, "no longer listed")
        assert "copy.npz" in await_line(server, "reload refused")
        await_line(server, "blog.npz: now serving")
        names = sorted(m["name"] for m in httpx.get(f"{server.url}/api/models").json()["models"])
        assert names == ["blog", "digitpad", "mlp"]
        assert answered_by(server.url, "mlp") == mlp_version
        assert answered_by(server.url, "blog") == weights.version(folder / "blog.npz")
