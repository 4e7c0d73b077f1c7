"""The analytic gradients against central finite differences, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from model.layers import Dropout
from model.losses import cross_entropy
from model.network import Network
from tests.model_fixtures import ALL_LAYERS, TINY_MLP


def _reseed_dropout(net: Network) -> None:
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(7)  # the same mask on every forward pass


def _check(net: Network, X: np.ndarray, y: np.ndarray) -> None:
    def loss() -> float:
        _reseed_dropout(net)
        return cross_entropy(net.logits(X, [{} for _ in net.layers]), y)[0]

    _reseed_dropout(net)
    net.loss_and_grads(X, y)
    checked = 0
    for name, p, layer in net.parameters():
        analytic = layer.grads[name.split(".")[1]]
        assert analytic.shape == p.shape and analytic.dtype == np.float64
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + 1e-6
            up = loss()
            p[i] = old - 1e-6
            down = loss()
            p[i] = old
            numeric[i] = (up - down) / 2e-6
        rel = np.abs(numeric - analytic).max() / (np.abs(numeric).max() + np.abs(analytic).max() + 1e-12)
        assert rel < 1e-6, f"{name} ({layer.kind}): relative error {rel:.2e}"
        checked += 1
    assert checked == sum(1 for layer in net.layers for _ in layer.params)


def test_every_layer_type_matches_finite_differences() -> None:
    net = Network.from_config(ALL_LAYERS, seed=1, dtype=np.float64)
    kinds = {layer.kind for layer in net.layers}
    assert kinds == {"image", "conv2d", "relu", "maxpool2d", "flatten", "dense", "dropout"}
    rng = np.random.default_rng(0)
    _check(net, rng.random((5, 64)), rng.integers(0, 10, 5))


@pytest.mark.parametrize("init", ["he", "uniform"])
def test_mlp_matches_finite_differences(init: str) -> None:
    config = [{**c, "n_in": 20} if i == 0 else c for i, c in enumerate(TINY_MLP)]
    config[0]["init"] = init
    net = Network.from_config(config, seed=2, dtype=np.float64)
    rng = np.random.default_rng(1)
    X = rng.random((7, 20))
    _check(net, X, rng.integers(0, 10, 7))


def test_dense_backward_is_the_classic_derivation() -> None:
    """dW = dZᵀ·A/m, db = ΣdZ/m (over examples) with dZ = A − Y at the softmax output, one example a row."""
    net = Network.from_config([{"type": "dense", "n_in": 4, "n_out": 10}], seed=0, dtype=np.float64)
    rng = np.random.default_rng(3)
    X = rng.random((6, 4))
    y = rng.integers(0, 10, 6)
    Z = net.logits(X)
    A = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    Y = np.eye(10)[y]
    dZ = A - Y
    net.loss_and_grads(X, y)
    dense = net.layers[0]
    np.testing.assert_allclose(dense.grads["W"], dZ.T @ X / 6, rtol=1e-10)
    np.testing.assert_allclose(dense.grads["b"], dZ.sum(axis=0)[:, None] / 6, rtol=1e-10)
