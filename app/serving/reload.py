"""Reloading the models on SIGHUP, without a restart.

The process's signal handler (``app.runtime.supervisor``) calls ``reloader.request()``; that runs
the target the app's lifespan set (``reload_models``) on a thread of its own, since loading a file
must not stall requests. One reload at a time: a HUP during one is ignored (the file it is
reading is the newest anyway)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi import FastAPI

from app.observability.metrics import served as metrics_served
from app.serving.models import Models, model_paths
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

    Names are stable: every name served before is served after, by the same file. A file that now
    holds a model of another name is refused (its name would change on the next restart), as is a
    new file whose name is taken; a missing or broken file, or one no longer listed, keeps its
    current model serving. Its architecture may change. One line is logged per file either way."""
    settings: Settings = app.state.settings
    old: Models = app.state.models
    by_path = {p.path: p for p in old.by_name.values()}
    served = dict(old.by_name)
    for path in model_paths(settings):
        new = reload_one(path, by_path.pop(path, None), served)
        if new is not None:
            served[new.name] = new
    for gone in by_path.values():
        logger.warning("reload: %s is no longer listed; still serving %r version %s until a restart",
                       gone.path, gone.name, gone.version)
    models = Models(served, old.default)
    app.state.models, app.state.predictor = models, models.get(None)
    metrics_served({n: p.version for n, p in served.items()}, models.default,
                   {n: p.version for n, p in old.by_name.items()})


def reload_one(path: Path, was: Predictor | None, served: dict[str, Predictor]) -> Predictor | None:
    """``path``'s model loaded afresh and warmed, or None (with the line that says why) when the
    current one, if any, keeps serving."""
    still = f"still serving version {was.version}" if was else "not serving it"
    try:
        new = Predictor.load(path)
    except WeightsError as e:
        logger.error("reload failed: weights file %s; %s", e, still)
        return None
    if was is not None and new.name != was.name:
        logger.error("reload refused: %s now holds model %r, served here as %r (names are kept across "
                     "reloads: save the model under that name, or restart); %s", path, new.name, was.name, still)
        return None
    if was is None and new.name in served:
        logger.error("reload refused: %s holds model %r, a name %s already serves; %s",
                     path, new.name, served[new.name].path, still)
        return None
    warm(new)
    logger.info("reloaded %s: now serving version %s (was %s)", path, new.version, was.version if was else "none")
    return new
