"""``Drain``: during shutdown, a request that cannot finish in time gets a JSON 503.

On SIGTERM the server stops accepting connections and gives the requests in
flight the grace period to finish (``app.serving.lifecycle``). A request still
unanswered when that runs out is cancelled and answered 503 ``shutting_down``
(``Connection: close``), so no client ever gets a server's plain-text 500 or a
dropped connection, and the process exits 0 within the grace period."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.serving.lifecycle import lifecycle


class Drain:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        work = asyncio.ensure_future(self.app(scope, receive, tracked))
        deadline = asyncio.ensure_future(lifecycle.deadline_passed().wait())
        try:
            await asyncio.wait((work, deadline), return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
        if not work.done() and not started:
            work.cancel()
            await error_response(503, "shutting_down", "The server is shutting down; try again in a moment.",
                                 {"Retry-After": "1", "Connection": "close"})(scope, receive, send)
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return
        await work
