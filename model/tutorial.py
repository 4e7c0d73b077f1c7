"""One step of gradient descent on one image, for the tutorial's 784-10-10, every number kept.

The tutorial writes examples as columns: X is (784, m), and for one image m = 1:

    Z1 = W1·X + b1            (10, 1)
    A1 = ReLU(Z1)             (10, 1)
    Z2 = W2·A1 + b2           (10, 1)
    A2 = softmax(Z2)          (10, 1)
    dZ2 = A2 − Y              (10, 1)     Y: the label, one-hot
    dW2 = (1/m)·dZ2·A1ᵀ       (10, 10)
    db2 = (1/m)·Σ dZ2         (10, 1)
    dZ1 = W2ᵀ·dZ2 ⊙ ReLU′(Z1) (10, 1)
    dW1 = (1/m)·dZ1·Xᵀ        (10, 784)
    db1 = (1/m)·Σ dZ1         (10, 1)
    W1 ← W1 − α·dW1, b1 ← b1 − α·db1, W2 ← W2 − α·dW2, b2 ← b2 − α·db2

The code keeps the project's layout, examples as rows (model/layers.py): X is (m, 784) and each
line is its equation transposed, ``Z1 = X·W1ᵀ + b1ᵀ``. ``Step.columns`` gives every term back in
the tutorial's shapes. A test checks the gradients against the network's own backward pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.losses import log_softmax, one_hot, softmax

Array = NDArray[Any]
EQUATIONS = {
    "Z1": "Z1 = W1·X + b1", "A1": "A1 = ReLU(Z1)", "Z2": "Z2 = W2·A1 + b2", "A2": "A2 = softmax(Z2)",
    "Y": "Y = one_hot(label)", "dZ2": "dZ2 = A2 − Y", "dW2": "dW2 = (1/m)·dZ2·A1ᵀ", "db2": "db2 = (1/m)·Σ dZ2",
    "dZ1": "dZ1 = W2ᵀ·dZ2 ⊙ ReLU′(Z1)", "dW1": "dW1 = (1/m)·dZ1·Xᵀ", "db1": "db1 = (1/m)·Σ dZ1",
    "W1": "W1 ← W1 − α·dW1", "b1": "b1 ← b1 − α·db1", "W2": "W2 ← W2 − α·dW2", "b2": "b2 ← b2 − α·db2",
}


@dataclass
class Step:
    terms: dict[str, Array]  # every term of EQUATIONS, rows layout; W1, b1, W2, b2 after the update
    loss_before: float
    loss_after: float

    def columns(self) -> dict[str, Array]:
        """Every term in the tutorial's shapes (examples as columns): W and dW as they are, the rest transposed."""
        return {name: a if name in ("W1", "W2", "dW1", "dW2") else a.T for name, a in self.terms.items()}


def loss(W1: Array, b1: Array, W2: Array, b2: Array, X: Array, Y: Array) -> float:
    """Mean cross-entropy of the forward pass on X: (m, 784) against one-hot Y: (m, 10)."""
    Z2 = np.maximum(X @ W1.T + b1.T, 0) @ W2.T + b2.T
    return float(-(Y * log_softmax(Z2)).sum(axis=1).mean())


def one_step(W1: Array, b1: Array, W2: Array, b2: Array, x: Array, label: int, alpha: float) -> Step:
    """One step on one image x: (784,) float in [0, 1], with W1: (10, 784), b1: (10, 1), W2: (10, 10),
    b2: (10, 1) as the weights file holds them; the parameters given are not changed."""
    X = x.reshape(1, 784).astype(np.float64)
    W1, b1, W2, b2 = (np.asarray(p, dtype=np.float64) for p in (W1, b1, W2, b2))
    m = X.shape[0]
    Y = one_hot(np.array([label]), dtype=np.float64)
    Z1 = X @ W1.T + b1.T                   # Z1 = W1·X + b1
    A1 = np.maximum(Z1, 0)                 # A1 = ReLU(Z1)
    Z2 = A1 @ W2.T + b2.T                  # Z2 = W2·A1 + b2
    A2 = softmax(Z2)                       # A2 = softmax(Z2)
    dZ2 = A2 - Y                           # dZ2 = A2 − Y
    dW2 = dZ2.T @ A1 / m                   # dW2 = (1/m)·dZ2·A1ᵀ
    db2 = dZ2.sum(axis=0)[None] / m        # db2 = (1/m)·Σ dZ2
    dZ1 = (dZ2 @ W2) * (Z1 > 0)            # dZ1 = W2ᵀ·dZ2 ⊙ ReLU′(Z1)
    dW1 = dZ1.T @ X / m                    # dW1 = (1/m)·dZ1·Xᵀ
    db1 = dZ1.sum(axis=0)[None] / m        # db1 = (1/m)·Σ dZ1
    new = {"W1": W1 - alpha * dW1, "b1": b1 - alpha * db1.T,  # the update, as columns
           "W2": W2 - alpha * dW2, "b2": b2 - alpha * db2.T}
    terms = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2, "Y": Y, "dZ2": dZ2, "dW2": dW2, "db2": db2, "dZ1": dZ1,
             "dW1": dW1, "db1": db1, "W1": new["W1"], "b1": new["b1"].T, "W2": new["W2"], "b2": new["b2"].T}
    return Step(terms, loss(W1, b1, W2, b2, X, Y), loss(new["W1"], new["b1"], new["W2"], new["b2"], X, Y))
