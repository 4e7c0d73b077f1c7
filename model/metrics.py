"""Accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from numpy.typing import NDArray


def confusion_matrix(y: NDArray[np.integer[Any]], pred: NDArray[np.integer[Any]],
                     n_classes: int = 10) -> NDArray[np.int64]:
    """C[i, j] = how many examples of true class i were predicted as j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (y, pred), 1)
    return C


def per_class_accuracy(C: NDArray[np.int64]) -> NDArray[np.float64]:
    """Recall of each class from a confusion matrix: diag / row sums."""
    return np.diag(C) / np.maximum(C.sum(axis=1), 1)


def misread(X: NDArray[np.floating[Any]], y: NDArray[np.integer[Any]], pred: NDArray[np.integer[Any]],
            n: int = 48) -> list[dict[str, Any]]:
    """The first ``n`` examples read wrong, small enough for a weights file's metadata: index,
    truth, answer and the 28×28 image as base64 uint8 (784 bytes)."""
    wrong = np.flatnonzero(pred != y)[:n]
    return [{"index": int(i), "truth": int(y[i]), "answer": int(pred[i]),
             "image": base64.b64encode(np.round(X[i] * 255).astype(np.uint8).tobytes()).decode()} for i in wrong]
