"""The training loop: mini-batches, augmentation, a learning-rate schedule,
per-epoch validation and early stopping. It reports through callbacks and
never prints; the test set never enters here."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.augment import augment, augment_config
from model.glyphs import NONE, draw_digits, draw_non_digits
from model.network import Network
from model.optimizers import learning_rate, make_optimizer


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128          # 0 means the full training set (full-batch descent)
    optimizer: str = "adam"        # gd, momentum, rmsprop, adam
    lr: float = 1e-3
    schedule: str = "cosine"       # constant, cosine, step
    warmup: float = 0.0            # share of training spent ramping the rate up
    weight_decay: float = 0.0
    augment: dict[str, float] | None = None  # AugmentConfig fields; None = no augmentation
    patience: int = 0              # stop after this many epochs without a better validation accuracy; 0 = never
    # Fresh stroke-drawn examples each epoch, as shares of the training set: {"digits": styled digits
    # (model.glyphs.DIGITS), "non_digits": drawings labelled 10, "not a digit", "font_digits" and
    # "font_letters": drawn from the glyphs typed in fonts that train() is handed}; None = none
    synthetic: dict[str, float] | None = None
    frozen: list[str] | None = None  # parameters left as they are, by name ("1.W", …): fine-tuning
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes kept in the metadata

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _synthetic_count(n: int, cfg: TrainConfig) -> int:
    return sum(round(share * n) for share in (cfg.synthetic or {}).values())


Glyphs = tuple[NDArray[np.float32], NDArray[np.integer[Any]]]  # typed in fonts: (n, 784), labels 0–10


def with_synthetic(X: NDArray[np.float32], y: NDArray[np.integer[Any]], shares: dict[str, float],
                   rng: np.random.Generator, fonts: Glyphs | None = None
                   ) -> tuple[NDArray[np.float32], NDArray[np.integer[Any]]]:
    """X, y plus freshly drawn styled digits and non-digits (label 10), and glyphs picked at random
    from ``fonts`` (digits, letters), in the given shares of len(X)."""
    n_digits, n_none = round(shares.get("digits", 0.0) * len(X)), round(shares.get("non_digits", 0.0) * len(X))
    parts, labels = [X], [y]
    if n_digits:
        D, yD, _ = draw_digits(n_digits, rng)
        parts.append(D)
        labels.append(yD.astype(y.dtype))
    if n_none:
        parts.append(draw_non_digits(n_none, rng)[0])
        labels.append(np.full(n_none, NONE, dtype=y.dtype))
    for key, letters in (("font_digits", False), ("font_letters", True)):
        if shares.get(key):
            if fonts is None:
                raise ValueError(f"synthetic share {key!r} needs glyphs typed in fonts")
            pool = np.flatnonzero((fonts[1] == NONE) == letters)
            pick = pool[rng.integers(0, len(pool), round(shares[key] * len(X)))]
            parts.append(fonts[0][pick])
            labels.append(fonts[1][pick].astype(y.dtype))
    return np.concatenate(parts).astype(np.float32, copy=False), np.concatenate(labels)


BatchCallback = Callable[[int, int, float, float], None]   # step, steps, running loss, running acc
EpochCallback = Callable[[dict[str, Any]], None]


def train(net: Network, X: NDArray[np.float32], y: NDArray[np.integer[Any]],
          X_val: NDArray[np.float32], y_val: NDArray[np.integer[Any]], cfg: TrainConfig,
          on_batch: BatchCallback | None = None,
          on_epoch: EpochCallback | None = None, fonts: Glyphs | None = None) -> list[dict[str, Any]]:
    """Train ``net`` in place on X: (n, 784), y: (n,); validate on X_val, y_val. ``fonts``: the
    glyphs the synthetic shares "font_digits" and "font_letters" are drawn from.

    Leaves the network at its best epoch by validation accuracy and returns
    the per-epoch history."""
    rng = np.random.default_rng(cfg.seed)
    aug = augment_config(cfg.augment) if cfg.augment is not None else None
    opt = make_optimizer(cfg.optimizer, cfg.weight_decay)
    slots = [(layer, name.split(".")[1]) for name, _, layer in net.parameters()  # (layer, "W" or "b")
             if name not in (cfg.frozen or [])]
    params = [layer.params[key] for layer, key in slots]
    # Backpropagate no further than the first layer that learns: frozen layers need no gradients.
    first = min((i for i, layer in enumerate(net.layers) if any(layer is s for s, _ in slots)), default=0)
    n = X.shape[0] + _synthetic_count(X.shape[0], cfg)
    bs = cfg.batch_size if 0 < cfg.batch_size < n else n
    steps = math.ceil(n / bs)
    total = cfg.epochs * steps
    history: list[dict[str, Any]] = []
    best_acc, best_params, stale = -1.0, [p.copy() for p in params], 0
    X_mnist, y_mnist = X, y
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        if cfg.synthetic:
            X, y = with_synthetic(X_mnist, y_mnist, cfg.synthetic, rng, fonts)
        order = rng.permutation(n) if bs < n else np.arange(n)
        loss_sum, correct, seen = 0.0, 0, 0
        lr = cfg.lr
        for s in range(steps):
            idx = order[s * bs:(s + 1) * bs]
            xb, yb = (X, y) if bs == n else (X[idx], y[idx])  # full batch: no copy of the whole set
            if aug is not None:
                xb = augment(xb, rng, aug)
            loss, Z = net.loss_and_grads(xb, yb, first)
            lr = learning_rate(cfg.schedule, cfg.lr, (epoch * steps + s) / total, cfg.warmup)
            opt.step(params, [layer.grads[key] for layer, key in slots], lr)
            loss_sum += loss * len(idx)
            correct += int((Z.argmax(axis=1) == yb).sum())
            seen += len(idx)
            if on_batch is not None:
                on_batch(s + 1, steps, loss_sum / seen, correct / seen)
        val_loss, val_acc = net.evaluate(X_val, y_val)
        record = {"epoch": epoch + 1, "loss": loss_sum / seen, "train_accuracy": correct / seen,
                  "val_loss": val_loss, "val_accuracy": val_acc, "lr": lr,
                  "seconds": time.perf_counter() - start}
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if not math.isfinite(record["loss"]):
            break
        if val_acc > best_acc:
            best_acc, best_params, stale = val_acc, [p.copy() for p in params], 0
        else:
            stale += 1
            if cfg.patience and stale >= cfg.patience:
                break
    for p, best in zip(params, best_params, strict=True):
        p[...] = best
    return history
