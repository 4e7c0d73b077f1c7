"""The app's lifespan: load the models, open the database, start the CPU pool and the storage
threads, before the first request; refuse to start without them. It also points SIGHUP's reload
at this app, and opens live training (``app.training``): the folder digitpad-serve made for its
workers, or one of its own, removed at shutdown."""

from __future__ import annotations

import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.observability.metrics import ON_SCRAPE, TRAINING_IN_PROGRESS, served
from app.serving.executor import CpuPool
from app.serving.models import load_models
from app.serving.predictor import StartupError
from app.serving.reload import reload_models, reloader, warm
from app.settings import Settings
from app.storage.database import StorageError
from app.storage.handle import Database
from app.storage.threads import QUEUE, THREADS, StorageThreads
from app.training.runs import Training, open_training


def open_storage(url: str, timeout: float) -> Database:
    """The corrections database, migrated, or StartupError with the one line to print: a bad URL,
    a server that does not answer, or a SQLite file where nothing can be written (a read-only
    root). Stopping is the choice: a server that started anyway would lose every correction."""
    try:
        return Database(url, timeout)
    except StorageError as e:
        raise StartupError(f"digitpad cannot start: {e}") from None
    except OSError as e:  # the SQLite file's folder cannot be made
        where = f"{e.filename}: {e.strerror}" if e.filename else str(e)
        raise StartupError(f"digitpad cannot start: cannot make the database's folder {where} (mount a writable folder "
                           "there, or set DIGITPAD_DATABASE_URL)") from None


def _count_runs(training: Training | None) -> None:
    TRAINING_IN_PROGRESS.set(training.in_progress() if training is not None else 0)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    models = load_models(settings)
    app.state.db = open_storage(settings.database_url, settings.database_timeout)
    app.state.storage = StorageThreads(THREADS, QUEUE, settings.database_timeout)
    pool = app.state.pool = CpuPool(settings.cpu_threads, settings.max_queue, settings.max_wait)
    for p in models.by_name.values():
        pool.warm_up(functools.partial(warm, p))
    app.state.models, app.state.predictor = models, models.get(None)
    served({n: p.version for n, p in models.by_name.items()}, models.default)
    reloader.target = functools.partial(reload_models, app)
    training = app.state.training = open_training(settings)
    if training is not None:
        training.warm()
    count_runs = functools.partial(_count_runs, training)
    ON_SCRAPE.append(count_runs)
    # Everything loaded so far lives as long as the process: move it out of the garbage
    # collector's sight, so a full collection no longer walks it (pauses on requests otherwise).
    gc.collect()
    gc.freeze()
    yield
    ON_SCRAPE.remove(count_runs)
    if training is not None:
        training.close()
    reloader.target = None
    app.state.pool.shutdown()
    app.state.storage.shutdown()
    app.state.scrapes.shutdown()
    app.state.predictor = app.state.models = None
    app.state.db.dispose()
