"""What a live run may train, as the API shows it: the networks, the optimizers, the defaults
(the tutorial's setting) and, per network, the settings that make it learn well.

The networks' layers are in ``model/live.py``, which the training process imports and the server
does not (training code stays out of the server); a test keeps the two lists of names in step."""

from __future__ import annotations

from typing import Any

NETWORKS: dict[str, dict[str, Any]] = {
    "tutorial": {
        "label": "784-10-10 (the tutorial)",
        "description": "784 pixels → 10 ReLU units → 10 softmax outputs, weights and biases drawn uniformly "
                       "from [-0.5, 0.5): the network of the tutorial this project grew from.",
        "suggested": {"optimizer": "gd", "learning_rate": 0.1, "batch_size": 0, "steps": 500},
    },
    "mlp": {
        "label": "784-128-10 MLP",
        "description": "784 pixels → 128 ReLU units → 10 outputs, He initialisation: with Adam and "
                       "mini-batches it passes 97 % in seconds.",
        "suggested": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "steps": 3000},
    },
    "cnn": {
        "label": "small CNN",
        "description": "conv 5×5·8 → ReLU → pool → conv 5×5·16 → ReLU → pool → 64 ReLU units → 10 outputs: "
                       "the first layer's eight 5×5 filters are what it learns to look for.",
        "suggested": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "steps": 2000},
    },
}
OPTIMIZERS: dict[str, str] = {
    "gd": "gradient descent, as in the tutorial: p ← p − α·g",
    "momentum": "gradient descent with momentum 0.9: v ← 0.9·v + g; p ← p − α·v",
    "rmsprop": "RMSProp: each parameter's step divided by its recent gradients' size",
    "adam": "Adam: momentum and RMSProp together, with bias correction",
}
DEFAULTS: dict[str, Any] = {"network": "tutorial", "optimizer": "gd", "learning_rate": 0.1, "batch_size": 0,
                            "steps": 500, "seed": 0, "paused": False}
FULL_BATCH = 6000  # model/livedata.py's FULL_BATCH: the largest batch a run may ask for
VALIDATION = 2000  # model/livedata.py's VALIDATION
TRAIN_IMAGES = {"mnist": 60000 - VALIDATION, "subset": 20000}  # training images of each source
