"""Keep the drawing, drop isolated specks far from it.

Connected components are found on a coarse grid (at most ``GRID`` cells a side,
each cell the mean ink of a square of pixels, grown by one cell so strokes that
nearly touch count as one piece), labelled by ``app.imaging.components``. A speck is a piece at most ``SPECK_CELLS``
cells across. The heaviest piece that is not a speck is the drawing; another
piece is kept if it is substantial and no speck (≥ ``PART`` of the drawing's
mass: a separately drawn stroke), or close to the drawing (within ``NEAR`` of its
size) and more than a dust grain (≥ ``DUST`` of its mass)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops

from app.imaging.components import label, numbered
from app.imaging.errors import EmptyImage

GRID = 24
PART = 0.2
NEAR = 0.25
DUST = 0.01
SPECK_CELLS = 2  # a piece at most 2 cells across is a speck: ≤ 4% of the longer side always is, ≥ 8% never


def _box(cells: NDArray[np.bool_]) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _is_speck(box: tuple[int, int, int, int]) -> bool:
    return max(box[1] - box[0], box[3] - box[2]) + 1 <= SPECK_CELLS


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """Empty cells between two boxes (0 if they overlap or touch), Chebyshev distance."""
    dy = max(a[0] - b[1], b[0] - a[1], 0)
    dx = max(a[2] - b[3], b[2] - a[3], 0)
    return max(dy, dx)


def drop_specks(ink: Image.Image, origin: tuple[int, int] = (0, 0),
                size: tuple[int, int] | None = None) -> Image.Image:
    """"L" ink coverage (0 paper … 255 ink) → the same with far specks set to 0.

    ``ink`` may be the part, at ``origin``, of an image of ``size`` that has no ink
    elsewhere: the grid is the whole image's. Raises EmptyImage if there is no ink,
    or only specks."""
    W, H = size or ink.size
    ox, oy = origin
    cell = max(1, math.ceil(max(H, W) / GRID))
    bbox = ink.getbbox()
    if bbox is None:
        raise EmptyImage("The drawing is empty: draw a digit.")
    # Only the cells around the ink, one more all round (what growing reaches), within the
    # image: the grid stays the whole image's, and every cell left out is empty.
    left, top = max((bbox[0] + ox) // cell - 1, 0) * cell, max((bbox[1] + oy) // cell - 1, 0) * cell
    right = min((-(-(bbox[2] + ox) // cell) + 1) * cell, W)
    bottom = min((-(-(bbox[3] + oy) // cell) + 1) * cell, H)
    region = ink.crop((left - ox, top - oy, right - ox, bottom - oy))  # 0 beyond ``ink``
    cells = region.reduce(cell) if cell > 1 else region  # mean ink per cell, rounded: > 0 is occupied
    occupied_box = cells.getbbox()  # (left, top, right + 1, bottom + 1) of the occupied cells
    if occupied_box is None:
        raise EmptyImage("The drawing is empty: draw a digit.")
    mass = np.asarray(cells)
    occupied = mass > 0
    tall = occupied.copy()  # grow by one cell: 3×3 dilation, done as two 1-D passes
    tall[1:] |= occupied[:-1]
    tall[:-1] |= occupied[1:]
    grown = tall.copy()
    grown[:, 1:] |= tall[:, :-1]
    grown[:, :-1] |= tall[:, 1:]
    found = numbered(grown)
    n = found[2]
    if n == 1:  # one piece, the usual drawing: nothing to drop unless it is itself a speck
        x0, y0, x1, y1 = occupied_box
        if _is_speck((y0, y1 - 1, x0, x1 - 1)):
            raise EmptyImage("The drawing is only specks: draw a digit.")
        return ink
    labels, _ = label(grown, found)
    labels[~occupied] = 0
    masses = np.bincount(labels.ravel(), weights=mass.ravel(), minlength=n + 1)
    boxes = {k: _box(labels == k) for k in range(1, n + 1)}
    speck = {k: _is_speck(b) for k, b in boxes.items()}
    pieces = sorted((k for k in boxes if not speck[k]), key=lambda k: -masses[k])
    if not pieces:
        raise EmptyImage("The drawing is only specks: draw a digit.")
    main = pieces[0]
    across = max(boxes[main][1] - boxes[main][0], boxes[main][3] - boxes[main][2]) + 1
    keep = [main]
    for k in boxes:
        if k == main:
            continue
        share = masses[k] / masses[main]
        near = _gap(boxes[k], boxes[main]) <= NEAR * across
        if (share >= PART and not speck[k]) or (near and share >= DUST):
            keep.append(k)
    if len(keep) == n:
        return ink
    kept = Image.fromarray(np.where(np.isin(labels, keep), 255, 0).astype(np.uint8))
    mask = kept.resize((kept.width * cell, kept.height * cell), Image.Resampling.NEAREST).crop((0, 0, *region.size))
    out = Image.new("L", ink.size)  # no ink outside the region
    out.paste(ImageChops.multiply(region, mask), (left - ox, top - oy))
    return out
