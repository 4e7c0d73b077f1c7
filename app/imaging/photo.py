"""A photo or a scan of writing on paper → ink coverage, as ``preprocess.ink_map`` gives it for a drawing.

A drawing's paper is one colour. A photo's is not: light falls off across the page, a hand or a
phone casts a shadow, a lamp leaves glare, the camera adds noise and JPEG its blocks, the paper
may be ruled or squared, and the table shows round the paper's edge. ``photo_ink`` takes these
out, in the order a reader would:

1. the paper's own light at every point, per channel (``paper_light``): on a coarse grid, the
   brightest of each cell (after a box reduction, so camera noise does not set it), spread to the
   neighbouring cells so that a thick stroke never counts as paper, smoothed, scaled back up;
2. ink = how much darker than its paper a pixel is, in its darkest channel (1 − pixel ÷ paper):
   free of the illumination, so ink in a shadowed corner reads as ink in the light does, and
   blue ballpoint, pencil and felt pen all count;
3. the paper itself (``paper_mask``): the grid's cells reached from the largest evenly lit region,
   where light changes gradually from cell to cell; at the paper's edge it drops to the table
   (``STEP``), and the table, with a margin, is not searched for ink;
4. ruled lines and grids (``unruled``): when, at the best of a few small rotations, rows run
   across most of the paper, each such row's background ink (a low percentile along it) is taken
   off, and columns likewise: the line goes, the writing that crosses it stays;
5. noise: a light blur, and a floor set from the paper's own noise.

Only opaque images whose paper is not one flat colour come here (``looks_like_photo``): a canvas
drawing, or a clean drawing saved as a file, keeps ``ink_map``'s own way, unchanged."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from app.imaging.components import label
from app.imaging.errors import EmptyImage

F32 = NDArray[np.float32]
GRID = 32  # cells along the longer side for the paper's light
STEP = 0.75  # a neighbour cell this much darker (or brighter) is across the paper's edge
FLAT = 0.5  # a drawing has at least this share of its pixels within 3 grey levels of the commonest
MIN_INK = 0.12  # the least darkening (of the paper's light) that can be ink
LINE_COVER = 0.5  # a row inked over this share of the paper's width is a ruled line
MIN_PIXELS = 20  # fewer pixels than this darker than the floor are no writing
STRONG = 0.5  # of the strongest ink: a piece holding none of this is not writing
ANGLES = np.arange(-8.0, 8.01, 1.0)  # the rotations (°) tried for lines, then refined by a quarter degree


def looks_like_photo(img: Image.Image) -> bool:
    """Whether an opaque image's background is uneven or noisy (a photo or a scan) rather than
    one flat colour (a drawing): in a drawing, most pixels are its paper's one grey level, give or
    take JPEG's rounding; light that falls off, or a camera's noise, spreads a photo's paper over
    many. Sampled (nearest pixels, so the noise stays) on at most 256 px a side."""
    grey = img.convert("L")
    if max(grey.size) > 256:
        scale = 256 / max(grey.size)
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.NEAREST)
    hist = np.asarray(grey.histogram(), np.int64)
    mode = int(np.argmax(hist))
    return float(hist[max(0, mode - 3):mode + 4].sum()) < FLAT * float(hist.sum())


def photo_ink(img: Image.Image) -> Image.Image:
    """An opaque RGB photo of writing on paper → "L" ink coverage, 0 paper … 255 the strongest ink.
    Raises EmptyImage when nothing on the paper stands out as ink."""
    rgb = np.asarray(img, np.float32)
    light = paper_light(rgb)
    dark = (1.0 - np.min(rgb / light, axis=2)).clip(0.0, 1.0)  # the channel where ink darkens its paper most
    dark = _blurred(dark)  # camera noise, JPEG's blocks
    mask = paper_mask(light)
    dark = np.where(mask, dark, 0.0).astype(np.float32)
    dark = unruled(dark, mask)
    floor = max(MIN_INK, 4.0 * _noise(dark[mask][::7]) if mask.any() else MIN_INK)
    candidates = dark[dark > floor]
    strongest = float(np.percentile(candidates, 98)) if candidates.size >= MIN_PIXELS else 0.0
    if strongest < 2 * floor:
        raise EmptyImage("The photo shows no writing: nothing on the paper stands out as ink.")
    ink = np.clip((dark - floor) / (strongest - floor), 0.0, 1.0)
    ink = _anchored(ink, ink >= STRONG)
    return Image.fromarray(np.round(ink * 255).astype(np.uint8), "L")


def _blurred(dark: NDArray[np.floating]) -> F32:
    """A light Gaussian blur (1 px) of values in [0, 1], as 8-bit: Pillow's, fast on one channel."""
    img = Image.fromarray(np.round(dark * 255).astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(1))
    return np.asarray(img, np.float32) / 255


