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

from app.imaging.components import expand, label, runs
from app.imaging.errors import EmptyImage

F32 = NDArray[np.float32]
GRID = 32  # cells along the longer side for the paper's extent
LIGHT_SIDE = 200  # px along the longer side of the copy the paper's light is found on
REACH = 0.1  # the widest stroke or line, as a share of the longer side, that the paper's light looks past
EDGE = 0.85  # the paper's light falling to this share of itself within 2 px of the small copy is an edge
MARGIN = 2  # px of that copy by which the light is taken down past what the closing gives
BIG_REGION = 0.1  # a region of even light this much of the photo may be the paper
STEP = 0.75  # a neighbour cell this much darker (or brighter) is across the paper's edge
FLAT = 0.5  # a drawing has at least this share of its edge's pixels within one grey level of the commonest
BAND = 0.1  # the band round the edge where a drawing's paper is looked at
MIN_INK = 0.12  # the least darkening (of the paper's light) that can be ink
LINE_COVER = 0.3  # a straight line the ink follows over this share of the paper's width is a ruled line
TILT = 12.0  # the most (°) a ruled line may lean from the photo's rows or columns
THIN = 0.008  # the thickest a ruled line may be, as a share of the longer side
SAMPLE = 40_000  # the thin pixels that vote for lines, at most
MAX_LINES = 80
MIN_PIXELS = 20  # fewer pixels than this darker than the floor are no writing
STRONG = 0.5  # of the strongest ink: a piece holding none of this is not writing
CUT = 0.02  # a piece along this share of a side of the photo, or on two sides, is cut by the frame


def looks_like_photo(img: Image.Image) -> bool:
    """Whether an opaque image's paper is uneven or noisy (a photo or a scan) rather than one flat
    colour (a drawing): round a drawing's edge, most pixels are its paper's one grey level, give
    or take JPEG's rounding; light that falls off, or a camera's noise, spreads a photo's over many.
    The edge's pixels (a band ``BAND`` of the shorter side wide) are sampled, nearest ones, so
    the noise stays."""
    grey = img.convert("L")
    if max(grey.size) > 256:
        scale = 256 / max(grey.size)
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.NEAREST)
    a = np.asarray(grey)
    band = max(1, round(BAND * min(a.shape)))
    border = np.concatenate([a[:band].ravel(), a[-band:].ravel(), a[:, :band].ravel(), a[:, -band:].ravel()])
    hist = np.bincount(border, minlength=256)
    mode = int(np.argmax(hist))
    return float(hist[max(0, mode - 1):mode + 2].sum()) < FLAT * float(hist.sum())


def photo_ink(img: Image.Image) -> Image.Image:
    """An opaque RGB photo of writing on paper → "L" ink coverage, 0 paper … 255 the strongest ink.
    Raises EmptyImage when nothing on the paper stands out as ink."""
    rgb = np.asarray(img, np.float32)
    light = paper_light(rgb)
    dark = (1.0 - np.min(rgb / light, axis=2)).clip(0.0, 1.0)  # the channel where ink darkens its paper most
    dark = _blurred(dark)  # camera noise, JPEG's blocks
    mask = paper_mask(light) & ~edges(light)
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
    return (np.asarray(img, np.float32) / 255).astype(np.float32)


