"""``BodyGuard``: a request body is refused when it is too large or comes too slowly.

Too large (the file uploads have a limit of their own, for a phone's full-size photo): at once
from ``Content-Length`` (413 before anything is read), or, for a
streamed body, as soon as the bytes received pass the limit. Too slow: the whole
body must arrive within ``timeout`` seconds of the app starting to read it (408).
Both are raised from ``receive``; FastAPI passes HTTP errors raised while reading
the body through to our handlers, so the answer is the usual JSON error.
Headers that come too slowly are the server's business (``app.runtime.protocol``)."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import ApiError, BodyTooLarge, error_response


class BodyTimeout(ApiError):
    def __init__(self, timeout: float) -> None:
        super().__init__(408, "body_timeout", f"The request body did not arrive within {timeout:g} s.",
                         headers={"Connection": "close"})


class BodyGuard:
    """``uploads``: the paths of the file uploads and their own, larger, limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float,
                 uploads: tuple[frozenset[str], int] = (frozenset(), 0)) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout
        self.upload_paths, self.upload_bytes = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"] in self.upload_paths else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            error = BodyTooLarge(limit)
            await error_response(413, error.code, str(error.detail), dict(error.headers or {}))(scope, receive, send)
            return
        received, complete, deadline = 0, False, 0.0

        async def guarded() -> Message:
            nonlocal received, complete, deadline
            if complete:  # after the body: only http.disconnect is left to wait for, however long
                return await receive()
            deadline = deadline or asyncio.get_running_loop().time() + self.timeout
            try:
                async with asyncio.timeout_at(deadline):  # no extra task, unlike wait_for
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self.timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, guarded, send)
