"""The training folder: one private folder per server, shared by all its workers, holding the
slots, the runs' folders and the data cache.

    <folder>/slots/<k>.lock     at most N runs at once: a run's process holds one of these locked
    <folder>/runs/<id>/         one run (``app.training.runs``)
    <folder>/cache/             the training images as .npy files, mapped by every run (model/livedata.py)

``digitpad-serve`` makes it before it forks its workers (``shared``), so every worker inherits the
same one; an app started otherwise (uvicorn, tests) makes its own in its lifespan. Either way it
is removed, runs stopped first, when the server stops.

A slot is an ``flock`` on its file, taken by the worker that starts the run and handed to the
run's process with the file descriptor, so the lock lasts exactly as long as that process: a run
that ends or dies frees its slot, whichever worker looks next."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

INHERITED: Path | None = None  # set by digitpad-serve for the workers it forks (``shared``)


def make() -> Path:
    """A fresh private training folder in the system's temporary folder (OSError if none can be made)."""
    folder = Path(tempfile.mkdtemp(prefix="digitpad-training-"))
    for sub in ("slots", "runs", "cache"):
        (folder / sub).mkdir()
    return folder


def remove(folder: Path, wait: float = 2.0) -> None:
    """Ask every run in ``folder`` to stop, give them up to ``wait`` seconds, kill those still
    running (their pid is in their folder), then remove it all."""
    runs = [d for d in (folder / "runs").glob("*") if d.is_dir()]
    for run in runs:
        with contextlib.suppress(OSError):
            append_command(run, "shutdown")
    deadline = time.monotonic() + wait
    while any(held(run / "alive.lock") for run in runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    for run in runs:
        if held(run / "alive.lock"):  # still its process's, so the pid is still its own
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((run / "pid").read_text()), signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def shared() -> Iterator[Path | None]:
    """The training folder for the workers forked inside the block (None, with a warning on
    stderr, if nothing can be written), removed at the end."""
    global INHERITED
    try:
        folder = make()
    except OSError as e:
        print(f"warning: no writable temporary folder for live training ({e}); training is off", flush=True)
        yield None
        return
    INHERITED = folder
    try:
        yield folder
    finally:
        INHERITED = None
        remove(folder)


def append_command(run: Path, word: str) -> None:
    """Append one command line for a run's process (O_APPEND: lines from several workers never mix)."""
    fd = os.open(run / "commands", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{word}\n".encode())
    finally:
        os.close(fd)


def lock(path: Path) -> int | None:
    """An open descriptor holding ``path`` locked (made if missing), or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def held(path: Path) -> bool:
    """Whether some process holds ``path`` locked (a missing file is not held)."""
    if not path.exists():
        return False
    fd = lock(path)
    if fd is None:
        return True
    os.close(fd)  # closing releases the probe's lock
    return False


def claim_slot(folder: Path, slots: int) -> int | None:
    """A descriptor holding a free slot's lock, or None when all ``slots`` are taken. The folder is
    made again if something (a cleaner of old temporary files) has removed it."""
    for sub in ("slots", "runs", "cache"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for k in range(slots):
        fd = lock(folder / "slots" / f"{k}.lock")
        if fd is not None:
            return fd
    return None
