"""Running the app: uvicorn, with a graceful drain on SIGTERM and an exit code that tells.

``Server`` is uvicorn's server with three changes. On SIGTERM or SIGINT it marks the
process not ready and starts the drain deadline (``app.runtime.shutdown``), and it
exits 0 after a graceful stop instead of re-raising the signal (which made every
``docker stop`` end in 143). On SIGHUP it reloads the weights file. ``run_workers`` is a
small supervisor for ``DIGITPAD_WORKERS`` > 1: it imports the app once and forks the workers from
itself, on the one listening socket (``app.runtime.preflight``), so a worker starts in the time
its lifespan takes (its models loaded and warmed) instead of importing everything again, and
shares the imported code's memory. A signal sent to a worker while it starts is held, not fatal;
the supervisor replaces one that dies, passes SIGHUP on to each and SIGTERM to all when it gets
one, and exits non-zero if any worker fails to start."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Generator
from pathlib import Path
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from app.runtime.protocol import ServeConfig
from app.runtime.shutdown import shutdown
from app.serving.reload import reloader

logger = logging.getLogger("uvicorn.error")
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers
M_TRIM_THRESHOLD = -1
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
HELD_SIGNALS = {signal.SIGHUP, *STOP_SIGNALS}
PF_EXITING = 0x4  # the kernel's flag (/proc/<pid>/stat, field 9) for a task inside exit()


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            # A worker (run_workers) or a lone server (app.runtime.cli) starts with SIGTERM and SIGINT
            # blocked: one sent while it was starting, which would have killed it, is held until
            # uvicorn's handlers are in place (here); the server then finishes starting and drains.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            yield

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
    """Make glibc give the buffers of large images back to the system when they are freed. Its
    mmap threshold otherwise grows to 32 MB after the first big image is freed, so later image
    buffers come from the heap and stay with the process: memory would stay high long after a
    burst of large images. Set at 4 MiB (a megapixel of RGBA, the size images are decoded down
    to), not lower: a canvas's own buffers stay on the heap and cost no fresh pages. The heap
    keeps up to 32 MiB free at its top rather than 128 KiB (its trim threshold): a photo's working
    arrays (a few MB each, under the mmap threshold) then reuse the pages the last photo had,
    where trimming them made each photo fault them in again."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(M_MMAP_THRESHOLD, 4 << 20)
    libc.mallopt(M_TRIM_THRESHOLD, 32 << 20)


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


def run_one(config: ServeConfig, sock: socket.socket) -> int:
    """Serve on ``sock`` in this process; the exit code (0 after a graceful stop, 3 if start-up failed)."""
    quiet_accept_errors()
    return_freed_memory()
    server = Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else STARTUP_FAILURE


def _worker(config: ServeConfig, sock: socket.socket) -> None:
    """A forked worker: the supervisor's imports, logging and socket, its own server."""
    for sig in HELD_SIGNALS:  # the supervisor's handlers are not the worker's (blocked meanwhile: held)
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    quiet_accept_errors()
    return_freed_memory()
    server = Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        logging.shutdown()  # a forked process ends without running atexit: write the last request lines
    sys.exit(0 if server.started else STARTUP_FAILURE)


def preload(config: ServeConfig) -> None:
    """Import the app in the supervisor, for its workers to inherit, and move what is loaded out of
    the garbage collector's sight so that the workers' collections neither walk nor copy it."""
    assert isinstance(config.app, str)
    importlib.import_module(config.app.split(":")[0])
    gc.collect()
    gc.freeze()


