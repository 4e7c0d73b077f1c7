"""The served model: loaded once in the lifespan handler, reached through ``get_predictor``.

Tests swap it with ``app.dependency_overrides[get_predictor]``."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from numpy.typing import NDArray

from app.errors import NotReady
from app.middleware import StartupError
from app.settings import Settings
from model.network import Network
from model.weights import WeightsError, load


@dataclass
class Predictor:
    net: Network
    meta: dict[str, Any]
    path: Path
    version: str  # first 12 hex digits of the weights file's SHA-256
    # Layers keep per-call buffers on themselves (Conv2D.cols, Dense.A_prev), so two
    # threads must not run a forward pass at once; routes run in FastAPI's thread pool.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path) -> Predictor:
        """Raises WeightsError naming the file and the problem."""
        net, meta = load(path)
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(net, meta, path, version)

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.path.stem)

    def predict(self, X: NDArray[np.float32]) -> NDArray[np.float64]:
        """X: (m, 28, 28) float32 in [0, 1] → (m, 10) float64 probabilities, rows summing to 1."""
        with self._lock:
            P = self.net.predict_proba(X.reshape(X.shape[0], 28 * 28))
        P = P.astype(np.float64)
        return P / P.sum(axis=1, keepdims=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the weights before the first request; refuse to start without them."""
    settings: Settings = app.state.settings
    try:
        app.state.predictor = Predictor.load(settings.weights)
    except WeightsError as e:
        raise StartupError(f"digitpad cannot start: weights file {e} "
                           "(set DIGITPAD_WEIGHTS, or train: python -m scripts.train)") from None
    yield
    app.state.predictor = None


def get_predictor(request: Request) -> Predictor:
    predictor: Predictor | None = getattr(request.app.state, "predictor", None)
    if predictor is None:
        raise NotReady()
    return predictor


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
