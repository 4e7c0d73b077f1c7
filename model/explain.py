"""What the network does with one drawing: every layer's output, and the saliency map.

The saliency is the gradient of the winning digit's logit with respect to the 784 input pixels:
how much each pixel, brightened a little, would raise the score of the digit the network chose.
It is computed by the network's own backward pass (``Layer.backward``) started from a one-hot
``dZ`` at that logit, in inference mode: dropout off, no parameter gradients, nothing written on
the network, so it may run beside predictions on the same network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.layers import Cache
from model.network import Network

Array = NDArray[Any]


@dataclass
class Explanation:
    logits: Array                      # (n_out,): before softmax and temperature
    digit: int                         # the winning digit (argmax over 0–9)
    saliency: Array                    # (28, 28): d logit[digit] / d pixel
    outputs: list[tuple[str, Array]]   # each layer's kind and output for this drawing (no batch axis)


def explain(net: Network, x: Array) -> Explanation:
    """x: (784,) or (28, 28) in [0, 1] → its Explanation."""
    caches: list[Cache] = [{"inference": True} for _ in net.layers]
    A = np.asarray(x, dtype=net.parameters()[0][1].dtype).reshape(1, -1)
    outputs: list[tuple[str, Array]] = []
    for layer, cache in zip(net.layers, caches, strict=True):
        A = layer.forward(A, cache)
        outputs.append((layer.kind, A[0]))
    logits = A[0]
    digit = int(np.argmax(logits[:10]))
    dA: Array = np.zeros_like(A)
    dA[0, digit] = 1.0
    for layer, cache in zip(reversed(net.layers), reversed(caches), strict=True):
        dA = layer.backward(dA, cache, need_input_grad=True)  # type: ignore[assignment]
    return Explanation(logits, digit, dA.reshape(28, 28), outputs)
