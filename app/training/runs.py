"""Live runs as the server sees them: each a training process and a folder, reachable from any worker.

    runs/<id>/settings.json  what was asked for, the limits and the data (written before the process starts)
    runs/<id>/events.log     one event a line, ``<type> <json>``, appended by the process (the stream tails it)
    runs/<id>/commands       one command a line (pause, resume, step, stop, …), appended by any worker
    runs/<id>/state.json     running, paused or stopped, the step, the reason (replaced whole by the process)
    runs/<id>/alive.lock     held locked by the process while it lives
    runs/<id>/watched        touched by the worker streaming the events: the process stops when it goes stale
    runs/<id>/weights.npz    the latest weights, in the weights/ format
    runs/<id>/pid            the process's id, for a DELETE that cannot wait for it to stop
    runs/<id>/compacted      its event log has been compacted (``compact``)

The id is random and is the only way to a run: runs are not listed. A stopped run is kept for
``DIGITPAD_TRAINING_TTL`` seconds, then swept away by the next worker that starts runs or describes
them (GET /api/train); a minute after it stops, its event log loses all but its last weights
pictures, so that a kept run takes little room (the temporary folder is often small)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.observability.metrics import TRAINING_RUNS
from app.settings import APP_DIR, Settings
from app.training import catalogue, folder
from app.training.folder import append_command, claim_slot, held

ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
COMPACT_AFTER = 60.0  # s after a run stops that its event log is compacted (``compact``)
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class UnknownRun(LookupError):
    """No run has this id (never had, or swept away)."""


class Busy(Exception):
    """Every slot is taken; ``retry_after``: seconds until the first of them must end at the latest."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass
