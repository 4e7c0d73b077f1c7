"""Temperature scaling (Guo et al. 2017) and the expected calibration error."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.losses import log_softmax, softmax


def nll(logits: NDArray[np.floating[Any]], y: NDArray[np.integer[Any]], T: float) -> float:
    """Mean negative log-likelihood of logits (m, 10) divided by temperature T."""
    logp = log_softmax(logits.astype(np.float64) / T, axis=1)
    return -float(logp[np.arange(y.shape[0]), y].mean())


def fit_temperature(logits: NDArray[np.floating[Any]], y: NDArray[np.integer[Any]],
                    lo: float = 0.05, hi: float = 20.0, iters: int = 60) -> float:
    """The T > 0 that minimises the NLL of softmax(logits / T) on (logits (m, 10), y (m,)).

    The NLL is convex in 1/T, so a golden-section search on log T finds it."""
    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(logits, y, math.exp(c)), nll(logits, y, math.exp(d))
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(logits, y, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(logits, y, math.exp(d))
    return math.exp((a + b) / 2)


def expected_calibration_error(probs: NDArray[np.floating[Any]], y: NDArray[np.integer[Any]],
                               n_bins: int = 15) -> float:
    """ECE: Σ_b (n_b / n)·|accuracy_b − confidence_b| over equal-width confidence bins.
    probs: (m, 10), y: (m,)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def calibrated(logits: NDArray[np.floating[Any]], T: float) -> NDArray[np.floating[Any]]:
    """Probabilities (m, 10) of logits (m, 10) at temperature T."""
    return softmax(logits / T, axis=1)
