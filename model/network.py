"""A network: a list of layers run in order, ending in logits for softmax.

Input X: (m, 784) float32 in [0, 1], one row per 28×28 image, white ink on
black, exactly as MNIST; logits and probabilities come out as (m, 10). One
layout from end to end: examples are rows (see model/layers.py). Predicting
writes nothing on the network, so threads may share one."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from model import inference
from model.layers import Array, Cache, Layer, build_layer
from model.losses import cross_entropy, log_softmax, softmax


class Network:
    def __init__(self, layers: list[Layer], temperature: float = 1.0) -> None:
        self.layers = layers
        self.temperature = temperature
        self.first_trainable = next((i for i, layer in enumerate(layers) if layer.params), 0)
        self.plan = inference.plan(layers)  # how ``logits`` runs the layers when serving

    @classmethod
    def from_config(cls, configs: list[dict[str, Any]], seed: int = 0,
                    dtype: type = np.float32) -> Network:
        """Build a freshly initialised network from a list of ``Layer.config()`` dicts."""
        rng = np.random.default_rng(seed)
        return cls([build_layer(c, rng=rng, dtype=dtype, seed=seed + 1 + i)
                    for i, c in enumerate(configs)])

    def config(self) -> list[dict[str, Any]]:
        return [layer.config() for layer in self.layers]

    def logits(self, X: Array, caches: list[Cache] | None = None) -> Array:
        """X: (m, 784) → Z: (m, 10), before softmax and temperature. With ``caches`` (one dict
        per layer) this is a training pass: dropout is on and each layer keeps its backprop buffers.
        Without, the layers run as ``model/inference.py`` arranges them, with the same results."""
        if caches is None:
            return inference.run(self.plan, X)
        A = X
        for i, layer in enumerate(self.layers):
            A = layer.forward(A, caches[i])
        return A

    def loss_and_grads(self, X: Array, y: NDArray[np.integer[Any]], first: int | None = None) -> tuple[float, Array]:
        """Forward in training mode, backward, gradients left in each layer's ``grads``.
        Returns the mean cross-entropy and the logits (m, 10). Backpropagation stops at layer
        ``first`` (default: the first with parameters): the layers before it get no gradients,
        as when fine-tuning leaves them frozen."""
        first = self.first_trainable if first is None else first
        caches: list[Cache] = [{} for _ in self.layers]
        Z = self.logits(X, caches)
        loss, dA = cross_entropy(Z, y)
        for i in range(len(self.layers) - 1, first - 1, -1):
            dA = self.layers[i].backward(dA, caches[i], need_input_grad=i > first)  # type: ignore[assignment]
        return loss, Z

    def predict_proba(self, X: Array, batch_size: int = 1000) -> Array:
        """X: (m, 784) → probabilities (m, 10), calibrated by the stored temperature."""
        if 0 < X.shape[0] <= batch_size:
            return softmax(self.logits(X) / self.temperature)
        out = [softmax(self.logits(X[i:i + batch_size]) / self.temperature)
               for i in range(0, X.shape[0], batch_size)]
        return np.concatenate(out) if out else np.zeros((0, 10), dtype=np.float32)

    def predict_logits(self, X: Array, batch_size: int = 1000) -> Array:
        """X: (m, 784) → raw logits (m, 10), batched to bound memory."""
        out = [self.logits(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)]
        return np.concatenate(out)

    def predict(self, X: Array) -> NDArray[np.intp]:
        """X: (m, 784) → predicted digits (m,)."""
        return self.predict_logits(X).argmax(axis=1)

    def evaluate(self, X: Array, y: NDArray[np.integer[Any]]) -> tuple[float, float]:
        """Mean cross-entropy (temperature 1) and accuracy of X: (m, 784) against y: (m,)."""
        Z = self.predict_logits(X)
        logp = log_softmax(Z)
        loss = -float(logp[np.arange(y.shape[0]), y].mean())
        return loss, float((Z.argmax(axis=1) == y).mean())

    def parameters(self) -> list[tuple[str, Array, Layer]]:
        """(name, array, layer) for every parameter, names like ``"3.W"``."""
        return [(f"{i}.{k}", v, layer) for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()]

    def n_params(self) -> int:
        return sum(int(p.size) for _, p, _ in self.parameters())
