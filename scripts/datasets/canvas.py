"""Drawings as the page's canvas exports them, for the data sets, benchmarks and examples:
strokes drawn with a round pen (round caps and joins), black ink with alpha = coverage on
transparency, drawn ``supersample`` times larger and box-reduced so the edges are anti-aliased
like a browser's.

- ``strokes_png``: any strokes on any canvas (``strokes_image``: the same, not yet a PNG);
- ``seven_png``: a 7 on a square canvas, as the drawing page sends one digit;
- ``number_png``: a number stroke-drawn from ``model.glyphs`` templates on a wide canvas, as the
  page sends in number mode;
- ``page_drawings``: digits and non-digits from ``model.glyphs`` as people draw them on the page,
  on canvases 280 px high (the page's export), square or wide (``page_strokes``: their strokes).

A canvas image is written as a PNG in the forms the page and browsers send: ``ink_png``, the
page's own (black ink on a palette, one byte a pixel, rows unfiltered, as ``static/pad.js``
builds it); ``chromium_png``, the RGBA PNG of Chromium's ``toDataURL`` (every row filtered "up",
zlib's fastest level); and Pillow's RGBA PNG (``strokes_png``)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

from model.glyphs import DIGITS, NON_DIGITS, perturb

Stroke = list[tuple[float, float]]  # points in the canvas's pixels
SEVEN = [(0.28, 0.22), (0.72, 0.22), (0.56, 0.5), (0.44, 0.82)]


def strokes_png(strokes: list[Stroke], size: tuple[int, int], pen: float, supersample: int = 2) -> bytes:
    """``strokes`` on a ``size`` canvas with a pen ``pen`` pixels wide, as PNG bytes."""
    out = io.BytesIO()
    strokes_image(strokes, size, pen, supersample).save(out, "PNG")
    return out.getvalue()


def strokes_image(strokes: list[Stroke], size: tuple[int, int], pen: float, supersample: int = 2) -> Image.Image:
    """``strokes`` on a ``size`` canvas with a pen ``pen`` pixels wide, an RGBA image."""
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
    return img


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


def page_drawings(n: int, seed: int = 0, height: int = 280, supersample: int = 4) -> list[Image.Image]:
    """``n`` drawings as the page exports them (RGBA, ``height`` px high, pen 7 % of it): see ``page_strokes``."""
    return [strokes_image(strokes, size, 0.07 * height, supersample) for strokes, size in page_strokes(n, seed, height)]


def page_strokes(n: int, seed: int = 0, height: int = 280) -> list[tuple[list[Stroke], tuple[int, int]]]:
    """``n`` drawings' strokes as drawn on the page, and the canvas size of each (``height`` px
    high): one in eight on a wide pad (1.5 or 3 times as wide), one in five not a digit, each
    drawing a quarter to most of the pad high, anywhere on it."""
    rng = np.random.default_rng(seed)
    names, kinds = list(DIGITS), list(NON_DIGITS)
    out = []
    for k in range(n):
        W = height if k % 8 else int(height * rng.choice([1.5, 3.0]))
        if k % 5 == 4:
            drawing = perturb(NON_DIGITS[kinds[rng.integers(len(kinds))]](rng), rng, 1.3)
        else:
            drawing = perturb(DIGITS[names[rng.integers(len(names))]][1], rng)
        h = rng.uniform(0.3, 0.85) * height
        x0 = rng.uniform(0.1 * height, W - 0.1 * height - 0.6 * h)
        y0 = rng.uniform(0.05 * height, 0.95 * height - h)
        strokes = [[(x0 + (x + 0.5) * 0.8 * h, y0 + (y + 0.5) * h) for x, y in s] for s in drawing]
        out.append((strokes, (W, height)))
    return out


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(rows: np.ndarray, size: tuple[int, int], colour: int, filter_type: int, level: int,
         extra: bytes = b"") -> bytes:
    """An 8-bit PNG of ``rows`` ((h, w × channels) uint8), every row filtered none (0) or up (2)."""
    raw = rows.astype(np.int16)
    if filter_type == 2:
        raw = np.diff(raw, axis=0, prepend=0)
    lines = np.concatenate([np.full((rows.shape[0], 1), filter_type, np.uint8), (raw % 256).astype(np.uint8)], axis=1)
    header = struct.pack(">IIBBBBB", *size, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
            + _chunk(b"IDAT", zlib.compress(lines.tobytes(), level)) + _chunk(b"IEND", b""))


def ink_png(img: Image.Image, level: int = 6) -> bytes:
    """An RGBA canvas of black ink as the page sends it: indexed colour, every palette entry black
    with alpha = its index, each pixel its alpha, rows unfiltered, zlib at ``level`` (6, the
    default of the browser's CompressionStream)."""
    palette = _chunk(b"PLTE", bytes(3 * 256)) + _chunk(b"tRNS", bytes(range(256)))
    return _png(np.asarray(img.getchannel("A")), img.size, 3, 0, level, palette)


def chromium_png(img: Image.Image) -> bytes:
    """An RGBA canvas as Chromium's ``toDataURL("image/png")`` writes it: every row filtered up, zlib level 1."""
    return _png(np.asarray(img.convert("RGBA")).reshape(img.height, -1), img.size, 6, 2, 1)
