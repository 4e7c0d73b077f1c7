"""Two small pure-ASGI guards that must act outside FastAPI's request handling.

``BodyLimit`` refuses a body over the limit before anything parses it: at once
from ``Content-Length``, or, for a streamed body, as soon as the bytes received
pass the limit (an HTTPException raised from ``receive``, which FastAPI passes
through to our handlers). ``OneLineStartupError`` turns a ``StartupError`` from
the lifespan into a one-line message for the server log instead of a traceback."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import BodyTooLarge, error_response


class StartupError(RuntimeError):
    """The app cannot start; the message is one line naming the cause."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = BodyTooLarge(self.max_bytes)
            response = error_response(413, error.code, str(error.detail), dict(error.headers or {}))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class OneLineStartupError:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        failed: Message | None = None

        async def hold_failure(message: Message) -> None:
            nonlocal failed
            if message["type"] == "lifespan.startup.failed":
                failed = message  # sent below, once we know which exception it was
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except StartupError as e:
            await send({"type": "lifespan.startup.failed", "message": str(e)})
            raise
        except BaseException:
            if failed is not None:
                await send(failed)
            raise
