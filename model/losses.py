"""Softmax and cross-entropy, one example per row: logits Z have shape (m, 10)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def log_softmax(Z: Array, axis: int = -1) -> Array:
    """log softmax(Z) along ``axis``, stable for any finite logits (±1000 included):
    subtracting the maximum makes every exponent ≤ 0."""
    shifted = Z - Z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(Z: Array, axis: int = -1) -> Array:
    """Probabilities that sum to 1 along ``axis``: ``exp(Z − max Z) / Σ exp(Z − max Z)``, stable for
    any finite logits for the same reason as ``log_softmax``."""
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))
    E /= E.sum(axis=axis, keepdims=True)
    return E


def one_hot(y: NDArray[np.integer[Any]], n_classes: int = 10, dtype: type = np.float32) -> Array:
    """Labels y: (m,) → Y: (m, n_classes) with Y[i, y[i]] = 1."""
    Y: Array = np.zeros((y.shape[0], n_classes), dtype=dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


def cross_entropy(Z: Array, y: NDArray[np.integer[Any]]) -> tuple[float, Array]:
    """Mean cross-entropy of logits Z: (m, 10) against labels y: (m,).

    Returns the loss and ``dZ = softmax(Z) − Y`` (m, 10), the gradient of the
    *summed* loss; the layers divide by m (see model/layers.py)."""
    logp = log_softmax(Z)
    m = y.shape[0]
    loss = -float(logp[np.arange(m), y].mean())
    dZ = np.exp(logp)
    dZ[np.arange(m), y] -= 1
    return loss, dZ
