"""Accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

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
