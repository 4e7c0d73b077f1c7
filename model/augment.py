"""Random distortions of MNIST digits, so a network trained on them reads drawings.

One vectorised pass per batch: every image gets its own affine transform
(rotation, scale, shear, shift) plus a smooth elastic displacement field, the
source coordinates are sampled bilinearly, and then a random share of the
images has its strokes thickened or thinned by a grey-level dilation or
erosion, and another share is drawn again with a thin pen that traces only the darkest middle of
a stroke, so its faint parts vanish and its strokes may break. No Python loop over
images or pixels."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]  # float32
SIDE = 28
_CENTRE = (SIDE - 1) / 2.0


@dataclass(frozen=True)
class AugmentConfig:
    rotate: float = 12.0    # degrees, ±
    scale: float = 0.12     # relative, ±, independently in x and y
    shear: float = 0.15     # ±, x shifted by shear·y
    shift: float = 2.5      # pixels, ±
    elastic: float = 1.0    # pixels, standard deviation of the coarse displacement grid
    elastic_grid: int = 4   # the displacement field is a grid×grid random grid, upsampled
    stroke: float = 0.4     # share of images whose strokes are thickened or thinned
    cut: float = 0.0        # share of images redrawn with a thin pen (faint parts vanish, strokes break)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _upsample_matrix(n: int) -> NDArray[np.float32]:
    """(SIDE, n) matrix that bilinearly interpolates n grid values onto SIDE pixels."""
    pos = np.linspace(0, n - 1, SIDE)
    lo = np.minimum(np.floor(pos).astype(int), n - 2)
    frac = pos - lo
    U = np.zeros((SIDE, n), dtype=np.float32)
    U[np.arange(SIDE), lo] = 1 - frac
    U[np.arange(SIDE), lo + 1] = frac
    return U


def _sample(images: Array, sy: Array, sx: Array) -> Array:
    """Bilinear sampling of images (m, 28, 28) at source coordinates (m, 784); zero outside."""
    m = images.shape[0]
    padded = np.zeros((m, SIDE + 4, SIDE + 4), dtype=np.float32)
    padded[:, 2:-2, 2:-2] = images
    flat = padded.reshape(m, -1)
    sy = np.clip(sy, -1.0, SIDE) + 2  # in padded coordinates, neighbours stay inside
    sx = np.clip(sx, -1.0, SIDE) + 2
    y0 = np.floor(sy).astype(np.int32)
    x0 = np.floor(sx).astype(np.int32)
    wy = (sy - y0).astype(np.float32)
    wx = (sx - x0).astype(np.float32)
    w = SIDE + 4
    i00 = y0 * w + x0

    i00 += (np.arange(m, dtype=np.int32) * (w * w))[:, None]  # index into the flat batch
    flat_all = flat.ravel()

    def at(offset: int) -> Array:
        return flat_all.take(i00 + offset)

    top = at(0) * (1 - wx) + at(1) * wx
    bottom = at(w) * (1 - wx) + at(w + 1) * wx
    return top * (1 - wy) + bottom * wy


def _morph(images: Array, grow: bool) -> Array:
    """Grey dilation (grow) or erosion over the 4-neighbourhood: (m, 28, 28)."""
    fill = 0.0 if grow else 1.0
    p = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    stack = [p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]
    return np.maximum.reduce(stack) if grow else np.minimum.reduce(stack)


def _cubic_matrix(n: int, factor: int) -> NDArray[np.float32]:
    """(n·factor, n) matrix that enlarges n values by ``factor`` with the cubic convolution kernel
    (a = −0.5, as Pillow's BICUBIC), edge values repeated."""
    pos = (np.arange(n * factor) + 0.5) / factor - 0.5
    base = np.floor(pos).astype(int)
    M = np.zeros((n * factor, n), np.float32)
    for k in range(-1, 3):
        d = np.abs(pos - (base + k))
        w = np.where(d <= 1, 1.5 * d**3 - 2.5 * d**2 + 1, np.where(d < 2, -0.5 * d**3 + 2.5 * d**2 - 4 * d + 2, 0))
        np.add.at(M, (np.arange(n * factor), np.clip(base + k, 0, n - 1)), w)
    return M


CUT_FACTOR = 4
_ENLARGE = _cubic_matrix(SIDE, CUT_FACTOR)


def _cut(images: Array, rng: np.random.Generator) -> Array:
    """Each image drawn again with a thin pen, as a drawing of it would be: enlarged 4× (bicubic),
    kept above 70–85 % of its strongest value with a one-pixel edge, and shrunk back by averaging;
    its strongest pixel 1 again."""
    m = images.shape[0]
    big = _ENLARGE @ images @ _ENLARGE.T  # (m, 112, 112)
    level = rng.uniform(0.7, 0.85, (m, 1, 1)).astype(np.float32)
    big /= np.maximum(big.max(axis=(1, 2), keepdims=True), np.float32(1e-6))
    cover = np.clip((big - level) * CUT_FACTOR + np.float32(0.5), 0.0, 1.0)
    out = cover.reshape(m, SIDE, CUT_FACTOR, SIDE, CUT_FACTOR).mean(axis=(2, 4))
    return out / np.maximum(out.max(axis=(1, 2), keepdims=True), np.float32(1e-6))


def augment(X: Array, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> Array:
    """Distort a batch. X: (m, 784) float32 in [0, 1] → (m, 784) float32 in [0, 1].

    Labels are unchanged; the same generator state gives the same output."""
    m = X.shape[0]
    images = X.reshape(m, SIDE, SIDE).astype(np.float32, copy=False)
    f32 = np.float32
    theta: Array = np.deg2rad(rng.uniform(-cfg.rotate, cfg.rotate, (m,))).astype(f32)
    scale_x = rng.uniform(1 - cfg.scale, 1 + cfg.scale, (m,)).astype(f32)
    scale_y = rng.uniform(1 - cfg.scale, 1 + cfg.scale, (m,)).astype(f32)
    shear = rng.uniform(-cfg.shear, cfg.shear, (m,)).astype(f32)
    shift = rng.uniform(-cfg.shift, cfg.shift, (2, m)).astype(f32)
    cos, sin = np.cos(theta), np.sin(theta)
    # Each output pixel p (relative to the centre) reads from source = R·S⁻¹·H·p − shift,
    # with H a shear in x and S = diag(scale_x, scale_y): scale > 1 enlarges the digit.
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - _CENTRE
    xx, yy = xx.ravel()[None, :], yy.ravel()[None, :]
    px = (xx + shear[:, None] * yy) / scale_x[:, None]
    py = yy / scale_y[:, None]
    sx = cos[:, None] * px - sin[:, None] * py + _CENTRE - shift[0][:, None]
    sy = sin[:, None] * px + cos[:, None] * py + _CENTRE - shift[1][:, None]
    if cfg.elastic > 0:
        U = _upsample_matrix(cfg.elastic_grid)
        n = cfg.elastic_grid
        coarse = rng.normal(0.0, cfg.elastic, (2, m, n, n)).astype(np.float32)
        field = (U @ coarse @ U.T).reshape(2, m, -1)  # (2, m, 784)
        sy = sy + field[0]
        sx = sx + field[1]
    out = _sample(images, sy, sx).reshape(m, SIDE, SIDE)
    if cfg.stroke > 0:
        which: Array = rng.random((m,))
        strength: Array = rng.random((m,)).astype(np.float32)[:, None, None]
        thick: Array = which < cfg.stroke / 2
        thin: Array = (which >= cfg.stroke / 2) & (which < cfg.stroke)
        if thick.any():
            sel = out[thick]
            out[thick] = sel + strength[thick] * (_morph(sel, grow=True) - sel)
        if thin.any():
            sel = out[thin]
            out[thin] = sel - strength[thin] * (sel - _morph(sel, grow=False))
    if cfg.cut > 0:
        cut: Array = rng.random((m,)) < cfg.cut
        if cut.any():
            out[cut] = _cut(out[cut], rng)
    return np.clip(out, 0.0, 1.0).reshape(m, SIDE * SIDE)


def augment_config(values: dict[str, Any] | None) -> AugmentConfig:
    return AugmentConfig(**(values or {}))


def resolved_augment(values: dict[str, Any] | None) -> dict[str, float] | None:
    """What a training configuration's ``augment`` means in full: ``{}`` is every default
    distortion, spelled out (a weights file should say what was used); None is none."""
    return None if values is None else augment_config(values).to_dict()