def _anchored(ink: F32, strong: NDArray[np.bool_]) -> F32:
    """Ink with only the pieces that hold some strong ink (hysteresis, as in edge detection):
    faint noise, a line's remains and the paper's grain, apart from the writing, go."""
    labels, _ = label(ink > 0)
    keep = np.zeros(int(labels.max()) + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    return np.where(keep[labels], ink, 0.0).astype(np.float32)


def _cell(size: tuple[int, int]) -> int:
    return max(1, math.ceil(max(size) / GRID))


def _cell_max(a: F32, cell: int) -> F32:
    """(H, W, C) → (h, w, C): each cell's brightest value (the edge cells cover what is left)."""
    H, W, C = a.shape
    h, w = math.ceil(H / cell), math.ceil(W / cell)
    padded = np.pad(a, ((0, h * cell - H), (0, w * cell - W), (0, 0)), mode="edge")
    return padded.reshape(h, cell, w, cell, C).max(axis=(1, 3))


def _spread(grid: F32) -> F32:
    """Each cell → the brightest of it and its 8 neighbours."""
    p = np.pad(grid, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = grid.shape[:2]
    return np.max([p[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


def _smooth(grid: F32) -> F32:
    p = np.pad(grid, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = grid.shape[:2]
    k = np.array([1.0, 2.0, 1.0])
    return sum(k[i] * k[j] * p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 16.0  # type: ignore[return-value]


def paper_light(rgb: F32) -> F32:
    """(H, W, 3) pixels → (H, W, 3) the paper's light at each pixel, ≥ 1."""
    H, W = rgb.shape[:2]
    cell = _cell((W, H))
    step = max(1, cell // 4)  # box-average first: the noise averages out, thin strokes fade
    small = np.asarray(Image.fromarray(rgb.astype(np.uint8), "RGB").reduce(step), np.float32)
    grid = _smooth(_spread(_cell_max(small, 4 if step > 1 else cell)))
    channels = [Image.fromarray(np.ascontiguousarray(grid[..., c], dtype=np.float32), "F").resize((W, H), Image.Resampling.BILINEAR)
                for c in range(3)]
    return np.maximum(np.stack([np.asarray(c) for c in channels], axis=2), 1.0)


def paper_mask(light: F32) -> NDArray[np.bool_]:
    """The paper's light (H, W, 3) → where the paper is: the largest region of the coarse grid
    whose neighbouring cells differ by less than ``STEP``, less a margin of two cells where it
    meets the rest (the table); the whole image when nothing else is there."""
    H, W = light.shape[:2]
    cell = _cell((W, H))
    lum = light.mean(axis=2)[cell // 2::cell, cell // 2::cell]
    region = _largest_even_region(lum)
    if region.all():
        return np.ones((H, W), bool)
    for _ in range(2):  # the margin: cells next to the table are partly table
        region = _shrink(region)
    full = np.repeat(np.repeat(region, cell, axis=0), cell, axis=1)
    return full[:H, :W] if full.shape[0] >= H and full.shape[1] >= W else np.pad(
        full, ((0, max(0, H - full.shape[0])), (0, max(0, W - full.shape[1]))), mode="edge")[:H, :W]


def _largest_even_region(lum: F32) -> NDArray[np.bool_]:
    """Cells joined where a neighbour's light is within ``STEP`` of a cell's; the largest such group."""
    h, w = lum.shape
    parent = list(range(h * w))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ratio_x = np.minimum(lum[:, 1:], lum[:, :-1]) / np.maximum(np.maximum(lum[:, 1:], lum[:, :-1]), 1.0)
    ratio_y = np.minimum(lum[1:], lum[:-1]) / np.maximum(np.maximum(lum[1:], lum[:-1]), 1.0)
    for y, x in zip(*np.nonzero(ratio_x >= STEP), strict=True):
        parent[find(int(y) * w + int(x))] = find(int(y) * w + int(x) + 1)
    for y, x in zip(*np.nonzero(ratio_y >= STEP), strict=True):
        parent[find(int(y) * w + int(x))] = find((int(y) + 1) * w + int(x))
    roots = np.array([find(i) for i in range(h * w)])
    counts = np.bincount(roots, minlength=h * w)
    return (roots == int(np.argmax(counts))).reshape(h, w)


def _shrink(region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """One cell off the region where it meets cells outside it (not where it meets the image's edge)."""
    p = np.pad(region, 1, mode="edge")
    h, w = region.shape
    return np.min([p[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


def unruled(dark: F32, mask: NDArray[np.bool_]) -> F32:
    """Ink (H, W) on the paper's mask → the same with ruled lines and grid lines taken off (found
    and taken off along the rotation at which they run straight, then turned back)."""
    floor = max(MIN_INK, 3.0 * _noise(dark[mask])) if mask.any() else MIN_INK
    angle = _line_angle(dark > floor)
    turned = _rotate(dark, angle) if angle else dark
    inside = _rotate(mask.astype(np.float32), angle) > 0.5 if angle else mask
    inked = (turned > floor) & inside
    found = False
    for axis in (1, 0):  # rows, then columns
        width = np.maximum(inside.sum(axis=axis), 1)
        lines = inked.sum(axis=axis) / width > LINE_COVER
        if lines.any():
            found = True
            turned = _take_off(turned, inside, _widen(lines), axis)
    if not found:
        return dark
    return np.where(mask, _rotate(turned, -angle), 0.0).astype(np.float32) if angle else turned


def _line_angle(inked: NDArray[np.bool_]) -> float:
    """The small rotation (°) at which the inked pixels' rows are sharpest (ruled lines then run
    straight): each angle's row profile is a histogram of the pixels' rotated rows; 0 when no
    rotation beats none by much."""
    ys, xs = np.nonzero(inked[::2, ::2])
    if ys.size == 0:
        return 0.0
    height = inked.shape[0] // 2 + inked.shape[1] // 2 + 2

    def sharpness(a: float) -> float:
        t = math.tan(math.radians(a))
        rows = np.round(ys - xs * t).astype(np.int64) + inked.shape[1] // 2 + 1
        profile = np.bincount(rows.clip(0, height - 1), minlength=height).astype(np.float64)
        return float((profile ** 2).sum())

    best = max(ANGLES, key=sharpness)
    best = max(np.arange(best - 0.75, best + 0.8, 0.25), key=sharpness)
    return float(best) if sharpness(best) > 1.05 * sharpness(0.0) else 0.0


def _rotate(a: F32, angle: float) -> F32:
    return np.asarray(Image.fromarray(a.astype(np.float32), "F").rotate(angle, Image.Resampling.BILINEAR))


def _widen(lines: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """A line's neighbouring rows too (its anti-aliased edges)."""
    out = lines.copy()
    out[1:] |= lines[:-1]
    out[:-1] |= lines[1:]
    return out


def _take_off(dark: F32, inside: NDArray[np.bool_], lines: NDArray[np.bool_], axis: int) -> F32:
    """Each line (a row: ``axis`` 1, a column: 0) less its own background: the 30th percentile of
    its ink over the paper, so the line goes and the writing on it stays."""
    out = dark.copy()
    view = out if axis == 1 else out.T
    inner = inside if axis == 1 else inside.T
    for i in np.flatnonzero(lines):
        values = view[i][inner[i]]
        if values.size:
            view[i] = np.maximum(view[i] - np.percentile(values, 30), 0.0)
    return out


def _noise(values: NDArray[np.float32]) -> float:
    """A robust σ of what varies from pixel to pixel: the median absolute difference between
    neighbours (a flat 1-D or 2-D array's), ÷ 0.954 (√2 × 0.6745)."""
    flat = values.ravel()
    if flat.size < 2:
        return 0.0
    return float(np.median(np.abs(np.diff(flat)))) / 0.954
