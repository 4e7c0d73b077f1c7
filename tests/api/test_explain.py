"""``model/explain.py``: the saliency is the gradient of the winning logit, checked against
finite differences on small float64 networks (a CNN and an MLP, dropout included), and explaining
writes nothing on the network."""

from __future__ import annotations

import numpy as np
import pytest

from model.explain import explain
from model.network import Network
from model.presets import cnn, mlp


@pytest.mark.parametrize("layers", [cnn(c1=3, c2=4, k=5, hidden=16, dropout=0.5, outputs=11),
                                    mlp([784, 32, 16, 10], dropout=0.3)])
def test_saliency_matches_finite_differences(layers: list[dict[str, object]]) -> None:
    net = Network.from_config(layers, seed=3, dtype=np.float64)
    rng = np.random.default_rng(0)
    x = rng.random(784) * (rng.random(784) < 0.3)
    before = [p.copy() for _, p, _ in net.parameters()]
    e = explain(net, x)
    assert e.saliency.shape == (28, 28) and e.digit == int(np.argmax(net.logits(x[None])[0, :10]))
    assert np.allclose(e.logits, net.logits(x[None])[0])  # inference: dropout off
    eps = 1e-6
    for i in rng.choice(784, 40, replace=False):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        numeric = (net.logits(up[None])[0, e.digit] - net.logits(down[None])[0, e.digit]) / (2 * eps)
        assert abs(e.saliency.ravel()[i] - numeric) <= 1e-6 + 1e-4 * abs(numeric), (i, e.saliency.ravel()[i], numeric)
    assert all(np.array_equal(a, p) for a, (_, p, _) in zip(before, net.parameters(), strict=True))
    assert all(not layer.grads for layer in net.layers)  # nothing written on the layers
    assert [k for k, _ in e.outputs] == [c["type"] for c in layers]
