"""One served model: its network, metadata, version and verdict thresholds.

Models are loaded by ``app.serving.models`` and reached through ``app.api.deps``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.network import Network
from model.verdict import DEFAULT, split
from model.weights import load
from model.weights import version as file_version


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
