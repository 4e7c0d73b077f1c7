"""The serving forward pass (``model/inference.py``) against the maths it stands for: a direct
convolution, pooling and dense layers written out plainly, and the layers' own forward passes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from model import inference, weights
from model.layers import Conv2D, Dense, Flatten, Image, MaxPool2D, ReLU, im2col, max_pool
from model.losses import softmax
from model.network import Network
from tests.model_fixtures import ALL_LAYERS, TINY_CNN, TINY_MLP
from tests.paths import ROOT

Array = np.ndarray[Any, Any]


@pytest.fixture(scope="module")
def shipped() -> Network:
    net, _ = weights.load(ROOT / "weights" / "digitpad.npz")
    return net


def reference_logits(net: Network, X: Array) -> Array:
    """Each layer written out plainly, in float64: the convolution as a sum over every pixel of
    every window (einsum), the pooling as a max over each 2×2 block, ReLU, then ``A·Wᵀ + b``."""
    A = X.astype(np.float64)
    for layer in net.layers:
        if isinstance(layer, Image):
            A = A.reshape(A.shape[0], *layer.shape)
        elif isinstance(layer, Conv2D):
            p, W = layer.pad, layer.params["W"].astype(np.float64)  # (F, C, k, k)
            windows = sliding_window_view(np.pad(A, ((0, 0), (p, p), (p, p), (0, 0))), (layer.k, layer.k),
                                          axis=(1, 2))  # (m, Ho, Wo, C, k, k)
            A = np.einsum("mhwcuv,fcuv->mhwf", windows, W) + layer.params["b"]
        elif isinstance(layer, MaxPool2D):
            m, H, W_, C = A.shape
            A = A.reshape(m, H // 2, 2, W_ // 2, 2, C).max(axis=(2, 4))
        elif isinstance(layer, ReLU):
            A = np.where(A > 0, A, 0.0)
        elif isinstance(layer, Flatten):
            A = A.reshape(A.shape[0], -1)
        elif isinstance(layer, Dense):
            A = A @ layer.params["W"].T.astype(np.float64) + layer.params["b"].ravel()
    return A


def layer_by_layer(net: Network, X: Array) -> Array:
    """Every layer's own ``forward``, one after the other, dropout as the identity."""
    A = X
    for layer in net.layers:
        A = layer.forward(A, {"inference": True})
    return A


