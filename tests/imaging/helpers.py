"""Shared by the imaging tests: strokes drawn into an ink image, a number read by the shipped
model through the segmentation, and a reference labelling to check the fast one against."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from app.imaging.segment import Reader, segment
from app.serving.predictor import Predictor

Box = tuple[int, int, int, int]  # x, y, width, height on the canvas


def draw_strokes(size: tuple[int, int], items: list[tuple[list[np.ndarray], Box]], pen: int = 12) -> Image.Image:
    """Strokes (unit-box templates) drawn with a round pen into boxes of an "L" ink image."""
    img = Image.new("L", size, 0)
    d = ImageDraw.Draw(img)
    for strokes, (x, y, w, h) in items:
        for s in strokes:
            pts = [(x + px * w, y + py * h) for px, py in s]
            if len(pts) == 1:
                d.ellipse([pts[0][0] - pen / 2, pts[0][1] - pen / 2, pts[0][0] + pen / 2, pts[0][1] + pen / 2], 255)
            else:
                d.line(pts, fill=255, width=pen, joint="curve")
                for px, py in (pts[0], pts[-1]):
                    d.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], 255)
    return img


def reader(predictor: Predictor) -> Reader:
    def read(X: np.ndarray) -> np.ndarray:
        P, none = predictor.predict(X)
        return P.max(axis=1) * (1.0 - none)
    return read


def read_text(predictor: Predictor, ink: Image.Image) -> tuple[str, list[Box]]:
    found = segment(ink, reader(predictor))
    P, _ = predictor.predict(np.stack([piece.x for piece in found]))
    return "".join(str(int(p.argmax())) for p in P), [piece.box for piece in found]


def flood_labels(mask: np.ndarray, diagonal: bool = True) -> tuple[np.ndarray, int]:
    """Reference 8-connected (4-connected: not ``diagonal``) labelling by flood fill, cell by cell."""
    h, w = mask.shape
    out = np.zeros((h, w), int)
    n = 0
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if out[y0, x0]:
            continue
        n += 1
        out[y0, x0] = n
        todo = [(y0, x0)]
        while todo:
            y, x = todo.pop()
            for yy in range(max(y - 1, 0), min(y + 2, h)):
                for xx in range(max(x - 1, 0), min(x + 2, w)):
                    if mask[yy, xx] and not out[yy, xx] and (diagonal or yy == y or xx == x):
                        out[yy, xx] = n
                        todo.append((yy, xx))
    return out, n
