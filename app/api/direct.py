"""The reading routes' plain requests, answered in one CPU job and without FastAPI's per-request
machinery.

FastAPI declares, documents and can serve every route. For the routes that read drawings
(``POST /api/predict``, ``/api/predict/batch``, ``/api/read``, ``/api/explain``), its routing,
dependency resolution and two thread hops (the body parsed in one job, the drawing read in
another) cost more than reading a small drawing. ``DirectRoutes``, the innermost middleware,
answers the plain case of those routes itself: a JSON body and no query but the route's own
plain options (``preview=true|false``; the batch's ``errors=fail|inline``), each at most once. The body
is read here (through the outer middlewares' limits), then parsed, validated and answered in one
job on the CPU pool, by the same functions the FastAPI endpoints call (``Direct.answer``), and any
error is answered by the app's own exception handlers. One case needs no job at all: a small body
that is a drawing sent as pixels to ``/api/predict`` (``Direct.light``) is parsed and read on the
event loop, its cost bounded by its size and one 28×28 forward pass, less than a thread hop's
wake-ups and hand-overs of the interpreter lock. Every other request (a form, another
content type, an unexpected query, an empty body) goes on to FastAPI unchanged, so both ways give
the same answers and the same errors.

A request the pool would only refuse is refused before its body is read (``CpuPool.admits``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.answers import client_gone
from app.api.body import parse, structure_limit
from app.api.errors import NotReady
from app.serving.executor import Abandoned, CpuPool, Job, Overloaded
from app.serving.models import Models
from app.settings import Settings

# answer(job, body, preview, models, settings, *options) -> the answer's JSON bytes, on a CPU thread
Answer = Callable[..., bytes]
JSON = (b"application/json", b"application/json; charset=utf-8")
# The query parameters the direct way reads, each as parameter=value: its name and value. Any other
# query (another value, a repeated or unknown parameter) is FastAPI's to answer, or to refuse.
VALUES: dict[bytes, tuple[str, Any]] = {b"preview=true": ("preview", True), b"preview=false": ("preview", False),
                                        b"errors=fail": ("errors", "fail"), b"errors=inline": ("errors", "inline")}
SMALL = 16_384  # bytes: a body this small is parsed on the event loop (784 pixels are 2–7 KB)
ON_LOOP = Job()  # the job of what is read on the event loop: never stopped
HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class Direct:
    """A route answered directly: its path (also the metrics' route label), the model its body
    is validated as, the function that answers it, whether it takes ``?preview=``, and its other
    query parameters with their defaults (passed to ``answer`` after ``settings``, in order)."""

    path: str
    model: type[BaseModel]
    answer: Answer
    preview: bool = True
    light: Callable[[Any], bool] = lambda body: False  # whether a parsed body is read on the event loop
    options: tuple[tuple[str, Any], ...] = ()

    def takes(self, name: str) -> bool:
        return (name == "preview" and self.preview) or any(name == option for option, _ in self.options)


class DirectRoutes:
    def __init__(self, app: ASGIApp, routes: list[Direct]) -> None:
        self.app, self.routes = app, {r.path: r for r in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        query = _query(scope, route) if route else None
        if route is None or query is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        try:
            pool: CpuPool | None = scope["app"].state.pool
            if pool is None:
                raise NotReady()
            if not pool.admits():
                raise Overloaded
            body = await _body(receive)
            if not body:  # FastAPI says what a missing body is
                await self.app(scope, _replay(body, receive), send)
                return
            answer = await _answered(route, body, query, pool, scope["app"].state, Request(scope, receive))
        except Exception as e:
            await _error(scope, receive, send, e)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*HEADERS, (b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})


@dataclass(frozen=True)
class PlainQuery:
    """A plain query's values: ``preview``, and the route's other options in order."""

    preview: bool
    options: tuple[Any, ...]


def _query(scope: Scope, route: Direct) -> PlainQuery | None:
    """The values of a plain query (each parameter one the route takes, at most once, with a value
    in ``VALUES``), when the body is JSON; else None: the request is FastAPI's to answer."""
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    if content_type.lower() not in JSON:
        return None
    given: dict[str, Any] = {}
    for part in scope["query_string"].split(b"&") if scope["query_string"] else ():
        name, value = VALUES.get(part, ("", None))
        if not route.takes(name) or name in given:
            return None
        given[name] = value
    return PlainQuery(given.get("preview", True), tuple(given.get(name, default) for name, default in route.options))


async def _answered(route: Direct, body: bytes, query: PlainQuery, pool: CpuPool, state: Any,
                    request: Request) -> bytes:
    """The answer's JSON: on the event loop for a light drawing, else from one job on the pool."""
    models, settings, options = state.models, state.settings, query.options
    if len(body) > SMALL:
        return await pool.run(client_gone(request), _answer, route, body, query, models, settings)
    parsed = parse(ON_LOOP, route.model, body, structure_limit(settings))
    if route.light(parsed):
        return route.answer(ON_LOOP, parsed, query.preview, models, settings, *options)
    return await pool.run(client_gone(request), route.answer, parsed, query.preview, models, settings, *options)


def _answer(job: Job, route: Direct, body: bytes, query: PlainQuery, models: Models, settings: Settings) -> bytes:
    request = parse(job, route.model, body, structure_limit(settings))
    job.check()
    return route.answer(job, request, query.preview, models, settings, *query.options)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away before sending it all
            raise Abandoned
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` again, then what ``receive`` gives."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _error(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """Answer ``error`` with the app's own handler for it; re-raise it if there is none (a bug:
    the server's 500)."""
    handlers = scope["app"].exception_handlers
    handler = next((handlers[c] for c in type(error).__mro__ if c in handlers and c is not Exception), None)
    if handler is None:
        raise error
    response = await handler(Request(scope, receive), error)
    await response(scope, receive, send)
