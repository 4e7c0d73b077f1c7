"""The committed weights file: loads, describes itself, and reads MNIST digits."""

from __future__ import annotations

import numpy as np
import pytest

from model import weights
from model.augment import augment
from model.mnist import read_idx
from model.network import Network
from tests.conftest import ROOT, SAMPLE_DIR

SHIPPED = ROOT / "weights" / "digitpad.npz"


@pytest.fixture(scope="module")
def shipped() -> tuple[Network, dict[str, object]]:
    return weights.load(SHIPPED)


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(SAMPLE_DIR / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    return X, read_idx(SAMPLE_DIR / "t10k-sample-labels-idx1-ubyte.gz")


def test_shipped_weights_are_small_and_self_describing(shipped: tuple[Network, dict[str, object]]) -> None:
    net, meta = shipped
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024
    for key in ("layers", "input", "temperature", "training", "history", "test", "data_sha256",
                "created", "code_version", "format_version"):
        assert key in meta, key
    test = meta["test"]
    assert isinstance(test, dict) and test["accuracy"] >= 0.995 and test["ece_after"] <= 0.01
    assert {layer.kind for layer in net.layers} >= {"conv2d", "maxpool2d", "dense", "dropout"}


def test_shipped_weights_score_at_least_99_percent_on_the_sample(
        shipped: tuple[Network, dict[str, object]], sample: tuple[np.ndarray, np.ndarray]) -> None:
    net, _ = shipped
    X, y = sample
    accuracy = float((net.predict(X) == y).mean())
    assert accuracy >= 0.99, f"{accuracy:.4f} on the 1,000-image sample"


def test_probabilities_are_a_distribution(shipped: tuple[Network, dict[str, object]],
                                          sample: tuple[np.ndarray, np.ndarray]) -> None:
    net, _ = shipped
    P = net.predict_proba(sample[0][:100])
    assert P.shape == (100, 10) and np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)


def test_augmented_digits_keep_their_labels(shipped: tuple[Network, dict[str, object]],
                                            sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The distortions used in training stay readable as the same digit."""
    net, _ = shipped
    X, y = sample
    distorted = augment(X, np.random.default_rng(0))
    assert float((net.predict(distorted) == y).mean()) >= 0.97
