"""Drawings as the page's canvas exports them, for the data sets, benchmarks and examples:
strokes drawn with a round pen (round caps and joins), black ink with alpha = coverage on
transparency, drawn ``supersample`` times larger and box-reduced so the edges are anti-aliased
like a browser's.

- ``strokes_png``: any strokes on any canvas;
- ``seven_png``: a 7 on a square canvas, as the drawing page sends one digit;
- ``number_png``: a number stroke-drawn from ``model.glyphs`` templates on a wide canvas, as the
  page sends in number mode."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from model.glyphs import DIGITS, perturb

Stroke = list[tuple[float, float]]  # points in the canvas's pixels
SEVEN = [(0.28, 0.22), (0.72, 0.22), (0.56, 0.5), (0.44, 0.82)]


def strokes_png(strokes: list[Stroke], size: tuple[int, int], pen: float, supersample: int = 2) -> bytes:
    """``strokes`` on a ``size`` canvas with a pen ``pen`` pixels wide, as PNG bytes."""
    W, H = size
    mask = Image.new("L", (W * supersample, H * supersample), 0)
    d = ImageDraw.Draw(mask)
    r = pen * supersample / 2
    for stroke in strokes:
        pts = [(x * supersample, y * supersample) for x, y in stroke]
        if len(pts) > 1:
            d.line(pts, fill=255, width=round(2 * r))
        for x, y in pts:
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.putalpha(mask.resize(size, Image.Resampling.BOX))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def seven_png(side: int = 280, pen: float = 0.07, supersample: int = 4) -> bytes:
    """A 7 on a ``side``-pixel square canvas with a pen ``pen`` of its side wide."""
    return strokes_png([[(x * side, y * side) for x, y in SEVEN]], (side, side), pen * side, supersample)


def number_png(digits: int, seed: int, size: tuple[int, int] = (900, 300), pen: float = 0.07) -> tuple[bytes, str]:
    """A number of ``digits`` digits drawn as the page draws it (pen ``pen`` of the height), and its text."""
    rng = np.random.default_rng(seed)
    W, H = size
    names = [n for n in DIGITS if "flag" not in n]
    picked = [names[i] for i in rng.integers(len(names), size=digits)]
    height = H * rng.uniform(0.55, 0.7)
    width = height * 0.6
    gap = (W * 0.9 - digits * width) / max(digits - 1, 1)
    strokes = []
    for k, name in enumerate(picked):
        x0, y0 = W * 0.05 + k * (width + gap), (H - height) / 2 + rng.normal(0, 0.04) * H
        strokes += [[(x0 + (px + 0.5) * width, y0 + (py + 0.5) * height) for px, py in stroke]
                    for stroke in perturb(DIGITS[name][1], rng)]
    return strokes_png(strokes, size, pen * H), "".join(str(DIGITS[n][0]) for n in picked)
