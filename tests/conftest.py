from __future__ import annotations

from pathlib import Path

import pytest

from model import weights
from model.network import Network
from tests.model_fixtures import tiny_network

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "tests" / "data"


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
