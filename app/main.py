"""The ASGI application: ``uvicorn app.main:app``. Wiring only."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from app import errors
from app.middleware import BodyLimit, OneLineStartupError
from app.predictor import lifespan
from app.routes import router
from app.settings import Settings

# The page loads only its own files; no CDN, no inline script.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
                "X-Content-Type-Options": "nosniff"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="digitpad", version="0.1.0", lifespan=lifespan,
                  description="Draw a digit; a neural network written from scratch in numpy reads it.")
    app.state.settings = settings
    app.state.predictor = None
    errors.install(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(settings.static_dir / "index.html", headers=PAGE_HEADERS)

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(OneLineStartupError)
    return app


app = create_app()
