"""The storage threads: a small pool of their own for everything a request asks of the database,
so that a hung database holds these threads and nothing else (not the CPU pool, not the event
loop: predictions and health checks go on as before).

``run`` gives the work ``timeout`` seconds in all, waiting for a thread included; then the
request gets 503 ``storage_unavailable``. A server that is stopped (SIGSTOP, a frozen VM) answers
nothing, so only this client-side deadline bounds the wait; the thread itself stays blocked until
the database answers or a timeout of the driver fires, and the pool never grows: when every
thread is blocked and ``queue`` more jobs wait, the next request is refused at once. The threads
are daemons, so a blocked one never holds up the process's exit.

A job whose deadline passed is not committed: it calls ``Ticket.commit()`` just before its
commit, which raises ``Expired`` once the request has given up, so a 503 means nothing was
saved. Only a database that stalls during the commit itself leaves it unknown, and the answer
says so."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
THREADS, QUEUE = 4, 16  # the server's storage threads, and the jobs that may wait for one


class Unavailable(Exception):
    """The database did not answer in time, or every storage thread is taken; one sentence why."""


class Expired(Exception):
    """The request gave up on this job before its commit: roll back."""


class Ticket:
    """Handed to every job: ``commit()`` right before committing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expired = self._committing = False

    def commit(self) -> None:
        with self._lock:
            if self._expired:
                raise Expired
            self._committing = True

    def expire(self) -> bool:
        """Give up on the job; False if it had already started to commit (the outcome is unknown)."""
        with self._lock:
            self._expired = True
            return not self._committing


Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class StorageThreads:
    def __init__(self, threads: int, queue_size: int, timeout: float) -> None:
        self.timeout, self.limit = timeout, threads + queue_size
        self._jobs: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._taken = 0  # jobs submitted and not yet finished or dropped by a thread
        self._count = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"digitpad-storage-{k}", daemon=True)
                         for k in range(threads)]
        for t in self._threads:
            t.start()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(ticket, *args)`` on a storage thread, within ``timeout`` seconds; else ``Unavailable``."""
        with self._count:
            if self._taken >= self.limit:
                raise Unavailable("Every storage thread is waiting for the database; nothing was saved.")
            self._taken += 1
        ticket, future = Ticket(), Future[T]()
        self._jobs.put((future, fn, (ticket, *args)))
        waiting, committed = asyncio.wrap_future(future), False
        try:
            await asyncio.wait((waiting,), timeout=self.timeout)
        finally:
            if not waiting.done():  # the deadline passed, or this request was cancelled
                future.cancel()  # dropped if no thread has taken it yet
                waiting.add_done_callback(_consume)
                committed = not ticket.expire()
        if not waiting.done():
            raise Unavailable(f"The database did not confirm the write within {self.timeout:g} s; it may or "
                              "may not have been saved." if committed else
                              f"The database did not answer within {self.timeout:g} s; nothing was saved.")
        return waiting.result()

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, fn, args = item
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as e:  # handed to the request, which answers it
                        future.set_exception(e)
            finally:
                with self._count:
                    self._taken -= 1

    def shutdown(self) -> None:
        """Let idle threads end; a thread blocked on the database ends with the process."""
        for _ in self._threads:
            self._jobs.put(None)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a given-up job's outcome so that asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()
