"""The forward pass as a server runs it: the layers' own maths, in a cheaper order.

``Network.logits(X)`` without caches runs the steps ``plan`` makes from the layers. They
compute what calling each layer's ``forward`` in turn computes (``tests/model/test_inference.py``
checks them against that and against a direct convolution), with four changes that only move
work around:

* **Slices of images.** ``run`` sends ``SLICE`` images at a time through the image steps, so each
  step's output is still in the CPU's cache when the next step reads it (a large batch at once
  would write its im2col rows, 800 numbers per output pixel of the second convolution, to main
  memory and read them back). The dense steps after the flatten take all the rows at once.
* **Pool, then bias and ReLU.** A convolution followed by a ReLU and a 2×2 max-pool is one step,
  ``ReLU(pool(X ∗ W) + b)`` instead of ``pool(ReLU(X ∗ W + b))``. The two are equal: taking the
  maximum of a window commutes with adding the same ``b`` to every value in it and with the
  non-decreasing ReLU, after rounding too (rounding is monotone). The bias and the ReLU then
  touch a quarter of the values, in place; and the im2col rows come in an order that makes the
  pool two maxima of contiguous halves (``conv_relu_pool``).
* **A dense layer's ReLU in place**, on the dense layer's own fresh output.
* **No dropout**: it is the identity at inference.

Before the first pass, ``warm_blas`` runs a few throwaway matrix products (see there why).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.layers import Array, Conv2D, Dense, Dropout, Layer, MaxPool2D, ReLU

SLICE = 16  # images per pass: the largest step's buffers (the im2col rows) stay in the L3 cache
Step = tuple[str, Callable[[Array], Array]]  # (the layers it runs, e.g. "dense+relu"; the function)


@dataclass(frozen=True)
class Plan:
    images: list[Step]  # the steps up to the last flatten, run SLICE images at a time
    rows: list[Step]    # the rest, run on all the rows at once


def conv_relu_pool(conv: Conv2D, X: Array) -> Array:
    """``ReLU(pool(X ∗ W) + b)``, equal to ``pool(ReLU(X ∗ W + b))``: (m, H, W, C) → (m, Ho/2, Wo/2, F).

    ``X ∗ W`` is ``cols·Wmᵀ`` as in ``Conv2D``, with the im2col rows in another order (see
    ``im2col_by_parity``): its first half holds the even output rows, its second half the odd
    ones, so the two rows of every pooling window are the same row of the two halves, and the two
    columns of a window are the two halves of one row of 2F numbers. The 2×2 pool is then two
    maxima of contiguous halves."""
    p, k, F = conv.pad, conv.k, conv.c_out
    Xp = np.pad(X, ((0, 0), (p, p), (p, p), (0, 0))) if p else X
    Z = im2col_by_parity(Xp, k) @ conv._Wm().T  # (2·m·Ho/2·Wo, F)
    m, H, W, _ = Xp.shape
    h, w = (H - k + 1) // 2, (W - k + 1) // 2
    halves = Z.reshape(2, m * h * w, 2 * F)
    rows = np.maximum(halves[0], halves[1])  # each window's two rows: (m·h·w, 2F), its two columns side by side
    A = np.maximum(rows[:, :F], rows[:, F:]).reshape(m, h, w, F)
    A += conv.params["b"]
    return relu_(A)


def im2col_by_parity(X: Array, k: int) -> Array:
    """``im2col(X, k)`` (model/layers.py), the same rows in another order: those of the even
    output rows 0, 2, 4 … first, then those of the odd rows 1, 3, 5 …; within each half, by image,
    row and column as there. (m, H, W, C) → (m·Ho·Wo, k·k·C), Ho and Wo even. The same strided
    view and one copy, with one more axis for the parity."""
    X = np.ascontiguousarray(X)
    m, H, W, C = X.shape
    Ho, Wo = H - k + 1, W - k + 1
    if Ho < 1 or Wo < 1 or Ho % 2 or Wo % 2:
        raise ValueError(f"a {k}×{k} kernel on a {H}×{W} image does not leave an even, non-empty output to pool")
    s0, s1, s2, s3 = X.strides
    if C == 1:  # kernel offset by kernel offset, transposed: column-major, as im2col does
        shifted = np.ndarray((k, k, 2, m, Ho // 2, Wo), X.dtype, X, 0, (s1, s2, s1, s0, 2 * s1, s2))
        return shifted.reshape(k * k, m * Ho * Wo).T
    patches = np.ndarray((2, m, Ho // 2, Wo, k, k, C), X.dtype, X, 0, (s1, s0, 2 * s1, s2, s1, s2, s3))
    return patches.reshape(m * Ho * Wo, k * k * C)


def dense_relu(dense: Dense, A: Array) -> Array:
    """``ReLU(A·Wᵀ + bᵀ)``, the ReLU in place on the dense layer's output: (m, n_in) → (m, n_out)."""
    return relu_(dense.forward(A))


