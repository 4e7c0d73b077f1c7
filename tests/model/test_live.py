"""Live training's model side: the steppable trainer, its data, and the tutorial's step maths."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from app.training import catalogue
from model import livedata
from model.live import NETWORKS, LiveData, RunConfig, Trainer, train_offline
from model.network import Network
from model.presets import PRESETS
from model.tutorial import EQUATIONS, one_step
from tests.paths import ROOT

# MNIST where the tests may find it: the server's setting, else the training scripts' default folder,
# else the machine's canonical copy beside the checkout (../shared/mnist, as the brief has it)
MNIST = next((p for p in (Path(os.environ.get("DIGITPAD_MNIST_DIR") or ROOT / "data" / "mnist"),
                          ROOT.parent / "shared" / "mnist") if livedata.has_mnist(p)), ROOT / "data" / "mnist")


@pytest.fixture(scope="module")
def data() -> LiveData:
    return livedata.load("subset")


def small(data: LiveData, n: int = 600) -> LiveData:
    """The first ``n`` training images, for runs that must be quick."""
    return dataclasses.replace(data, X=data.X[:n], y=data.y[:n], full_batch=min(n, data.full_batch))


def test_the_api_names_the_networks_the_trainer_has() -> None:
    assert set(catalogue.NETWORKS) == set(NETWORKS)
    assert catalogue.FULL_BATCH == livedata.FULL_BATCH and catalogue.VALIDATION == livedata.VALIDATION
    assert catalogue.TRAIN_IMAGES["subset"] == livedata.SUBSET_TRAIN
    assert NETWORKS["tutorial"] == PRESETS["blog"][0]  # the tutorial's network is the blog preset's


def test_the_subset_is_the_shipped_cut(data: LiveData) -> None:
    assert data.X.shape == (livedata.SUBSET_TRAIN, 784) and data.X.dtype == np.uint8
    assert data.X_val.shape == (livedata.VALIDATION, 784) and data.X_val.dtype == np.float32
    assert data.full_batch == livedata.FULL_BATCH
    assert set(np.unique(data.y)) == set(range(10)) and data.X_val.min() >= 0.0 and data.X_val.max() <= 1.0
    assert livedata.SUBSET.stat().st_size < 4_000_000


@pytest.mark.skipif(not livedata.has_mnist(MNIST), reason="needs MNIST")
def test_mnist_and_the_subset_share_validation_and_full_batch(data: LiveData) -> None:
    full = livedata.load("mnist", MNIST)
    assert len(full.y) == 60000 - livedata.VALIDATION
    np.testing.assert_array_equal(full.X_val, data.X_val)
    np.testing.assert_array_equal(full.X[:livedata.SUBSET_TRAIN], data.X)


def test_the_cache_maps_the_same_arrays(data: LiveData, tmp_path: Path) -> None:
    cache = tmp_path
    mapped = livedata.load("subset", cache=cache)
    assert isinstance(mapped.X, np.memmap) and (cache / "subset" / "X.npy").is_file()
    np.testing.assert_array_equal(mapped.X, data.X)
    np.testing.assert_array_equal(livedata.load("subset", cache=cache).y, data.y)  # second time: mapped as it is


@pytest.mark.parametrize("network,optimizer,batch", [("tutorial", "gd", 0), ("mlp", "adam", 32),
                                                     ("cnn", "momentum", 8)])
def test_same_config_same_run_however_often_it_is_looked_at(data: LiveData, network: str, optimizer: str,
                                                            batch: int) -> None:
    cfg = RunConfig(network=network, optimizer=optimizer, learning_rate=0.01, batch_size=batch, steps=6, seed=4)
    offline = train_offline(cfg, small(data))
    watched = Trainer(cfg, small(data))
    for _ in range(cfg.steps):
        watched.step()
        watched.validate()
        watched.report()
        watched.first_layer()
    for a, b in zip(offline.params, watched.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert offline.steps == watched.steps == cfg.steps


def test_the_tutorial_learns_and_a_huge_rate_diverges(data: LiveData) -> None:
    cfg = RunConfig(learning_rate=0.5, steps=60)
    learned = train_offline(cfg, small(data, 2000))
    assert learned.validate()[1] > 0.6 and not learned.diverged()
    blown = train_offline(dataclasses.replace(cfg, learning_rate=1e6), small(data, 2000))
    assert blown.diverged() and blown.steps < 10


def test_mini_batches_cover_the_training_images_once_per_pass(data: LiveData) -> None:
    t = Trainer(RunConfig(network="mlp", optimizer="adam", learning_rate=1e-3, batch_size=50), small(data, 200))
    seen = [t.batch()[1] for _ in range(4)]
    assert sorted(np.concatenate(seen).tolist()) == sorted(small(data, 200).y.tolist())


@pytest.mark.parametrize("network,shape,units", [("tutorial", (28, 28), 10), ("mlp", (28, 28), 16),
                                                 ("cnn", (5, 5), 8)])
def test_first_layer_pictures(data: LiveData, network: str, shape: tuple[int, int], units: int) -> None:
    pictures, got = Trainer(RunConfig(network=network), small(data)).first_layer()
    assert got == shape and pictures.shape == (units, shape[0] * shape[1])


def test_confusion_counts_the_validation_set(data: LiveData) -> None:
    t = Trainer(RunConfig(), small(data))
    counts = t.confusion()
    assert counts.sum() == len(data.y_val)
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(data.y_val, minlength=10))
    assert np.trace(counts) == round(t.validate()[1] * len(data.y_val))


def test_step_maths_match_the_networks_backward_pass(data: LiveData) -> None:
    net = Network.from_config(NETWORKS["tutorial"], seed=3, dtype=np.float64)
    x, label = data.X[5].astype(np.float64) / 255.0, int(data.y[5])
    W1, b1, W2, b2 = (p for _, p, _ in net.parameters())
    step = one_step(W1, b1, W2, b2, x, label, alpha=0.1)
    loss, _ = net.loss_and_grads(x[None], np.array([label]))
    assert step.loss_before == pytest.approx(loss, rel=1e-12)
    for name, (layer, key) in {"dW1": (0, "W"), "db1": (0, "b"), "dW2": (2, "W"), "db2": (2, "b")}.items():
        np.testing.assert_allclose(step.columns()[name], net.layers[layer].grads[key], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(step.columns()["W1"], W1 - 0.1 * net.layers[0].grads["W"], rtol=1e-12)
    assert list(step.columns()) == list(EQUATIONS)
    shapes = {name: a.shape for name, a in step.columns().items()}
    assert shapes["Z1"] == shapes["db1"] == shapes["b2"] == (10, 1) and shapes["dW1"] == (10, 784)


def test_one_step_on_one_image_lowers_its_loss(data: LiveData) -> None:
    net = Network.from_config(NETWORKS["tutorial"], seed=0)
    W1, b1, W2, b2 = (p for _, p, _ in net.parameters())
    step = one_step(W1, b1, W2, b2, data.X[0] / 255.0, int(data.y[0]), alpha=0.01)
    assert step.loss_after < step.loss_before
    np.testing.assert_array_equal(net.layers[0].params["W"], W1)  # the network's own parameters are untouched