def forget_worker(pid: int | None) -> None:
    """A worker is gone: its live gauges (requests in flight) no longer count."""
    from prometheus_client import multiprocess

    if pid is not None and "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def ending(pid: int) -> bool:
    """Whether process ``pid`` is already on its way out, from /proc: a SIGKILL pending (sent, not
    yet taken: it takes effect once the process next runs, which on a busy machine can be a while),
    inside exit(), a zombie, or gone. ``waitpid`` tells only the last two."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[1].split()  # after the command name: state, ppid, …, flags
    state, flags = fields[0], int(fields[6])
    pending = 0
    for line in status.splitlines():
        if line.startswith(("SigPnd:", "ShdPnd:")):
            pending |= int(line.split()[1], 16)
    return state in "ZX" or bool(flags & PF_EXITING) or bool(pending >> (signal.SIGKILL - 1) & 1)


def run_workers(config: ServeConfig, sock: socket.socket, n: int) -> int:
    """Start ``n`` processes serving ``sock``; SIGTERM/SIGINT stops them all gracefully. Returns 0
    after a clean stop, 3 if a worker failed to start, 1 if one had to be killed or did not drain."""
    preload(config)
    stopping: list[int] = []
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda s, _f: stopping.append(s))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held since the process began (app.runtime.cli)
    workers = Workers(config, sock, n)
    code = workers.watch(stopping)
    return workers.stop(code)


class Workers:
    """The worker processes: started, replaced when one dies, stopped together."""

    def __init__(self, config: ServeConfig, sock: socket.socket, n: int) -> None:
        self.config, self.sock = config, sock
        self.ctx = multiprocessing.get_context("fork")
        self.procs: list[multiprocessing.process.BaseProcess] = []
        signal.signal(signal.SIGHUP, self.pass_on_hup)
        self.procs += [self.start() for _ in range(n)]
        logger.info("Started parent process with %d workers", n)

    def start(self) -> multiprocessing.process.BaseProcess:
        p = self.ctx.Process(target=_worker, args=(self.config, self.sock), name="digitpad-worker")
        # The forked worker is born with this mask: a HUP, TERM or INT sent while it starts waits until
        # it can take it (Server) instead of killing it. Here, one sent meanwhile is taken at the unblock.
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            p.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
        return p

    def pass_on_hup(self, _s: int, _f: FrameType | None) -> None:
        for p in self.procs:
            if p.pid is not None and p.exitcode is None:
                os.kill(p.pid, signal.SIGHUP)

    def watch(self, stopping: list[int]) -> int:
        """Replace workers that die until a stop signal, or until one fails to start (then 3)."""
        while not stopping:
            time.sleep(0.2)
            for i, p in enumerate(self.procs):
                if p.exitcode is None or stopping:
                    continue
                if p.exitcode == STARTUP_FAILURE:
                    logger.error("A worker failed to start; stopping.")
                    return STARTUP_FAILURE
                logger.warning("Worker %s exited with %s; starting another", p.pid, p.exitcode)
                forget_worker(p.pid)
                self.procs[i] = self.start()
        return 0

    def stop(self, code: int) -> int:
        """SIGTERM to every running worker (each drains), then wait for them. A worker that died
        before the stop (or was already dying: killed just before it) is logged; only one that fails
        to drain makes the code 1."""
        running = [p for p in self.procs if p.exitcode is None and not (p.pid and ending(p.pid))]
        for p in self.procs:
            if p in running:
                continue
            p.join(5)  # one already dying exits in moments
            if p.exitcode != STARTUP_FAILURE:
                logger.warning("Worker %s exited with %s before the stop", p.pid, p.exitcode)
                forget_worker(p.pid)
        for p in running:
            p.terminate()  # SIGTERM: each worker drains gracefully (one still starting holds it until it can)
        limit = time.monotonic() + (self.config.timeout_graceful_shutdown or 0) + 5
        for p in running:
            p.join(max(limit - time.monotonic(), 0.1))
            if p.exitcode is None:
                p.kill()
                p.join()
                code = code or 1
            elif p.exitcode not in (0, STARTUP_FAILURE) and code == 0:
                logger.warning("Worker %s exited with %s while stopping", p.pid, p.exitcode)
                code = 1
        return code
