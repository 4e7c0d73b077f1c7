"""Whether this process is shutting down, the requests that must be answered before it ends,
and how it reloads its weights.

One per process: a signal handler (``app.serving.server``) starts the drain; ``/readyz``
reads ``draining``; the ``Drain`` middleware registers each request in flight, and when
the deadline comes every one that has not started its answer is cancelled (and answered
503 by the middleware). On SIGHUP the server calls ``reload``, which runs the ``reloader``
the app's lifespan set, on a thread of its own (loading a file must not stall requests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

MARGIN = 1.5  # seconds before the grace period ends that unfinished requests are answered 503


@dataclass(eq=False)
class InFlight:
    task: asyncio.Task[object] | None
    started: bool = False  # the answer has begun: let it finish
    expired: bool = False  # cancelled by the drain deadline, not by anything else


@dataclass
class Lifecycle:
    draining: bool = False
    in_flight: set[InFlight] = field(default_factory=set)
    reloader: Callable[[], None] | None = None
    _reloading: threading.Lock = field(default_factory=threading.Lock)

    def reload(self) -> None:
        """Run the reloader on a new thread; one reload at a time (a HUP during one is ignored:
        the file it is reading is the newest anyway)."""
        reloader = self.reloader
        if reloader is None or not self._reloading.acquire(blocking=False):
            return

        def run() -> None:
            try:
                reloader()
            finally:
                self._reloading.release()
        threading.Thread(target=run, name="digitpad-reload", daemon=True).start()

    def begin_drain(self, grace: float, loop: asyncio.AbstractEventLoop) -> None:
        """Stop being ready now; ``grace - MARGIN`` seconds from now, unfinished requests get 503.
        Safe to call from a signal handler."""
        self.draining = True
        loop.call_soon_threadsafe(loop.call_later, max(grace - MARGIN, 0.0), self.expire)

    def expire(self) -> None:
        """Cancel every request in flight that has not started its answer."""
        for request in list(self.in_flight):
            if not request.started and request.task is not None:
                request.expired = True
                request.task.cancel()

    def reset(self) -> None:
        """Back to serving (tests)."""
        self.draining = False
        self.in_flight.clear()


lifecycle = Lifecycle()
