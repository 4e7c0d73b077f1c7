"""The ASGI application: ``digitpad-serve`` (or ``uvicorn app.main:app``). Wiring only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from app.api import errors
from app.api.direct import DirectRoutes
from app.api.errors import ApiError
from app.api.ratelimit import RateLimiter
from app.api.routes import explain, feedback, predict, read, service, train, v2
from app.lifespan import lifespan
from app.middleware.body import BodyGuard
from app.middleware.drain import Drain
from app.middleware.headers import Headers
from app.middleware.observe import Observe
from app.middleware.startup import OneLineStartupError
from app.observability.logs import lean
from app.observability.metrics import exposition
from app.observability.scrape import Scrapes
from app.settings import Settings

UPLOADS = frozenset({"/api/predict/file", "/api/read/file"})  # BodyGuard's larger limit: full-size photos

# An upload is one file: Starlette parses a form on the event loop, and its default of a thousand
# parts would let one body hold the loop for tens of milliseconds.
FORM_LIMITS: Any = {"max_files": 1, "max_fields": 4, "max_part_size": 4096}
# FastAPI's own OpenTelemetry spans, metrics and logs: off. digitpad counts and logs its requests
# itself (app.middleware.observe), and the checks FastAPI makes for them cost every request.
TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    lean()  # log records without what no line prints: the request log line costs less
    app = FastAPI(title="digitpad", version="0.2.0", lifespan=lifespan, description=errors.describe(settings),
                  openapi_tags=errors.sections(settings), docs_url=None, redoc_url=None,  # served below, no CDN
                  form_limits=FORM_LIMITS, telemetry=TELEMETRY)
    app.state.settings = settings
    app.state.predictor = None
    app.state.models = None
    app.state.pool = None
    app.state.db = None
    app.state.storage = None
    app.state.training = None
    app.state.feedback_limiter = RateLimiter(settings.feedback_per_minute)
    app.state.scrapes = Scrapes(exposition)
    errors.install(app)
    app.include_router(predict.router)
    app.include_router(read.router)
    app.include_router(feedback.router)
    app.include_router(explain.router)
    app.include_router(train.router)
    app.include_router(v2.router)
    app.include_router(service.router)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(settings.static_dir / "index.html")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus's text format (a scrape target: keep it off the public internet)."""
        if not settings.metrics:
            raise ApiError(404, "not_found", "Metrics are off (DIGITPAD_METRICS=false).")
        body, content_type = await app.state.scrapes.latest()  # rendered on a thread of its own
        return Response(body, media_type=content_type)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(settings.static_dir / "docs.html")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> FileResponse:
        return FileResponse(settings.static_dir / "redoc.html")

    @app.get("/explore", include_in_schema=False)
    async def explore() -> FileResponse:
        return FileResponse(settings.static_dir / "explore.html")

    # add_middleware puts each one outside the ones before it: the last is the outermost.
    app.add_middleware(DirectRoutes, routes=[*predict.DIRECT, *read.DIRECT, *explain.DIRECT])
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout,
                       uploads=(UPLOADS, settings.max_upload_bytes))
    if settings.cors_origins:  # closed unless DIGITPAD_CORS_ORIGINS lists origins
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], max_age=600)
    app.add_middleware(Drain)
    app.add_middleware(Headers)
    app.add_middleware(OneLineStartupError)
    app.add_middleware(Observe, access_log=settings.access_log, metrics=settings.metrics)  # outermost: sees all
    return app


app = create_app()
