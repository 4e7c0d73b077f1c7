"""The committed weights file: loads, describes itself, and reads MNIST digits."""

from __future__ import annotations

import numpy as np
import pytest

from model import weights
from model.augment import augment
from model.glyphs import draw_digits
from model.mnist import read_idx
from model.network import Network
from model.verdict import split
from tests.paths import DATA, ROOT

SHIPPED = ROOT / "weights" / "digitpad.npz"


@pytest.fixture(scope="module")
def shipped() -> tuple[Network, dict[str, object]]:
    return weights.load(SHIPPED)


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(DATA / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    return X, read_idx(DATA / "t10k-sample-labels-idx1-ubyte.gz")


def test_shipped_weights_are_small_and_self_describing(shipped: tuple[Network, dict[str, object]]) -> None:
    net, meta = shipped
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024
    for key in ("layers", "input", "temperature", "training", "history", "test", "data_sha256",
                "created", "code_version", "format_version"):
        assert key in meta, key
    test = meta["test"]
    assert isinstance(test, dict) and test["accuracy"] >= 0.995 and test["ece_after"] <= 0.01
    assert test["rejected"] <= 0.005  # MNIST test digits wrongly called "not a digit"
    verdict = meta["verdict"]
    assert isinstance(verdict, dict) and 0 < verdict["reject"] < 1 and 0.5 <= verdict["sure"] < 1
    assert {layer.kind for layer in net.layers} >= {"conv2d", "maxpool2d", "dense", "dropout"}


def test_shipped_weights_score_at_least_99_percent_on_the_sample(
        shipped: tuple[Network, dict[str, object]], sample: tuple[np.ndarray, np.ndarray]) -> None:
    net, _ = shipped
    X, y = sample
    digits, none = split(net.predict_proba(X))
    accuracy = float((digits.argmax(axis=1) == y).mean())
    assert accuracy >= 0.99, f"{accuracy:.4f} on the 1,000-image sample"
    rejected = float((none >= reject(shipped)).mean())
    assert rejected <= 0.01, f"{rejected:.4f} of the sample's digits called 'not a digit'"


def test_probabilities_are_a_distribution(shipped: tuple[Network, dict[str, object]],
                                          sample: tuple[np.ndarray, np.ndarray]) -> None:
    net, _ = shipped
    P = net.predict_proba(sample[0][:100])
    assert P.shape == (100, 11) and np.isfinite(P).all()  # ten digits and "not a digit"
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)


def test_augmented_digits_keep_their_labels(shipped: tuple[Network, dict[str, object]],
                                            sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The distortions used in training stay readable as the same digit."""
    net, _ = shipped
    X, y = sample
    distorted = augment(X, np.random.default_rng(0))
    assert float((split(net.predict_proba(distorted))[0].argmax(axis=1) == y).mean()) >= 0.97


def reject(shipped: tuple[Network, dict[str, object]]) -> float:
    verdict = shipped[1]["verdict"]
    assert isinstance(verdict, dict)
    return float(verdict["reject"])


def test_drawn_non_digits_are_rejected(shipped: tuple[Network, dict[str, object]]) -> None:
    """The committed sample of drawn non-digits (letters, signs, scribbles, taps…; seed 7, which
    training never uses; python -m scripts.datasets.make_test_sample): at least 90 % called 'not a digit'."""
    net, _ = shipped
    N = read_idx(DATA / "nondigits-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    assert N.shape == (300, 784)
    rejected = float((split(net.predict_proba(N))[1] >= reject(shipped)).mean())
    assert rejected >= 0.9, f"{rejected:.3f} of drawn non-digits rejected"


def test_drawn_digits_in_every_style_are_read(shipped: tuple[Network, dict[str, object]]) -> None:
    net, _ = shipped
    D, y, styles = draw_digits(600, np.random.default_rng(7))
    digits, none = split(net.predict_proba(D))
    right = (digits.argmax(axis=1) == y) & (none < reject(shipped))
    assert float(right.mean()) >= 0.97, f"{right.mean():.3f} of drawn digits read right"
    worst = min((float(right[[t == s for t in styles]].mean()), s) for s in set(styles))
    assert worst[0] >= 0.8, f"style {worst[1]!r}: {worst[0]:.2f} of about 26 read right"
