"""``GET /metrics`` rendered on a thread of its own, never on the event loop.

Rendering the metrics is Python work that grows with the number of label combinations (and,
with several workers, reads every worker's files), so it runs on one dedicated thread: not the
CPU pool, so a scrape is answered while every CPU thread is busy, and not the event loop, so
health checks and requests do not wait behind it. Scrapes that arrive while a render is under
way share it, and a render finished less than ``FRESH`` seconds ago answers the next scrapes
too: however many scrapers there are, the server renders at most about once a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

FRESH = 1.0  # seconds a finished render keeps answering scrapes

Rendered = tuple[bytes, str]  # the text and its content type
Stamped = tuple[float, Rendered]  # and when it was finished (time.monotonic)


class Scrapes:
    def __init__(self, render: Callable[[], Rendered]) -> None:
        self._render = render
        self._thread: ThreadPoolExecutor | None = None
        self._pending: asyncio.Future[Stamped] | None = None
        self._last: Stamped | None = None

    async def latest(self) -> Rendered:
        """A render finished less than ``FRESH`` seconds ago, or the one under way, or a new one."""
        if self._last is not None and time.monotonic() - self._last[0] < FRESH:
            return self._last[1]
        if self._pending is None:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="digitpad-metrics")
            self._pending = asyncio.wrap_future(self._thread.submit(self._timed))
            self._pending.add_done_callback(self._finished)
        _, rendered = await asyncio.shield(self._pending)  # a scraper that hangs up cancels only its wait
        return rendered

    def _timed(self) -> Stamped:
        rendered = self._render()
        return time.monotonic(), rendered

    def _finished(self, future: asyncio.Future[Stamped]) -> None:
        self._pending = None
        if not future.cancelled() and future.exception() is None:
            self._last = future.result()

    def shutdown(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=False)
        self._thread = self._pending = self._last = None
