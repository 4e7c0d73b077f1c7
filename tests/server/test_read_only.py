"""``digitpad-serve`` where nothing can be written: it serves (one worker keeps its metrics in
memory; workers with metrics off need no folder) or stops with one line and exit code 3 (workers
with no place for their metrics files; a database whose folder cannot be made), never a traceback.

Unwritable places are paths under a regular file: every attempt to make a folder there fails,
for root too (the tests may run as root, for whom a mode of 0555 stops nothing).
``tests/deploy/test_container.py`` runs the image with a read-only root for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from scripts.harness.server import ROOT, serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # real servers

PIXELS = [[1.0 if 4 <= y < 24 and 13 <= x < 15 else 0.0 for x in range(28)] for y in range(28)]


@pytest.fixture
def blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A path under a regular file, where no folder or file can be made; TMPDIR points there."""
    (tmp_path / "a-file").write_text("")
    where = tmp_path / "a-file" / "nothing"
    monkeypatch.setenv("TMPDIR", str(where))
    return where


def start(tmp_path: Path, **settings: object) -> subprocess.CompletedProcess[str]:
    """Run ``digitpad-serve`` expecting it to stop at start-up (a timeout would fail the test)."""
    weights = app_weights(tmp_path / "tiny.npz")
    env = {**os.environ, "DIGITPAD_WEIGHTS": str(weights), "DIGITPAD_PORT": "0",
           **{f"DIGITPAD_{k.upper()}": str(v) for k, v in settings.items()}}
    return subprocess.run([sys.executable, "-m", "app.runtime.cli"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("workers", "metrics"), [(1, "true"), (2, "false"), (None, "true")])
def test_serves_with_no_writable_folder_for_metrics(tmp_path: Path, blocked: Path, workers: int | None,
                                                    metrics: str) -> None:
    """One worker, or workers with metrics off; or, when the number of workers is left to its
    default (one per core), one worker with a warning."""
    weights = app_weights(tmp_path / "tiny.npz")
    with serving(tmp_path, weights, workers=workers, metrics=metrics, metrics_dir=blocked / "metrics",
                 database_url=f"sqlite:///{tmp_path}/db/digitpad.db") as s:
        r = httpx.post(f"{s.url}/api/predict", json={"pixels": PIXELS}, timeout=60)
        assert r.status_code == 200, r.text
        scrape = httpx.get(f"{s.url}/metrics", timeout=60)
        if metrics == "true":  # in memory: this process's own counts
            assert 'digitpad_http_requests_total{method="POST",route="/api/predict",status="200"} 1.0' in scrape.text
        else:
            assert scrape.status_code == 404
        assert bool(s.workers()) == (workers == 2)  # else one process serves
        assert s.stop() == 0
        log = s.log()
    assert "Traceback" not in log, log
    assert not list(tmp_path.rglob("digitpad-metrics-*"))
    assert ("one worker serves" in log) == (workers is None and len(os.sched_getaffinity(0)) > 1), log


@pytest.mark.parametrize(("workers", "setting", "named"), [
    (2, "metrics_dir", "DIGITPAD_METRICS_DIR"),  # one worker needs no folder: served above
    (1, "database_url", "DIGITPAD_DATABASE_URL"),
    (2, "database_url", "DIGITPAD_DATABASE_URL"),
])
def test_nowhere_to_write_stops_start_up_with_one_line(tmp_path: Path, blocked: Path, workers: int,
                                                       setting: str, named: str) -> None:
    where = {"metrics_dir": blocked / "metrics", "database_url": f"sqlite:///{blocked}/digitpad.db"}
    settings = {"database_url": f"sqlite:///{tmp_path}/db/digitpad.db", setting: where[setting]}
    r = start(tmp_path, workers=workers, **settings)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 3, r.stderr
    assert len(lines) == 1 and lines[0].startswith("digitpad cannot start"), r.stderr
    assert named in lines[0] and "nothing" in lines[0]
