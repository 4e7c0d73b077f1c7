"""What a person starting ``digitpad-serve`` meets before the page: a setting that does not parse
and a port already in use are one line each and a non-zero exit, said before anything loads;
``--help`` shows each setting's default once; ``DIGITPAD_LOG_FORMAT=auto`` writes readable text
to a terminal and JSON lines anywhere else. Real processes, a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import Settings
from scripts.harness.ports import free_port
from tests.app_fixtures import app_weights
from tests.paths import ROOT

SERVE = [sys.executable, "-m", "app.runtime.cli"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")


def environment(tmp_path: Path, weights: Path, **settings: object) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DIGITPAD_")}
    return {**base, "OPENBLAS_NUM_THREADS": "1", "DIGITPAD_WEIGHTS": str(weights), "DIGITPAD_HOST": "127.0.0.1",
            "DIGITPAD_DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db",
            **{f"DIGITPAD_{k.upper()}": str(v) for k, v in settings.items()}}


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``digitpad-serve`` run to its end (these ones stop at start-up)."""
    return subprocess.run(SERVE, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("setting", "value", "said"), [
    ("port", "abc", "DIGITPAD_PORT='abc': not a whole number"),
    ("port", "70000", "DIGITPAD_PORT='70000': must be at most 65535"),
    ("workers", "0", "DIGITPAD_WORKERS='0': must be at least 1"),
    ("max_wait", "soon", "DIGITPAD_MAX_WAIT='soon': not a number"),
    ("access_log", "maybe", "DIGITPAD_ACCESS_LOG='maybe': not true or false"),
    ("log_format", "xml", "DIGITPAD_LOG_FORMAT='xml': must be one of 'text', 'json' or 'auto'"),
])
def test_a_setting_that_does_not_parse_is_one_line_and_exit_2(tmp_path: Path, weights: Path, setting: str,
                                                              value: str, said: str) -> None:
    r = start(environment(tmp_path, weights, **{setting: value}))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [f"digitpad cannot start: {said} (digitpad-serve --help lists the settings)"]
    assert r.stdout == ""


def test_two_bad_settings_are_a_line_each(tmp_path: Path, weights: Path) -> None:
    r = start(environment(tmp_path, weights, port="x", max_batch="-1"))
    assert r.returncode == 2
    assert [line.split(":")[1].strip().split("=")[0] for line in r.stderr.splitlines()] == [
        "DIGITPAD_MAX_BATCH", "DIGITPAD_PORT"]


@pytest.fixture
def taken() -> Iterator[int]:
    """A port on 127.0.0.1 that another server listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path, weights: Path, taken: int,
                                                          workers: int) -> None:
    r = start(environment(tmp_path, weights, port=taken, workers=workers))
    assert r.returncode == 3, r.stderr
    assert r.stderr.splitlines() == [
        f"digitpad cannot start: port {taken} on 127.0.0.1 is already in use (another digitpad, or another "
        "server): stop that, or choose another port with DIGITPAD_PORT"]
    assert not (tmp_path / "feedback.db").exists()  # said before the database (or anything else) was opened


def test_a_host_that_is_no_address_is_one_line(tmp_path: Path, weights: Path) -> None:
    r = start({**environment(tmp_path, weights, port=free_port()), "DIGITPAD_HOST": "no-such-host.invalid"})
    assert r.returncode == 3
    assert r.stderr.splitlines() == [
        "digitpad cannot start: DIGITPAD_HOST='no-such-host.invalid' is neither an address nor a known host name"]


def test_help_shows_each_default_once() -> None:
    out = subprocess.run([*SERVE, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.count("(default: ") == len(Settings.model_fields)
    assert "(default: one per core: " in out  # in words, with what that is here
    blocks = re.split(r"\n(?=  DIGITPAD_)", out.split("\n\n")[2])  # a setting per block, wrapped lines kept
    assert len(blocks) == len(Settings.model_fields)
    assert all(b.count("(default:") == 1 for b in blocks)
    assert max(len(line) for line in out.splitlines()) <= 100


def read_until(fd: int, needle: bytes, seconds: float = 120) -> bytes:
    """What comes out of ``fd`` until ``needle`` has (or the time is up)."""
    seen, deadline = b"", time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("where", ["terminal", "pipe"])
def test_auto_log_format_is_text_on_a_terminal_and_json_elsewhere(tmp_path: Path, weights: Path, where: str) -> None:
    env = environment(tmp_path, weights, port=free_port(), workers=1, log_format="auto")
    reader, writer = os.openpty() if where == "terminal" else os.pipe()
    proc = subprocess.Popen(SERVE, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=writer)
    os.close(writer)
    try:
        log = read_until(reader, b"Application startup complete").decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        os.close(reader)
    lines = [line for line in log.replace("\r\n", "\n").splitlines() if line.strip()]
    assert any("Application startup complete" in line for line in lines), log
    if where == "terminal":
        assert "INFO: Application startup complete." in lines and not any(line.startswith("{") for line in lines)
    else:
        assert [json.loads(line)["level"] for line in lines] == ["info"] * len(lines)
