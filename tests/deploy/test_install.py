"""`pip install .` into a clean virtual environment gives a working digitpad.

The wheel carries the page and the shipped weights; `digitpad-serve`, started
from an unrelated folder, serves both. (Needs PyPI or pip's cache for the
dependencies, as any install does.)"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from scripts.harness.container import ROOT, get, wait_ready
from scripts.harness.ports import free_port

pytestmark = pytest.mark.slow  # builds the wheel and installs it into a new venv


def test_pip_install_serves_the_page_and_the_shipped_weights(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
                   check=True, timeout=300, cwd=tmp_path)
    (wheel,) = wheels.glob("digitpad-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {"app/static/index.html", "app/static/app.js", "app/static/pad.js", "app/static/style.css",
            "app/static/explore.html",
            "app/static/vendor/swagger-ui-dist/swagger-ui-bundle.js", "app/static/vendor/redoc/redoc.standalone.js",
            "app/static/vendor/VERSIONS.json", "app/storage/migrations/env.py",
            "app/storage/migrations/versions/0001_feedback.py", "app/weights/digitpad.npz",
            "app/weights/handwriting.npz", "app/weights/mlp.npz", "app/weights/blog.npz", "model/network.py",
            "app/main.py"} <= names
    assert not any(n.startswith(("tests/", "data/", "examples/", "deploy/")) for n in names)
    assert "digitpad-serve = app.runtime.cli:main" in entry_points
    assert "digitpad-train = scripts.train:main" in entry_points

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITPAD_")}
    env.update(DIGITPAD_HOST="127.0.0.1", DIGITPAD_PORT=str(port))
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed below, after the server)
    server = subprocess.Popen([str(env_dir / "bin" / "digitpad-serve")], cwd=elsewhere, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        with urllib.request.urlopen(f"{base}/", timeout=5) as r:
            assert 'data-testid="pad"' in r.read().decode()
        status, info = get(f"{base}/api/model")
        shipped = (ROOT / "weights" / "digitpad.npz").read_bytes()
        assert status == 200 and info["version"] == hashlib.sha256(shipped).hexdigest()[:12]
        assert {m["name"] for m in get(f"{base}/api/models")[1]["models"]} == {"digitpad", "handwriting", "mlp", "blog"}
        with urllib.request.urlopen(f"{base}/static/vendor/redoc/redoc.standalone.js", timeout=5) as r:
            assert r.status == 200  # the offline docs' scripts travel in the wheel
        assert (elsewhere / "data" / "digitpad.db").exists()  # migrated at start-up, beside the working directory
    except Exception:
        print((tmp_path / "serve.log").read_text())
        raise
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
