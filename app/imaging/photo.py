"""A photo or a scan of writing on paper → ink coverage, as ``preprocess.ink_map`` gives it for a drawing.

A drawing's paper is one colour. A photo's is not: light falls off across the page, a hand or a
phone casts a shadow, a lamp leaves glare, the camera adds noise and JPEG its blocks, the paper
may be ruled or squared, and the table shows round the paper's edge. ``photo_ink`` takes these
out, in the order a reader would:

1. the paper's own light at every point, per channel (``paper_light``): on a coarse grid, the
   brightest of each cell (after a box reduction, so camera noise does not set it), spread to the
   neighbouring cells so that a thick stroke never counts as paper, smoothed, scaled back up;
   a blot of ink wider than that (a filled loop) is filled from a wider closing (``_blots_filled``);
2. ink = how much darker than its paper a pixel is, in its darkest channel (1 − pixel ÷ paper):
   free of the illumination, so ink in a shadowed corner reads as ink in the light does, and
   blue ballpoint, pencil and felt pen all count;
3. the paper itself (``paper_mask``): the grid's cells reached from the largest evenly lit region,
   where light changes gradually from cell to cell; at the paper's edge it drops to the table
   (``STEP``), and the table, with a margin, is not searched for ink. A cell on a sharp step of
   the light (``EDGE``) joins nothing: a slanted edge, sampled cell by cell, would otherwise
   pass from paper to table in steps each small enough;
4. ruled lines and grids (``app.imaging.ruling.unruled``): straight lines that stand out along
   most of the paper, and those the ruling's step expects between them, are taken off by their
   own profile across: the line goes, the writing that crosses it stays; when no piece of
   writing is left at the end, they are looked for once more on a copy twice as large
   (``FINE_SIDE``): a fine grid's lines, averaged away on the small copy, join every digit to
   the frame;
5. noise: a light blur, and a floor of ``NOISE`` σ of the paper's own noise, cell by cell,
   raised where noise still crowds the paper over it (``CROWDED``); glare: where the paper is
   brighter and paler than the rest of it, its ink is faded as much as its colour is
   (``glare_fade``), and is taken back up by as much;
6. the pieces left: those the frame cuts (the table, the paper's edge), those holding no strong
   ink (``STRONG``: a line's remains, the paper's grain) unless they stand in line with the
   writing, faded (``_in_line``), slivers along the frame and long thin stripes beside the
   writing (an edge or a margin left whole, even one darker than a pencil's digit; a digit the
   stripe runs on from is cut from it, ``_trimmed``) are not writing; nor is a piece
   further from the writing (gathered from the piece with the most ink) than that piece's size,
   nor a scrap (a tenth of its ink) further than half that.

Only opaque images whose paper is not one flat colour come here (``looks_like_photo``): a canvas
drawing, or a clean drawing saved as a file, keeps ``ink_map``'s own way, unchanged."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from app.imaging.components import expand, numbered, resolve
from app.imaging.errors import EmptyImage
from app.imaging.ruling import lines_in, unruled

F32 = NDArray[np.float32]
GRID = 32  # cells along the longer side for the paper's extent
LIGHT_SIDE = 200  # px along the longer side of the copy the paper's light is found on
REACH = 0.1  # the widest stroke or line, as a share of the longer side, that the paper's light looks past
EDGE = 0.85  # the paper's light falling to this share of itself within 2 px of the small copy is an edge
BLOT = 3  # times the closing's window: the wider one a blot of ink left by it is filled from
SHARP = 0.5  # of the pixels round a patch of the paper's light on a sharp step: a blot of ink, not a shadow
MARGIN = 2  # px of that copy by which the light is taken down past what the closing gives
BIG_REGION = 0.1  # a region of even light this much of the photo may be the paper
STEP = 0.75  # a neighbour cell this much darker (or brighter) is across the paper's edge
FLAT = 0.5  # a drawing has at least this share of its edge's pixels within one grey level of the commonest
BAND = 0.1  # the band round the edge where a drawing's paper is looked at
MIN_INK = 0.12  # the least darkening (of the paper's light) that can be ink (less under glare)
GLARE_SAT = 0.04  # paper with less colour than this (1 − weakest ÷ strongest channel) shows no glare by it
GLARE_LEAST = 0.5  # glare is taken to fade ink to this share of its darkness at most: ink at most doubled
MIN_CELLS = 10  # pixels of the small copy's paper below which its light is not measured for glare
CROWDED = 0.25  # of the paper over the floor: noise, not writing, crowds it …
RAISE = (1.0, 1.25, 1.5, 2.0)  # … and the floor is raised by these steps until it does not
NOISE = 4.0  # σ of the paper's own noise below which nothing is ink
APART = 3  # px between the pixels whose difference measures noise
NOISE_CAP = 0.1  # the largest difference between neighbours that counts as noise
MIN_PIXELS = 20  # fewer pixels than this darker than the floor are no writing
STRONG = 0.5  # of the strongest ink: a piece holding none of this is not writing …
FAINT_STRONG = 0.25  # … unless it holds this much, in line with the writing:
LINE_TALL = 0.4  # … this share of its heaviest piece's height at least,
IN_LINE = 0.75  # … and this share of its own height within that piece's rows, its mean ink
FAINT_EVEN = 0.3  # … this share of its strongest at least, and not thin
RULED = 2  # lines running the same way across a flat image make it a scan of lined paper
FAINT = 0.5  # a ruled line stands out by at most this share of the writing's darkness (small copy)
NEAR = 0.02  # of the longer side: a piece this close to a side of the frame lies along it …
LONG = 3.0  # … a sliver runs along it this many times longer than it is wide …
TALLER = 2.0  # … and this many times longer than any other piece the same way
STRIPE = 1.5  # times the heaviest piece's length the same way: a piece this long may be a stripe …
THIN = 20.0  # … if it is this many times longer than its mean width
SOLID_PART = 4.0  # times a stripe's usual thickness across: a digit it runs on from, cut from it
SOLID = 0.25  # of a thin piece's ink: a piece not thin holding this much, clear of it, is the writing
APART_WRITING = 1.0  # of the heaviest piece's size: the widest gap within the writing
SCRAP = 0.1  # of the heaviest piece's ink: a piece holding less is a scrap …
SCRAP_REACH = 0.5  # … and joins the writing only within this share of that widest gap
FINE_SIDE = 400  # px along the longer side of the copy ruled lines are looked for on again when nothing was kept
CUT = 0.02  # a piece along this share of a side of the photo, or on two sides, is cut by the frame
_BOX = np.array([1.0, 4.0, 1.0]) / 6  # Pillow's box of radius ¼ for σ = 1 in three passes (BoxBlur.c)
BLUR = np.convolve(np.convolve(_BOX, _BOX), _BOX).astype(np.float32)  # the three passes as one kernel


def looks_like_photo(img: Image.Image) -> bool:
    """Whether an opaque image is a photo or a scan of paper rather than a drawing: its paper is
    uneven or noisy (``_flat_edge``), or, flat as a clean scan's is, it is a JPEG (as scanners and
    cameras write them) of ruled or squared paper (``_ruled``)."""
    grey = img.convert("L")
    level = _flat_edge(grey)
    return level is None or (img.info.get("format") == "JPEG" and _ruled(grey, level))


def _flat_edge(grey: Image.Image) -> int | None:
    """The grey level of a drawing's paper, or None when the image's edge is not one flat colour:
    round a drawing's edge, most pixels are its paper's one grey level, give or take JPEG's
    rounding; light that falls off, or a camera's noise, spreads a photo's over many. The edge's
    pixels (a band ``BAND`` of the shorter side wide) are sampled, nearest ones, so the noise
    stays."""
    if max(grey.size) > 256:
        scale = 256 / max(grey.size)
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.NEAREST)
    a = np.asarray(grey)
    band = max(1, round(BAND * min(a.shape)))
    border = np.concatenate([a[:band].ravel(), a[-band:].ravel(), a[:, :band].ravel(), a[:, -band:].ravel()])
    hist = np.bincount(border, minlength=256)
    mode = int(np.argmax(hist))
    return mode if float(hist[max(0, mode - 1):mode + 2].sum()) >= FLAT * float(hist.sum()) else None


def _ruled(grey: Image.Image, paper: int) -> bool:
    """Whether a flat image (its paper at grey level ``paper``) shows ``RULED`` lines or more
    running the same way across it (``ruling.lines_in``), fainter than its writing (``FAINT``):
    lined or squared paper, scanned. (A drawing of lines — a comb, a mesh — draws them as dark as
    the rest, and stays a drawing.)"""
    factor = max(1, math.ceil(max(grey.size) / LIGHT_SIDE))
    small = np.asarray(grey.reduce(factor), np.float32)
    dark = np.clip((paper - small) / max(paper, 1), 0.0, 1.0).astype(np.float32)
    writing = float(np.percentile(dark, 99.9))
    for d in (dark, dark.T):
        faint = [line for line in lines_in(d, np.ones(d.shape, bool)) if line[2] <= FAINT * writing]
        if len(faint) >= RULED:
            return True
    return False


def photo_ink(img: Image.Image) -> Image.Image:
    """An opaque RGB photo of writing on paper → "L" ink coverage, 0 paper … 255 the strongest ink.
    Raises EmptyImage when nothing on the paper stands out as ink."""
    rgb = img.convert("RGB")
    small, factor = _small_copy(rgb)
    closed = paper_light(small)
    dark = _blurred(_darkness(rgb, closed))  # a light blur: camera noise, JPEG's blocks
    steps = _edge_zone(closed)
    mask = paper_mask(closed, steps, dark.shape) & ~edges(steps, factor, dark.shape)
    dark *= mask
    fade = glare_fade(closed, mask, factor)
    out = _writing_ink(unruled(dark, mask), mask, fade, factor)
    if not out.any():  # all of it joined to the frame: by a fine grid, perhaps, too faint on the small copy
        out = _writing_ink(unruled(dark, mask, FINE_SIDE), mask, fade, factor)
    return Image.fromarray(out, "L")


def _writing_ink(dark: F32, mask: NDArray[np.bool_], fade: F32, factor: int) -> NDArray[np.uint8]:
    """The paper's ink, ruled lines taken off (``dark``, full size), → the writing's ink coverage,
    0 … 255 (steps 5 and 6 of ``photo_ink``); all 0 when no piece of it is writing. Raises
    EmptyImage when nothing on the paper stands out as ink."""
    floor = _uncrowded(dark, _floor(dark, fade), mask)
    strongest = _strongest(dark, 2 * floor)
    least = float(np.median(floor))
    if strongest < 2 * least:
        raise EmptyImage("The photo shows no writing: nothing on the paper stands out as ink.")
    pieces = _pieces(dark > floor)
    keep = _inside(pieces, dark.shape)
    below = floor[pieces.ys, pieces.xs]
    ink = np.clip((dark[pieces.ys, pieces.xs] - below) / np.maximum(strongest - below, least), 0.0, 1.0)
    if fade.min() < 1.0:  # glare: its ink taken back up by as much as it faded
        ink = np.clip(ink / fade[np.minimum(pieces.ys // factor, fade.shape[0] - 1),
                                 np.minimum(pieces.xs // factor, fade.shape[1] - 1)], 0.0, 1.0)
    anchored = _anchored(pieces, ink)
    if (keep & ~anchored).any():  # pieces with no strong ink: some may be faded writing
        peak = np.zeros(pieces.n + 1, np.float32)  # each piece's strongest ink
        np.maximum.at(peak, pieces.which, ink)
        faint = _in_line(pieces, ink, peak, keep & anchored, keep & ~anchored, dark.shape)
        keep &= anchored | faint
        if faint.any():  # taken up to the strong ink's darkness: faded writing, as glare fades it
            ink = _lifted(pieces, ink, peak, faint)
    else:
        keep &= anchored
    boxes = _boxes(pieces, keep, ink, dark.shape)
    keep &= ~_slivers(boxes, keep, dark.shape)
    stripes = _stripes(boxes, keep)
    if stripes.any():
        pieces, held = _trimmed(pieces, stripes, boxes)
        stripes &= ~held
        boxes = _boxes(pieces, keep, ink, dark.shape)
    keep &= ~stripes
    keep &= _writing(boxes, keep)
    out = np.zeros(dark.shape, np.uint8)
    kept = keep[pieces.which]
    out[pieces.ys[kept], pieces.xs[kept]] = np.round(ink[kept] * 255).astype(np.uint8)
    return out


class Pieces(NamedTuple):
    """The pieces of a mask (8-connected): the row, column and piece (1…n; 0 once cut off from
    its piece, ``_trimmed``) of each of their pixels, in row-major order, and n. Most of a photo
    is paper: its ink is a few per cent of the pixels, and is worked on as these lists rather
    than as full-size images."""

    ys: NDArray[np.int64]
    xs: NDArray[np.int64]
    which: NDArray[np.int64]
    n: int


def _pieces(mask: NDArray[np.bool_]) -> Pieces:
    """A mask's pieces, from its runs (``components.numbered``), their pixels listed run by run."""
    (rows, starts, ends), number, n = numbered(mask)
    ys, xs = expand(rows, starts, ends)
    return Pieces(ys, xs, np.repeat(number + 1, ends - starts), n)


