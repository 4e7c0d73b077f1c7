"""Shared building blocks for the model tests (imported by conftest.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from model.network import Network

# A small network with every layer type, on 8×8 inputs (64 pixels).
ALL_LAYERS: list[dict[str, Any]] = [
    {"type": "image", "height": 8, "width": 8, "channels": 1},
    {"type": "conv2d", "c_in": 1, "c_out": 3, "k": 3, "pad": 1}, {"type": "relu"},
    {"type": "maxpool2d"},
    {"type": "conv2d", "c_in": 3, "c_out": 4, "k": 3, "pad": 0}, {"type": "relu"},
    {"type": "flatten"},
    {"type": "dense", "n_in": 16, "n_out": 6}, {"type": "relu"},
    {"type": "dropout", "rate": 0.3},
    {"type": "dense", "n_in": 6, "n_out": 10},
]

TINY_MLP: list[dict[str, Any]] = [
    {"type": "dense", "n_in": 784, "n_out": 32}, {"type": "relu"},
    {"type": "dense", "n_in": 32, "n_out": 10},
]

TINY_CNN: list[dict[str, Any]] = [
    {"type": "image", "height": 28, "width": 28, "channels": 1},
    {"type": "conv2d", "c_in": 1, "c_out": 4, "k": 5, "pad": 0}, {"type": "relu"},
    {"type": "maxpool2d"},
    {"type": "flatten"},
    {"type": "dense", "n_in": 12 * 12 * 4, "n_out": 10},
]


def tiny_network(config: list[dict[str, Any]] = TINY_MLP, seed: int = 0) -> Network:
    return Network.from_config(config, seed=seed)


def toy_problem(m: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """m images (m, 784) float32 in [0, 1] and labels (m,): each class lights its own band."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, m)
    X = rng.random((m, 784)).astype(np.float32) * 0.3
    for i, label in enumerate(y):
        X[i, label * 78:(label + 1) * 78] += 0.7
    return X, y
