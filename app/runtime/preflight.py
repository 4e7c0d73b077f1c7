"""What ``digitpad-serve`` settles before it imports the app: the listening socket, and the folder
several workers share their metrics through. Each problem is one line (StartupError), found in a
fraction of a second: a port already in use is said before anything loads, not after the app
has started.

Nothing here imports prometheus-client, which chooses between samples in memory and samples in
``PROMETHEUS_MULTIPROC_DIR`` once, when first imported: the supervisor sets that variable here,
then imports the app, then forks its workers from itself (``app.runtime.supervisor``)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.serving.predictor import StartupError
from app.settings import Settings

logger = logging.getLogger("uvicorn.error")


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (listened on once a worker serves), with
    TCP_NODELAY set so every accepted connection has it (requests on a keep-alive connection
    otherwise wait for the client's delayed ACK); StartupError saying why it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise StartupError(f"digitpad cannot start: {why_not(host, port, e)}") from None
    sock.set_inheritable(True)
    return sock


def announce(sock: socket.socket) -> None:
    """Log where the server is, as uvicorn does: once start-up's checks have passed."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
    logger.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port)


def why_not(host: str, port: int, e: OSError) -> str:
    """Why ``host``:``port`` cannot be listened on, and what to set instead."""
    if isinstance(e, socket.gaierror):
        return f"DIGITPAD_HOST={host!r} is neither an address nor a known host name"
    if e.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another digitpad, or another server): stop that, "
                "or choose another port with DIGITPAD_PORT")
    if e.errno == errno.EACCES:
        return f"no permission to listen on port {port} (ports below 1024 need privileges): set another DIGITPAD_PORT"
    if e.errno == errno.EADDRNOTAVAIL:
        return f"DIGITPAD_HOST={host} is not an address of this machine (127.0.0.1: this machine only; 0.0.0.0: all)"
    return f"cannot listen on {host}:{port}: {e.strerror or e}"


@contextmanager
def multiprocess_folder(base: Path | None) -> Iterator[Path]:
    """A fresh folder for this run's metrics files, under ``base`` (made if missing; default: the
    system's temporary folder), set as ``PROMETHEUS_MULTIPROC_DIR`` for the workers started inside
    the block and removed with its files at the end. OSError when no such folder can be made."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="digitpad-metrics-", dir=base))
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR")
        if before is not None:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = before
        shutil.rmtree(folder, ignore_errors=True)


def keep_metrics(settings: Settings, stack: contextlib.ExitStack) -> None:
    """Make the workers' shared metrics folder for this run (none when metrics are off), removed
    when ``stack`` closes; StartupError with the one line to print when no writable place is left."""
    if not settings.metrics:
        return
    try:
        stack.enter_context(multiprocess_folder(settings.metrics_dir))
    except OSError as e:
        raise StartupError(f"digitpad cannot start: no writable folder for the {settings.workers} workers' metrics "
                           f"({e}); set DIGITPAD_METRICS_DIR to a writable folder (a tmpfs or volume), or "
                           "DIGITPAD_WORKERS=1, or DIGITPAD_METRICS=false") from None
