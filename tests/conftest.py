from __future__ import annotations

import os

# One BLAS thread, as ./run.sh and the server set it, even when pytest is run directly: set before
# numpy is first imported (below), since OpenBLAS reads it once. On 2 cores, BLAS's own threads in a
# test and in the servers it starts fight over the cores and training tests slow down many times.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model import weights
from model.network import Network
from tests.app_fixtures import app_weights
from tests.model_fixtures import tiny_network

# Every app and server the tests start keeps its corrections in a throwaway SQLite file, never in
# the checkout's data/digitpad.db (tests that look at the rows open their own databases).
os.environ["DIGITPAD_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='digitpad-tests-')}/digitpad.db"


@pytest.fixture
def tiny_net() -> Network:
    """A seeded, untrained 784-32-10 network."""
    return tiny_network()


@pytest.fixture
def weights_file(tmp_path: Path, tiny_net: Network) -> Path:
    """A valid weights file of the tiny network under tmp_path."""
    path = tmp_path / "tiny.npz"
    weights.save(path, tiny_net, {"name": "tiny", "preset": "test"})
    return path


@pytest.fixture
def weights_path(tmp_path: Path) -> Path:
    """The app tests' weights: a seeded 784 → 10 network with full metadata, under tmp_path."""
    return app_weights(tmp_path / "app-weights.npz")


@pytest.fixture
def settings(weights_path: Path) -> Settings:
    return Settings(weights=weights_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app serving ``weights_path``, lifespan run (weights loaded)."""
    with TestClient(create_app(settings)) as c:
        yield c
