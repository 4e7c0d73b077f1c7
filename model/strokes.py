"""Drawing with a round pen, straight into an MNIST-style 28×28 image.

A drawing is a list of strokes, each a polyline of (x, y) points in any units,
y pointing down (a single point is a dot). ``render`` fits it the way MNIST
fitted its digits and the server fits a drawing (``app/imaging/preprocess.py``):
the ink's bounding box (pen included) scaled so its longer side is 20 px, its
centre of mass (stroke length-weighted) on pixel (14, 14), the strongest pixel 1.
Coverage is anti-aliased analytically: a pixel whose centre lies at distance d
from the pen's path gets ``clip(w/2 + 1/2 − d, 0, 1)`` for a pen of width w px.
Pure numpy; one vectorised distance computation per drawing."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
SIDE, BOX, CENTRE = 28, 20.0, 14.5  # continuous coordinates: pixel i spans [i, i + 1)
CHUNK = 8
_PIXELS = np.stack(np.meshgrid(np.arange(SIDE) + 0.5, np.arange(SIDE) + 0.5), axis=-1).reshape(-1, 2)


def segments(strokes: list[Array]) -> tuple[Array, Array]:
    """Start and end points (S, 2) of every segment; a dot is a segment of length 0."""
    starts, ends = [], []
    for s in strokes:
        s = np.asarray(s, dtype=np.float64).reshape(-1, 2)
        if len(s) == 1:
            starts.append(s)
            ends.append(s)
        else:
            starts.append(s[:-1])
            ends.append(s[1:])
    return np.concatenate(starts), np.concatenate(ends)


def render(strokes: list[Array], pen: float) -> NDArray[np.float32]:
    """Strokes → (28, 28) float32 in [0, 1], white ink on black, fitted as MNIST was.
    ``pen`` is the pen's width relative to the drawing's longer side (a dot fills the box)."""
    return render_batch([strokes], np.array([pen]))[0]


def _fit(strokes: list[Array], pen: float) -> tuple[Array, Array, float]:
    """A drawing's segments in output pixels and its pen's width there: the inked box (the
    path's box grown by the pen) with its longer side 20 px, the length-weighted centre of
    mass on (14.5, 14.5), kept inside the field. ``pen`` is relative to the path's longer side,
    so a small drawing with the same pen gets thick strokes, as on a canvas."""
    A, B = segments(strokes)
    lo = np.minimum(A.min(axis=0), B.min(axis=0))
    hi = np.maximum(A.max(axis=0), B.max(axis=0))
    span = float((hi - lo).max())
    width = pen * span if span > 1e-9 else 1.0  # the pen in the drawing's units
    scale = BOX / (span + width)
    A, B, size, width = (A - lo) * scale, (B - lo) * scale, (hi - lo) * scale, width * scale
    weight = np.linalg.norm(B - A, axis=1) + width * 0.5  # a dot still weighs something
    com = ((A + B) * 0.5 * weight[:, None]).sum(axis=0) / weight.sum()
    shift = np.clip(CENTRE - com, width / 2, SIDE - width / 2 - size)
    return A + shift, B + shift, width


def render_batch(drawings: list[list[Array]], pens: Array) -> NDArray[np.float32]:
    """Many drawings at once → (n, 28, 28) float32: one vectorised distance computation over
    all of them (each padded to the same number of segments by repeating its last one).
    ``pens``: each drawing's pen width relative to its longer side."""
    fitted = [_fit(d, float(p)) for d, p in zip(drawings, pens, strict=True)]
    S = max(len(a) for a, _, _ in fitted)
    A = np.stack([np.concatenate([a, np.repeat(a[-1:], S - len(a), axis=0)]) for a, _, _ in fitted])
    B = np.stack([np.concatenate([b, np.repeat(b[-1:], S - len(b), axis=0)]) for _, b, _ in fitted])
    widths = np.array([w for _, _, w in fitted], dtype=np.float32)
    P, A, B = _PIXELS.astype(np.float32), A.astype(np.float32), B.astype(np.float32)
    # in chunks of CHUNK drawings: the (chunk, 784, S) temporaries then stay in the CPU's cache
    d = np.concatenate([_distance(P, A[i:i + CHUNK], B[i:i + CHUNK]) for i in range(0, len(A), CHUNK)])
    ink = np.clip(widths[:, None] / 2 + 0.5 - d, 0.0, 1.0)
    peak = ink.max(axis=1, keepdims=True)
    return (ink / np.where(peak > 0, peak, 1.0)).reshape(-1, SIDE, SIDE).astype(np.float32)


def _distance(P: Array, A: Array, B: Array) -> Array:
    """Distance from each pixel centre P (p, 2) to the nearest segment A→B of each drawing
    (n, S, 2): (n, p). With AP = P − A and t = clip(AP·AB / |AB|², 0, 1), the squared distance
    is |AP|² − 2t·(AP·AB) + t²·|AB|²: two products over (n, p, S) and no (n, p, S, 2) array."""
    AB = B - A  # (n, S, 2)
    L2 = (AB * AB).sum(axis=2)[:, None, :]  # (n, 1, S)
    px, py = P[None, :, 0, None], P[None, :, 1, None]  # (1, p, 1)
    ax, ay, bx, by = A[:, None, :, 0], A[:, None, :, 1], AB[:, None, :, 0], AB[:, None, :, 1]  # (n, 1, S)
    dx, dy = px - ax, py - ay  # AP, (n, p, S) each
    dot = dx * bx + dy * by
    ap2 = dx * dx + dy * dy
    t = np.clip(dot / np.maximum(L2, 1e-12), 0.0, 1.0)
    d2 = ap2 - t * (2 * dot - t * L2)
    return np.sqrt(np.maximum(d2.min(axis=2), 0.0))
