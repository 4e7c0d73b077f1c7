"""What routes depend on: the served model, the settings, the CPU pool, the database and its
threads, the feedback rate limit.

All ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop
per request that the health checks in particular must not wait for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.api.errors import NotReady
from app.api.ratelimit import RateLimiter
from app.runtime.shutdown import shutdown
from app.serving.executor import CpuPool
from app.serving.models import Models
from app.serving.predictor import Predictor
from app.settings import Settings
from app.storage.handle import Database
from app.storage.threads import StorageThreads


def _loaded(request: Request, name: str) -> Any:
    """What the lifespan put in ``app.state``, or 503 ``not_ready`` before it has (or after)."""
    value = getattr(request.app.state, name, None)
    if value is None:
        raise NotReady()
    return value


async def get_predictor(request: Request) -> Predictor:
    predictor: Predictor = _loaded(request, "predictor")
    return predictor


async def get_models(request: Request) -> Models:
    models: Models = _loaded(request, "models")
    return models


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_pool(request: Request) -> CpuPool:
    pool: CpuPool = _loaded(request, "pool")
    return pool


async def get_database(request: Request) -> Database:
    db: Database = _loaded(request, "db")
    return db


async def get_storage(request: Request) -> StorageThreads:
    storage: StorageThreads = _loaded(request, "storage")
    return storage


async def get_feedback_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.feedback_limiter
    return limiter


async def ready(predictor: Annotated[Predictor, Depends(get_predictor)]) -> Predictor:
    """The predictor, unless the server is shutting down (503 ``not_ready``: a load balancer
    stops sending work here)."""
    if shutdown.draining:
        raise NotReady("The server is shutting down.")
    return predictor


PredictorDep = Annotated[Predictor, Depends(get_predictor)]
ModelsDep = Annotated[Models, Depends(get_models)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[CpuPool, Depends(get_pool)]
ReadyDep = Annotated[Predictor, Depends(ready)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StorageDep = Annotated[StorageThreads, Depends(get_storage)]
FeedbackLimiterDep = Annotated[RateLimiter, Depends(get_feedback_limiter)]
