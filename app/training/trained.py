"""What a worker does with a run's network: answer drawings with it, and show one step of the
tutorial's equations on one training image (``model/tutorial.py``). Both read the weights file
the run's process keeps up to date (at every pause, step and end), on a CPU thread."""

from __future__ import annotations

import base64
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.serving.predictor import Predictor
from app.training.runs import Run
from model.tutorial import EQUATIONS, one_step
from model.weights import WeightsError, load
from model.weights import version as file_version

SHOWN = 100        # a term of more numbers than this is sent as pictures and a few columns
FIRST_COLUMNS = 8  # the columns sent of such a term: the image's most inked pixels
_LOADED: OrderedDict[tuple[str, int], Predictor] = OrderedDict()  # the last few networks, by file and change


class NotTrainedYet(Exception):
    """The run's process has not written its weights file yet (it is still starting)."""


def predictor(run: Run) -> Predictor:
    """The run's latest network as a served model named "trained" (the last few kept loaded)."""
    path = run.dir / "weights.npz"
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise NotTrainedYet from None
    found = _LOADED.get(key)
    if found is None:
        try:
            net, meta = load(path)
        except WeightsError:  # replaced as it was read: the next request gets the new one
            raise NotTrainedYet from None
        found = _LOADED[key] = Predictor(net, {**meta, "name": "trained"}, path, file_version(path))
        while len(_LOADED) > 4:
            _LOADED.popitem(last=False)
    return found


def training_images(run: Run) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The run's training images (n, 784) and labels, mapped from the training folder's cache."""
    spec = run.spec()
    folder = Path(spec["cache"]) / spec["data"]["source"]
    return np.load(folder / "X.npy", mmap_mode="r"), np.load(folder / "y.npy", mmap_mode="r")


def as_pictures(rows: NDArray[np.float64]) -> list[str]:
    scale = np.abs(rows).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    pixels = np.round(128 + 127 * rows / scale).astype(np.uint8)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in pixels]


def term(name: str, a: NDArray[np.float64], columns: list[int]) -> dict[str, Any]:
    """A term of the step as the page shows it; one of more than ``SHOWN`` numbers (a 10×784
    matrix) as pictures, and its numbers at ``columns`` only."""
    out: dict[str, Any] = {"name": name, "equation": EQUATIONS[name], "shape": list(a.shape),
                           "min": float(a.min()), "max": float(a.max())}
    if a.size > SHOWN:
        out["values"] = a[:, columns].tolist()
        out["columns"] = columns
        out["pictures"] = as_pictures(a)
    else:
        out["values"] = a.tolist()
    return out


def inked_columns(x: NDArray[np.uint8]) -> list[int]:
    """The ``FIRST_COLUMNS`` pixels of the image with the most ink, in reading order: where a
    10×784 term's numbers say something (a blank pixel's column of dW1 is all 0)."""
    return sorted(int(j) for j in np.argsort(-x.astype(np.int64), kind="stable")[:FIRST_COLUMNS])


def maths(run: Run, image: int, x: NDArray[np.uint8], label: int) -> dict[str, Any]:
    """One step of the tutorial's equations on training image ``image`` (pixels ``x``, ``label``)
    with the run's latest parameters and learning rate."""
    net = predictor(run).net
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    W2, b2 = net.layers[2].params["W"], net.layers[2].params["b"]
    alpha = float(run.spec()["settings"]["learning_rate"])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        step = one_step(W1, b1, W2, b2, x.astype(np.float64) / 255.0, label, alpha)
    return {"image": image, "label": label, "pixels": base64.b64encode(x.tobytes()).decode("ascii"),
            "learning_rate": alpha, "loss_before": step.loss_before, "loss_after": step.loss_after,
            "terms": [term(name, a, inked_columns(x)) for name, a in step.columns().items()]}
