"""The production image, built and run for real with the `docker` CLI.

Builds the image from this checkout, runs it on a loopback port, waits for
/readyz, reads a drawn digit, checks /api/model, the user, the healthcheck and
the exec-form command, stops it with requests in flight and checks they were
answered and the process exited cleanly, then removes what it made. No engine
→ the test fails and says why (run ./run.sh test to get one)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.harness.container import (
    ROOT,
    EngineMissing,
    build,
    docker,
    get,
    post,
    remove_built,
    require_engine,
    wait_ready,
)
from scripts.harness.ports import free_port
from scripts.harness.server import huge_image
from tests.drawing import drawing

pytestmark = pytest.mark.container  # builds and runs the image


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    try:
        require_engine()
    except EngineMissing as e:
        pytest.fail(str(e), pytrace=False)
    label = uuid.uuid4().hex[:8]
    tag = f"digitpad-test:{label}"
    build(tag, label)
    yield tag
    remove_built(tag, label)
    assert label not in docker("images", "-a", "--filter", f"label=digitpad.build={label}", "-q").stdout


def test_the_image_serves_predicts_and_stops_cleanly(image: str) -> None:
    name = f"digitpad-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", image)
    try:
        wait_ready(base)
        assert get(f"{base}/healthz") == (200, {"status": "ok"})
        with urllib.request.urlopen(f"{base}/", timeout=5) as page:
            assert 'data-testid="pad"' in page.read().decode()  # the drawing page ships in the image

        png = drawing(style="transparent", shape="7")
        status, body = post(f"{base}/api/predict",
                            {"image": "data:image/png;base64," + base64.b64encode(png).decode()})
        assert status == 200, body
        assert body["digit"] == 7 and abs(sum(body["probabilities"]) - 1) < 1e-6
        status, body = post(f"{base}/api/predict", {"image": base64.b64encode(b"not an image").decode()})
        assert status == 422 and body["code"] == "invalid_image"

        status, info = get(f"{base}/api/model")
        shipped = (ROOT / "weights" / "digitpad.npz").read_bytes()
        assert status == 200 and info["version"] == hashlib.sha256(shipped).hexdigest()[:12]
        assert info["test_accuracy"] >= 0.995

        assert docker("exec", name, "id", "-u").stdout.strip() == "10001"
        uid_line = [ln for ln in docker("exec", name, "cat", "/proc/1/status").stdout.splitlines()
                    if ln.startswith("Uid:")]
        assert uid_line and uid_line[0].split()[1] == "10001"  # the server itself, PID 1, is not root

        config = json.loads(docker("image", "inspect", image, "--format", "{{json .Config}}").stdout)
        assert config["Cmd"] == ["digitpad-serve"]  # exec form: PID 1 gets SIGTERM
        assert config["User"].startswith("10001")
        env = dict(e.split("=", 1) for e in config["Env"])
        assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
        # The container's config carries the image's HEALTHCHECK (podman's image inspect omits it).
        container = json.loads(docker("inspect", name, "--format", "{{json .Config}}").stdout)
        check = (config.get("Healthcheck") or container["Healthcheck"])["Test"]  # ["CMD", "python", "-c", "…"]
        assert check[0] == "CMD" and "/readyz" in check[-1]
        assert docker("exec", name, *check[1:], check=False).returncode == 0  # no scheduler here: run it

        # A correction lands in the SQLite file on the /data volume; SIGHUP reloads the weights.
        pixels = [[1.0 if 4 <= y < 24 and 13 <= x < 15 else 0.0 for x in range(28)] for y in range(28)]
        status, body = post(f"{base}/api/feedback", {"pixels": pixels, "label": 1, "predicted": 7})
        assert status == 201, body
        rows = docker("exec", name, "python", "-c", "import sqlite3; print(sqlite3.connect('/data/digitpad.db')"
                      ".execute('select count(*), max(label) from feedback').fetchone())").stdout.strip()
        assert rows == "(1, 1)"
        assert "/data" in json.loads(docker("image", "inspect", image, "--format", "{{json .Config.Volumes}}").stdout)
        docker("kill", "--signal", "HUP", name)
        deadline = time.monotonic() + 60
        while "now serving version" not in (logs := docker("logs", name)).stderr + logs.stdout:
            assert time.monotonic() < deadline, logs.stderr
            time.sleep(0.1)
        assert get(f"{base}/api/model")[1]["version"] == info["version"]  # the same file, reloaded

        # Slow requests in flight when `docker stop` sends SIGTERM are answered: finished (200), or,
        # if they cannot finish within the grace period, a JSON 503. Never a text 500, never dropped.
        batch = {"inputs": [{"image": huge_image(2000)}] * 2}  # as many pixels as a batch may hold: slow to decode
        answers: list[tuple[int, str | None]] = []

        def call() -> None:
            status, body = post(f"{base}/api/predict/batch", batch, timeout=30)
            answers.append((status, None if status == 200 else body.get("code")))

        threads = [threading.Thread(target=call) for _ in range(16)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        docker("stop", "-t", "10", name, timeout=60)
        for t in threads:
            t.join(timeout=30)
        assert len(answers) == 16
        assert all(a in {(200, None), (503, "shutting_down"), (503, "overloaded")} for a in answers), answers
        assert (200, None) in answers
        state = json.loads(docker("inspect", name, "--format", "{{json .State}}").stdout)
        assert state["Status"] == "exited" and state["ExitCode"] == 0
        assert "Application shutdown complete" in docker("logs", name).stderr + docker("logs", name).stdout
    finally:
        docker("rm", "-f", name, check=False)
    assert name not in docker("ps", "-a", "--format", "{{.Names}}").stdout


def test_a_code_change_reuses_the_dependency_layer(image: str, tmp_path: Path) -> None:
    """The locked dependencies are installed in a layer of their own, before the code is copied:
    a build after a one-line change to the code takes that layer from the cache."""
    context = tmp_path / "context"
    context.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy(ROOT / name, context / name)
    for folder in ("model", "app", "scripts", "static"):
        shutil.copytree(ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (context / "weights").mkdir()
    for name in ("digitpad.npz", "handwriting.npz", "mlp.npz", "blog.npz"):
        shutil.copy(ROOT / "weights" / name, context / "weights" / name)
    with open(context / "app" / "main.py", "a") as f:
        f.write("# a one-line change\n")
    label = image.split(":")[1]
    out = build(f"digitpad-test:{label}-changed", label, context)
    lines = out.splitlines()
    deps = next(i for i, line in enumerate(lines) if "STEP" in line and "--require-hashes" in line)
    code = next(i for i, line in enumerate(lines) if "STEP" in line and "COPY app/ app/" in line)
    assert lines[deps + 1].startswith("--> Using cache"), "\n".join(lines[deps:deps + 3])
    assert not lines[code + 1].startswith("--> Using cache")  # the changed code is copied again
    docker("rmi", "-f", f"digitpad-test:{label}-changed", check=False)
    labels = json.loads(docker("image", "inspect", image, "--format", "{{json .Config.Labels}}").stdout)
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert labels["org.opencontainers.image.version"] and len(labels["org.opencontainers.image.revision"]) == 40


@pytest.mark.parametrize("terminal", [True, False])
def test_logs_are_text_on_a_terminal_and_json_lines_otherwise(image: str, terminal: bool) -> None:
    """``docker run -it`` gives readable lines; without a terminal (``docker logs``, a collector),
    one JSON object a line: the image's DIGITPAD_LOG_FORMAT=auto."""
    name = f"digitpad-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    docker("run", "-d", *(["-t"] if terminal else []), "--name", name, "-p", f"127.0.0.1:{port}:8000", image)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        logs = docker("logs", name)
    finally:
        docker("rm", "-f", name, check=False)
    lines = [ln.strip() for ln in (logs.stdout + logs.stderr).splitlines() if ln.strip()]
    assert any("Application startup complete" in ln for ln in lines), lines
    if terminal:
        assert "INFO: Application startup complete." in lines and not any(ln.startswith("{") for ln in lines)
    else:
        assert all(json.loads(ln)["level"] in ("info", "warning") for ln in lines), lines


