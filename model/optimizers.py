"""Gradient descent and its improved variants, updating parameters in place.

Each optimizer's ``step(params, grads, lr)`` takes matching lists of arrays.
``weight_decay`` is decoupled (Loshchilov & Hutter): ``p ← p − lr·λ·p``,
applied to arrays with more than one dimension (weights, not biases)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


class Optimizer:
    name = "gd"

    def __init__(self, weight_decay: float = 0.0) -> None:
        self.weight_decay = weight_decay
        self.t = 0  # steps taken

    def step(self, params: list[Array], grads: list[Array], lr: float) -> None:
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if self.weight_decay and p.ndim > 1:
                p *= 1.0 - lr * self.weight_decay
            self.update(i, p, g, lr)

    def update(self, i: int, p: Array, g: Array, lr: float) -> None:
        """Plain gradient descent: p ← p − lr·g."""
        p -= lr * g


class Momentum(Optimizer):
    """SGD with momentum: v ← β·v + g; p ← p − lr·v."""

    name = "momentum"

    def __init__(self, beta: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(weight_decay)
        self.beta = beta
        self.v: dict[int, Array] = {}

    def update(self, i: int, p: Array, g: Array, lr: float) -> None:
        v = self.v.setdefault(i, np.zeros_like(p))
        v *= self.beta
        v += g
        p -= lr * v


class RMSProp(Optimizer):
    """s ← ρ·s + (1 − ρ)·g²; p ← p − lr·g / (√s + ε)."""

    name = "rmsprop"

    def __init__(self, rho: float = 0.9, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(weight_decay)
        self.rho, self.eps = rho, eps
        self.s: dict[int, Array] = {}

    def update(self, i: int, p: Array, g: Array, lr: float) -> None:
        s = self.s.setdefault(i, np.zeros_like(p))
        s *= self.rho
        s += (1.0 - self.rho) * g * g
        p -= lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Kingma & Ba: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
    p ← p − lr·m̂ / (√v̂ + ε) with the bias corrections folded into the step size.

    Fused in the numpy sense: every operation writes into the moment arrays or one scratch
    array per parameter, so a step allocates nothing: fresh arrays each step made Adam much slower
    than plain gradient descent (docs/benchmarks.md has both, with the command)."""

    name = "adam"

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m: dict[int, Array] = {}
        self.v: dict[int, Array] = {}
        self.scratch: dict[int, Array] = {}

    def update(self, i: int, p: Array, g: Array, lr: float) -> None:
        m = self.m.setdefault(i, np.zeros_like(p))
        v = self.v.setdefault(i, np.zeros_like(p))
        tmp = self.scratch.setdefault(i, np.empty_like(p))
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp                                  # m ← β1·m + (1−β1)·g
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp                                  # v ← β2·v + (1−β2)·g²
        step = lr * math.sqrt(1.0 - self.beta2 ** self.t) / (1.0 - self.beta1 ** self.t)
        eps = self.eps * math.sqrt(1.0 - self.beta2 ** self.t)
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step
        p -= tmp                                  # p ← p − step·m / (√v + ε)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": Optimizer, "momentum": Momentum, "rmsprop": RMSProp, "adam": Adam}


def make_optimizer(name: str, weight_decay: float = 0.0) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](weight_decay=weight_decay)


def learning_rate(schedule: str, lr: float, progress: float, warmup: float = 0.0) -> float:
    """The learning rate at ``progress`` ∈ [0, 1] of training.

    ``constant``; ``cosine`` decays to 1% of lr; ``step`` divides by 10 at 50% and
    75%. ``warmup`` (a fraction of training) ramps linearly from 0 first."""
    if warmup > 0 and progress < warmup:
        return lr * progress / warmup
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        x = (progress - warmup) / max(1e-12, 1.0 - warmup)
        return lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, x))))
    if schedule == "step":
        return lr * (0.1 ** ((progress >= 0.5) + (progress >= 0.75)))
    raise ValueError(f"unknown schedule {schedule!r}: use constant, cosine or step")
