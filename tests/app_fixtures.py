"""Shared building blocks for the app tests (imported by conftest.py)."""

from __future__ import annotations

from pathlib import Path

from model.network import Network
from model.weights import save

TINY = [{"type": "dense", "n_in": 784, "n_out": 10}]


def app_weights(path: Path, seed: int = 0) -> Path:
    """A seeded one-layer network in the shipped file format, with the metadata the API reports
    (another ``seed``: another version of the same model)."""
    net = Network.from_config(TINY, seed=seed)
    save(path, net, {
        "name": "test", "preset": "tiny", "description": "784 → 10, untrained, for tests",
        "n_params": net.n_params(),
        "training": {"epochs": 1, "batch_size": 32, "optimizer": "sgd", "seed": 0},
        "history": [{"epoch": 1, "loss": 2.3, "val_accuracy": 0.1}],
        "train_accuracy": 0.1,
        "test": {"accuracy": 0.1, "per_class_accuracy": [0.1] * 10,
                 "confusion_matrix": [[0] * 10 for _ in range(10)], "n": 10000},
        "data_sha256": {}, "created": "2026-01-01T00:00:00+00:00", "code_version": "test",
    })
    return path
