"""Training one step at a time, for the live runs of the explorer's Train panel.

The same network, layers, loss and optimizers that train the shipped models (model/network.py,
model/optimizers.py), with model/train.py's loop turned inside out: the caller decides when to
take a step, when to look at the validation set and when to stop, so a run can be paused, stepped
and watched. A run is fixed by its ``RunConfig`` and its data: two trainers with the same config
and data take the same steps and end with the same weights, however often they are looked at.

Full batch (``batch_size`` 0) is gradient descent on the same ``LiveData.full_batch`` training
images every step, as in the tutorial; a mini-batch run draws from all the training images, in a
fresh seeded order each pass."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.layers import Conv2D, Dense
from model.network import Network
from model.optimizers import make_optimizer
from model.presets import PRESETS, cnn, mlp

# The three networks a learner can train live: the tutorial's 784-10-10 with its uniform
# initialisation (the "blog" preset), an MLP that passes 97 % within seconds, and a small CNN.
NETWORKS: dict[str, list[dict[str, Any]]] = {
    "tutorial": PRESETS["blog"][0],
    "mlp": mlp([784, 128, 10]),
    "cnn": cnn(c1=8, c2=16, k=5, hidden=64, dropout=0.0),
}
# A mean cross-entropy above this many nats gives the right digit a probability below e^-1000:
# the parameters have blown up, and no run was seen to come back from it (docs/benchmarks.md).
DIVERGED_LOSS = 1000.0
PICTURED_UNITS = 16  # the first layer's units drawn as pictures, at most


@dataclass(frozen=True)
class RunConfig:
    network: str = "tutorial"   # a key of NETWORKS
    optimizer: str = "gd"       # gd, momentum, rmsprop, adam (model/optimizers.py)
    learning_rate: float = 0.1
    batch_size: int = 0         # 0: full batch
    steps: int = 500
    seed: int = 0               # the initial weights and the mini-batches' order


@dataclass
class LiveData:
    """X: (n, 784) uint8 training images (maybe a memory map), y: (n,) labels; X_val: (v, 784)
    float32 in [0, 1], y_val: (v,); the first ``full_batch`` training images are the full batch."""

    X: NDArray[np.uint8]
    y: NDArray[np.uint8]
    X_val: NDArray[np.float32]
    y_val: NDArray[np.uint8]
    full_batch: int


def as_inputs(X: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 pixels (m, 784) → float32 in [0, 1], as model/mnist.py reads MNIST."""
    return X.astype(np.float32) / 255.0


class Trainer:
    """One run's network, optimizer and batches. ``step()`` takes one step; ``report()`` the
    training loss and accuracy of the steps since the last report."""

    def __init__(self, cfg: RunConfig, data: LiveData) -> None:
        if cfg.network not in NETWORKS:
            raise ValueError(f"unknown network {cfg.network!r}: choose from {', '.join(NETWORKS)}")
        self.cfg, self.data = cfg, data
        self.net = Network.from_config(NETWORKS[cfg.network], seed=cfg.seed)
        self.opt = make_optimizer(cfg.optimizer)
        self.slots = [(layer, name.split(".")[1]) for name, _, layer in self.net.parameters()]
        self.params = [layer.params[key] for layer, key in self.slots]
        self.rng = np.random.default_rng(cfg.seed)
        self.full = cfg.batch_size == 0
        if self.full:
            self.X_full, self.y_full = as_inputs(data.X[:data.full_batch]), np.asarray(data.y[:data.full_batch])
        self.order: NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self.at = 0          # where the next mini-batch starts in ``order``
        self.steps = 0       # steps taken
        self.loss = math.nan  # the last step's loss
        self._loss_sum, self._correct, self._seen = 0.0, 0, 0

    def batch(self) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
        """The next batch: the full batch, or the next ``batch_size`` images of a seeded order of
        all the training images (a fresh order when one runs out)."""
        if self.full:
            return self.X_full, self.y_full
        bs = self.cfg.batch_size
        if self.at + bs > len(self.order):
            self.order, self.at = self.rng.permutation(len(self.data.y)), 0
        idx = np.sort(self.order[self.at:self.at + bs])  # sorted: reads a memory map in order
        self.at += bs
        return as_inputs(self.data.X[idx]), np.asarray(self.data.y[idx])

    def step(self) -> float:
        """One step of the optimizer on the next batch; the batch's mean cross-entropy before it.
        A diverging run overflows to inf and NaN, which is its lesson, not a warning."""
        X, y = self.batch()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            loss, Z = self.net.loss_and_grads(X, y)
            self.opt.step(self.params, [layer.grads[key] for layer, key in self.slots], self.cfg.learning_rate)
        self.steps += 1
        self.loss = loss
        self._loss_sum += loss * len(y)
        self._correct += int((Z.argmax(axis=1) == y).sum())
        self._seen += len(y)
        return loss

    def report(self) -> tuple[float, float]:
        """Mean loss and accuracy of the training batches since the last report (the last
        step's when there were none), then start counting afresh."""
        if self._seen == 0:
            return self.loss, math.nan
        out = self._loss_sum / self._seen, self._correct / self._seen
        self._loss_sum, self._correct, self._seen = 0.0, 0, 0
        return out

    def diverged(self) -> bool:
        return not math.isfinite(self.loss) or self.loss > DIVERGED_LOSS

    def validate(self) -> tuple[float, float]:
        """Mean cross-entropy and accuracy on the validation images."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self.net.evaluate(self.data.X_val, self.data.y_val)

    def answers(self, X: NDArray[np.float32]) -> NDArray[np.intp]:
        """The digit the network reads in each row of X: (m, 784)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self.net.predict(X)

    def confusion(self) -> NDArray[np.int64]:
        """(10, 10) counts on the validation images: row = true digit, column = the answer."""
        counts = np.zeros((10, 10), dtype=np.int64)
        np.add.at(counts, (self.data.y_val, self.answers(self.data.X_val)), 1)
        return counts

    def first_layer(self) -> tuple[NDArray[np.float32], tuple[int, int]]:
        """The first learning layer's weights as pictures: (units, h·w) and (h, w). A dense layer
        on pixels gives each unit's 784 weights as 28×28; a convolution each filter's k×k."""
        layer = self.net.layers[self.net.first_trainable]
        W = layer.params["W"]
        if isinstance(layer, Conv2D):
            return W[:PICTURED_UNITS, 0].reshape(-1, layer.k * layer.k), (layer.k, layer.k)
        assert isinstance(layer, Dense)
        return W[:PICTURED_UNITS], (28, 28)


def train_offline(cfg: RunConfig, data: LiveData) -> Trainer:
    """All of ``cfg.steps`` at once, stopping early only if the run diverges: what a live run
    with the same config and data ends with."""
    trainer = Trainer(cfg, data)
    while trainer.steps < cfg.steps:
        trainer.step()
        if trainer.diverged():
            break
    return trainer
