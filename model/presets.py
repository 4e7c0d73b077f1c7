"""Named architectures and training settings: the ones docs/model-card.md reports."""

from __future__ import annotations

import itertools
from typing import Any

from model.train import TrainConfig


def mlp(sizes: list[int], dropout: float = 0.0, init: str = "he") -> list[dict[str, Any]]:
    """Fully connected ReLU network, e.g. sizes [784, 800, 10]."""
    layers: list[dict[str, Any]] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append({"type": "dense", "n_in": n_in, "n_out": n_out, "init": init})
        if i < len(sizes) - 2:
            layers.append({"type": "relu"})
            if dropout:
                layers.append({"type": "dropout", "rate": dropout})
    return layers


def cnn(c1: int = 32, c2: int = 64, k: int = 5, hidden: int = 256, dropout: float = 0.4,
        outputs: int = 10) -> list[dict[str, Any]]:
    """conv k×k c1 → ReLU → pool → conv k×k c2 → ReLU → pool → dense hidden → ReLU → dropout → dense
    ``outputs`` (10 digits, or 11: the 11th is "not a digit")."""
    side = ((28 - k + 1) // 2 - k + 1) // 2
    return [
        {"type": "image", "height": 28, "width": 28, "channels": 1},
        {"type": "conv2d", "c_in": 1, "c_out": c1, "k": k, "pad": 0}, {"type": "relu"},
        {"type": "maxpool2d"},
        {"type": "conv2d", "c_in": c1, "c_out": c2, "k": k, "pad": 0}, {"type": "relu"},
        {"type": "maxpool2d"},
        {"type": "flatten"},
        {"type": "dense", "n_in": side * side * c2, "n_out": hidden}, {"type": "relu"},
        {"type": "dropout", "rate": dropout},
        {"type": "dense", "n_in": hidden, "n_out": outputs},
    ]


PRESETS: dict[str, tuple[list[dict[str, Any]], TrainConfig, str]] = {
    # The classic tutorial: 784-10-10, uniform init, full-batch GD, α = 0.1, 500 iterations.
    "blog": (mlp([784, 10, 10], init="uniform"),
             TrainConfig(epochs=500, batch_size=0, optimizer="gd", lr=0.1, schedule="constant"),
             "784-10-10 ReLU/softmax, full-batch gradient descent as in the classic tutorial"),
    "mlp": (mlp([784, 800, 800, 10], dropout=0.2),
            TrainConfig(epochs=40, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                        warmup=0.02, augment={}, patience=10),
            "784-800-800-10 with dropout and distortions"),
    "cnn": (cnn(),
            TrainConfig(epochs=30, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                        warmup=0.02, augment={}, patience=10),
            "conv5×5·32 → pool → conv5×5·64 → pool → 256 → 10 with dropout and distortions"),
    # The same CNN with an 11th output, "not a digit", trained on MNIST plus drawings made fresh
    # each epoch (model/glyphs.py): digits in the styles MNIST rarely shows, and non-digits; a
    # tenth of the images redrawn with a thin pen (model/augment.py), as numbers are often drawn.
    "honest": (cnn(outputs=11),
               TrainConfig(epochs=30, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                           warmup=0.02, augment={"cut": 0.1}, patience=10,
                           synthetic={"digits": 0.2, "non_digits": 0.25}),
               "conv5×5·32 → pool → conv5×5·64 → pool → 256 → 11 (10 digits and 'not a digit'), trained "
               "on MNIST and stroke-drawn digits and non-digits, with dropout and distortions"),
    # "honest" plus digits and letters typed in 144 handwriting fonts (scripts/datasets/make_font_glyphs.py):
    # it reads typed and handwriting-font numbers better, the European 1 and non-digits less well.
    "handwriting": (cnn(outputs=11),
                    TrainConfig(epochs=30, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                                warmup=0.02, augment={}, patience=10,
                                synthetic={"digits": 0.2, "non_digits": 0.25, "font_digits": 0.15,
                                           "font_letters": 0.04}),
                    "the honest CNN, trained also on digits and letters typed in 144 handwriting fonts"),
}
DEFAULT_PRESET = "honest"
