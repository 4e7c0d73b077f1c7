"""Running the app: uvicorn, with a graceful drain on SIGTERM and an exit code that tells.

``Server`` is uvicorn's server with three changes. On SIGTERM or SIGINT it marks the
process not ready and starts the drain deadline (``app.runtime.shutdown``), and it
exits 0 after a graceful stop instead of re-raising the signal (which made every
``docker stop`` end in 143). On SIGHUP it reloads the weights file. ``run_workers`` is a
small supervisor for ``DIGITPAD_WORKERS`` > 1: it binds one listening socket, starts the
workers, passes SIGHUP on to each and SIGTERM to all when it gets one, and exits non-zero if
any worker fails to start."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
import tempfile
import time
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from app.runtime.protocol import ServeConfig
from app.runtime.shutdown import shutdown
from app.serving.reload import reloader

logger = logging.getLogger("uvicorn.error")
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


class Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_signal_handler(signal.SIGHUP, reloader.request)  # reload the weights
        await super().startup(sockets=sockets)
        # A worker starts with SIGHUP blocked (run_workers): one sent while it was starting, which
        # would have killed it, is held until now, when its weights are loaded and it can reload.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()  # a graceful stop exits 0; do not re-raise the signal
        loop = getattr(self, "_loop", None)
        if loop is not None and not shutdown.draining:
            grace = self.config.timeout_graceful_shutdown or 0
            shutdown.begin_drain(grace, loop)


class _OncePerMinute(logging.Filter):
    """Let through one "out of file descriptors"-style accept error a minute: under a connection
    flood asyncio logs one (with a traceback) every time it retries accepting."""

    def __init__(self) -> None:
        super().__init__()
        self.last = -60.0

    def filter(self, record: logging.LogRecord) -> bool:
        if "accept" not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self.last < 60:
            return False
        self.last = now
        record.exc_info, record.exc_text = None, None
        return True


def return_freed_memory() -> None:
    """Make glibc give large freed blocks back to the system. Its mmap threshold otherwise grows
    to 32 MB after the first big image is freed, so later image buffers come from the heap and
    stay with the process: memory would stay high long after a burst of large images."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)  # fixed at 1 MiB: image buffers are mmapped and unmapped


def quiet_accept_errors() -> None:
    logging.getLogger("asyncio").addFilter(_OncePerMinute())


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit: each connection is a descriptor,
    and a default of 1024 lets a thousand idle connections stop the server accepting."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def run_one(config: ServeConfig) -> int:
    """Serve in this process; the exit code (0 after a graceful stop, 3 if start-up failed)."""
    quiet_accept_errors()
    return_freed_memory()
    server = Server(config)
    server.run()
    return 0 if server.started else STARTUP_FAILURE


def _worker(config: ServeConfig, sock: socket.socket) -> None:
    config.configure_logging()  # a spawned process starts with no logging set up
    quiet_accept_errors()
    return_freed_memory()
    server = Server(config)
    server.run(sockets=[sock])
    sys.exit(0 if server.started else STARTUP_FAILURE)


def listening_socket(config: ServeConfig) -> socket.socket:
    """uvicorn's bound socket, with TCP_NODELAY set so every accepted connection has it
    (uvicorn's own socket for workers lacks it: requests on a keep-alive connection then
    wait for the client's delayed ACK)."""
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def forget_worker(pid: int | None) -> None:
    """A worker is gone: its live gauges (requests in flight) no longer count."""
    from prometheus_client import multiprocess

    if pid is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def run_workers(config: ServeConfig, workers: int) -> int:
    """Start ``workers`` processes on one socket; SIGTERM/SIGINT stops them all gracefully.
    Returns 0 after a clean stop, 3 if a worker failed to start, 1 if one had to be killed."""
    sock = listening_socket(config)
    # The workers' metrics go to files here, merged by whichever worker answers /metrics
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="digitpad-metrics-"))
    ctx = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: stopping.append(s))

    def start() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=_worker, args=(config, sock), name="digitpad-worker")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})  # the worker inherits the mask
        try:
            p.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})  # one held meanwhile: passed on now
        return p

    def pass_on_hup(_s: int, _f: FrameType | None) -> None:
        for p in procs:
            if p.pid is not None and p.exitcode is None:
                os.kill(p.pid, signal.SIGHUP)

    procs: list[multiprocessing.process.BaseProcess] = []
    signal.signal(signal.SIGHUP, pass_on_hup)
    procs += [start() for _ in range(workers)]
    logger.info("Started parent process with %d workers", workers)
    code = 0
    while not stopping:
        time.sleep(0.2)
        for i, p in enumerate(procs):
            if p.exitcode is None:
                continue
            if p.exitcode == STARTUP_FAILURE:
                logger.error("A worker failed to start; stopping.")
                stopping.append(signal.SIGTERM)
                code = STARTUP_FAILURE
                break
            logger.warning("Worker %s exited with %s; starting another", p.pid, p.exitcode)
            forget_worker(p.pid)
            procs[i] = start()
    for p in procs:
        if p.exitcode is None:
            p.terminate()  # SIGTERM: each worker drains gracefully
    limit = time.monotonic() + (config.timeout_graceful_shutdown or 0) + 5
    for p in procs:
        p.join(max(limit - time.monotonic(), 0.1))
        if p.exitcode is None:
            p.kill()
            p.join()
            code = code or 1
        elif p.exitcode not in (0, STARTUP_FAILURE) and code == 0:
            code = 1
    sock.close()
    return code
