"""Layers that compose into a network, each with a forward and a backward pass.

Conventions (the classic derivation, in one layout from end to end):

* Examples are rows. A dense layer's input ``A`` is ``(m, n_in)``, its weights
  ``W`` are ``(n_out, n_in)`` and its bias ``b`` is ``(n_out, 1)`` as in the
  derivation (and the weights file), so ``Z = A·Wᵀ + bᵀ`` is ``(m, n_out)``: the
  derivation's ``Z = W·A + b`` with every matrix transposed.
* Image layers (Conv2D, MaxPool2D) work on ``(m, H, W, C)`` arrays, examples
  first and channels last, the layout im2col wants. ``Image`` and ``Flatten``
  are plain reshapes between ``(m, H·W·C)`` rows and ``(m, H, W, C)`` images.
* Layers are stateless when serving: ``forward(A)`` writes nothing on the layer,
  so one network can serve many threads at once. Training passes a ``cache``
  dict per layer; ``forward(A, cache)`` keeps there what backpropagation needs
  (and a cache means training: dropout is on). A cache holding ``"inference": True``
  asks for the backward pass of the serving network instead (``model/explain.py``):
  dropout off, and only the gradient with respect to the input, nothing written on
  the layer.
* ``backward(dZ, cache)`` receives the gradient of the *summed* loss with respect
  to the layer's output (at the softmax output that is ``dZ = A − Y``), stores
  the gradient of the *mean* loss in ``grads`` (``dW = dZᵀ·A_prev / m``,
  ``db = Σ dZ / m`` over examples) and returns ``dA_prev = dZ·W``, again per example.
* Every layer computes in the dtype of its parameters: float32 for training
  and serving, float64 for gradient checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]  # float32 (float64 in gradient checks); shapes in docstrings
Cache = dict[str, Any]  # what one layer's forward pass keeps for its backward pass, in training only


class Layer:
    """Base class: a layer with no parameters that passes values through."""

    kind = "layer"

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}

    def forward(self, A: Array, cache: Cache | None = None) -> Array:
        raise NotImplementedError

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """JSON-able hyperparameters: ``build_layer(config)`` rebuilds the layer."""
        return {"type": self.kind}

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}


class Dense(Layer):
    """``Z = A·Wᵀ + bᵀ``. A: (m, n_in) → Z: (m, n_out)."""

    kind = "dense"

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None,
                 init: str = "he", dtype: type = np.float32) -> None:
        super().__init__()
        self.n_in, self.n_out, self.init = n_in, n_out, init
        rng = rng or np.random.default_rng(0)
        if init == "he":  # He et al. 2015: keeps the variance of ReLU activations
            W = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in))
            b = np.zeros((n_out, 1))
        elif init == "uniform":  # the tutorial's rand() − 0.5 for both W and b
            W = rng.random((n_out, n_in)) - 0.5
            b = rng.random((n_out, 1)) - 0.5
        else:
            raise ValueError(f"unknown init {init!r}: use 'he' or 'uniform'")
        self.params = {"W": W.astype(dtype), "b": b.astype(dtype)}

    def forward(self, A: Array, cache: Cache | None = None) -> Array:
        if cache is not None:
            cache["A_prev"] = A
        Z: Array = A @ self.params["W"].T  # BLAS reads Wᵀ in place, no copy
        Z += self.params["b"].T
        return Z

    def backward(self, dZ: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        if not cache.get("inference"):
            m = dZ.shape[0]
            self.grads["W"] = (dZ.T @ cache["A_prev"]) / m
            self.grads["b"] = sum_rows(dZ)[:, None] / m
        return dZ @ self.params["W"] if need_input_grad else None

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "n_in": self.n_in, "n_out": self.n_out}

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"W": (self.n_out, self.n_in), "b": (self.n_out, 1)}


class ReLU(Layer):
    """``A = max(Z, 0)``; backward multiplies by ``g′(Z) = [Z > 0]``. Any shape."""

    kind = "relu"

    def forward(self, Z: Array, cache: Cache | None = None) -> Array:
        if cache is None:
            return np.maximum(Z, 0)  # serving: one pass, no mask
        mask = Z > 0
        cache["mask"] = mask
        return Z * mask  # faster than np.maximum(Z, 0) here, and the mask is wanted anyway

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        return dA * cache["mask"]


class Dropout(Layer):
    """Inverted dropout: in training zero a fraction ``rate`` and scale the rest by
    ``1/(1 − rate)``, so inference is the identity. Any shape."""

    kind = "dropout"

    def __init__(self, rate: float, seed: int = 0) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.rng = np.random.default_rng(seed)  # drawn from in training only

    def forward(self, A: Array, cache: Cache | None = None) -> Array:
        if cache is None or self.rate == 0.0 or cache.get("inference"):
            return A
        keep = 1.0 - self.rate
        mask = (self.rng.random(A.shape, dtype=np.float32) < keep).astype(A.dtype) / keep
        cache["mask"] = mask
        return A * mask

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        mask = cache.get("mask")
        return dA if mask is None else dA * mask

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "rate": self.rate}


class Image(Layer):
    """Rows to images: (m, H·W·C) → (m, H, W, C), row-major pixels. A reshape."""

    kind = "image"

    def __init__(self, height: int = 28, width: int = 28, channels: int = 1) -> None:
        super().__init__()
        self.shape = (height, width, channels)

    def forward(self, A: Array, cache: Cache | None = None) -> Array:
        return A.reshape(A.shape[0], *self.shape)

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        return dA.reshape(dA.shape[0], -1)

    def config(self) -> dict[str, Any]:
        h, w, c = self.shape
        return {"type": self.kind, "height": h, "width": w, "channels": c}


class Flatten(Layer):
    """Images to rows: (m, H, W, C) → (m, H·W·C). A reshape."""

    kind = "flatten"

    def forward(self, A: Array, cache: Cache | None = None) -> Array:
        if cache is not None:
            cache["shape"] = A.shape
        return A.reshape(A.shape[0], -1)

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        return dA.reshape(cache["shape"])


def sum_rows(A: Array) -> Array:
    """Σ over the rows of a 2-D array, as one matrix-vector product: numpy's own sum down the
    columns of a tall array is several times slower."""
    return np.ones(A.shape[0], dtype=A.dtype) @ A


def im2col(X: Array, k: int) -> Array:
    """Every k×k patch of X as a row: (m, H, W, C) → (m·Ho·Wo, k·k·C), Ho = H − k + 1.

    One strided view of X and one copy; no Python loop over pixels or examples. The view is made
    from X's strides directly (``sliding_window_view`` and a transpose give the same array but
    cost more than the copy on one 28×28 image). With C channels, patch by patch,
    (m, Ho, Wo, k, k, C): each patch row is k·C contiguous numbers, so the copy reads long runs.
    With one channel those runs would be single numbers, so the view goes kernel offset by kernel
    offset instead, (k, k, m, Ho, Wo): k·k shifted images copied in runs of Wo, and the result is
    their transpose — the same matrix, column-major, which matrix products take as it is."""
    X = np.ascontiguousarray(X)
    m, H, W, C = X.shape
    Ho, Wo = H - k + 1, W - k + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"a {k}×{k} kernel does not fit in a {H}×{W} image")
    s0, s1, s2, s3 = X.strides
    if C == 1:
        shifted = np.ndarray((k, k, m, Ho, Wo), X.dtype, X, 0, (s1, s2, s0, s1, s2))
        return shifted.reshape(k * k, m * Ho * Wo).T
    # (m, Ho, Wo, k, k, C): patch (i, j) starts at pixel (i, j) and steps over rows, columns, channels
    patches = np.ndarray((m, Ho, Wo, k, k, C), X.dtype, X, 0, (s0, s1, s2, s1, s2, s3))
    return patches.reshape(m * Ho * Wo, k * k * C)


class Conv2D(Layer):
    """2-D convolution (cross-correlation), stride 1, zero padding ``pad``.

    X: (m, H, W, C) → Z: (m, Ho, Wo, F) with Ho = H + 2·pad − k + 1.
    W: (F, C, k, k), b: (F,). Forward is ``Z = cols·Wmᵀ + b`` on the im2col
    matrix cols: (m·Ho·Wo, k·k·C), with Wm: (F, k·k·C) the kernels laid out to
    match. Backward: ``dW = dZᵀ·cols / m`` and ``dcols = dZ·Wm``, whose rows are
    added back onto the input positions they came from (col2im: one slice
    addition per kernel offset, k·k of them)."""

    kind = "conv2d"

    def __init__(self, c_in: int, c_out: int, k: int, pad: int = 0,
                 rng: np.random.Generator | None = None, dtype: type = np.float32) -> None:
        super().__init__()
        if not 0 <= pad < k:
            raise ValueError(f"pad must be in [0, {k - 1}], got {pad}")
        self.c_in, self.c_out, self.k, self.pad = c_in, c_out, k, pad
        rng = rng or np.random.default_rng(0)
        fan_in = c_in * k * k
        W: Array = rng.normal(0.0, np.sqrt(2.0 / fan_in), (c_out, c_in, k, k)).astype(dtype)
        # W keeps its (F, C, k, k) shape but is stored in im2col's order, (F, k, k, C) in
        # memory, so Wm is a view of it rather than a copy on every pass. Updates in place
        # (optimizers, weights.load) keep that layout.
        W = np.ascontiguousarray(W.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        self.params = {"W": W, "b": np.zeros(c_out, dtype=dtype)}

    def _Wm(self) -> Array:
        """Kernels as a matrix (F, k·k·C) in im2col's column order: a view of W as stored."""
        return self.params["W"].transpose(0, 2, 3, 1).reshape(self.c_out, -1)

    def forward(self, X: Array, cache: Cache | None = None) -> Array:
        m, H, W, _ = X.shape
        p, k = self.pad, self.k
        Xp = np.pad(X, ((0, 0), (p, p), (p, p), (0, 0))) if p else X
        cols = im2col(Xp, k)
        if cache is not None:
            cache["in_shape"] = Xp.shape
            if not cache.get("inference"):
                cache["cols"] = cols
        Z: Array = cols @ self._Wm().T
        Z += self.params["b"]
        return Z.reshape(m, H + 2 * p - k + 1, W + 2 * p - k + 1, self.c_out)

    def backward(self, dZ: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        m, Ho, Wo, F = dZ.shape
        k, C = self.k, self.c_in
        dZm = dZ.reshape(-1, F)  # (m·Ho·Wo, F)
        if not cache.get("inference"):
            cols = cache.pop("cols")  # the largest buffer, freed as soon as it is used
            # dWm = dZmᵀ·cols, (F, k·k·C); for column-major cols (one channel) BLAS is faster on the transpose
            dWm = ((cols.T @ dZm).T if cols.flags.f_contiguous and not cols.flags.c_contiguous else dZm.T @ cols) / m
            del cols
            self.grads["W"] = dWm.reshape(F, k, k, C).transpose(0, 3, 1, 2)
            self.grads["b"] = sum_rows(dZm) / m
        if not need_input_grad:
            return None
        # col2im: each kernel offset's share of dcols = dZm·Wm, computed into one contiguous
        # buffer and added onto the input positions it came from (k·k small products instead of
        # one large one, so the additions read contiguous memory)
        W4 = self.params["W"].transpose(0, 2, 3, 1)  # (F, k, k, C), a view
        dXp: Array = np.zeros(cache["in_shape"], dtype=dZ.dtype)
        part: Array = np.empty((m * Ho * Wo, C), dtype=dZ.dtype)
        for u in range(k):
            for v in range(k):
                np.matmul(dZm, W4[:, u, v, :], out=part)
                dXp[:, u:u + Ho, v:v + Wo, :] += part.reshape(m, Ho, Wo, C)
        p = self.pad
        return dXp[:, p:dXp.shape[1] - p, p:dXp.shape[2] - p, :] if p else dXp

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "c_in": self.c_in, "c_out": self.c_out,
                "k": self.k, "pad": self.pad}

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"W": (self.c_out, self.c_in, self.k, self.k), "b": (self.c_out,)}


