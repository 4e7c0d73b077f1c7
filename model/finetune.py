"""Fine-tuning on users' corrections, with a gate: the new weights are only good if they read
MNIST as well as before (within ``max_mnist_drop``) and read the held-out corrections better.

The corrections are split once (by the seed) into a training part and a held-out part. The
network's fully connected layers are trained from their current weights (convolutions stay as
they are) on the training part mixed with a replay sample of MNIST training digits
(``replay_per_correction`` for each correction: what keeps it from forgetting), at a small
learning rate for a few epochs, then both networks are measured on MNIST test and on the
held-out corrections. Pure numpy, seeded: the same inputs give the same
weights on the same machine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.network import Network
from model.train import TrainConfig, train
from model.verdict import split

F32 = NDArray[np.float32]
Labels = NDArray[np.integer[Any]]
NOT_A_DIGIT = 10


@dataclass
class FinetuneConfig:
    epochs: int = 12
    lr: float = 5e-5
    batch_size: int = 32
    replay_per_correction: int = 30
    holdout: float = 0.2        # share of the corrections held out to judge the result
    max_mnist_drop: float = 0.001  # MNIST test accuracy may fall by at most this (0.1 point)
    seed: int = 0


@dataclass
class Outcome:
    accepted: bool
    reason: str
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    corrections_used: int = 0
    corrections_held_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clone(net: Network) -> Network:
    copy = Network.from_config(net.config(), dtype=net.parameters()[0][1].dtype.type)
    copy.temperature = net.temperature
    for (_, mine, _), (_, theirs, _) in zip(copy.parameters(), net.parameters(), strict=True):
        mine[...] = theirs
    return copy


def measure(net: Network, X_test: F32, y_test: Labels, X_held: F32, y_held: Labels) -> dict[str, float]:
    """MNIST test accuracy (argmax over 0–9) and held-out corrections accuracy (argmax over all
    outputs, so "not a digit" counts when the network has it)."""
    digits, _ = split(net.predict_proba(X_test))
    return {"mnist_accuracy": float((digits.argmax(axis=1) == y_test).mean()),
            "held_out_accuracy": float((net.predict(X_held) == y_held).mean())}


def finetune(net: Network, X: F32, y: Labels, X_replay: F32, y_replay: Labels, X_test: F32, y_test: Labels,
             cfg: FinetuneConfig | None = None) -> tuple[Network | None, Outcome]:
    """Corrections X (n, 784) in [0, 1] and labels y (0–10) → the fine-tuned network, or None
    and why not."""
    cfg = cfg or FinetuneConfig()
    outputs = net.config()[-1]["n_out"]
    keep = y < outputs  # a 10-output network cannot learn "not a digit"
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(y))
    n_held = round(cfg.holdout * len(y))
    held, used = order[:n_held], order[n_held:]
    if n_held == 0 or len(used) == 0:
        return None, Outcome(False, f"too few corrections ({len(y)} usable): need at least "
                             f"{int(np.ceil(2 / cfg.holdout))} to hold some out")
    before = measure(net, X_test, y_test, X[held], y[held])
    picks = rng.choice(len(y_replay), size=min(len(y_replay), cfg.replay_per_correction * len(used)), replace=False)
    X_mix = np.concatenate([X[used], X_replay[picks]]).astype(np.float32)
    y_mix = np.concatenate([y[used], y_replay[picks]]).astype(np.int64)
    new = clone(net)
    # Only the fully connected layers learn: the convolutions' features are kept as they are,
    # which is most of what keeps a few dozen corrections from costing MNIST accuracy.
    frozen = [name for name, _, layer in new.parameters() if layer.config()["type"] != "dense"]
    train(new, X_mix, y_mix, X_mix, y_mix, TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, optimizer="adam",
                                                       lr=cfg.lr, schedule="cosine", augment={}, frozen=frozen,
                                                       seed=cfg.seed))
    after = measure(new, X_test, y_test, X[held], y[held])
    outcome = Outcome(False, "", before, after, len(used), n_held)
    drop = before["mnist_accuracy"] - after["mnist_accuracy"]
    if drop > cfg.max_mnist_drop + 1e-9:  # exactly 0.1 point is allowed
        outcome.reason = (f"MNIST test accuracy would fall {drop * 100:.2f} points "
                          f"({before['mnist_accuracy']:.2%} → {after['mnist_accuracy']:.2%}; at most "
                          f"{cfg.max_mnist_drop * 100:.1f} allowed)")
        return None, outcome
    if after["held_out_accuracy"] <= before["held_out_accuracy"]:
        outcome.reason = (f"the held-out corrections are not read better ({before['held_out_accuracy']:.1%} → "
                          f"{after['held_out_accuracy']:.1%})")
        return None, outcome
    outcome.accepted = True
    outcome.reason = (f"held-out corrections {before['held_out_accuracy']:.1%} → {after['held_out_accuracy']:.1%}, "
                      f"MNIST test {before['mnist_accuracy']:.2%} → {after['mnist_accuracy']:.2%}")
    return new, outcome
