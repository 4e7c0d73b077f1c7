"""Driving the `docker` CLI, for the container test and `scripts.bench.container` (the real engine)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class EngineMissing(RuntimeError):
    pass


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def require_engine() -> None:
    """Raise EngineMissing, saying why, unless `docker info` answers."""
    if shutil.which("docker") is None:
        raise EngineMissing("no `docker` command on PATH: install Docker, or run ./run.sh test, which sets up "
                            "podman behind the docker CLI where ../shared/container/setup-engine.sh exists")
    info = docker("info", timeout=30, check=False)
    if info.returncode != 0:
        raise EngineMissing(f"`docker info` failed, so no container engine can be had: {info.stderr.strip()[-300:]}")


def revision() -> str:
    run = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else "unknown"


def build(tag: str, label: str | None = None, context: Path = ROOT) -> str:
    """``docker build -t tag`` (with the OCI revision label from git); ``label`` marks every stage's
    image so ``remove_built`` finds them all. Returns what the build printed."""
    labels = ["--label", f"digitpad.build={label}"] if label else []
    result = docker("build", *labels, "--build-arg", f"REVISION={revision()}", "-t", tag, str(context),
                    timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"docker build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout + result.stderr


def remove_built(tag: str, label: str) -> None:
    """Remove the tagged image and the build-stage images that ``build(tag, label)`` left."""
    docker("rmi", "-f", tag, check=False)
    docker("image", "prune", "-f", "--filter", f"label=digitpad.build={label}", check=False)


def get(url: str, timeout: float = 5) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def post(url: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_ready(base: str, deadline_s: float = 120) -> float:
    """Poll /readyz every 20 ms until 200; the seconds it took. Bounded by deadline_s."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        try:
            if get(f"{base}/readyz", timeout=5)[0] == 200:
                return time.perf_counter() - start
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{base}/readyz did not answer 200 within {deadline_s} s")