def max_pool(X: Array) -> Array:
    """The maximum of each 2×2 window, stride 2: (m, H, W, C) → (m, H/2, W/2, C), H and W even.

    Two elementwise maxima of strided views, rows then columns: the same values as
    ``X.reshape(m, H/2, 2, W/2, 2, C).max(axis=(2, 4))``, which numpy runs as a much slower
    strided reduction."""
    m, H, W, C = X.shape
    if H % 2 or W % 2:
        raise ValueError(f"MaxPool2D needs even height and width, got {H}×{W}")
    Xr = X.reshape(m, H // 2, 2, W // 2, 2, C)
    pairs = np.maximum(Xr[:, :, 0], Xr[:, :, 1])  # (m, H/2, W/2, 2, C)
    out: Array = np.maximum(pairs[:, :, :, 0], pairs[:, :, :, 1])
    return out


class MaxPool2D(Layer):
    """2×2 max pooling, stride 2: (m, H, W, C) → (m, H/2, W/2, C), H and W even.

    The gradient goes to the position that held the maximum (to each of them
    on an exact tie, which after a ReLU only happens between zeros)."""

    kind = "maxpool2d"

    def forward(self, X: Array, cache: Cache | None = None) -> Array:
        out = max_pool(X)
        if cache is not None:
            m, H, W, C = X.shape
            cache["mask"] = X.reshape(m, H // 2, 2, W // 2, 2, C) == out[:, :, None, :, None, :]
        return out

    def backward(self, dA: Array, cache: Cache, need_input_grad: bool = True) -> Array | None:
        d = cache["mask"] * dA[:, :, None, :, None, :]
        m, h, _, w, _, C = d.shape
        return d.reshape(m, 2 * h, 2 * w, C)


def build_layer(config: dict[str, Any], rng: np.random.Generator | None = None,
                dtype: type = np.float32, seed: int = 0) -> Layer:
    """Rebuild a layer from ``Layer.config()``; raises ValueError on anything unknown."""
    kind = config.get("type")
    try:
        if kind == "dense":
            return Dense(int(config["n_in"]), int(config["n_out"]), rng=rng,
                         init=str(config.get("init", "he")), dtype=dtype)
        if kind == "conv2d":
            return Conv2D(int(config["c_in"]), int(config["c_out"]), int(config["k"]),
                          int(config.get("pad", 0)), rng=rng, dtype=dtype)
        if kind == "dropout":
            return Dropout(float(config["rate"]), seed=seed)
        if kind == "image":
            return Image(int(config["height"]), int(config["width"]), int(config["channels"]))
        simple: dict[str, type[Layer]] = {"relu": ReLU, "flatten": Flatten, "maxpool2d": MaxPool2D}
        if kind in simple:
            return simple[str(kind)]()
    except KeyError as e:
        raise ValueError(f"layer {kind!r} is missing the setting {e.args[0]!r}") from None
    raise ValueError(f"unknown layer type {kind!r}")