def _strongest(dark: F32, sure: F32) -> float:
    """How dark the writing's strongest ink is (its 98th percentile): over the pieces surely ink
    (darker than ``sure``, which noise does not reach) that the photo's frame does not cut; 0
    when there are too few."""
    p = _pieces(dark > sure)
    found = dark[p.ys, p.xs][_inside(p, dark.shape)[p.which]]
    return float(np.percentile(found, 98)) if found.size >= MIN_PIXELS else 0.0


def _inside(p: Pieces, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Which pieces (1…n) the photo's frame (of ``shape``) does not cut (``_cut_by_frame``); all
    of them when those hold fewer than ``MIN_PIXELS`` (writing cut by the frame, and nothing else)."""
    inside = np.ones(p.n + 1, bool)
    inside[_cut_by_frame(p, shape)] = False
    inside[0] = False
    if np.count_nonzero(inside[p.which]) < MIN_PIXELS:
        inside[1:] = True
    return inside


def _small_copy(rgb: Image.Image) -> tuple[F32, int]:
    """The photo reduced (a box mean) to about ``LIGHT_SIDE`` px along its longer side, (h, w, 3)
    float32, and the factor it was reduced by."""
    factor = max(1, math.ceil(max(rgb.size) / LIGHT_SIDE))
    return np.asarray(rgb.reduce(factor), np.float32), factor


def _darkness(rgb: Image.Image, closed: F32) -> F32:
    """How much darker than its paper each pixel is, in the channel where it is darkest:
    1 − pixel ÷ the paper's light, the light (``closed``, small, at least 1) scaled up to the
    photo's size. In place where it can be: each full-size array is a megabyte or two, and a
    fresh one costs its pages' first touch."""
    W, H = rgb.size
    lights = np.maximum(closed, 1.0)
    brightest = None
    for c, channel in enumerate(rgb.split()):
        light = Image.fromarray(np.ascontiguousarray(lights[..., c]), "F").resize((W, H), Image.Resampling.BILINEAR)
        ratio = np.asarray(channel, np.float32)
        ratio /= np.asarray(light)
        brightest = ratio if brightest is None else np.minimum(brightest, ratio, out=brightest)
    assert brightest is not None
    np.subtract(1.0, brightest, out=brightest)
    return np.clip(brightest, 0.0, 1.0, out=brightest)


def _blurred(dark: F32) -> F32:
    """A light Gaussian blur (σ = 1 px) of ``dark``, in place where it can be: Pillow's kernel
    (three passes of a box of radius ¼, a 7-tap kernel ``BLUR`` each way), applied in numpy on
    floats, edges repeated outward. (Pillow's own filter takes 8-bit images, and on one channel
    is slower than these few array sums.)"""
    r = len(BLUR) // 2
    H, W = dark.shape
    rows = np.empty((H + 2 * r, W), np.float32)
    rows[r:r + H], rows[:r], rows[r + H:] = dark, dark[0], dark[-1]
    cols = np.empty((H, W + 2 * r), np.float32)
    out, tmp = cols[:, r:r + W], dark
    np.multiply(rows[r:r + H], BLUR[r], out=out)
    for d in range(1, r + 1):
        np.add(rows[r - d:r - d + H], rows[r + d:r + d + H], out=tmp)
        tmp *= BLUR[r + d]
        out += tmp
    cols[:, :r], cols[:, r + W:] = cols[:, r:r + 1], cols[:, r + W - 1:r + W]
    np.multiply(cols[:, r:r + W], BLUR[r], out=dark)
    for d in range(1, r + 1):
        np.add(cols[:, r - d:r - d + W], cols[:, r + d:r + d + W], out=rows[:H])
        rows[:H] *= BLUR[r + d]
        dark += rows[:H]
    return dark


def glare_fade(closed: F32, mask: NDArray[np.bool_], factor: int) -> F32:
    """How much glare fades the ink at each pixel of the small copy (1: not at all … ``GLARE_LEAST``),
    from the paper's light there (``closed``, (h, w, 3); ``mask``, the paper's, at full size, the
    copy reduced ``factor`` times). Glare adds white light: paper P becomes P(1 − g) + Wg and ink
    likewise, so ink's darkness against its paper shrinks by (1 − g)·P ÷ P′ — by the same factor
    as the paper's own colour (1 − its weakest channel ÷ its strongest), which a gradient or a
    shadow, multiplying every channel alike, leaves as it is. So where the paper is lit more
    than the lit half of it is, and paler than that half's colour, its ink is faded by that
    ratio. Paper with too little colour (``GLARE_SAT``: white, neutral) tells nothing: 1 everywhere."""
    h, w = closed.shape[:2]
    none = np.ones((h, w), np.float32)
    r, g, b = closed[..., 0], closed[..., 1], closed[..., 2]
    top = np.maximum(np.maximum(np.maximum(r, g), b), 1.0)
    colour = 1.0 - np.minimum(np.minimum(r, g), b) / top
    on = _scaled_up(mask[factor // 2::factor, factor // 2::factor], 1, (h, w))
    if np.count_nonzero(on) < MIN_CELLS:
        return none
    lit = on & (top > float(np.median(top[on])))
    if np.count_nonzero(lit) < MIN_CELLS:
        return none
    usual = float(np.median(colour[lit]))
    if usual < GLARE_SAT:
        return none
    fade = np.clip(colour / usual, GLARE_LEAST, 1.0).astype(np.float32)
    fade[top <= float(np.median(top[lit]))] = 1.0
    return fade


def _anchored(p: Pieces, ink: F32) -> NDArray[np.bool_]:
    """Which pieces (1…n; ``ink`` at their pixels) hold some strong ink (``STRONG``: hysteresis,
    as in edge detection): faint noise, a line's remains and the paper's grain apart from the
    writing do not."""
    keep = np.zeros(p.n + 1, bool)
    keep[p.which[ink >= STRONG]] = True
    return keep


class Boxes(NamedTuple):
    """The kept pieces' boxes (first and last row and column; −1 and the size for the others),
    pixels and ink, indexed by label."""

    top: NDArray[np.int64]
    bottom: NDArray[np.int64]
    left: NDArray[np.int64]
    right: NDArray[np.int64]
    area: NDArray[np.int64]
    mass: NDArray[np.float64]

    @property
    def tall(self) -> NDArray[np.int64]:
        return self.bottom - self.top + 1

    @property
    def wide(self) -> NDArray[np.int64]:
        return self.right - self.left + 1


def _in_line(p: Pieces, ink: F32, peak: F32, anchored: NDArray[np.bool_], faint: NDArray[np.bool_],
             shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Which ``faint`` pieces (holding no strong ink) are writing all the same: a digit faded by
    glare or written lighter, in line with the writing. Such a piece holds ``FAINT_STRONG`` ink
    (``peak``: each piece's strongest) at least, is ``LINE_TALL`` of the height of the heaviest
    ``anchored`` piece, lies mostly (``IN_LINE`` of its height) within the rows of the anchored
    pieces that tall, is faded evenly (its mean ink ``FAINT_EVEN`` of its strongest: noise is
    specks) and is not ``THIN`` (the paper's edge, a line's remains)."""
    found = np.zeros(p.n + 1, bool)
    if not anchored.any() or not faint.any():
        return found
    ask = faint & (peak >= FAINT_STRONG)
    b = _boxes(p, ask | anchored, ink, shape)
    heaviest = int(np.argmax(np.where(anchored, b.mass, -1.0)))
    tall = b.tall >= LINE_TALL * b.tall[heaviest]
    line = anchored & tall  # the writing's digits, and their rows
    top, bottom = b.top[line].min(), b.bottom[line].max()
    overlap = np.minimum(b.bottom, bottom) - np.maximum(b.top, top) + 1
    even = b.mass >= FAINT_EVEN * peak * np.maximum(b.area, 1)  # faded whole, not specks of noise
    thin = np.maximum(b.tall, b.wide) ** 2 >= THIN * np.maximum(b.area, 1)  # an edge or a line's remains
    return ask & tall & (overlap >= IN_LINE * b.tall) & even & ~thin


def _lifted(p: Pieces, ink: F32, peak: F32, faint: NDArray[np.bool_]) -> F32:
    """``ink`` (at the pieces' pixels) with each ``faint`` piece's taken up in proportion until its
    strongest (``peak``, by piece) is 1 (at most ``1 / FAINT_STRONG`` times)."""
    lift = np.where(faint, 1.0 / np.maximum(peak, FAINT_STRONG), 1.0).astype(np.float32)
    return np.minimum(ink * lift[p.which], 1.0)


def _boxes(p: Pieces, keep: NDArray[np.bool_], ink: F32, shape: tuple[int, int]) -> Boxes:
    """The boxes, pixels and ink (``ink`` at the pieces' pixels) of the kept pieces, in a photo of ``shape``."""
    kept = keep[p.which]
    ys, xs, which = p.ys[kept], p.xs[kept], p.which[kept]
    (H, W), n = shape, p.n
    top, left = np.full(n + 1, H, np.int64), np.full(n + 1, W, np.int64)
    bottom, right = np.full(n + 1, -1, np.int64), np.full(n + 1, -1, np.int64)
    np.minimum.at(top, which, ys)
    np.minimum.at(left, which, xs)
    np.maximum.at(bottom, which, ys)
    np.maximum.at(right, which, xs)
    return Boxes(top, bottom, left, right, np.bincount(which, minlength=n + 1),
                 np.bincount(which, weights=ink[kept], minlength=n + 1).astype(np.float64))


def _slivers(boxes: Boxes, keep: NDArray[np.bool_], shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Which kept pieces are slivers along the photo's frame (of ``shape``): the paper's edge or a
    strip of the table just inside it, not touching it. Such a piece lies within ``NEAR`` of a
    side, runs along it (``LONG`` times longer than it is wide), and is ``TALLER`` times the
    longest of the other kept pieces the same way: no digit of the writing is (a 1 beside its
    number is as tall as they are)."""
    found = np.zeros(len(keep), bool)
    pieces = np.flatnonzero(keep)
    if pieces.size < 2:
        return found
    H, W = shape
    near = NEAR * max(H, W)
    b = boxes
    for along, across, at_side in ((b.tall, b.wide, (b.left <= near) | (b.right >= W - 1 - near)),
                                   (b.wide, b.tall, (b.top <= near) | (b.bottom >= H - 1 - near))):
        first, second = np.sort(along[pieces])[-2:][::-1]  # the longest other than each piece's own
        others = np.where(along[pieces] == first, second, first)
        sliver = at_side[pieces] & (along[pieces] >= LONG * across[pieces]) & (along[pieces] >= TALLER * others)
        found[pieces[sliver]] = True
    return found


def _stripes(boxes: Boxes, keep: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which kept pieces are stripes beside the writing: a paper's edge, a margin or a ruled line
    left whole, wherever it lies. Such a piece is ``THIN`` times longer than its mean width (a
    pen's 1 is not as thin) and ``STRIPE`` times as long as the writing the same way; the
    writing's piece itself is never one (a close-up of a thin 1 keeps it). The writing's piece
    is the one with the most ink, unless that one is thin and a piece that is not, clear of its
    box, holds ``SOLID`` of its ink: a margin drawn dark beside a digit in pencil."""
    found = np.zeros(len(keep), bool)
    pieces = np.flatnonzero(keep)
    if pieces.size < 2:
        return found
    thin = np.zeros(len(keep), bool)
    for along in (boxes.tall, boxes.wide):
        thin[pieces] |= along[pieces] * along[pieces] >= THIN * boxes.area[pieces]
    writing = _writing_piece(boxes, pieces, thin)
    for along in (boxes.tall, boxes.wide):
        found[pieces[thin[pieces] & (along[pieces] >= STRIPE * along[writing])]] = True
    found[writing] = False
    return found


def _trimmed(p: Pieces, stripes: NDArray[np.bool_], boxes: Boxes) -> tuple[Pieces, NDArray[np.bool_]]:
    """A digit joined to a stripe (a ruled line's remains running on from it) is cut from it:
    along a stripe piece, the stretch where it is ``SOLID_PART`` times as thick across as it
    mostly is (the digit) stays, with a margin as wide as that thickness, and the rest is no
    piece's. The pieces with their pixels so reassigned, and which stripes held such a digit."""
    held = np.zeros(len(stripes), bool)
    which = p.which
    for s in np.flatnonzero(stripes):
        at = np.flatnonzero(p.which == s)
        wide = boxes.wide[s] >= boxes.tall[s]
        along, across = (p.xs[at] - boxes.left[s], p.ys[at]) if wide else (p.ys[at] - boxes.top[s], p.xs[at])
        n = int(along.max()) + 1
        lo, hi = np.full(n, np.iinfo(np.int64).max), np.full(n, -1)
        np.minimum.at(lo, along, across)
        np.maximum.at(hi, along, across)
        thick = np.where(hi >= 0, hi - lo + 1, 0)
        usual = float(np.median(thick[thick > 0]))
        solid = np.flatnonzero(thick >= SOLID_PART * usual)
        if solid.size == 0 or solid[-1] - solid[0] + 1 > n / 2:
            continue
        margin = math.ceil(usual)
        cut = (along < solid[0] - margin) | (along > solid[-1] + margin)
        if which is p.which:
            which = p.which.copy()
        which[at[cut]] = 0
        held[s] = True
    return Pieces(p.ys, p.xs, which, p.n), held


def _writing_piece(boxes: Boxes, pieces: NDArray[np.int64], thin: NDArray[np.bool_]) -> int:
    """The piece the writing is measured by (``_stripes``): the one with the most ink, or, when
    that one is thin, the heaviest piece that is not, if it holds ``SOLID`` of that ink and lies
    clear of its box (a line that ran through the digits holds them in its box, and stays theirs)."""
    b = boxes
    heaviest = int(pieces[np.argmax(b.mass[pieces])])
    solid = pieces[~thin[pieces]]
    if not thin[heaviest] or solid.size == 0:
        return heaviest
    best = int(solid[np.argmax(b.mass[solid])])
    clear = (b.left[best] > b.right[heaviest] or b.right[best] < b.left[heaviest]
             or b.top[best] > b.bottom[heaviest] or b.bottom[best] < b.top[heaviest])
    return best if clear and b.mass[best] >= SOLID * b.mass[heaviest] else heaviest


def _writing(boxes: Boxes, keep: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The kept pieces that make the writing: the piece with the most ink, and every piece within
    ``APART_WRITING`` of its size of what has been gathered so far (a box's gap to the gathered
    box), again until none is added; a scrap (``SCRAP``: a tenth of that piece's ink) only within
    half as much (``SCRAP_REACH``). Digits of a number are closer than that; a blot of noise, a
    scrap of the table or of a line far from the digit is not, and would widen its crop. Specks
    of noise and a line's remains, close together, would otherwise gather one another across
    the paper; a broken digit's fragments, near each other and the digits beside them, still
    join."""
    pieces = np.flatnonzero(keep)
    found = keep.copy()
    if pieces.size < 2:
        return found
    b = boxes
    heaviest = int(pieces[np.argmax(b.mass[pieces])])
    reach = APART_WRITING * max(int(b.tall[heaviest]), int(b.wide[heaviest]))
    inside = pieces == heaviest
    top, bottom, left, right = b.top[heaviest], b.bottom[heaviest], b.left[heaviest], b.right[heaviest]
    scrap = b.mass[pieces] < SCRAP * b.mass[heaviest]
    while True:
        gap = np.maximum.reduce([b.top[pieces] - bottom, top - b.bottom[pieces], b.left[pieces] - right,
                                 left - b.right[pieces]])
        near = ~inside & (gap <= np.where(scrap, SCRAP_REACH * reach, reach))
        if not near.any():
            break
        inside |= near
        top, bottom = min(top, b.top[pieces][near].min()), max(bottom, b.bottom[pieces][near].max())
        left, right = min(left, b.left[pieces][near].min()), max(right, b.right[pieces][near].max())
    found[pieces[~inside]] = False
    return found


def _cut_by_frame(p: Pieces, shape: tuple[int, int]) -> NDArray[np.int64]:
    """The pieces the photo's edge (of ``shape``) cuts along a stretch (``CUT`` of a side or
    more), or on two sides: the table or the paper's edge, not a digit that only reaches the frame."""
    H, W = shape
    sides = [(p.ys == 0, W), (p.ys == H - 1, W), (p.xs == 0, H), (p.xs == W - 1, H)]
    counts = [np.bincount(p.which[on], minlength=p.n + 1) for on, _ in sides]
    long = np.zeros(p.n + 1, bool)
    for (_, length), count in zip(sides, counts, strict=True):
        long |= count >= CUT * length
    touched = np.sum([count > 0 for count in counts], axis=0)
    return np.flatnonzero(long | (touched >= 2))


def _cell(size: tuple[int, int]) -> int:
    return max(1, math.ceil(max(size) / GRID))


def paper_light(small: F32) -> F32:
    """The photo's small copy (h, w, 3) → the paper's light there, per channel: a grey closing
    (the brightest within ``REACH`` of the long side, then the darkest within as much of that, so
    that strokes and lines narrower than that go while a table's edge or a shadow keeps its
    place), taken down a little more (``MARGIN`` px) so that light never spills over an edge onto
    the darker side; ink wider than the window filled in (``_blots_filled``). ``_darkness``
    scales it up to the photo's size."""
    k = 2 * round(REACH * max(small.shape[:2]) / 2) + 1
    closed = _slide(_slide(small, k, np.maximum), k + 2 * MARGIN, np.minimum)
    return _blots_filled(small, closed, k)


def _blots_filled(small: F32, closed: F32, k: int) -> F32:
    """``closed`` (``paper_light``'s) where ink wider than its window left a blot: a patch darker
    by a step (``EDGE``) than the light a closing ``BLOT`` times as wide finds, that reaches no
    side of the photo (the table and a shadow cast from outside do) and has ``SHARP`` of the
    pixels round it on a sharp step of ``closed`` (a shadow's sides are soft), takes that wider
    closing's light."""
    wide = _slide(_slide(small, BLOT * k, np.maximum), BLOT * k + 2 * MARGIN, np.minimum)
    darker = _lum(closed) < EDGE * _lum(wide)
    if not darker.any():
        return closed
    (rows, starts, ends), number, n = numbered(darker)
    h, w = darker.shape
    edge = (rows == 0) | (rows == h - 1) | (starts == 0) | (ends == w)
    framed = np.zeros(n, bool)
    framed[number[edge]] = True
    ys, xs = expand(rows, starts, ends)
    label = np.zeros((h, w), np.float32)
    label[ys, xs] = np.repeat(number, ends - starts) + 1
    around = _slide(label[..., None], 3, np.maximum)[..., 0].astype(np.int64)  # the patch next to each pixel
    ring = (label == 0) & (around > 0)
    steps = _edge_zone(closed)
    sharp = np.bincount(around[ring & steps], minlength=n + 1) >= SHARP * np.bincount(around[ring], minlength=n + 1)
    blots = sharp[1:] & ~framed
    if not blots.any():
        return closed
    blot = blots[np.maximum(label.astype(np.int64) - 1, 0)] & (label > 0)
    blot = _slide(blot.astype(np.float32)[..., None], 2 * MARGIN + 1, np.maximum)[..., 0] > 0
    return np.where(blot[..., None], np.maximum(closed, wide), closed).astype(np.float32)


def _slide(a: F32, k: int, op: np.ufunc) -> F32:
    """``op`` (np.maximum or np.minimum) over a k × k window round each pixel of (h, w, C), k odd,
    in two passes, the edges repeated outward. Each pass doubles the window (1, 2, 4 … pixels)
    while it fits in k, and covers the rest with one more of that size, overlapping: log k steps."""
    r = k // 2
    for axis in (0, 1):
        pad = [(0, 0)] * a.ndim
        pad[axis] = (r, r)
        p = np.pad(a, pad, mode="edge")
        span = 1
        while span * 2 <= k:  # p[i] is op over span pixels from i
            p = op(_cut(p, axis, 0, p.shape[axis] - span), _cut(p, axis, span, p.shape[axis]))
            span *= 2
        n = a.shape[axis]
        a = op(_cut(p, axis, 0, n), _cut(p, axis, k - span, k - span + n))
    return a


def _cut(a: F32, axis: int, start: int, stop: int) -> F32:
    """``a[start:stop]`` along ``axis``."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def paper_mask(closed: F32, steps: NDArray[np.bool_], shape: tuple[int, int]) -> NDArray[np.bool_]:
    """The paper's light on the small copy (h, w, 3) → where the paper is in a photo of ``shape``:
    the largest region of the coarse grid whose neighbouring cells differ by less than ``STEP``,
    less a margin of two cells where it meets the rest (the table); the whole image when nothing
    else is there. A cell within a cell's width of a sharp step of the light (``steps``, the
    small copy's ``_edge_zone``) joins nothing, then comes back to the paper if the paper
    reaches it: so the paper's edge, slanting across the grid, cannot lead from paper to table
    through cells each a little darker than the last."""
    H, W = shape
    cell = _cell((W, H))
    lum = _lum(closed)
    ys = np.minimum(np.arange(cell // 2, H, cell) * lum.shape[0] // H, lum.shape[0] - 1)
    xs = np.minimum(np.arange(cell // 2, W, cell) * lum.shape[1] // W, lum.shape[1] - 1)
    k = 2 * (_cell(lum.shape) // 2) + 1  # a cell's width of the small copy, odd
    cut = _slide(steps.astype(np.float32)[..., None], k, np.maximum)[..., 0][np.ix_(ys, xs)] > 0
    region = _largest_even_region(np.where(cut, np.nan, lum[np.ix_(ys, xs)]).astype(np.float32))
    for _ in range(2):  # the cut cells the paper reaches, back to it: the margin below is taken from there
        region |= cut & _grown(region)
    if region.all():
        return np.ones((H, W), bool)
    for _ in range(2):  # the margin: cells next to the table are partly table
        region = _shrink(region)
    return _scaled_up(region, cell, shape)


def edges(steps: NDArray[np.bool_], factor: int, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Where the paper's light steps sharply (``steps``, the small copy's ``_edge_zone``, reduced
    ``factor`` times), widened by ``MARGIN``, in a photo of ``shape``: the paper's edge against
    the table, a hard shadow. The strokes are gone from the light, so none of them step; ink is
    not looked for there."""
    zone = _slide(steps.astype(np.float32)[..., None], 2 * MARGIN + 1, np.maximum)[..., 0] > 0
    return _scaled_up(zone, factor, shape)


def _edge_zone(closed: F32) -> NDArray[np.bool_]:
    """Where the paper's light (the small copy's, (h, w, 3)) steps by more than ``EDGE`` within
    2 px: the paper's edge against the table, a hard shadow."""
    lum = np.log(np.maximum(_lum(closed), 1.0))
    step = np.zeros(lum.shape, np.float32)
    step[:, 1:-1] = np.abs(lum[:, 2:] - lum[:, :-2])
    step[1:-1] = np.maximum(step[1:-1], np.abs(lum[2:] - lum[:-2]))
    return step > math.log(1 / EDGE)


def _lum(closed: F32) -> F32:
    """The mean of the three channels of (h, w, 3), channel by channel (numpy's mean over a last
    axis of 3 is many times slower)."""
    return (closed[..., 0] + closed[..., 1] + closed[..., 2]) / np.float32(3)


def _scaled_up(a: NDArray[np.bool_], factor: int, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Each cell of ``a`` repeated ``factor`` × ``factor``, cut or extended (edge repeated) to ``shape``."""
    H, W = shape
    full = np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)[:H, :W]
    if full.shape != (H, W):
        full = np.pad(full, ((0, H - full.shape[0]), (0, W - full.shape[1])), mode="edge")
    return full


def _largest_even_region(lum: F32) -> NDArray[np.bool_]:
    """Cells joined where a neighbour's light is within ``STEP`` of a cell's (``components.resolve``,
    the cells' union-find in numpy); of the groups that cover at least ``BIG_REGION`` of the photo,
    the brightest: paper is lighter than the table."""
    h, w = lum.shape
    cells = np.arange(h * w).reshape(h, w)
    joined = [(cells[:, :-1], cells[:, 1:], _even(lum[:, :-1], lum[:, 1:])),
              (cells[:-1], cells[1:], _even(lum[:-1], lum[1:]))]
    i = np.concatenate([a[even] for a, _, even in joined])
    j = np.concatenate([b[even] for _, b, even in joined])
    group, k = resolve(h * w, i, j)
    counts = np.bincount(group, minlength=k)
    light = np.bincount(group, weights=lum.ravel(), minlength=k) / counts
    big = counts >= max(1, int(BIG_REGION * h * w))
    return (group == int(np.argmax(np.where(big, light, -1.0)))).reshape(h, w)


def _even(a: F32, b: F32) -> NDArray[np.bool_]:
    """Whether neighbouring cells' light ``a`` and ``b`` are within ``STEP`` of each other."""
    return np.minimum(a, b) / np.maximum(np.maximum(a, b), 1.0) >= STEP


def _grown(region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The region and every cell next to it (8 ways)."""
    return ~_shrink(~region)


def _shrink(region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """One cell off the region where it meets cells outside it (not where it meets the image's edge)."""
    p = np.pad(region, 1, mode="edge")
    h, w = region.shape
    return np.min([p[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


def _floor(dark: F32, fade: F32) -> F32:
    """The least darkening that is ink at each pixel: ``NOISE`` σ of the paper's own noise in its
    cell of the coarse grid, and at least ``MIN_INK`` — as faded as the ink there (``fade``, the
    small copy's ``glare_fade``). Noise is larger against less light, so a shadow asks more than
    the lit paper beside it. A cell's σ is from the mean difference between
    pixels ``APART`` apart along every other row (past the light blur's reach), each difference
    capped (``NOISE_CAP``) so that the writing's edges count little; the mean |difference| of
    Gaussian noise is σ·2/√π."""
    H, W = dark.shape
    cell = _cell((W, H))
    h, w = max(1, H // cell), max(1, W // cell)
    step = 2 if cell >= 2 else 1
    rows = dark[:h * cell:step]
    diff = np.minimum(np.abs(rows[:, APART:w * cell + APART] - rows[:, :min(w * cell, W - APART)]), NOISE_CAP)
    if diff.shape[1] < w * cell:  # the image is no wider than the cells: the last difference again
        diff = np.pad(diff, ((0, 0), (0, w * cell - diff.shape[1])), mode="edge")
    per_row = diff.reshape(diff.shape[0], w, -1).mean(axis=2)
    starts = np.linspace(0, per_row.shape[0], h + 1).astype(np.int64)
    sigma = np.add.reduceat(per_row, starts[:-1], axis=0) / np.diff(starts)[:, None] * (math.sqrt(math.pi) / 2)
    fy = np.minimum(((np.arange(h) + 0.5) * cell * fade.shape[0] / H).astype(np.int64), fade.shape[0] - 1)
    fx = np.minimum(((np.arange(w) + 0.5) * cell * fade.shape[1] / W).astype(np.int64), fade.shape[1] - 1)
    cells = np.maximum(MIN_INK * fade[np.ix_(fy, fx)], NOISE * sigma).astype(np.float32)
    return np.asarray(Image.fromarray(cells, "F").resize((W, H), Image.Resampling.BILINEAR), np.float32)


def _uncrowded(dark: F32, floor: F32, mask: NDArray[np.bool_]) -> F32:
    """The floor (``_floor``), raised by ``RAISE`` steps while more than ``CROWDED`` of the paper
    (``mask``) is darker than it. Writing covers a few per cent of a photo; a quarter of the paper
    over the floor is camera noise that ``_floor`` measured short (sharpened, or left correlated
    by JPEG), which would otherwise join every stroke to its neighbours and to the frame."""
    paper = max(1, int(np.count_nonzero(mask)))
    for k in RAISE:
        raised = floor if k == 1.0 else (k * floor).astype(np.float32)
        if np.count_nonzero(dark > raised) <= CROWDED * paper:
            break
    return raised
