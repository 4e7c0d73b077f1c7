"""Storage faults under a real ``digitpad-serve``: a PostgreSQL server that hangs (SIGSTOP), a
SQLite file deleted, replaced or made unwritable while the server runs.

Each fault must cost corrections a prompt JSON 503 ``storage_unavailable`` and nothing else:
predictions and health checks go on, the process lives, and no 201 is given for a row that a
restart would not find. Times are compared with a baseline measured in the same test, or with
the configured ``DIGITPAD_DATABASE_TIMEOUT``, never with a fixed figure."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.storage import feedback as store
from app.storage.database import connect
from scripts.harness.postgres import hung, postgres_server
from scripts.harness.server import Served, serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # real servers, started and stopped

STROKE = np.zeros((28, 28))
STROKE[4:24, 13:15] = 1.0
PIXELS = STROKE.tolist()
PROBES = ["/api/predict", "/healthz", "/readyz"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")


def correction(c: httpx.Client) -> httpx.Response:
    return c.post("/api/feedback", json={"pixels": PIXELS, "label": 1})


def unavailable(r: httpx.Response) -> bool:
    return r.status_code == 503 and r.json()["code"] == "storage_unavailable" and r.headers["retry-after"] == "5"


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM feedback").fetchone()[0])


def alive(s: Served) -> bool:
    return s.proc.poll() is None and "Traceback" not in s.log()


@contextmanager
def client(s: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=s.url, timeout=60) as c:
        yield c


# ----- SQLite ----------------------------------------------------------------------------------

def test_a_missing_database_file_is_a_503_never_a_201(weights: Path, tmp_path: Path) -> None:
    db = tmp_path / "data" / "feedback.db"
    moved = tmp_path / "moved.db"
    with serving(tmp_path, weights, database_url=f"sqlite:///{db}") as s, client(s) as c:
        assert correction(c).status_code == 201
        db.rename(moved)
        answers = [correction(c) for _ in range(5)]
        assert all(unavailable(r) and "missing" in r.json()["detail"] for r in answers), [r.text for r in answers]
        assert unavailable(c.get("/api/feedback/summary"))
        assert c.post("/api/predict", json={"pixels": PIXELS}).status_code == 200
        assert c.get("/readyz").status_code == 200
        moved.rename(db)  # put back: the very file the server opened
        assert correction(c).status_code == 201
        db.unlink()
        assert unavailable(correction(c))
        assert alive(s)
    with serving(tmp_path, weights, database_url=f"sqlite:///{db}") as s, client(s) as c:  # a new, empty file
        assert correction(c).status_code == 201
    assert rows(db) == 1


def test_a_replaced_database_file_is_opened_and_written(weights: Path, tmp_path: Path) -> None:
    db, backup = tmp_path / "feedback.db", tmp_path / "backup.db"
    with serving(tmp_path, weights, database_url=f"sqlite:///{db}") as s, client(s) as c:
        assert correction(c).status_code == 201
        with sqlite3.connect(db) as live, sqlite3.connect(backup) as copy:
            live.backup(copy)  # a backup with one row
        assert [correction(c).status_code for _ in range(2)] == [201, 201]  # in the file about to go
        os.replace(backup, db)  # the backup put back
        assert [correction(c).status_code for _ in range(3)] == [201] * 3
        assert c.get("/api/feedback/summary").json()["total"] == 4
        backup.write_bytes(b"")
        os.replace(backup, db)  # another file again, empty this time: opened and migrated
        assert correction(c).status_code == 201
        assert alive(s)
    with serving(tmp_path, weights, database_url=f"sqlite:///{db}") as s, client(s) as c:
        assert c.get("/api/feedback/summary").json()["total"] == 1  # every 201 since is there
    assert rows(db) == 1


def chattr(flag: str, path: Path) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``path`` made immutable (chattr +i: root on ext4 or the like), whatever has it open."""
    if not chattr("+i", path):
        pytest.skip("chattr +i needs root on a filesystem with file attributes")
    try:
        yield
    finally:
        chattr("-i", path)