# No writable /tmp whatever the engine's default (podman mounts a writable tmpfs there with --read-only).
READ_ONLY = ["--read-only", "--tmpfs", "/tmp:ro", "--tmpfs", "/var/tmp:ro"]


def test_a_read_only_root_serves_and_stops_cleanly(image: str) -> None:
    """With nowhere to write but the /data volume, the image's defaults (one worker per core,
    whose metrics need a writable folder) fall back to one worker, which needs nothing else: it
    serves, counts, keeps a correction and exits 0."""
    name = f"digitpad-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    docker("run", "-d", "--name", name, *READ_ONLY, "-p", f"127.0.0.1:{port}:8000", image)
    try:
        wait_ready(base)
        assert docker("exec", name, "touch", "/tmp/probe", check=False).returncode != 0  # really nothing there
        cores = int(docker("exec", name, "nproc", check=False).stdout.strip() or 1)
        png = drawing(style="transparent", shape="7")
        status, body = post(f"{base}/api/predict",
                            {"image": "data:image/png;base64," + base64.b64encode(png).decode()})
        assert status == 200 and body["digit"] == 7, body
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
            assert 'route="/api/predict",status="200"} 1.0' in r.read().decode()
        pixels = [[1.0 if 4 <= y < 24 and 13 <= x < 15 else 0.0 for x in range(28)] for y in range(28)]
        assert post(f"{base}/api/feedback", {"pixels": pixels, "label": 1, "predicted": 7})[0] == 201
        docker("stop", "-t", "10", name, timeout=60)
        state = json.loads(docker("inspect", name, "--format", "{{json .State}}").stdout)
        logs = docker("logs", name)
        assert state["ExitCode"] == 0 and "Traceback" not in logs.stdout + logs.stderr
        assert ("one worker serves" in logs.stdout + logs.stderr) == (cores > 1), logs.stderr
    finally:
        docker("rm", "-f", "-v", name, check=False)


@pytest.mark.parametrize(("setting", "named"), [
    ("DIGITPAD_WORKERS=2", "DIGITPAD_METRICS_DIR"),  # several workers: no place for their metrics files
    ("DIGITPAD_DATABASE_URL=sqlite:///data/digitpad.db", "DIGITPAD_DATABASE_URL"),  # the default, under /tmp
])
def test_a_read_only_root_with_nowhere_to_write_stops_with_one_line(image: str, setting: str, named: str) -> None:
    name = f"digitpad-ro-{os.getpid()}-{named.lower().replace('_', '-')}"
    try:  # not --rm: podman's docker CLI then reports exit code 0 whatever the container's was
        run = docker("run", "--name", name, *READ_ONLY, "-e", setting, image, timeout=120, check=False)
        code = json.loads(docker("inspect", name, "--format", "{{json .State}}").stdout)["ExitCode"]
    finally:
        docker("rm", "-f", name, check=False)
    said = [ln for ln in (run.stdout + run.stderr).splitlines() if "digitpad cannot start" in ln]
    assert run.returncode == 3 and code == 3, run.stdout + run.stderr
    assert len(said) == 1 and named in said[0], run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
