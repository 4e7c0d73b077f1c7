"""Softmax stability, optimizers, schedules, the training loop and calibration."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from model.calibration import calibrated, expected_calibration_error, fit_temperature
from model.losses import cross_entropy, log_softmax, softmax
from model.network import Network
from model.optimizers import OPTIMIZERS, learning_rate, make_optimizer
from model.train import TrainConfig, train
from tests.model_fixtures import TINY_CNN, TINY_MLP, toy_problem


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_and_loss_stay_finite_for_huge_logits(scale: float) -> None:
    Z = np.array([[scale, 0.0], [0.0, scale], [-scale, -scale]] + [[0.0, 0.0]] * 7).T  # (2, 10)
    P = softmax(Z)
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert np.isfinite(log_softmax(Z)).all()
    loss, dZ = cross_entropy(Z, np.array([0, 2]))
    assert np.isfinite(loss) and np.isfinite(dZ).all()
    if scale > 0:  # the first example is confidently right (loss 0), the second wrong by 2000
        assert loss == pytest.approx(1000.0, rel=1e-6)


def test_cross_entropy_of_uniform_logits_is_log_10() -> None:
    loss, dZ = cross_entropy(np.zeros((4, 10)), np.array([0, 1, 2, 3]))
    assert loss == pytest.approx(np.log(10))
    np.testing.assert_allclose(dZ.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("name,lr", [("gd", 0.5), ("momentum", 0.05), ("rmsprop", 0.003), ("adam", 0.003)])
def test_each_optimizer_reduces_the_loss(name: str, lr: float) -> None:
    X, y = toy_problem(128)
    net = Network.from_config(TINY_MLP, seed=0)
    before, _ = net.evaluate(X, y)
    opt = make_optimizer(name, weight_decay=1e-4)
    params = [p for _, p, _ in net.parameters()]
    for _ in range(30):
        net.loss_and_grads(X, y)
        opt.step(params, [layer.grads[n.split(".")[1]] for n, _, layer in net.parameters()], lr)
    after, _ = net.evaluate(X, y)
    assert after < 0.5 * before, f"{name}: loss {before:.3f} → {after:.3f}"


def test_every_optimizer_is_covered_and_unknown_names_fail() -> None:
    assert set(OPTIMIZERS) == {"gd", "momentum", "rmsprop", "adam"}
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs")


def test_schedules() -> None:
    assert learning_rate("constant", 0.1, 0.7) == 0.1
    assert learning_rate("cosine", 0.1, 0.0) == pytest.approx(0.1)
    assert learning_rate("cosine", 0.1, 1.0) == pytest.approx(0.001)
    assert learning_rate("step", 0.1, 0.8) == pytest.approx(0.001)
    assert learning_rate("cosine", 0.1, 0.05, warmup=0.1) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        learning_rate("exp", 0.1, 0.5)


@pytest.mark.parametrize("config", [TINY_MLP, TINY_CNN], ids=["mlp", "cnn"])
def test_a_network_overfits_64_examples(config: list[dict[str, object]]) -> None:
    rng = np.random.default_rng(5)
    X = rng.random((64, 784)).astype(np.float32)  # pure noise: only memorising fits it
    y = rng.integers(0, 10, 64)
    net = Network.from_config(config, seed=0)
    cfg = TrainConfig(epochs=200, batch_size=0, optimizer="adam", lr=0.003, schedule="constant")
    history = train(net, X, y, X, y, cfg)
    assert net.evaluate(X, y)[1] == 1.0, history[-1]


def test_training_is_reproducible_and_keeps_the_best_epoch() -> None:
    X, y = toy_problem(256)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.003, augment={}, seed=4)
    nets = [Network.from_config(TINY_MLP, seed=4) for _ in range(2)]
    histories = [train(n, X[:200], y[:200], X[200:], y[200:], cfg) for n in nets]
    for (_, a, _), (_, b, _) in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [h["loss"] for h in histories[0]] == [h["loss"] for h in histories[1]]
    best = max(h["val_accuracy"] for h in histories[0])
    assert nets[0].evaluate(X[200:], y[200:])[1] == pytest.approx(best)


def test_early_stopping_stops_when_validation_does_not_improve() -> None:
    X, y = toy_problem(64)
    net = Network.from_config(TINY_MLP, seed=0)
    cfg = TrainConfig(epochs=50, batch_size=0, optimizer="gd", lr=0.0, schedule="constant", patience=3)
    history = train(net, X, y, X, y, cfg)
    assert len(history) == 4  # epoch 1 sets the best, three stale epochs stop it


def test_temperature_scaling_fixes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 4000)
    logits = rng.normal(0, 1, (4000, 10))
    logits[np.arange(4000), y] += 1.5
    # With unit Gaussian noise the true posterior is softmax(1.5·logits), so logits·4
    # are over-confident by a factor 4 / 1.5: that is the temperature to find.
    overconfident = logits * 4
    T = fit_temperature(overconfident, y)
    assert pytest.approx(4 / 1.5, rel=0.05) == T
    before = expected_calibration_error(calibrated(overconfident, 1.0), y)
    after = expected_calibration_error(calibrated(overconfident, T), y)
    assert after < 0.03 < before


def test_ece_is_zero_for_perfectly_calibrated_bins() -> None:
    probs = np.full((10, 10), 0.0)
    probs[:, 0] = 1.0
    assert expected_calibration_error(probs, np.zeros(10, dtype=int)) == 0.0
    assert expected_calibration_error(probs, np.ones(10, dtype=int)) == 1.0


def test_one_network_serves_eight_threads_at_once() -> None:
    """Predicting writes nothing on the network: eight threads hammering one network get
    bit-identical answers to the serial ones, and no layer gains an attribute."""
    net = Network.from_config(TINY_CNN, seed=3)
    rng = np.random.default_rng(0)
    inputs = [rng.random((int(rng.integers(1, 12)), 784)).astype(np.float32) for _ in range(32)]
    serial = [net.predict_proba(x) for x in inputs]
    attributes = [set(vars(layer)) for layer in net.layers]
    barrier = threading.Barrier(8)

    def hammer(start: int) -> list[tuple[int, np.ndarray]]:
        barrier.wait()  # all eight start together
        order = [(start + j) % len(inputs) for j in range(2 * len(inputs))]
        return [(i, net.predict_proba(inputs[i])) for i in order]

    with ThreadPoolExecutor(8) as pool:
        results = [r for rs in pool.map(hammer, range(0, 32, 4)) for r in rs]
    assert len(results) == 8 * 2 * len(inputs)
    assert all(np.array_equal(p, serial[i]) for i, p in results)
    assert [set(vars(layer)) for layer in net.layers] == attributes