def test_the_shipped_network_computes_its_derivation(shipped: Network) -> None:
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    Z, ref = shipped.logits(X), reference_logits(shipped, X)
    assert Z.dtype == np.float32 and Z.shape == ref.shape == (5, 11)
    assert np.abs(Z - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    P = shipped.predict_proba(X)
    assert np.abs(P - softmax(ref / shipped.temperature)).max() <= 1e-5
    assert np.array_equal(P.argmax(axis=1), ref.argmax(axis=1))


@pytest.mark.parametrize("config", [ALL_LAYERS, TINY_CNN, TINY_MLP], ids=["all-layers", "tiny-cnn", "mlp"])
@pytest.mark.parametrize("m", [1, 3, inference.SLICE + 5])
def test_small_networks_compute_their_derivation(config: list[dict[str, Any]], m: int) -> None:
    net = Network.from_config(config, seed=3)
    n_in = config[0]["n_in"] if config[0]["type"] == "dense" else config[0]["height"] * config[0]["width"]
    X = np.random.default_rng(m).random((m, n_in), dtype=np.float32)
    ref = reference_logits(net, X)
    assert np.abs(net.logits(X) - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())
    assert np.abs(net.logits(X) - layer_by_layer(net, X)).max() <= 1e-5 * max(1.0, np.abs(ref).max())


def test_pooling_first_is_exact() -> None:
    """ReLU(pool(Z) + b) and pool(ReLU(Z + b)) are the same numbers, not merely close: rounding is
    monotone, so the maximum of a window commutes with adding b, and with the ReLU."""
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((3, 8, 8, 5)).astype(np.float32) * rng.choice([1e-8, 1.0, 1e8], (3, 8, 8, 5))
    Z[0, :2, :2] = 0.25  # a tie in one window
    b = rng.standard_normal(5).astype(np.float32)
    assert np.array_equal(np.maximum(max_pool(Z) + b, 0), max_pool(np.maximum(Z + b, 0)))


def test_the_fused_step_gives_the_layers_numbers(shipped: Network) -> None:
    conv = shipped.layers[1]
    assert isinstance(conv, Conv2D)
    X = np.random.default_rng(1).random((4, 28, 28, 1), dtype=np.float32) - 0.3
    layers = max_pool(ReLU().forward(conv.forward(X)))
    assert np.abs(inference.conv_relu_pool(conv, X) - layers).max() <= 1e-6 * np.abs(layers).max()


def test_im2col_by_parity_is_im2col_reordered() -> None:
    for X in (np.arange(2 * 8 * 10 * 1, dtype=np.float32).reshape(2, 8, 10, 1),
              np.arange(2 * 8 * 10 * 3, dtype=np.float32).reshape(2, 8, 10, 3)):
        cols = im2col(X, 3).reshape(2, 3, 2, 8, -1)  # (m, Ho/2, row parity, Wo, k·k·C)
        expected = cols.transpose(2, 0, 1, 3, 4).reshape(2 * 6 * 8, -1)
        assert np.array_equal(inference.im2col_by_parity(X, 3), expected)
    with pytest.raises(ValueError, match="even"):
        inference.im2col_by_parity(np.zeros((1, 8, 8, 1), np.float32), 2)


def test_a_batch_gets_the_answers_its_images_get_alone(shipped: Network) -> None:
    X = np.random.default_rng(2).random((2 * inference.SLICE + 3, 784), dtype=np.float32)
    alone = np.concatenate([shipped.predict_proba(X[i:i + 1]) for i in range(X.shape[0])])
    together = shipped.predict_proba(X)
    assert np.abs(together - alone).max() <= 1e-6
    assert np.array_equal(together.argmax(axis=1), alone.argmax(axis=1))


@pytest.mark.parametrize(("config", "n_in"), [(ALL_LAYERS, 64), ([{"type": "relu"}, *TINY_MLP], 784)],
                         ids=["all-layers", "relu-first"])
def test_the_input_is_left_as_it_was(config: list[dict[str, Any]], n_in: int) -> None:
    """The in-place ReLUs write only into arrays the pass made itself, even when a ReLU comes first."""
    net = Network.from_config(config, seed=4)
    X = np.random.default_rng(3).random((3, n_in), dtype=np.float32) - 0.5
    before = X.copy()
    net.logits(X)
    assert np.array_equal(X, before)


def test_weights_changed_in_place_are_used_at_once() -> None:
    """The plan holds the layers, not copies of their weights: training or reloading in place shows."""
    net = Network.from_config(TINY_CNN, seed=5)
    X = np.random.default_rng(4).random((2, 784), dtype=np.float32)
    before = net.logits(X)
    conv = net.layers[1]
    assert isinstance(conv, Conv2D)
    conv.params["W"] *= -1.5
    conv.params["b"] += 0.25
    ref = reference_logits(net, X)
    assert np.abs(net.logits(X) - before).max() > 0.1
    assert np.abs(net.logits(X) - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())


def test_plan_fuses_only_what_it_may() -> None:
    net = Network.from_config(ALL_LAYERS, seed=6)
    names = [name for name, _ in net.plan.images + net.plan.rows]
    # the first convolution is followed by ReLU and pooling; the second by a ReLU only
    assert names == ["image", "conv2d+relu+maxpool2d", "conv2d", "relu", "flatten", "dense+relu", "dense"]
    assert [name for name, _ in net.plan.rows] == ["dense+relu", "dense"]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")  # Python ≥ 3.12
def test_a_forked_process_warms_its_own_blas_buffers(shipped: Network) -> None:
    """A process forked after a forward pass (digitpad-serve's workers) runs ``warm_blas`` again
    on its own first pass: the buffers it inherits are write-protected until written in it."""
    shipped.logits(np.zeros((1, 784), dtype=np.float32))
    assert inference.warm_blas.cache_info().currsize == 1
    pid = os.fork()
    if pid == 0:  # the child: its exit code says what it found
        cleared = inference.warm_blas.cache_info().currsize == 0
        shipped.logits(np.zeros((1, 784), dtype=np.float32))
        os._exit(0 if cleared and inference.warm_blas.cache_info().currsize == 1 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert inference.warm_blas.cache_info().currsize == 1  # the parent's is left as it was
