"""Whether this process is shutting down, and the requests that must be answered before it ends.

One per process: the SIGTERM handler (``app.runtime.supervisor``) starts the drain; ``/readyz``
reads ``draining``; the ``Drain`` middleware registers each request in flight, and when the
deadline comes every one that has not started its answer is cancelled (and answered 503 by the
middleware)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

MARGIN = 1.5  # seconds before the grace period ends that unfinished requests are answered 503


@dataclass(eq=False)
class InFlight:
    task: asyncio.Task[object] | None
    started: bool = False  # the answer has begun: let it finish
    expired: bool = False  # cancelled by the drain deadline, not by anything else


@dataclass
class Shutdown:
    draining: bool = False
    in_flight: set[InFlight] = field(default_factory=set)

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


shutdown = Shutdown()