class Run:
    id: str
    dir: Path

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads((self.dir / "settings.json").read_text())
        return spec

    def alive(self) -> bool:
        return held(self.dir / "alive.lock")

    def state(self) -> dict[str, Any]:
        """``{"state", "step", …}`` as the process last wrote it; a process gone without saying it
        stopped (killed) is stopped with reason ``failed``."""
        try:
            state: dict[str, Any] = json.loads((self.dir / "state.json").read_text())
        except (OSError, ValueError):
            state = {"state": "running", "step": 0}
        if state["state"] != "stopped" and not self.alive():
            state = {**state, "state": "stopped", "reason": "failed",
                     "message": "The training process ended without finishing its run."}
        if state["state"] == "stopped":
            self.count_end(str(state.get("reason", "failed")))
        return state

    def ended(self, wait: float) -> bool:
        """Whether the process has ended, waiting up to ``wait`` seconds for it."""
        deadline = time.monotonic() + wait
        while self.alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def kill(self) -> None:
        """SIGKILL the run's process (its pid as the worker that started it wrote it), if it still
        holds its alive lock: then the pid is still its own."""
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.dir / "pid").read_text())
            if self.alive():
                os.kill(pid, signal.SIGKILL)

    def command(self, word: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # a run deleted meanwhile needs no command
            append_command(self.dir, word)

    def watch(self) -> None:
        """Tell the process someone still streams its events."""
        with contextlib.suppress(FileNotFoundError):
            (self.dir / "watched").touch()

    def count_end(self, reason: str) -> None:
        """Count the run's end once per server: the first worker to see it makes ``counted``."""
        try:
            os.close(os.open(self.dir / "counted", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return
        except OSError:
            return
        TRAINING_RUNS.labels(reason).inc()


class Training:
    """The live runs of one server, from one worker: start, find, count and sweep them."""

    def __init__(self, settings: Settings, root: Path, own: bool) -> None:
        self.settings, self.root, self.own = settings, root, own
        self.source = "mnist" if _has_mnist(settings.mnist_dir) else "subset"

    def data(self) -> dict[str, Any]:
        return {"source": self.source, "train": catalogue.TRAIN_IMAGES[self.source],
                "validation": catalogue.VALIDATION, "full_batch": catalogue.FULL_BATCH}

    def limits(self) -> dict[str, Any]:
        s = self.settings
        return {"max_steps": s.training_max_steps, "max_seconds": s.training_max_seconds,
                "ttl_seconds": s.training_ttl, "runs": s.training_runs, "max_batch_size": catalogue.FULL_BATCH}

    def find(self, run_id: str) -> Run:
        run = Run(run_id, self.root / "runs" / run_id)
        if not ID.match(run_id) or not (run.dir / "settings.json").is_file():
            raise UnknownRun(run_id)
        if self.expired(run):
            shutil.rmtree(run.dir, ignore_errors=True)
            raise UnknownRun(run_id)
        return run

    def expired(self, run: Run) -> bool:
        """Stopped more than the TTL ago (by the last change of its state)."""
        try:
            changed = max((run.dir / "state.json").stat().st_mtime, (run.dir / "settings.json").stat().st_mtime)
        except OSError:
            return False
        return time.time() - changed > self.settings.training_ttl and not run.alive()

    def runs(self) -> list[Run]:
        try:
            return [Run(d.name, d) for d in (self.root / "runs").iterdir() if ID.match(d.name)]
        except FileNotFoundError:  # removed under the server: made again by the next start
            return []

    def in_progress(self) -> int:
        return sum(run.alive() for run in self.runs())

    def sweep(self) -> None:
        """Remove the runs stopped longer ago than the TTL; compact the others' event logs."""
        for run in self.runs():
            if self.expired(run):
                run.state()  # counts its end, if nobody has
                shutil.rmtree(run.dir, ignore_errors=True)
            elif self.stopped_for(run) > COMPACT_AFTER:
                with contextlib.suppress(OSError):
                    compact(run)

    def stopped_for(self, run: Run) -> float:
        """Seconds since the run stopped (0 while it runs)."""
        try:
            state = json.loads((run.dir / "state.json").read_text())
            changed = (run.dir / "state.json").stat().st_mtime
        except (OSError, ValueError):
            return 0.0
        return time.time() - changed if state.get("state") == "stopped" else 0.0

    def retry_after(self) -> int:
        """Seconds until the oldest live run reaches its time limit (at least 1)."""
        starts = [run.spec()["started"] for run in self.runs() if run.alive()]
        left = min((s + self.settings.training_max_seconds - time.time() for s in starts), default=1.0)
        return max(1, round(left))

    def start(self, settings: dict[str, Any]) -> Run:
        """A new run of ``settings`` (validated), its process started; Busy when no slot is free."""
        self.sweep()
        slot = claim_slot(self.root, self.settings.training_runs)
        if slot is None:
            TRAINING_RUNS.labels("refused").inc()
            raise Busy(self.retry_after())
        try:
            run = self.prepare(settings)
            alive = folder.lock(run.dir / "alive.lock")
            assert alive is not None  # a fresh file: nobody else holds it
            try:
                self.spawn(run, (slot, alive))
            finally:
                os.close(alive)
        finally:
            os.close(slot)  # the process holds the slot now (or, if it never started, nobody)
        TRAINING_RUNS.labels("started").inc()
        return run

    def prepare(self, settings: dict[str, Any]) -> Run:
        """A new run's folder and its ``settings.json``: what the process is to do."""
        run_id = secrets.token_urlsafe(12)
        run = Run(run_id, self.root / "runs" / run_id)
        run.dir.mkdir()
        spec = {"settings": settings, "data": self.data(), "limits": self.limits(), "started": time.time(),
                "mnist_dir": str(self.settings.mnist_dir) if self.source == "mnist" else None,
                "cache": str(self.root / "cache")}
        (run.dir / "settings.json").write_text(json.dumps(spec))
        return run

    def spawn(self, run: Run, fds: tuple[int, int]) -> None:
        """Start the run's process, holding ``fds`` (its slot and alive locks)."""
        pid = process([str(run.dir)], run.dir, run.dir / "log", fds)
        (run.dir / "pid").write_text(str(pid))

    def warm(self) -> None:
        """With MNIST's folder, have the training images' cache written now, in the background,
        unless it is there: reading MNIST's files takes most of a second, which the first run would
        otherwise spend before its first point. (The shipped subset takes a twentieth of that.)"""
        cache = self.root / "cache"
        if self.source == "mnist" and not (cache / "mnist").is_dir():
            process(["--data", str(cache), "mnist", str(self.settings.mnist_dir)], cache, cache / "mnist.log", ())

    def forget(self, run: Run, wait: float = 1.0) -> None:
        """Stop the run and remove its folder. Its process is asked to stop and given ``wait``
        seconds (a niced process on a busy machine may take longer), then killed: its slot is free
        when this returns."""
        run.command("stop")
        if not run.ended(wait):
            run.kill()
            run.ended(wait)
        run.state()  # counts its end, if nobody has
        shutil.rmtree(run.dir, ignore_errors=True)

    def close(self) -> None:
        """At shutdown: the folder removed (runs stopped first) if this app made it."""
        if self.own:
            folder.remove(self.root)


def compact(run: Run) -> None:
    """Blank every ``weights`` event of a stopped run's log but the last (most of the log's bytes:
    two a second of the first layer's pictures), keeping the lines, so messages keep their numbers
    (a blank line is counted and not sent). Done once the run has long stopped, when no stream
    still tails the log by its offsets."""
    done = run.dir / "compacted"
    if done.exists():
        return
    lines = (run.dir / "events.log").read_bytes().splitlines(keepends=True)
    pictures = [i for i, line in enumerate(lines) if line.startswith(b"weights ")]
    kept = set(pictures[-1:])
    tmp = run.dir / ".events.log"
    tmp.write_bytes(b"".join(b"-\n" if i in pictures and i not in kept else line for i, line in enumerate(lines)))
    os.replace(tmp, run.dir / "events.log")
    done.touch()


def process(args: list[str], where: Path, log_path: Path, fds: tuple[int, ...]) -> int:
    """Start ``python -m app.training.process <args>`` in ``where``, holding ``fds``, its output in
    ``log_path``; a thread reaps it when it ends. Its pid."""
    # The same ``app`` package as this server's, whatever the folder: this package's parent first on the path.
    path = os.pathsep.join(p for p in (str(APP_DIR.parent), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, **BLAS_THREADS, "PYTHONPATH": path}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.training.process", *args], cwd=where,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=fds, env=env, start_new_session=True)
    threading.Thread(target=proc.wait, name=f"training-{proc.pid}", daemon=True).start()
    return proc.pid


def _has_mnist(directory: Path | None) -> bool:
    """Whether ``directory`` holds MNIST's training files (model/mnist.py's names, raw or .gz)."""
    if directory is None:
        return False
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    return all((directory / s).is_file() or (directory / f"{s}.gz").is_file() for s in stems)


def open_training(settings: Settings) -> Training | None:
    """This app's live training: in the folder digitpad-serve made for its workers, else in one
    of its own; None when training is off or nothing can be written."""
    if not settings.training:
        return None
    if folder.INHERITED is not None:
        return Training(settings, folder.INHERITED, own=False)
    try:
        return Training(settings, folder.make(), own=True)
    except OSError as e:
        print(f"warning: no writable temporary folder for live training ({e}); training is off", flush=True)
        return None
