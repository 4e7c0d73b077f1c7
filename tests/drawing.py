"""Synthetic drawings for tests: one digit shape, drawn at any size, place, pen and style."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

# A "7" with a crossbar-free stem and a "4", as polylines in a unit box (x right, y down).
SHAPES: dict[str, list[list[tuple[float, float]]]] = {
    "7": [[(0.05, 0.05), (0.95, 0.05), (0.45, 1.0)]],
    "4": [[(0.7, 1.0), (0.7, 0.0), (0.0, 0.68), (1.0, 0.68)]],
    "1": [[(0.5, 0.0), (0.5, 1.0)]],
}
SUPER = 4  # draw at 4× and average down: anti-aliased edges like a browser canvas


def coverage(size: tuple[int, int], box: tuple[float, float, float, float], width: float,
             shape: str = "7") -> np.ndarray:
    """(H, W) float32 ink coverage of ``shape`` fitted in box = (left, top, box_w, box_h) px."""
    W, H = size
    big = Image.new("L", (W * SUPER, H * SUPER), 0)
    draw = ImageDraw.Draw(big)
    left, top, bw, bh = box
    r = width * SUPER / 2
    for line in SHAPES[shape]:
        pts = [((left + x * bw) * SUPER, (top + y * bh) * SUPER) for x, y in line]
        draw.line(pts, fill=255, width=round(width * SUPER))
        for x, y in pts:  # round caps and joins
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = big.resize((W, H), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255


def render(cov: np.ndarray, style: str = "dark_on_white") -> Image.Image:
    """Paint coverage in an ink style: dark_on_white, light_on_black, transparent, coloured."""
    if style == "transparent":
        rgba = np.zeros((*cov.shape, 4), np.uint8)
        rgba[..., 3] = np.round(cov * 255)
        return Image.fromarray(rgba)
    ink, paper = {"dark_on_white": ((20, 20, 20), (255, 255, 255)),
                  "light_on_black": ((250, 250, 250), (0, 0, 0)),
                  "coloured": ((200, 30, 60), (250, 245, 215))}[style]
    ink_a, paper_a = np.array(ink, np.float32), np.array(paper, np.float32)
    rgb = paper_a + (ink_a - paper_a) * cov[..., None]
    return Image.fromarray(np.round(rgb).astype(np.uint8))


def encode(img: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def drawing(size: tuple[int, int] = (280, 280), box: tuple[float, float, float, float] = (60, 40, 150, 200),
            width: float = 16, style: str = "dark_on_white", shape: str = "7", fmt: str = "PNG") -> bytes:
    return encode(render(coverage(size, box, width, shape), style), fmt)