def relu_(A: Array) -> Array:
    """``max(A, 0)``, in place. The zeros are an array, not the scalar 0: numpy's vectorised
    maximum takes two arrays of the same layout, and runs several times slower against a scalar."""
    return np.maximum(A, zeros(A.size, A.dtype).reshape(A.shape), out=A)


_ZEROS: dict[np.dtype[Any], Array] = {}


def zeros(n: int, dtype: np.dtype[Any]) -> Array:
    """``n`` zeros, a view of one shared read-only array per dtype, made larger when needed."""
    z = _ZEROS.get(dtype)
    if z is None or z.size < n:
        z = np.zeros(max(n, 1 << 16), dtype)
        z.flags.writeable = False
        _ZEROS[dtype] = z
    return z[:n]


def plan(layers: list[Layer]) -> Plan:
    """The inference steps for ``layers``: each layer's ``forward``, but conv → ReLU → max-pool and
    dense → ReLU fused as above, and dropout left out. Parameters are read at each call, so
    training or reloading the weights in place changes the steps' results too."""
    steps: list[Step] = []
    i = 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1:i + 3]
        if isinstance(layer, Conv2D) and len(after) == 2 and isinstance(after[0], ReLU) \
                and isinstance(after[1], MaxPool2D):
            steps.append(("conv2d+relu+maxpool2d", functools.partial(conv_relu_pool, layer)))
            i += 3
        elif isinstance(layer, Dense) and after and isinstance(after[0], ReLU):
            steps.append(("dense+relu", functools.partial(dense_relu, layer)))
            i += 2
        else:
            if not isinstance(layer, Dropout):
                steps.append((layer.kind, layer.forward))
            i += 1
    split = max((i + 1 for i, (name, _) in enumerate(steps) if name == "flatten"), default=0)
    return Plan(steps[:split], steps[split:])


def run(plan: Plan, X: Array) -> Array:
    """X: (m, n_in) → the last step's output (m, n_out): the image steps ``SLICE`` images at a
    time, the dense steps after the flatten on all the rows at once (a matrix product with more
    rows runs faster, and their inputs are small)."""
    warm_blas()
    if X.shape[0] <= SLICE or not plan.images:
        return through(plan.rows, through(plan.images, X))
    slices = [through(plan.images, X[i:i + SLICE]) for i in range(0, X.shape[0], SLICE)]
    return through(plan.rows, np.concatenate(slices))


def through(steps: list[Step], A: Array) -> Array:
    for _, step in steps:
        A = step(A)
    return A


@functools.cache
def warm_blas() -> None:
    """A few 512×256 · 256×512 float32 products, once per process, to map OpenBLAS's work buffers.

    OpenBLAS's AVX2 single-precision kernel prefetches the next packed panel of its work buffer.
    When a product has few output columns (every layer's here has 256 or fewer), OpenBLAS packs
    each panel into the same place, and the prefetches run ahead into pages of the buffer that
    nothing has written yet: each one walks the page table and finds no page. The convolutions'
    and the dense layers' products run much slower for it, for the life of the process, until one
    product wide and deep enough to fill the buffer has run in it; these are those products.
    OpenBLAS gives each product running at the same time a buffer of its own, so they run on one
    thread per core this process may use, started together. The figures, and how they were
    found, are in docs/benchmarks.md ("The engine against onnxruntime")."""
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    together = threading.Barrier(threads)

    def products() -> None:
        rows = np.ones((512, 256), dtype=np.float32)  # as deep as the layers' products, and wider
        together.wait()
        for _ in range(2):  # so that the threads' products overlap even if one starts late
            rows @ rows.T

    others = [threading.Thread(target=products, name="warm-blas") for _ in range(threads - 1)]
    for t in others:
        t.start()
    products()
    for t in others:
        t.join()


# A forked process inherits those buffers write-protected (copy on write): the prefetches walk the
# page table again until each page has been written in it, so it warms them itself, on its first
# pass (digitpad-serve forks its workers from a supervisor that has loaded, and so run, the models).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=warm_blas.cache_clear)
