"""JSON request bodies parsed and validated in the CPU pool, at a bounded cost, never on the
event loop.

FastAPI reads a JSON body with ``await request.json()`` and validates it with Pydantic on the
event loop, where one megabyte of ``[{},{},…]`` held every other request for seconds. A router
made with ``route_class=BodyInPool`` keeps FastAPI's own handling (content type, empty body,
the route's signature, so the OpenAPI document is unchanged) but hands it a request whose
``json()`` reads the bytes on the loop (within ``app.middleware.body``'s limits) and then, on a
pool thread, parses and validates them with pydantic-core (``model_validate_json``). FastAPI gets
the validated model, which it accepts as it is.

The cost is bounded before any work is done: a body holding more ``[``, ``{`` and ``:``, or more
``,``, than the largest valid batch needs is refused after a pass over its bytes (no valid request
holds them in a string, but for the one comma of each data URL), so no body makes pydantic-core
hold the interpreter for long; pydantic-core refuses nesting over 200 deep (400, like any body that cannot be
read); lists stop at their first bad item (``fail_fast`` in ``app.api.schemas``), so the errors
built stay few."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope

from app.api.answers import client_gone
from app.api.deps import get_pool
from app.api.errors import ApiError, summary
from app.serving.executor import Job
from app.settings import Settings

STRUCTURE_PER_INPUT = 32  # [, { and : in one drawing sent as 28 rows of 28: 29 + 1 + 2, rounded up
COMMAS_PER_INPUT = 832  # , in one drawing sent as 28 rows of 28: 27 × 28 + 27 + 2 members + 1, rounded up


def structure_limit(settings: Settings) -> tuple[int, int]:
    """The most arrays, objects and members, and the most commas, a valid body holds: a full batch
    of nested pixels."""
    return STRUCTURE_PER_INPUT * (settings.max_batch + 1), COMMAS_PER_INPUT * (settings.max_batch + 1)


def parse(job: Job, model: type[BaseModel], body: bytes, limits: tuple[int, int]) -> BaseModel:
    """``body`` (JSON bytes) as a valid ``model``, or an ``HTTPException``: 422 ``invalid_request``
    naming the first problems, or 400 when it is nested too deeply to read."""
    structure, commas = body.count(b"[") + body.count(b"{") + body.count(b":"), body.count(b",")
    if structure > limits[0]:
        raise ApiError(422, "invalid_request", f"The request body holds {structure} arrays, objects and fields; "
                       f"a valid one holds at most {limits[0]}.")
    if commas > limits[1]:
        raise ApiError(422, "invalid_request", f"The request body holds {commas} values; a valid one holds at "
                       f"most {limits[1]} (a full batch of drawings as pixels).")
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_context=False, include_input=False)
    if errors[0]["type"] == "json_invalid" and "recursion limit" in errors[0]["msg"]:
        raise HTTPException(400)  # answered as any body that cannot be read (app.api.errors)
    raise ApiError(422, "invalid_request", summary(errors))


class Carried(HTTPException):
    """Carries an error out of FastAPI's body reading, which turns anything but an HTTP error
    into a 400 (the pool's ``Overloaded``, ``Abandoned``); ``BodyInPool`` raises it again."""

    def __init__(self, error: Exception) -> None:
        super().__init__(500)
        self.error = error


class PooledRequest(Request):
    """A request whose JSON body is parsed and validated as ``model`` in the CPU pool."""

    def __init__(self, scope: Scope, receive: Receive, model: type[BaseModel]) -> None:
        super().__init__(scope, receive)
        self.model = model

    async def json(self) -> Any:
        body = await self.body()
        try:
            pool = await get_pool(self)
            limits = structure_limit(self.app.state.settings)
            return await pool.run(client_gone(self), parse, self.model, body, limits)
        except HTTPException:
            raise
        except Exception as e:
            raise Carried(e) from None


class BodyInPool(APIRoute):
    """A route whose JSON body, one Pydantic model, is parsed and validated in the CPU pool."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        model = self.body_field.field_info.annotation if self.body_field else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return handler  # no body, or a form (parsed by Starlette's multipart parser)

        async def handle(request: Request) -> Response:
            try:
                return await handler(PooledRequest(request.scope, request.receive, model))
            except Carried as e:
                raise e.error from None

        return handle
