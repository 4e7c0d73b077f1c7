"""One bounded pool of threads for all the CPU work (decode, preprocess, forward pass).

``cpu_threads`` jobs run at once (numpy and Pillow release the GIL, so they use the
cores); the others wait in the pool's queue. A job is admitted only if it would start
within ``max_wait`` seconds — the jobs ahead of it, times the mean time a recent job took,
shared among the threads — and while fewer than ``max_queue`` wait; otherwise the request
gets 503 ``overloaded`` with ``Retry-After`` at once. Admitting by the wait rather than by a
count keeps every thread busy when clients outnumber them many times over (their requests
queue for a fraction of a second rather than being refused and sent again), while answers
stay within ``max_wait`` of their own time, and memory stays bounded. The event loop
itself never does this work: ``/healthz`` and ``/readyz`` answer while every thread is busy.
A job whose client hangs up is dropped if it has not started, and told to stop
(``Job.check``) if it has.

A finished job wakes the event loop once (``call_soon_threadsafe``), which settles its
request and the pool's bookkeeping together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

WATCH_AFTER = 0.05  # seconds a job may take before its client's connection is watched
RECENT = 0.05  # weight of the last job in the mean time a job takes
T = TypeVar("T")


class Overloaded(Exception):
    """The job would wait too long, or too many wait already."""


class Abandoned(Exception):
    """The job was told to stop: its client went away or the server is shutting down."""


class Job:
    """Handed to every job; long jobs call ``check()`` between pieces of work."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.took = 0.0  # seconds it ran, once it has

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> None:
        if self._stop.is_set():
            raise Abandoned


class CpuPool:
    def __init__(self, threads: int, queue: int, max_wait: float = 1.0) -> None:
        self.threads, self.limit, self.max_wait = threads, threads + queue, max_wait
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="digitpad-cpu")
        self._jobs: set[Job] = set()  # submitted and not finished; touched on the event loop only
        self.mean = 0.0  # CPU seconds a recent job took (an exponential moving average)

    def wait(self) -> float:
        """Seconds a job submitted now would wait for a thread, as far as the pool can tell."""
        ahead = len(self._jobs) + 1 - self.threads
        return ahead * self.mean / self.threads if ahead > 0 else 0.0

    def admits(self) -> bool:
        """Whether a job submitted now would be taken."""
        return len(self._jobs) < self.limit and self.wait() <= self.max_wait

    async def run(self, gone: Callable[[], Awaitable[Any]], fn: Callable[..., T], *args: Any) -> T:
        """``fn(job, *args)`` on a pool thread. ``gone()`` returns when the client hangs up; then
        the job is stopped and ``Abandoned`` raised. Raises ``Overloaded`` if the pool is full."""
        if not self.admits():
            raise Overloaded
        loop, job = asyncio.get_running_loop(), Job()
        done: asyncio.Future[T] = loop.create_future()
        self._jobs.add(job)
        future = self._pool.submit(_timed, job, fn, *args)
        future.add_done_callback(functools.partial(_call_soon, loop, self._settle, job, done))
        watch: list[asyncio.Task[Any]] = []
        timer = loop.call_later(WATCH_AFTER, _watch, watch, gone, done)
        try:
            return await done  # most jobs end before the timer, and no watcher is started
        finally:
            timer.cancel()
            for task in watch:
                task.cancel()
            if not future.done():  # hung up, or this request was cancelled (shutdown deadline)
                job.stop()
                future.cancel()  # drops it if it has not started
            # A job's error holds this frame in its traceback, and these hold the error: a cycle
            # that would keep the job's frames, and every array in them, until the garbage
            # collector runs. Without them the job's memory goes once the error is answered.
            del done, future, timer, watch

    def _settle(self, job: Job, done: asyncio.Future[Any], future: Future[Any]) -> None:
        """On the event loop, when a job has finished: the bookkeeping, then its request."""
        self._jobs.discard(job)
        if job.took:
            self.mean = job.took if not self.mean else self.mean + RECENT * (job.took - self.mean)
        if done.done():  # its request has gone on without it
            if not future.cancelled():
                future.exception()  # retrieved, so that it is not logged as never retrieved
        elif future.cancelled():
            done.set_exception(Abandoned())
        elif (error := future.exception()) is not None:
            done.set_exception(error)
        else:
            done.set_result(future.result())

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


def _timed(job: Job, fn: Callable[..., T], *args: Any) -> T:
    """``fn(job, *args)``, and the CPU time it took in ``job.took``: the work itself, not the time
    it spent waiting for the interpreter lock or the cores, which would grow with the very load
    that admission is there to bound and refuse more the busier the event loop is."""
    start = time.thread_time()
    try:
        return fn(job, *args)
    finally:
        job.took = time.thread_time() - start


def _watch(watch: list[asyncio.Task[Any]], gone: Callable[[], Awaitable[Any]], done: asyncio.Future[Any]) -> None:
    """Start watching the client (the job has run a while): ``_watching``, kept in ``watch``."""
    watch.append(_watching(gone, done))


def _watching(gone: Callable[[], Awaitable[Any]], done: asyncio.Future[Any]) -> asyncio.Task[Any]:
    """A task that fails ``done`` with ``Abandoned`` when the client hangs up."""
    def hung_up(task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        task.exception()  # retrieved: a failed wait counts as a hang-up
        if not done.done():
            done.set_exception(Abandoned())

    task = asyncio.ensure_future(gone())
    task.add_done_callback(hung_up)
    return task


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: the server is gone, and the set with it
        loop.call_soon_threadsafe(fn, *args)
