"""One bounded pool of threads for all the CPU work (decode, preprocess, forward pass).

``cpu_threads`` jobs run at once (numpy and Pillow release the GIL, so they use the
cores) and at most ``max_queue`` more wait; the request after that gets 503
``overloaded`` with ``Retry-After`` at once instead of queueing without limit, so
memory and latency stay bounded however many requests arrive. The event loop
itself never does this work: ``/healthz`` and ``/readyz`` answer while every
thread is busy. A job whose client hangs up is dropped if it has not started,
and told to stop (``Job.check``) if it has."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

WATCH_AFTER = 0.05  # seconds a job may take before its client's connection is watched
T = TypeVar("T")


class Overloaded(Exception):
    """Every thread is busy and the queue is full."""


class Abandoned(Exception):
    """The job was told to stop: its client went away or the server is shutting down."""


class Job:
    """Handed to every job; long jobs call ``check()`` between pieces of work."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> None:
        if self._stop.is_set():
            raise Abandoned


class CpuPool:
    def __init__(self, threads: int, queue: int) -> None:
        self.threads, self.limit = threads, threads + queue
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="digitpad-cpu")
        self._jobs: set[Job] = set()  # submitted and not finished; touched on the event loop only

    async def run(self, gone: Callable[[], Awaitable[Any]], fn: Callable[..., T], *args: Any) -> T:
        """``fn(job, *args)`` on a pool thread. ``gone()`` returns when the client hangs up; then
        the job is stopped and ``Abandoned`` raised. Raises ``Overloaded`` if the pool is full."""
        if len(self._jobs) >= self.limit:
            raise Overloaded
        loop, job = asyncio.get_running_loop(), Job()
        self._jobs.add(job)
        future = self._pool.submit(fn, job, *args)
        future.add_done_callback(lambda _: _call_soon(loop, self._jobs.discard, job))
        work, watch = asyncio.wrap_future(future), None
        try:
            await asyncio.wait((work,), timeout=WATCH_AFTER)  # most jobs end here, with no watcher
            if not work.done():
                watch = asyncio.ensure_future(gone())
                await asyncio.wait((work, watch), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not work.done():  # hung up, or this request was cancelled (shutdown deadline)
                job.stop()
                future.cancel()  # drops it if it has not started
                work.add_done_callback(_consume)
            if watch is not None:
                watch.cancel()
        if not work.done():
            raise Abandoned
        return work.result()

    def warm_up(self, work: Callable[[], object]) -> None:
        """Start every thread now and run ``work`` on each (at start-up, so that the first clients
        do not pay for creating threads and first calls)."""
        together = threading.Barrier(self.threads)

        def job() -> None:
            together.wait(timeout=10)  # each job holds its thread until all have one
            work()

        for future in [self._pool.submit(job) for _ in range(self.threads)]:
            future.result()

    def shutdown(self) -> None:
        """Stop every job, drop the queued ones; running ones end at their next ``check``."""
        for job in list(self._jobs):
            job.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[Job], None], job: Job) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: the server is gone, and the set with it
        loop.call_soon_threadsafe(fn, job)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned job's outcome so that asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()
