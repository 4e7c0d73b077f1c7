"""Reloading the models on SIGHUP, without a restart.

The process's signal handler (``app.runtime.supervisor``) calls ``reloader.request()``; that runs
the target the app's lifespan set (``reload_models``) on a thread of its own, since loading a file
must not stall requests. One reload at a time: a HUP during one is ignored (the file it is
reading is the newest anyway)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
from fastapi import FastAPI

from app.observability.metrics import served
from app.serving.models import Models, model_paths, pick_default
from app.serving.predictor import Predictor
from app.settings import Settings
from model.weights import WeightsError

logger = logging.getLogger("uvicorn.error")


class Reloader:
    def __init__(self) -> None:
        self.target: Callable[[], None] | None = None
        self._running = threading.Lock()

    def request(self) -> None:
        """Run the target on a new thread, unless one is running or none is set."""
        target = self.target
        if target is None or not self._running.acquire(blocking=False):
            return

        def run() -> None:
            try:
                target()
            finally:
                self._running.release()
        threading.Thread(target=run, name="digitpad-reload", daemon=True).start()


reloader = Reloader()


def warm(p: Predictor) -> None:
    p.predict(np.zeros((1, 28, 28), dtype=np.float32))  # the first request is not the slow one


def reload_models(app: FastAPI) -> None:
    """Load every model's file again (and any new one in DIGITPAD_MODELS's folder) and serve them
    from the next request on; requests already running finish on the models they started with.
    A missing or broken file keeps its current model serving; one line is logged per file either
    way."""
    settings: Settings = app.state.settings
    old: Models = app.state.models
    by_path = {p.path: p for p in old.by_name.values()}
    loaded: dict[str, Predictor] = {}
    for path in model_paths(settings):
        was = by_path.get(path)
        try:
            new = Predictor.load(path)
            warm(new)
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
