"""``./run.sh start`` on a set-up, unchanged checkout: it installs nothing, says where it serves
(``DIGITPAD_PORT``, or its short form ``PORT``) and serves there, whichever command ran before.

Runs the checkout's own ``./run.sh`` with its ``.venv``: the first start may install what
``start`` needs (``./run.sh test`` has installed it already), the next ones must not."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from scripts.harness.ports import free_port
from scripts.harness.server import Served, wait_ready
from tests.paths import ROOT

pytestmark = pytest.mark.slow  # ./run.sh start, twice, with the default workers


def run_start(tmp_path: Path, name: str, **variables: str) -> str:
    """``./run.sh start`` with ``variables`` until /readyz answers 200, then SIGTERM; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITPAD_") and k not in ("PORT", "HOST")}
    env |= {"DIGITPAD_DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db", **variables}
    port = int(variables.get("DIGITPAD_PORT") or variables["PORT"])
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["./run.sh", "start"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        wait_ready(served, deadline_s=600)
        with urllib.request.urlopen(f"{served.url}/", timeout=30) as page:
            assert page.status == 200 and b"digitpad" in page.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, served.log()
    return served.log()


def test_a_restart_installs_nothing_and_serves_on_the_port_asked_for(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv in this checkout: ./run.sh start (or test) has never set it up")
    run_start(tmp_path, "first", DIGITPAD_PORT=str(free_port()))  # may install what start needs
    port = free_port()
    again = run_start(tmp_path, "again", DIGITPAD_PORT=str(port))
    assert "installing" not in again and "pip" not in again, again
    assert again.splitlines()[0] == f"==> starting digitpad on http://127.0.0.1:{port}"
    short = free_port()
    assert f"starting digitpad on http://127.0.0.1:{short}" in run_start(tmp_path, "short", PORT=str(short))
