"""``Drain``: during shutdown, a request that cannot finish in time gets a JSON 503.

On SIGTERM the server stops accepting connections and gives the requests in
flight the grace period to finish (``app.runtime.shutdown``). A request still
unanswered when that runs out is cancelled and answered 503 ``shutting_down``
(``Connection: close``), so no client ever gets a server's plain-text 500 or a
dropped connection, and the process exits 0 within the grace period. Serving
costs a set insertion per request: no extra task."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.runtime.shutdown import InFlight, shutdown


class Drain:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = InFlight(asyncio.current_task())

        async def tracked(message: Message) -> None:
            request.started = True
            await send(message)

        shutdown.in_flight.add(request)
        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not request.expired or task is None:
                raise
            task.uncancel()  # our own cancellation: answer instead
            await error_response(503, "shutting_down", "The server is shutting down; try again in a moment.",
                                 {"Retry-After": "1", "Connection": "close"})(scope, receive, send)
        finally:
            shutdown.in_flight.discard(request)
