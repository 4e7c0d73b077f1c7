"""Ruled lines and squared paper's grid, taken off a photo's ink (step 4 of ``photo.photo_ink``).

A ruled line is long, thin, straight and even; writing is none of these for long. So a line is
looked for where the ink *along a straight line* stands out from the ink beside it across most
of the paper, not where the ink is dark:

1. on a small copy (``SMALL_SIDE``), the ink is averaged along every line within ``TILT`` of the
   rows in each of ``STRIPS`` upright strips (a Radon transform, strip by strip), and each
   average less the larger of its neighbours' ``GAP`` rows away is how much that line stands out
   there; a line must stand out by ``MIN_LINE`` in ``LINE_COVER`` of the strips on paper, so the
   writing, which fills a few strips, never makes one. Perspective keeps lines straight; only
   their angles differ, so each line keeps its own. Where two lines found are a whole number of
   the ruling's steps apart, a line is looked for at each step between, let wander by a pixel
   from strip to strip (``_in_step``): the line a number is written on is hidden where the
   number is, and would otherwise stay to tie the writing to the frame. Where most lines lean
   alike, one found at another lean (writing along it pulled it round) is looked for again at
   theirs (``_agreeing``). A grid too fine for the small copy (its lines a few pixels apart
   there) is looked for on one twice the size (``_fine``).
2. each line found is placed again on the full-size ink: its centre in each of ``SEGMENTS``
   stretches along it, and a straight fit through them;
3. it is taken off by its own profile across, stretch by stretch — how dark it is 0, 1, 2 … px
   from its centre, the lower quartile over the stretch and its neighbours (``_local_profiles``),
   widened by a pixel — so a stroke that crosses it keeps what it adds to the line, and a line
   blurred, faint, or darker in one part of the photo than another goes whole.

Columns (a grid's, a margin's) are rows of the transposed ink, and go the same way."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

F32 = NDArray[np.float32]
SMALL_SIDE = 200  # px along the longer side of the copy lines are looked for on
STRIPS = 8  # upright strips of that copy, each averaged along a line on its own
LINE_COVER = 0.6  # a line stands out in at least this share of the strips on paper
TILT = 12.0  # the most (°) a line may lean from the rows (or the columns)
ANGLE_STEP = 1.0  # ° between the angles tried
GAP = 3  # px of the small copy between a line and the neighbours it must stand out from
WANDER = 1  # px (small copy) a line may move from strip to strip where the ruling's step expects it
EVEN = 0.2  # of the step: how far from a whole number of steps two lines may be apart
MIN_LINE = 0.03  # the least a line darkens its paper more than its neighbours do (small copy)
MAX_LINES = 60  # in each direction
ASTRAY = 4  # angle steps: a line leaning further from the rest is no ruled line to move (a stroke, an edge)
ALIKE = 3 / 4  # of the lines found leaning alike: the page's lean, which the others are looked for at again
MANY = 6  # lines, the fewest that make a grid fine enough to be looked for again …
FINE = 2 * GAP + 2  # … px: lines closer than this on the small copy are looked for again on one twice the size
SHOWN = 3  # strips a line leaning as its peers do must stand out in, to be moved to their lean
WIDE = 0.01  # the widest line, blur included, as a share of the longer side: half its profile
SOME_INK = 0.02  # on the small copy, lighter than this adds nothing worth summing along a line
SEGMENTS = 16  # stretches along a line, each giving its centre and its profile
SAMPLED = 16  # columns of a stretch its profile is taken on
NEIGHBOURS = 2  # stretches either side whose profiles set a stretch's
DEEPEST = 2.0  # a stretch's profile is at most this many times the whole line's
ANGLES = np.radians(np.arange(-TILT, TILT + 1e-6, ANGLE_STEP))
COS, SIN = np.cos(ANGLES).astype(np.float32), np.sin(ANGLES).astype(np.float32)


def unruled(dark: F32, mask: NDArray[np.bool_], side: int = SMALL_SIDE) -> F32:
    """Ink (H, W) in [0, 1], with the paper's mask → the same with ruled and grid lines taken off,
    looked for on a copy about ``side`` px long, or twice that when they are too fine for it
    (``_fine``)."""
    out = dark.copy()
    f = max(1, math.ceil(max(dark.shape) / side))
    reach = max(2, math.ceil(WIDE * max(dark.shape)))
    small, small_paper = _reduced(dark, f), _reduced(mask, f) > 0.5
    both = [lines_in(np.ascontiguousarray(s), np.ascontiguousarray(p))
            for s, p in ((small, small_paper), (small.T, small_paper.T))]
    if side == SMALL_SIDE and f > 1 and any(_fine(found) for found in both):  # once: the work stays bounded
        return unruled(dark, mask, 2 * side)
    for view, paper, found in ((out, mask, both[0]), (out.T, mask.T, both[1])):
        if found:
            _take_off(view, paper, np.array([_full_size(a, r, f) for a, r, _ in found]), reach)
    return out


def _fine(found: list[tuple[float, float, float]]) -> bool:
    """Whether lines found are a grid too fine for the copy they were looked for on: ``MANY`` or
    more, most of them closer than ``FINE`` px to the next, and half of them evenly so (a pixel
    either way). (One thick line found at neighbouring angles is a few lines close together.)"""
    if len(found) < MANY:
        return False
    gaps = np.diff(np.sort([r for _, r, _ in found]))
    step = float(np.median(gaps))
    return step < FINE and bool(np.count_nonzero(np.abs(gaps - step) <= 1) >= len(gaps) / 2)


def _reduced(a: NDArray[np.float32] | NDArray[np.bool_], f: int) -> F32:
    """The mean of each f × f block (the edges' partial blocks dropped): the sum of f² strided
    views, each holding one pixel of every block (numpy's mean over the blocks' two axes is
    several times slower)."""
    h, w = a.shape[0] // f, a.shape[1] // f
    total = np.zeros((h, w), np.float32)
    for i in range(f):
        for j in range(f):
            total += a[i:h * f:f, j:w * f:f]
    total /= f * f
    return total


def lines_in(small: F32, paper: NDArray[np.bool_]) -> list[tuple[float, float, float]]:
    """The lines (angle from the rows in radians, offset ρ = y cos a − x sin a, and by how much
    they stand out) along which the ink stands out from its neighbours in ``LINE_COVER`` of the
    paper's strips, the strongest first; then those the ruling's step expects (``_in_step``)."""
    h, w = small.shape
    ys, xs = np.nonzero(paper & (small > SOME_INK))
    sums = _along(ys, xs, small[ys, xs], (h, w))
    counts = _paper_counts(paper)
    mean = sums / np.maximum(counts, 1.0)
    beside = np.maximum(np.roll(mean, GAP, axis=2), np.roll(mean, -GAP, axis=2))
    stands = np.where(counts * STRIPS >= w // 2, mean - beside, np.nan)  # a strip's line mostly on paper
    stands[..., _margin(w) + h + 1:] = np.nan  # a line meets the left edge no lower than the bottom row
    on_paper = np.isfinite(stands).sum(axis=1)
    stands = np.where(np.isfinite(stands), stands, -1.0)
    found = _agreeing(_strongest(_kth_strip(stands, on_paper), w), stands, w)
    wandering = np.maximum(stands, np.maximum(np.roll(stands, WANDER, axis=2), np.roll(stands, -WANDER, axis=2)))
    return found + _in_step(found, _kth_strip(wandering, on_paper), w)


def _agreeing(found: list[tuple[float, float, float]], stands: NDArray[np.float64],
              w: int) -> list[tuple[float, float, float]]:
    """The lines found, each leaning as the rest do where most of them lean alike: writing along
    a line adds ink at other angles, so a line through the writing can stand out most at the
    wrong one, and, taken off there, is left on. With four lines or more, ``ALIKE`` of those not
    ``ASTRAY`` within an angle step of their median lean, a line a step or more from it is looked
    for again at that lean, near where it crosses the middle of the copy: where it stands out
    (``stands``, (angles, strips, ρ)) by ``MIN_LINE`` in the most strips, ``SHOWN`` at least: the
    writing hides it in the strips it fills, and here the line is known to be there. One found again
    where a line already was is dropped. A page in perspective, its lines turning a step from
    one to the next, or split between two angles, is left as found."""
    if len(found) < 4:
        return found
    angles = np.array([a for a, _, _ in found])
    lean = float(np.median(angles))
    i = int(np.argmin(np.abs(ANGLES - lean)))
    step = math.radians(ANGLE_STEP)
    off = np.abs(angles - ANGLES[i]) / step
    if np.count_nonzero(off <= 1.01) < ALIKE * np.count_nonzero(off < ASTRAY + 0.5):
        return found
    margin, mid = _margin(w), w / 2
    out = []
    for a, r, v in found:
        if not 0.99 * step < abs(a - lean) < (ASTRAY + 0.5) * step:  # (half-way between two: both kept)
            out.append((a, r, v))
            continue
        y = (r + mid * math.sin(a)) / math.cos(a)  # where the line crosses the middle column
        lo = max(0, round(y * COS[i] - mid * SIN[i]) + margin - 2 * GAP)
        near = stands[i, :, lo:lo + 4 * GAP + 1]  # (strips, ρ)
        shown = (near >= MIN_LINE).sum(axis=0) + np.clip(near, 0, 1).sum(axis=0) / (STRIPS + 1)  # ties: the darker
        if shown.size and shown.max() >= SHOWN:
            moved = float(lo + int(np.argmax(shown)) - margin)
            if all(abs(moved - r2) > GAP for a2, r2, _ in found if abs(a2 - ANGLES[i]) < step / 2):
                out.append((float(ANGLES[i]), moved, v))  # (not where a line leaning so was found)
        else:
            out.append((a, r, v))
    return out


def _kth_strip(stands: NDArray[np.float64], on_paper: NDArray[np.int64]) -> NDArray[np.float64]:
    """How much each line (angle, ρ) stands out in the k-th best of its strips on paper, k the
    ``LINE_COVER`` of them; −1 where fewer than 3 strips are on paper."""
    k = np.ceil(LINE_COVER * on_paper).astype(np.int64)  # the k-th best strip must still show it
    ranked = -np.sort(-stands, axis=1)
    score = np.take_along_axis(ranked, np.clip(k - 1, 0, STRIPS - 1)[:, None], axis=1)[:, 0]
    score[on_paper < 3] = -1.0
    return score


def _strongest(score: NDArray[np.float64], w: int) -> list[tuple[float, float, float]]:
    """The lines standing out by ``MIN_LINE`` at least, the strongest first; one line, at whatever
    angle, for each ρ and its ``GAP`` neighbours, and for each crossing of the middle column and
    its ``GAP`` neighbours (a dark line also stands out a degree or two off its own lean, pivoting
    about its middle: found twice, it was taken off twice, in the wrong place)."""
    found: list[tuple[float, float, float]] = []
    margin, mid = _margin(w), w / 2
    while len(found) < MAX_LINES:
        i, r = (int(v) for v in np.unravel_index(int(np.argmax(score)), score.shape))
        if score[i, r] < MIN_LINE:
            break
        found.append((float(ANGLES[i]), float(r - margin), float(score[i, r])))
        score[:, max(0, r - GAP):r + GAP + 1] = -1.0  # one line, whatever its angle: as it meets the left side …
        y = (r - margin + mid * SIN[i]) / COS[i]
        for j, c in enumerate(np.rint(y * COS - mid * SIN).astype(np.int64) + margin):  # … and the middle
            score[j, max(0, c - GAP):c + GAP + 1] = -1.0
    return found


def _in_step(found: list[tuple[float, float, float]], wandering: NDArray[np.float64],
             w: int) -> list[tuple[float, float, float]]:
    """The lines missing from an evenly ruled page: where two lines found are a whole number of
    the ruling's steps apart, a line is looked for at each step between them, letting it wander
    (``WANDER``) from strip to strip. Writing on a line hides it in the strips it fills and
    rounding moves a thin line by a pixel in others, so the strict test can miss it, while the
    line it leaves behind ties the writing to the frame."""
    if len(found) < 3:
        return []
    rhos = np.sort([r for _, r, _ in found])
    step = float(np.median(np.diff(rhos)))
    if step < 2 * GAP + 1:
        return []
    i = int(np.argmin(np.abs(ANGLES - np.median([a for a, _, _ in found]))))
    added, margin = [], _margin(w)
    for a, b in itertools.pairwise(rhos):
        m = round((b - a) / step)
        if m < 2 or abs((b - a) / step - m) > EVEN:
            continue
        for k in range(1, m):
            r = round(a + k * (b - a) / m) + margin
            near = wandering[i, r - WANDER:r + WANDER + 1]
            if near.size and near.max() >= MIN_LINE:
                added.append((float(ANGLES[i]), float(r - WANDER + int(np.argmax(near)) - margin), float(near.max())))
    return added


def _margin(w: int) -> int:
    """How far ρ reaches past the rows of a copy ``w`` wide (its lines lean up to ``TILT``), and
    the neighbours ``GAP`` beyond: ρ is counted from −margin on, up to h + margin, so that every
    pixel has its bin. (Lines are looked for from ρ = −margin to h only: a line that meets the
    left edge below the bottom row is not looked for.)"""
    return math.ceil(w * math.sin(math.radians(TILT))) + GAP + 1


def _along(ys: NDArray[np.intp], xs: NDArray[np.intp], weights: NDArray[np.floating] | None,
           shape: tuple[int, ...]) -> NDArray[np.float64]:
    """The sum of ``weights`` (None: 1 each) at pixels (ys, xs) of a copy of ``shape`` along every
    line (angle, ρ) in each upright strip: (``ANGLES``, ``STRIPS``, ρ from −``_margin`` on). One
    angle at a time: its strips' sums are a few thousand, which the bincount keeps in the cache."""
    h, w = shape
    margin = _margin(w)
    span = h + 2 * margin
    out = np.zeros((len(ANGLES), STRIPS * span))
    y, x = ys.astype(np.float32), xs.astype(np.float32)
    origin = (xs * STRIPS // w) * span + margin  # ρ = 0 in each pixel's strip
    weights = None if weights is None else weights.astype(np.float64)
    for i, (cos, sin) in enumerate(zip(COS, SIN, strict=True)):
        rho = np.rint(y * cos - x * sin).astype(np.intp)
        out[i] = np.bincount(rho + origin, weights=weights, minlength=STRIPS * span)
    return out.reshape(len(ANGLES), STRIPS, span)


def _paper_counts(paper: NDArray[np.bool_]) -> NDArray[np.float64]:
    """How many pixels of the paper each line (angle, strip, ρ) crosses (``_along``'s layout):
    those of the whole copy (``_counts``, which its shape alone sets) less those off the paper,
    when they are the fewer (a photo's paper is most of it, a scan's all of it)."""
    off = ~paper
    if 2 * np.count_nonzero(off) > off.size:
        ys, xs = np.nonzero(paper)
        return _along(ys, xs, None, paper.shape)
    counts = _counts(paper.shape)
    ys, xs = np.nonzero(off)
    return counts - _along(ys, xs, None, paper.shape) if ys.size else counts


@lru_cache(maxsize=8)
def _counts(shape: tuple[int, ...]) -> NDArray[np.float64]:
    """``_along`` of every pixel of a copy of ``shape``, read-only: the same for every photo of
    a size (a phone's are all one size, and both ways round are asked for)."""
    h, w = shape
    ys, xs = np.divmod(np.arange(h * w), w)
    counts = _along(ys, xs, None, shape)
    counts.flags.writeable = False
    return counts


def _full_size(angle: float, rho: float, f: int) -> tuple[float, float]:
    """A line y = c + s·x of the small copy (f times smaller) → the same line on the full size,
    as (c, s), row at column 0 and slope: each small pixel's centre is at f·i + (f − 1) / 2."""
    s = math.tan(angle)
    c = rho / math.cos(angle)
    half = (f - 1) / 2
    return f * c + half - s * half, s


def _take_off(ink: F32, paper: NDArray[np.bool_], lines: NDArray[np.float64], reach: int) -> None:
    """Takes lines (each row = c + s·column; ``lines`` (n, 2) of c, s) off ``ink`` in place, each
    by its own profile across it, stretch by stretch (``_local_profiles``). (Where two lines'
    bands meet, one of them is taken off there.)"""
    H, W = ink.shape
    offsets = np.arange(-reach, reach + 1)
    lines = _placed(ink, lines, offsets)
    profiles, on_paper = _stretch_profiles(ink, paper, lines, offsets)  # (n, stretches, offsets)
    enough = on_paper.sum(axis=1) >= 2
    if not enough.any():
        return
    profile = _local_profiles(profiles[enough], on_paper[enough])  # (n, stretches, offsets)
    c, s = lines[enough, 0], lines[enough, 1]
    xs = np.arange(W)
    stretch = xs * SEGMENTS // W  # each column's stretch, as _stretch_profiles cuts them
    centre = np.round(c[:, None] + s[:, None] * xs[None]).astype(np.int64)  # (n, W)
    line, offset = np.nonzero(profile.max(axis=1) > 0)  # a line's band, where it darkens the paper at all
    rows = centre[line] + offsets[offset, None]  # (band's rows, W)
    on = paper[centre.clip(0, H - 1), xs[None]] & (centre >= 0) & (centre < H)
    at = (rows >= 0) & (rows < H) & on[line]
    ys, cols = rows[at], np.broadcast_to(xs, rows.shape)[at]
    depth = profile[line[:, None], stretch[None], offset[:, None]]  # (band's rows, W)
    ink[ys, cols] = np.maximum(ink[ys, cols] - depth[at], 0.0)


def _local_profiles(profiles: F32, on_paper: NDArray[np.bool_]) -> F32:
    """Each line's profile across it in each stretch (n, stretches, offsets), from the stretches'
    own (``_stretch_profiles``): the lower quartile over the ``NEIGHBOURS`` stretches on paper
    either side and itself, so a line darker in one part of the photo than another (a shadow,
    the light's fall, perspective) goes whole, while a stroke crossing the line, or running along
    it for a stretch or two, does not set it; and no more than ``DEEPEST`` times the lower
    quartile over the whole line, so a stroke along it for longer keeps most of its ink. Less its
    least, widened by a pixel either side."""
    n, _, m = profiles.shape
    ranked = np.sort(np.where(on_paper[..., None], profiles, np.inf), axis=1)  # off the paper: last
    whole = np.take_along_axis(ranked, np.broadcast_to(((on_paper.sum(axis=1) - 1) // 4)[:, None, None], (n, 1, m)),
                               axis=1)
    r = NEIGHBOURS
    padded = np.pad(np.where(on_paper[..., None], profiles, np.inf), ((0, 0), (r, r), (0, 0)), constant_values=np.inf)
    windows = np.sort(sliding_window_view(padded, 2 * r + 1, axis=1), axis=3)  # (n, k, offsets, window)
    here = sliding_window_view(np.pad(on_paper, ((0, 0), (r, r))), 2 * r + 1, axis=1).sum(axis=2)  # (n, k)
    quartile = np.take_along_axis(windows, ((np.maximum(here, 1) - 1) // 4)[:, :, None, None], axis=3)[..., 0]
    local = np.where((here >= 2)[..., None], np.minimum(quartile, DEEPEST * whole), whole)
    local = np.maximum(local - np.minimum(local[..., :1], local[..., -1:]), 0.0)
    wider = np.maximum(np.roll(local, 1, axis=2), np.roll(local, -1, axis=2))
    return np.maximum(local, wider)


def _placed(ink: F32, lines: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """The lines (n, 2: c, s) moved onto the full-size ink: in each stretch, the centre of the
    profile across it (the darkness above its least), and a straight fit through those centres."""
    profiles, _ = _stretch_profiles(ink, np.ones(ink.shape, bool), lines, offsets)
    weight = profiles - profiles.min(axis=2, keepdims=True)
    total = weight.sum(axis=2)
    good = (total > 1e-3).astype(np.float64)  # (n, stretches)
    centre = (weight @ offsets) / np.maximum(total, 1e-9)
    mids = (np.arange(SEGMENTS) + 0.5) * ink.shape[1] / SEGMENTS
    n, sx, sy = good.sum(axis=1), good @ mids, (good * centre).sum(axis=1)
    sxx, sxy = good @ (mids * mids), (good * centre * mids).sum(axis=1)
    det = n * sxx - sx * sx
    fit = (n >= 2) & (det > 1e-9)
    slope = np.where(fit, (n * sxy - sx * sy) / np.where(fit, det, 1.0), 0.0)
    shift = np.where(fit, (sy - slope * sx) / np.maximum(n, 1.0), 0.0)
    return lines + np.stack([shift, slope], axis=1)


def _stretch_profiles(ink: F32, paper: NDArray[np.bool_], lines: NDArray[np.float64],
                      offsets: NDArray[np.int64]) -> tuple[F32, NDArray[np.bool_]]:
    """The profile across each line (n, 2: c, s) in each of ``SEGMENTS`` stretches along it: the
    median, over ``SAMPLED`` columns of the stretch, of the ink at each offset from the line,
    (n, stretches, offsets); and whether each stretch is mostly on the paper (n, stretches)."""
    H, W = ink.shape
    count = SEGMENTS * max(1, min(SAMPLED, W // SEGMENTS))
    xs = np.linspace(0, W - 1, count).round().astype(np.int64)
    centre = np.round(lines[:, :1] + lines[:, 1:] * xs[None]).astype(np.int64)  # (n, count)
    rows = (centre[:, None, :] + offsets[None, :, None]).clip(0, H - 1)
    band = ink[rows, xs].reshape(len(lines), len(offsets), SEGMENTS, -1)
    on = (paper[centre.clip(0, H - 1), xs] & (centre >= 0) & (centre < H)).reshape(len(lines), SEGMENTS, -1)
    return _median_last(band).transpose(0, 2, 1), on.mean(axis=2) >= 0.5


def _median_last(a: F32) -> F32:
    """``np.median`` over the last axis, by sorting it: on rows of a few samples numpy's median
    (a partition of each row) is several times slower."""
    ranked = np.sort(a, axis=-1)
    m = a.shape[-1]
    middle = ranked[..., (m - 1) // 2] + ranked[..., m // 2]
    middle /= 2
    return middle
