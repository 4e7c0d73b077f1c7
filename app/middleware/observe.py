"""One log line per request and the HTTP metrics, around everything else.

Each request gets an id: the client's ``X-Request-ID`` if it is a sane one (1–64 letters, digits,
``.``, ``_``, ``-``), else a new one: 32 hex digits, a random prefix per process and a count (as
unique as a random UUID across processes and restarts, with no system call per request). It is
returned in the ``X-Request-ID`` header and logged. The log line has the method, the route (the
path's template, so ids in paths do not explode the metrics), the status, the duration in ms and
the request id, never a body; the format is the logging configuration's
(``app.observability.logs``: text, or JSON with these as fields).

The route is the one FastAPI chose for the request. The app's plain Starlette routes and mounts
(``/openapi.json``, the static files under ``/static``) are answered without FastAPI naming one,
so they are named here: the route's path or the mount's, never the path asked for. A request no
route or mount takes is ``unmatched``."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.metrics import IN_FLIGHT, LATENCY, REQUESTS

logger = logging.getLogger("digitpad.access")
SANE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class Observe:
    def __init__(self, app: ASGIApp, access_log: bool = True, metrics: bool = True) -> None:
        self.app, self.access_log, self.metrics = app, access_log, metrics
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labelled metrics, looked up once
        self._prefix, self._count = os.urandom(8).hex(), itertools.count()
        self._plain: list[Route | Mount] | None = None  # the app's plain routes and mounts, found once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        rid = given.decode() if SANE_ID.match(given) else f"{self._prefix}{next(self._count):016x}"
        status, path, root_path = 500, scope["path"], scope.get("root_path", "")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        if self.metrics:
            IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"]
            route = getattr(scope.get("route"), "path", None) or self._plain_route(scope, method, path, root_path)
            if self.metrics:
                IN_FLIGHT.dec()
                series = self._series.get((method, route, status))
                if series is None:
                    series = self._series[method, route, status] = (REQUESTS.labels(method, route, str(status)),
                                                                    LATENCY.labels(method, route))
                series[0].inc()
                series[1].observe(seconds)
            if self.access_log:
                path, ms = path[:200], round(seconds * 1000, 2)
                logger.info("%s %s %d %.1f ms [%s]", method, path, status, ms, rid, extra={"fields": {
                    "method": method, "route": route, "path": path, "status": status, "ms": ms, "request_id": rid}})

    def _plain_route(self, scope: Scope, method: str, path: str, root_path: str) -> str:
        """The path of the plain route or mount that takes ``path`` (as the request came in), else
        ``unmatched``."""
        if self._plain is None:
            self._plain = _plain_routes(getattr(scope.get("app"), "routes", []))
        asked = {"type": "http", "method": method, "path": path, "root_path": root_path}
        return next((r.path for r in self._plain if r.matches(asked)[0] is not Match.NONE), "unmatched")


def _plain_routes(routes: list[BaseRoute]) -> list[Route | Mount]:
    return [r for r in routes if isinstance(r, Route | Mount)]
