"""Turn a ``StartupError`` from the lifespan into one line for the server log, not a traceback."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.serving.predictor import StartupError


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
