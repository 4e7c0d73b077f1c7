"""Whether this process is shutting down, and when in-flight requests must be answered by.

One per process: a signal handler (``app.serving.server``) starts the drain; ``/readyz``
reads ``draining`` and the ``Drain`` middleware waits on ``deadline_passed``."""

from __future__ import annotations

import asyncio

MARGIN = 1.5  # seconds before the grace period ends that unfinished requests are answered 503


class Lifecycle:
    def __init__(self) -> None:
        self.draining = False
        self._deadline: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def deadline_passed(self) -> asyncio.Event:
        """An event, on the running loop, set when in-flight requests must give up."""
        if self._deadline is None or self._loop is not asyncio.get_running_loop():
            self._loop, self._deadline = asyncio.get_running_loop(), asyncio.Event()
        return self._deadline

    def begin_drain(self, grace: float, loop: asyncio.AbstractEventLoop) -> None:
        """Stop being ready now; ``grace - MARGIN`` seconds from now, unfinished requests get 503.
        Safe to call from a signal handler."""
        self.draining = True
        loop.call_soon_threadsafe(loop.call_later, max(grace - MARGIN, 0.0), self._expire)

    def _expire(self) -> None:
        self.deadline_passed().set()

    def reset(self) -> None:
        """Back to serving (tests)."""
        self.draining, self._deadline, self._loop = False, None, None


lifecycle = Lifecycle()