@pytest.mark.parametrize("victim", ["", "-journal", "-shm", "-wal"])
def test_an_unwritable_file_is_a_503_never_a_signal(weights: Path, tmp_path: Path, victim: str) -> None:
    """The database, its journal or a stray write-ahead log made immutable under the server: 503,
    and the write succeeds once the file is writable again. A ``-shm`` file (what SQLite's WAL
    mode maps into memory, where such a fault is a SIGBUS) is never used: corrections go on."""
    db = tmp_path / "feedback.db"
    path = db.with_name(db.name + victim)
    with serving(tmp_path, weights, database_url=f"sqlite:///{db}") as s, client(s) as c:
        assert correction(c).status_code == 201
        if not path.exists():
            path.write_bytes(bytes(32768))
        with immutable(path):
            r = correction(c)
            assert (r.status_code == 201) if victim == "-shm" else unavailable(r), r.text
            assert c.post("/api/predict", json={"pixels": PIXELS}).status_code == 200
        if victim == "-wal":  # a log SQLite would open in WAL mode: refused until a restart folds it in
            assert unavailable(correction(c))
            path.unlink()
        assert correction(c).status_code == 201
        assert alive(s), s.log()
        saved = 3 if victim == "-shm" else 2
        assert c.get("/api/feedback/summary").json()["total"] == saved
    assert rows(db) == saved


# ----- PostgreSQL ------------------------------------------------------------------------------

async def probed(url: str, corrections: int, seconds: float) -> tuple[list[tuple[httpx.Response, float]],
                                                                       dict[str, list[float]]]:
    """``corrections`` at once, and meanwhile each probe in turn for ``seconds``: the answers to
    the corrections with their times, and the probes' latencies (with no corrections: the
    baseline, measured the same way)."""
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=corrections + 2)) as c:
        async def correct() -> tuple[httpx.Response, float]:
            t = time.monotonic()
            r = await c.post("/api/feedback", json={"pixels": PIXELS, "label": 1})
            return r, time.monotonic() - t

        sent = [asyncio.ensure_future(correct()) for _ in range(corrections)]
        await asyncio.sleep(0.2 if corrections else 0)
        latencies: dict[str, list[float]] = {p: [] for p in PROBES}
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for path in PROBES:
                t = time.monotonic()
                r = await (c.post(path, json={"pixels": PIXELS}) if path.startswith("/api") else c.get(path))
                assert r.status_code == 200, r.text
                latencies[path].append(time.monotonic() - t)
        return list(await asyncio.gather(*sent)), latencies


def test_a_hung_postgresql_costs_corrections_a_prompt_503_and_nothing_else(weights: Path, tmp_path: Path) -> None:
    timeout, many = 2.0, 24  # more corrections than the storage threads and their queue hold
    with postgres_server() as pg, serving(tmp_path, weights, database_url=pg, database_timeout=timeout,
                                          feedback_per_minute=1000) as s:
        with client(s) as c:
            assert correction(c).status_code == 201
        _, idle = asyncio.run(probed(s.url, 0, timeout))
        with hung(pg):
            answers, latencies = asyncio.run(probed(s.url, many, 1.5 * timeout))
        with client(s) as c:
            recovered = [correction(c).status_code for _ in range(3)]
        assert alive(s), s.log()
        time.sleep(0.5)  # the threads that were blocked finish what they had started
        engine = connect(pg)
        saved = store.count(engine)
        engine.dispose()
    assert all(unavailable(r) for r, _ in answers), [r.text for r, _ in answers]
    waited = [t for r, t in answers if "did not answer" in r.json()["detail"]]
    refused = [t for r, t in answers if "Every storage thread" in r.json()["detail"]]
    assert len(waited) + len(refused) == many and waited and refused
    assert max(waited) < timeout + 3, waited  # the deadline, with room for a busy machine
    assert max(refused) < min(waited), (refused, waited)  # the rest at once, without waiting
    for path in PROBES:  # predictions and health checks did not wait for the database
        # (10 ms: the timer's noise on a busy machine, far below a database wait)
        baseline = statistics.median(idle[path])
        assert statistics.median(latencies[path]) < 3 * baseline + 0.01, (path, baseline, latencies[path])
        assert max(latencies[path]) < timeout / 2, (path, latencies[path])
    assert recovered == [201] * 3
    assert saved == 4  # the 503s saved nothing, not even the ones that ran on after SIGCONT
