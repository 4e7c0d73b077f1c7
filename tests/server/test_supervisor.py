"""The worker supervisor (``app/runtime/supervisor.py``) on a real two-worker ``digitpad-serve``:
a worker killed and SIGTERM sent at once (the worker still dying), or while its replacement is
still starting, still drains and exits 0; the run's metrics folder exists while it serves and is
gone after SIGTERM or SIGINT.
A lone server (one worker, or the supervisor itself) stopped while it starts exits 0 too.

The start-up window is found, not timed: the test waits for the replacement process to appear,
checks from the log that it has not finished starting (else kills it and waits for the next), and
signals the supervisor at once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.runtime.supervisor import ending
from scripts.harness.server import Served, serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # real servers with two workers


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")


def workers_of(parent: int) -> set[int]:
    """The worker processes (forked children) of ``parent``, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent:
            found.add(int(entry.name))
    return found


def replacement(s: Served, before: set[int]) -> int:
    """The pid of the worker the supervisor starts after one of ``before`` died, once it exists."""
    deadline = time.monotonic() + 60
    while not (new := workers_of(s.proc.pid) - before):
        assert time.monotonic() < deadline, f"no replacement worker:\n{s.log()}"
        time.sleep(0.005)
    return new.pop()


def starting(log: str, pid: int) -> bool:
    """Whether worker ``pid`` has not finished starting, by the log: no "Application startup
    complete" since its first line (the other worker finished starting long before)."""
    at = log.find(f"[{pid}]")
    return at < 0 or "Application startup complete" not in log[at:]


def caught_starting(s: Served, before: set[int], tries: int = 20) -> int:
    """The pid of a replacement worker caught while it starts: a worker forked from the
    supervisor starts in milliseconds, so a replacement found already started is killed in turn,
    and the next one looked for, up to ``tries`` times."""
    for _ in range(tries):
        new = replacement(s, before)
        if starting(s.log(), new):
            return new
        before = workers_of(s.proc.pid) | before
        os.kill(new, signal.SIGKILL)
    pytest.fail(f"no replacement caught while it started in {tries} tries:\n{s.log()}")


def holds(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has ``sig`` blocked now (``SigBlk`` in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def metrics_folders(base: Path) -> list[Path]:
    return sorted(base.glob("digitpad-metrics-*")) if base.exists() else []


@pytest.mark.parametrize("when", ["at once", "while the replacement starts"])
def test_sigterm_after_a_worker_is_killed_drains_and_exits_0(weights: Path, tmp_path: Path, when: str) -> None:
    base = tmp_path / "metrics"
    with serving(tmp_path, weights, workers=2, metrics_dir=base) as s:
        before = workers_of(s.proc.pid)
        assert len(before) == 2, s.log()
        os.kill(min(before), signal.SIGKILL)
        new = caught_starting(s, before) if when != "at once" else None
        s.proc.send_signal(signal.SIGTERM)
        code = s.proc.wait(timeout=60)
        log = s.log()
    assert code == 0, log
    assert "Traceback" not in log
    if new is not None:
        assert f"Finished server process [{new}]" in log, log  # it finished starting, then drained
    assert metrics_folders(base) == []


def test_a_process_killed_a_moment_ago_is_ending_before_it_can_be_reaped() -> None:
    """The supervisor's view of a worker killed just before a stop: right after kill() the process
    has SIGKILL pending, or is inside exit(), or is a zombie; each is "ending", none yet reaped
    (waitpid alone saw the first two as running, so the stop counted the worker as failing to drain)."""
    for _ in range(50):
        child = subprocess.Popen(["sleep", "60"])
        assert not ending(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        assert ending(child.pid)
        child.wait()
    assert ending(child.pid)  # reaped: gone


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_runs_metrics_folder_is_removed_on_exit(weights: Path, tmp_path: Path, sig: int) -> None:
    base = tmp_path / "metrics"
    with serving(tmp_path, weights, workers=2, metrics_dir=base) as s:
        assert httpx.get(f"{s.url}/healthz", timeout=30).status_code == 200
        [folder] = metrics_folders(base)
        assert any(folder.glob("*.db")), "the workers write their samples there"
        s.proc.send_signal(sig)
        assert s.proc.wait(timeout=60) == 0, s.log()
    assert metrics_folders(base) == []


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_while_the_server_starts_is_held_then_graceful(weights: Path, tmp_path: Path, workers: int,
                                                              sig: int) -> None:
    with serving(tmp_path, weights, workers=workers, wait=False) as s:
        deadline = time.monotonic() + 60
        while not holds(s.proc.pid, sig):  # until its first line has run: it is starting, not serving
            assert s.proc.poll() is None, s.log()
            assert time.monotonic() < deadline, f"the server never held signal {sig} while starting"
            time.sleep(0.001)
        s.proc.send_signal(sig)
        code = s.proc.wait(timeout=60)
        log = s.log()
    assert code == 0, log
    assert "Traceback" not in log