def _anchored(ink: F32, strong: NDArray[np.bool_]) -> F32:
    """Ink with only the pieces that hold some strong ink (hysteresis, as in edge detection) and
    do not run into the photo's edge: faint noise, a line's remains and the paper's grain apart
    from the writing go, and so do the table, a sliver of it or the paper's edge where the frame
    cuts them. (Writing cut by the frame is kept when nothing else is left.)"""
    labels, _ = label(ink > 0)
    keep = np.zeros(int(labels.max()) + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    inside = keep.copy()
    inside[_cut_by_frame(labels)] = False
    return np.where((inside if inside.any() else keep)[labels], ink, 0.0).astype(np.float32)


def _cut_by_frame(labels: NDArray[np.int32]) -> NDArray[np.int64]:
    """The labels of pieces the photo's edge cuts along a stretch (``CUT`` of a side or more), or
    on two sides: the table or the paper's edge, not a digit that only reaches the frame."""
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    counts = [np.bincount(side, minlength=int(labels.max()) + 1) for side in sides]
    long = np.zeros(int(labels.max()) + 1, bool)
    for side, count in zip(sides, counts, strict=True):
        long |= count >= CUT * len(side)
    touched = np.sum([count > 0 for count in counts], axis=0)
    return np.flatnonzero(long | (touched >= 2))


def _cell(size: tuple[int, int]) -> int:
    return max(1, math.ceil(max(size) / GRID))


def paper_light(rgb: F32) -> F32:
    """(H, W, 3) pixels → (H, W, 3) the paper's light at each pixel, ≥ 1: a grey closing (the
    brightest within ``REACH`` of the long side, then the darkest within as much of that, so that
    strokes and lines narrower than that go while a table's edge or a shadow keeps its place) on a
    copy of about ``LIGHT_SIDE`` px, taken down a little more (``MARGIN`` px) so that light never
    spills over an edge onto the darker side, and scaled back up."""
    H, W = rgb.shape[:2]
    factor = max(1, math.ceil(max(H, W) / LIGHT_SIDE))
    small = np.asarray(Image.fromarray(rgb.astype(np.uint8), "RGB").reduce(factor), np.float32)
    k = 2 * round(REACH * max(small.shape[:2]) / 2) + 1
    closed = _slide(_slide(small, k, np.maximum), k + 2 * MARGIN, np.minimum)
    channels = [Image.fromarray(np.ascontiguousarray(closed[..., c], dtype=np.float32), "F")
                .resize((W, H), Image.Resampling.BILINEAR) for c in range(3)]
    return np.maximum(np.stack([np.asarray(c) for c in channels], axis=2), 1.0)


def _slide(a: F32, k: int, op: np.ufunc) -> F32:
    """``op`` (np.maximum or np.minimum) over a k × k window round each pixel of (h, w, C), in two
    passes, the edges repeated outward."""
    r = k // 2
    for axis in (0, 1):
        pad = [(0, 0)] * a.ndim
        pad[axis] = (r, r)
        p = np.pad(a, pad, mode="edge")
        n = a.shape[axis]
        out = np.take(p, range(0, n), axis=axis)
        for i in range(1, k):
            out = op(out, np.take(p, range(i, i + n), axis=axis))
        a = out
    return a


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


def edges(light: F32) -> NDArray[np.bool_]:
    """Where the paper's light steps (by more than ``EDGE`` within a few pixels): the paper's
    edge against the table, a hard shadow. The strokes are gone from the light, so none of
    them step; ink is not looked for there."""
    H, W = light.shape[:2]
    f = max(1, math.ceil(max(H, W) / LIGHT_SIDE))
    lum = np.log(light.mean(axis=2)[::f, ::f])
    step = np.zeros(lum.shape, np.float32)
    step[:, 1:-1] = np.abs(lum[:, 2:] - lum[:, :-2])
    step[1:-1] = np.maximum(step[1:-1], np.abs(lum[2:] - lum[:-2]))
    zone = _slide((step > math.log(1 / EDGE)).astype(np.float32)[..., None], 2 * MARGIN + 1, np.maximum)[..., 0] > 0
    return np.repeat(np.repeat(zone, f, axis=0), f, axis=1)[:H, :W]


def _largest_even_region(lum: F32) -> NDArray[np.bool_]:
    """Cells joined where a neighbour's light is within ``STEP`` of a cell's; of the groups that
    cover at least ``BIG_REGION`` of the photo, the brightest: paper is lighter than the table."""
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
    light = np.bincount(roots, weights=lum.ravel(), minlength=h * w) / np.maximum(counts, 1)
    big = counts >= max(1, int(BIG_REGION * h * w))
    return (roots == int(np.argmax(np.where(big, light, -1.0)))).reshape(h, w)


def _shrink(region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """One cell off the region where it meets cells outside it (not where it meets the image's edge)."""
    p = np.pad(region, 1, mode="edge")
    h, w = region.shape
    return np.min([p[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


def unruled(dark: F32, mask: NDArray[np.bool_]) -> F32:
    """Ink (H, W) on the paper's mask → the same with ruled lines and grid lines taken off.

    A line is found as a straight line (a Hough transform: votes of the thin inked pixels for
    every line at angles within ``TILT`` of the rows, or of the columns) that the ink follows over
    ``LINE_COVER`` of the paper's width; perspective keeps lines straight, only their angles
    differ. On it, the thin ink (at most ``THIN`` of the long side across) is taken off; a stroke
    that crosses it is thicker there, and stays."""
    floor = max(MIN_INK, 3.0 * _noise(dark[mask][::7])) if mask.any() else MIN_INK
    inked = (dark > floor) & mask
    thin = max(3, round(THIN * max(dark.shape)))
    out = dark
    for across in (0, 1):  # lines along the rows (thin across the columns), then along the columns
        b = inked if across == 0 else inked.T
        slim = b & (thin >= _run_lengths(b.T).T)
        lines = _hough_lines(slim, int(b.shape[1] * LINE_COVER * (mask if across == 0 else mask.T).any(axis=0).mean()))
        if lines:
            gone = _near_lines(b.shape, lines, thin) & slim
            out = np.where(gone if across == 0 else gone.T, 0.0, out).astype(np.float32)
    return out


def _run_lengths(b: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Each True pixel's horizontal run length (0 elsewhere)."""
    rows, starts, ends = runs(b)
    out = np.zeros(b.shape, np.int32)
    length = ends - starts
    ys, xs = expand(rows, starts, ends)
    out[ys, xs] = np.repeat(length, length)
    return out


def _hough_lines(slim: NDArray[np.bool_], votes_needed: int) -> list[tuple[float, float]]:
    """The lines (angle in radians from the rows, offset ρ = y cos a − x sin a) that at least
    ``votes_needed`` of the pixels lie on, within a pixel, strongest first."""
    ys, xs = np.nonzero(slim)
    if ys.size < votes_needed or votes_needed <= 0:
        return []
    if ys.size > SAMPLE:
        pick = np.random.default_rng(0).choice(ys.size, SAMPLE, replace=False)
        ys, xs, votes_needed = ys[pick], xs[pick], votes_needed * SAMPLE // ys.size
    angles = np.radians(np.arange(-TILT, TILT + 0.01, 0.5))
    span = int(slim.shape[0] + slim.shape[1]) + 2
    rho = np.round(ys[None] * np.cos(angles)[:, None] - xs[None] * np.sin(angles)[:, None]).astype(np.int64)
    acc = np.zeros((len(angles), span), np.int64)
    for i in range(len(angles)):
        acc[i] = np.bincount(rho[i] + slim.shape[1] + 1, minlength=span)[:span]
    acc = acc + np.roll(acc, 1, axis=1)  # a line 2 px thick votes in two bins
    found: list[tuple[float, float]] = []
    while len(found) < MAX_LINES:
        i, r = (int(v) for v in np.unravel_index(int(np.argmax(acc)), acc.shape))
        if acc[i, r] < votes_needed:
            break
        found.append((float(angles[i]), float(r - slim.shape[1] - 1) - 0.5))
        acc[:, max(0, r - 4):r + 5] = 0  # one line, whatever its angle
    return found


def _near_lines(shape: tuple[int, int], lines: list[tuple[float, float]], reach: int) -> NDArray[np.bool_]:
    """The pixels within ``reach`` / 2 + 1 rows of any of the lines (each leans less than ``TILT``,
    so it crosses every column once): a band of rows per column, not a pass over the image."""
    near = np.zeros(shape, bool)
    xs = np.arange(shape[1])
    offsets = np.arange(-(reach // 2 + 1), reach // 2 + 2)
    for a, rho in lines:
        ys = np.round((rho + xs * math.sin(a)) / math.cos(a)).astype(np.int64)[None, :] + offsets[:, None]
        inside = (ys >= 0) & (ys < shape[0])
        near[ys[inside], np.broadcast_to(xs, ys.shape)[inside]] = True
    return near

def _noise(values: NDArray[np.float32]) -> float:
    """A robust σ of what varies from pixel to pixel: the median absolute difference between
    neighbours (a flat 1-D or 2-D array's), ÷ 0.954 (√2 × 0.6745)."""
    flat = values.ravel()
    if flat.size < 2:
        return 0.0
    return float(np.median(np.abs(np.diff(flat)))) / 0.954
