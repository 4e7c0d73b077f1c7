"""The app's lifespan: load the models, open the database, start the CPU pool, before the first
request; refuse to start without them. And the reload that SIGHUP asks for."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from fastapi import FastAPI

from app.observability.metrics import served
from app.serving.executor import CpuPool
from app.serving.lifecycle import lifecycle
from app.serving.models import Models, load_models, model_paths, pick_default
from app.serving.predictor import Predictor, StartupError
from app.settings import Settings
from app.storage.database import StorageError, open_database
from model.weights import WeightsError

logger = logging.getLogger("uvicorn.error")


def _warm(p: Predictor) -> None:
    p.predict(np.zeros((1, 28, 28), dtype=np.float32))  # the first request is not the slow one


def reload_models(app: FastAPI) -> None:
    """SIGHUP: load every model's file again (and any new one in DIGITPAD_MODELS's folder) and
    serve them from the next request on; requests already running finish on the models they
    started with. A missing or broken file keeps its current model serving; one line is logged
    per file either way. Runs on a thread of its own."""
    settings: Settings = app.state.settings
    old: Models = app.state.models
    by_path = {p.path: p for p in old.by_name.values()}
    loaded: dict[str, Predictor] = {}
    for path in model_paths(settings):
        was = by_path.get(path)
        try:
            new = Predictor.load(path)
            _warm(new)
        except WeightsError as e:
            logger.error("reload failed: weights file %s; still serving version %s", e,
                         was.version if was else "none")
            if was is not None:
                loaded[was.name] = was
            continue
        loaded[new.name] = new
        logger.info("reloaded %s: now serving version %s (was %s)", path, new.version, was.version if was else "none")
    if loaded:
        models = Models(loaded, pick_default(loaded, settings))
        app.state.models, app.state.predictor = models, models.get(None)
        served({n: p.version for n, p in loaded.items()}, models.default,
               {n: p.version for n, p in old.by_name.items()})


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    models = load_models(settings)
    try:
        app.state.db = open_database(settings.database_url)
    except StorageError as e:
        raise StartupError(f"digitpad cannot start: {e}") from None
    pool = app.state.pool = CpuPool(settings.cpu_threads, settings.max_queue)
    for p in models.by_name.values():
        pool.warm_up(functools.partial(_warm, p))
    app.state.models, app.state.predictor = models, models.get(None)
    served({n: p.version for n, p in models.by_name.items()}, models.default)
    lifecycle.reloader = functools.partial(reload_models, app)
    # Everything loaded so far lives as long as the process: move it out of the garbage
    # collector's sight, so a full collection no longer walks it (~10 ms pauses on requests).
    gc.collect()
    gc.freeze()
    yield
    lifecycle.reloader = None
    app.state.pool.shutdown()
    app.state.predictor = app.state.models = None
    app.state.db.dispose()
