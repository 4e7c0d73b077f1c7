"""The served model, and the lifespan that loads it and starts the CPU pool.

The model is reached through ``app.api.deps.get_predictor``; tests swap it with
``app.dependency_overrides[get_predictor]``."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI
from numpy.typing import NDArray

from app.serving.executor import CpuPool
from app.serving.lifecycle import lifecycle
from app.settings import Settings
from app.storage.database import StorageError, open_database
from model.network import Network
from model.verdict import DEFAULT, split
from model.weights import WeightsError, load
from model.weights import version as file_version

logger = logging.getLogger("uvicorn.error")


class StartupError(RuntimeError):
    """The app cannot start; the message is one line naming the cause."""


@dataclass
class Predictor:
    net: Network
    meta: dict[str, Any]
    path: Path
    version: str  # first 12 hex digits of the weights file's SHA-256

    @classmethod
    def load(cls, path: Path) -> Predictor:
        """Raises WeightsError naming the file and the problem."""
        net, meta = load(path)
        return cls(net, meta, path, file_version(path))

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.path.stem)

    @functools.cached_property
    def thresholds(self) -> dict[str, float]:
        """The verdict thresholds the weights were trained with (``model.verdict``); a network
        with no "not a digit" output never rejects."""
        chosen = self.meta.get("verdict") or {}
        return {"reject": float(chosen.get("reject", 1.01)), "sure": float(chosen.get("sure", DEFAULT["sure"]))}

    def predict(self, X: NDArray[np.float32]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """X: (m, 28, 28) float32 in [0, 1] → the digits' probabilities (m, 10) float64, rows
        summing to 1, and P(not a digit) (m,). No lock: a forward pass writes nothing on the
        network, so the CPU pool's threads run their predictions in parallel."""
        P = self.net.predict_proba(X.reshape(X.shape[0], 28 * 28)).astype(np.float64)
        digits, none = split(P / P.sum(axis=1, keepdims=True))
        return digits / digits.sum(axis=1, keepdims=True), none


def reload_weights(app: FastAPI) -> None:
    """SIGHUP: load ``DIGITPAD_WEIGHTS`` again and serve it from the next request on (requests
    already running finish on the model they started with). A missing or broken file keeps
    the current model serving; either way one line is logged. Runs on a worker thread."""
    settings: Settings = app.state.settings
    old: Predictor | None = app.state.predictor
    was = old.version if old else "none"
    try:
        new = Predictor.load(settings.weights)
        new.predict(np.zeros((1, 28, 28), dtype=np.float32))  # warm: the first request is not the slow one
    except WeightsError as e:
        logger.error("reload failed: weights file %s; still serving version %s", e, was)
        return
    app.state.predictor = new
    logger.info("reloaded %s: now serving version %s (was %s)", settings.weights, new.version, was)


def load_predictor(settings: Settings) -> Predictor:
    """The weights named by the settings, or StartupError with the one line to print."""
    try:
        return Predictor.load(settings.weights)
    except WeightsError as e:
        raise StartupError(f"digitpad cannot start: weights file {e} "
                           "(set DIGITPAD_WEIGHTS, or train: python -m scripts.train)") from None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the weights and start the CPU pool before the first request; refuse to start
    without weights."""
    settings: Settings = app.state.settings
    predictor = app.state.predictor = load_predictor(settings)
    try:
        app.state.db = open_database(settings.database_url)
    except StorageError as e:
        raise StartupError(f"digitpad cannot start: {e}") from None
    pool = app.state.pool = CpuPool(settings.cpu_threads, settings.max_queue)
    pool.warm_up(lambda: predictor.predict(np.zeros((1, 28, 28), dtype=np.float32)))
    lifecycle.reloader = functools.partial(reload_weights, app)
    # Everything loaded so far lives as long as the process: move it out of the garbage
    # collector's sight, so a full collection no longer walks it (~10 ms pauses on requests).
    gc.collect()
    gc.freeze()
    yield
    lifecycle.reloader = None
    app.state.pool.shutdown()
    app.state.predictor = None
    app.state.db.dispose()
