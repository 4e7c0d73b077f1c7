"""Photo-like test images made at test time: digits drawn in ballpoint blue on grey paper under a
lamp to one side, with camera noise, saved as JPEG, upright or stored turned with an EXIF
Orientation (``scripts.datasets.make_photos.save_photo``), so that where the writing is in the
upright photo is known exactly. Seeded: the same arguments make the same bytes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from scripts.datasets.make_photos import save_photo
from tests.drawing import coverage

Box = tuple[int, int, int, int]  # x, y, width, height in the upright photo's pixels
INK = np.array([35, 50, 135], np.float32)  # ballpoint blue
PAPER = np.array([232, 228, 214], np.float32)
TABLE = np.array([70, 52, 40], np.float32)  # dark wood


def photo(text: str = "7", size: tuple[int, int] = (900, 675), height: float = 0.5, orientation: int = 0,
          table: float = 0.0, seed: int = 0) -> tuple[bytes, list[Box]]:
    """A JPEG photo (upright ``size``, W × H) of ``text`` (digits of ``tests.drawing.SHAPES``)
    written across its middle, each digit ``height`` of the photo's height tall; and each digit's
    box in the upright photo. ``orientation`` (3, 6 or 8) stores it turned, with that EXIF tag;
    ``table``: that share of the width, on the left, is a dark table beside the paper."""
    W, H = size
    h = height * H
    w, gap, pen = 0.6 * h, 0.25 * h, 0.09 * h
    left = (W - len(text) * w - (len(text) - 1) * gap) / 2
    cov = np.zeros((H, W), np.float32)
    boxes = []
    for k, digit in enumerate(text):
        one = coverage(size, (left + k * (w + gap), (H - h) / 2, w, h), pen, digit)
        ys, xs = np.nonzero(one > 0.5)
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1))
        cov = np.maximum(cov, one)
    rng = np.random.default_rng(seed)
    lamp = np.linspace(0.7, 1.0, W, dtype=np.float32)[None, :, None]  # light falls off to the left
    page = PAPER * lamp * np.ones((H, 1, 1), np.float32)
    page = page + (INK - page) * cov[..., None]
    page[:, :round(table * W)] = TABLE
    page = page + rng.normal(0, 6, (H, W, 3)).astype(np.float32)
    buf = io.BytesIO()
    save_photo(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), buf, 85, orientation)  # type: ignore[arg-type]
    return buf.getvalue(), boxes


def overlap(a: Box | list[int], b: Box | list[int]) -> float:
    """Intersection over union of two boxes (x, y, width, height)."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)
