"""A drawn number → its digits, in order, found by reading: the network is asked which way of
cutting the ink into digits it reads best (segmentation by recognition).

1. Ink (``preprocess.ink_map``) above ``INK`` is split into 8-connected components at full
   resolution (``app.imaging.components``: runs of ink joined in numpy). The line's height is
   the tallest component's; a component smaller than ``SPECK`` of it both ways is a speck and
   is dropped, unless specks close together make a stroke (``gathered``: one a thin pen broke).
   A component lying wholly inside another's box is part of it (``nested``: the inner outline of
   an outlined digit, a bit broken off inside a digit). A drawing in outlines (a font's outlined
   glyphs) or sketched has the insides of its strokes filled first (``app.imaging.outlines``).
2. Atoms: each component, except that one wider than ``CUTTABLE`` times its height may be
   touching digits (if it is at least ``TALL`` of the line's height, as no pair of digits is as flat
   as a 5's bar, and is as wide with the line set upright, ``wide``: an italic 8 is no pair),
   so it is cut into slices. Each cut starts from one of the deepest minima of
   the component's vertical ink profile and runs from top to bottom along the path that crosses
   the least ink (``paths``): it bends round a digit's strokes and goes through ink only where
   two digits touch, so a leaning 1 comes away from the 3 it leans on, which no vertical cut can
   do.
3. Atoms are ordered by their horizontal centres (a sloping line does not upset that). A
   candidate digit is a run of up to ``MAX_RUN`` neighbouring atoms: the two strokes of a 4 or
   a 5, a 7's crossbar, an 8 drawn as two loops, or the slices of a wide piece put back
   together. Runs with a horizontal gap over ``GAP`` of the line's height, or wider than
   ``WIDEST`` of it, are not one digit.
4. Every candidate is fitted to 28×28 exactly as ``/api/predict`` fits a drawing and read by the
   network in one batch (``read`` is handed in: this module knows no model). The reading of the
   line is the sequence of candidates whose log-confidences sum highest, found by dynamic
   programming, where joining separate strokes costs ``JOIN_COST`` and a digit much shorter than
   the line or much wider than tall costs more; cutting through a component costs nothing more
   (a price for it, tried on the tuning sets, kept more touching pairs whole than it saved).
   A small stroke on its own (under ``DROPPABLE`` of the line both ways: a dot, a blot, a broken
   bit of a thin pen) may be left out, for ``DROP_COST``, rather than read as a digit.

So a 1 written close to a 3 is two digits because "1" and "3" read better than the pair read as
one (the network has an output for "not a digit", trained on pairs of digits among other things),
and two touching 0s are cut because the halves read as 0s and the whole as no digit."""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from app.imaging.budget import Work
from app.imaging.components import components, grouped, label
from app.imaging.components import runs as row_runs  # ``runs`` here: runs of atoms
from app.imaging.errors import EmptyImage, InputError
from app.imaging.outlines import INK, fill_outlines
from app.imaging.preprocess import fit_mnist

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]
Reader = Callable[[F32], NDArray[np.float64]]  # (k, 28, 28) → confidence of each, in [0, 1]
Box = tuple[int, int, int, int]  # x, y, width, height
SPECK = 0.12        # of the line's height, both ways: smaller components are specks
NEAR = 0.04         # of the line's height: specks about this close are one broken stroke
TALL = 0.5          # of the line's height: a shorter component (a 5's bar, a broken stroke) is never cut
CUTTABLE = 0.75     # width / height over which a component may be touching digits
NARROW = 0.4        # of the height: digits this narrow (their median width) are a narrow hand, where
SIBLINGS, NARROWEST = 1.4, 0.4  # a component over SIBLINGS times their width, and NARROWEST of its height, is wide
CUT_APART = 0.25    # of the component's height: the least distance between two cuts
CUTS_PER_HEIGHT = 2.5  # cuts tried in a wide component, for each height of its width
BAND = 0.3          # of the component's height: how far a cut may stray from its column
SEVERAL, DIGIT_WIDTH = 1.1, 0.65  # of the height: width that holds several digits; a digit's usual width
EDGE = 0.1          # of the component's width: no cut runs closer to its sides
STRAY = 0.1         # cost of straying the whole band, per row, as a share of a full ink pixel
CUT_ROWS = 160      # taller components are cut on blocks of pixels, at most this many rows of them
MAX_RUN = 6         # atoms in one digit (a 5 of three strokes, its body cut in three)
GAP = 0.1           # of the line's height: atoms further apart than this are not one digit (a 4's stem
#                     is often drawn a little apart from its L, and a thin pen breaks strokes wide apart)
WIDEST = 2.0        # of the line's height: no digit is wider
JOIN_COST = math.log(0.8)     # one digit of separate strokes: the join must read better
SHORT, SHORT_COST = 0.45, math.log(0.05)  # a digit under SHORT of the line's height is unlikely
SQUAT, SQUAT_COST = 1.25, 1.0  # width / height over SQUAT costs SQUAT_COST per unit of excess
SLANTS = tuple(np.linspace(-0.6, 0.6, 13))  # shears tried to set a slanted line upright (±31°)
DROPPABLE, DROP_COST = 0.45, math.log(0.3)  # a stroke smaller than this of the line, alone, may be a speck
MAX_PIECES = 12
MAX_ATOMS = 6 * MAX_PIECES  # pieces, once the wide ones are cut: more is no number


class Piece(NamedTuple):
    """A digit found: its box (x, y, w, h, in the ink's pixels), its 28×28 input, and its row in
    the batch handed to ``read`` (a caller that kept those readings need not read it again)."""
    box: Box
    x: F32
    row: int


class TooManyDigits(InputError):
    code = "too_many_digits"


@dataclass(frozen=True)
class Atom:
    """Ink pixels (rows, columns) of one component, or of a slice of one between two cuts."""
    component: int
    ys: I64
    xs: I64

    @functools.cached_property
    def x0(self) -> int:
        return int(self.xs.min())

    @functools.cached_property
    def x1(self) -> int:  # exclusive
        return int(self.xs.max()) + 1

    @functools.cached_property
    def y0(self) -> int:
        return int(self.ys.min())

    @functools.cached_property
    def y1(self) -> int:  # exclusive
        return int(self.ys.max()) + 1

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def slant(parts: list[tuple[I64, I64]]) -> float:
    """The shear (of SLANTS) that sets these components upright: the one under which their
    column profile is sharpest (greatest sum of squares), as the strokes of italic digits then
    stand in fewest columns; the least shear of equals. Measured on about 5,000 of their pixels
    (every n-th of them all, taken part by part without joining them: each wide component asks
    this of all the others)."""
    total = sum(len(p[0]) for p in parts)
    step = max(1, total // 5000)
    ys_, xs_, at = [], [], 0  # ``at``: the index, in all the pixels, of this part's first
    for p_ys, p_xs in parts:
        first = -at % step
        ys_.append(p_ys[first::step])
        xs_.append(p_xs[first::step])
        at += len(p_ys)
    ys, xs = np.concatenate(ys_), np.concatenate(xs_)

    def sharpness(t: float) -> float:
        sheared = np.round(xs - t * ys).astype(np.int64)
        return float(np.square(np.bincount(sheared - sheared.min()).astype(np.float64)).sum())

    return max(SLANTS, key=lambda t: (sharpness(t), -abs(t)))


def wide(parts: list[tuple[I64, I64]], sizes: list[tuple[int, int]], k: int, line: int) -> bool:
    """Whether component k may be touching digits: at least TALL of the line's height, wider
    than CUTTABLE of its height (in a narrow hand: than SIBLINGS times the line's other digits),
    and still so with the line set upright, as the other components' slant says. So an italic 8
    is no pair, while a lone pair of touching digits is not set upright by its own lean.
    ``sizes``: (width, height) of each component."""
    ys, xs = parts[k]
    if sizes[k][1] < TALL * line:
        return False
    width, height = sizes[k][0], max(sizes[k][1], 0.8 * line)
    usual = usual_width([size for i, size in enumerate(sizes) if i != k], line)
    least = max(SIBLINGS * usual, NARROWEST * height) if usual < NARROW * height else CUTTABLE * height
    if width <= least:
        return False
    others = [p for i, p in enumerate(parts) if i != k]
    return not others or int(np.ptp(np.round(xs - slant(others) * ys))) + 1 > least


def usual_width(sizes: list[tuple[int, int]], line: int) -> float:
    """The median width of the components as tall as a digit, if at least two are; else infinite.
    Digits typed in a condensed font are narrow, and so is a pair of them touching."""
    widths = [w for w, h in sizes if h >= 0.6 * line]
    return float(np.median(widths)) if len(widths) >= 2 else math.inf


def starts(weights: NDArray[np.uint8], ys: I64, xs: I64, line: int) -> list[int]:
    """Columns (from the component's left edge) near which a wide component may be touching
    digits: the deepest minima of its smoothed vertical ink profile, in its middle, at least
    CUT_APART of its height apart, CUTS_PER_HEIGHT for each height of its width; and, if it is
    wider than SEVERAL, its width divided evenly in digits of DIGIT_WIDTH."""
    x0, width, height = int(xs.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1
    k = max(3, round(0.06 * height)) | 1
    profile = np.convolve(np.bincount(xs - x0, weights=weights, minlength=width), np.ones(k) / k, "same")
    lo, hi = int(0.15 * width), int(0.85 * width)
    inner = profile[lo:hi]
    minima = (lo + 1 + np.flatnonzero((inner[1:-1] <= inner[:-2]) & (inner[1:-1] < inner[2:]))).tolist()
    # Where two digits overlap, the profile peaks rather than dips at the join: a component that
    # must hold several digits is also tried at even spacing.
    n = evenly(width, height, line)
    chosen: list[int] = [round(width * i / n) for i in range(1, n)]
    most = most_cuts(width, height, line)
    for c in sorted(minima, key=lambda c: profile[c]):
        if len(chosen) >= most:
            break
        if all(abs(c - o) >= CUT_APART * height for o in chosen):
            chosen.append(c)
    return sorted(chosen)


def evenly(width: int, height: int, line: int) -> int:
    """Digits a component ``width`` by ``height`` holds if it must hold several, else 0."""
    return round(width / (DIGIT_WIDTH * max(height, line))) if width > SEVERAL * max(height, line) else 0


def most_cuts(width: int, height: int, line: int) -> int:
    """The most cuts ``starts`` tries in a component ``width`` by ``height``."""
    n = evenly(width, height, line)
    return max(1, int(CUTS_PER_HEIGHT * width / max(height, line))) + max(n - 1, 0)


def paths(own: NDArray[np.float64], columns: list[int]) -> list[I64]:
    """Cuts from top to bottom of a component's own ink ``own`` (h, w), one near each of
    ``columns``: for every row, the column where the cut's right side begins. Each is the path
    crossing the least ink, plus ``STRAY`` for straying from its column, moving at most one
    column a row and at most ``BAND`` of the height from its column. Found by dynamic programming
    over the rows, all cuts at once, on blocks of pixels if it has more than ``CUT_ROWS`` rows."""
    h, w = own.shape
    step = max(1, math.ceil(h / CUT_ROWS))
    H, W = math.ceil(h / step), math.ceil(w / step)
    blocks = np.zeros((H * step, W * step))
    blocks[:h, :w] = own
    cost = blocks.reshape(H, step, W, step).sum(axis=(1, 3))
    band = max(2, int(BAND * H))
    offsets = np.arange(-band, band + 1)
    inner = int(EDGE * W), W - 1 - int(EDGE * W)  # never round the outside of the ink
    cols = np.clip(np.array(columns)[:, None] // step + offsets, *inner)  # (cuts, 2·band + 1)
    stray = STRAY * 255 * step * step * np.abs(offsets) / band
    total = cost[0][cols] + stray
    back = np.zeros((H, *cols.shape), np.int8)
    left, right = np.full(cols.shape, np.inf), np.full(cols.shape, np.inf)
    for r in range(1, H):
        left[:, 1:], right[:, :-1] = total[:, :-1], total[:, 1:]
        best = np.minimum(np.minimum(left, total), right)
        back[r] = np.where(best == total, 0, np.where(best == left, -1, 1))
        total = best + cost[r][cols] + stray
    at = np.empty((H, len(columns)), np.int64)
    at[-1] = total.argmin(axis=1)
    for r in range(H - 1, 0, -1):
        at[r - 1] = at[r] + back[r, np.arange(len(columns)), at[r]]
    x = np.take_along_axis(cols, at.T, axis=1).T * step  # (H, cuts), in pixels
    cuts = [np.repeat(x[:, 0], step)[:h]]
    for k in range(1, len(columns)):  # never crossing the cut before
        cuts.append(np.maximum(np.repeat(x[:, k], step)[:h], cuts[-1] + 1))
    return cuts


def atoms(ink: NDArray[np.uint8], parts: list[tuple[I64, I64]], sizes: list[tuple[int, int]],
          line: int, work: Work | None = None) -> list[Atom]:
    """Each component (``sizes``: their widths and heights) as one atom, or cut along its paths;
    ordered by horizontal centre. ``work`` counts the cuts' work before any is cut."""
    work = work or Work()
    cuttable = []
    for k in range(len(parts)):
        work.check()
        cuttable.append(wide(parts, sizes, k, line))
    work.count("cut_work", sum(most_cuts(*sizes[k], line) * (len(parts[k][0]) + CUT_ROWS * CUT_ROWS)
                               for k in range(len(parts)) if cuttable[k]))
    out = []
    for k, (ys, xs) in enumerate(parts):
        work.check()
        weights = ink[ys, xs] if cuttable[k] else None
        columns = starts(weights, ys, xs, line) if weights is not None else []
        if weights is None or not columns:
            out.append(Atom(k, ys, xs))
            continue
        side = np.zeros(len(xs), np.int64)
        y0, x0 = int(ys.min()), int(xs.min())
        own = np.zeros((int(ys.max()) + 1 - y0, int(xs.max()) + 1 - x0))
        own[ys - y0, xs - x0] = weights
        for cut in paths(own, columns):
            side += xs - x0 >= cut[ys - y0]
        for s in range(len(columns) + 1):
            sel = side == s
            if sel.any():
                out.append(Atom(k, ys[sel], xs[sel]))
    return sorted(out, key=lambda a: a.centre)


def joinable(run: list[Atom], line: int) -> bool:
    """Whether neighbouring atoms could be one digit: no wide gap, not too wide."""
    spans = sorted((a.x0, a.x1) for a in run)
    reach = spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach > GAP * line:
            return False
        reach = max(reach, x1)
    return reach - spans[0][0] <= WIDEST * line


class Canvas:
    """The ink of a line and its atoms, ready to draw any run of them: which atom each pixel is
    in (``owner``, −1 for none) and the faint ink that is in no component (``faint``)."""

    def __init__(self, ink: NDArray[np.uint8], inked: NDArray[np.bool_], found: list[Atom]) -> None:
        self.ink, self.found = ink, found
        self.faint = ink * ~inked
        owner = np.full(ink.size, -1, np.int16)
        for k, atom in enumerate(found):
            owner[atom.ys * ink.shape[1] + atom.xs] = k
        self.owner = owner.reshape(ink.shape)

    def draw(self, i: int, j: int) -> tuple[Box, Image.Image]:
        """Atoms i…j−1 as an "L" image, and its box: their own pixels and the faint ink (below
        INK, so in no component) in their box, which may join their own broken strokes; not the
        neighbours' ink within the box."""
        run = self.found[i:j]
        x0, y0 = min(a.x0 for a in run), min(a.y0 for a in run)
        x1, y1 = max(a.x1 for a in run), max(a.y1 for a in run)
        box = (slice(y0, y1), slice(x0, x1))
        owner = self.owner[box]
        own = np.where((owner >= i) & (owner < j), self.ink[box], self.faint[box])
        return (x0, y0, x1 - x0, y1 - y0), Image.fromarray(own)


def box_area(run: list[Atom]) -> int:
    """The pixels of the box round a run of atoms: what drawing and fitting it costs."""
    return (max(a.x1 for a in run) - min(a.x0 for a in run)) * (max(a.y1 for a in run) - min(a.y0 for a in run))


def shape_cost(box: Box, line: int) -> float:
    _, _, w, h = box
    cost = SHORT_COST if h < SHORT * line else 0.0
    return cost - SQUAT_COST * max(0.0, w / h - SQUAT)


def best_reading(n: int, score: dict[tuple[int, int], float], drop: list[float]) -> list[tuple[int, int]]:
    """The runs [i, j) covering atoms 0…n, but for any dropped as a speck, whose scores plus
    the costs of the drops sum highest (dynamic programming over the end of the last run; a
    dropped atom is a run of its own that is left out)."""
    best = [0.0] + [-math.inf] * n
    back = [(0, False)] * (n + 1)
    for j in range(1, n + 1):
        if best[j - 1] + drop[j - 1] > best[j]:
            best[j], back[j] = best[j - 1] + drop[j - 1], (j - 1, True)
        for i in range(max(0, j - MAX_RUN), j):
            if (i, j) in score and best[i] > -math.inf:
                total = best[i] + score[i, j]
                if total > best[j]:
                    best[j], back[j] = total, (i, False)
    runs, j = [], n
    while j > 0:
        i, dropped = back[j]
        if not dropped:
            runs.append((i, j))
        j = i
    return runs[::-1]


def size(part: tuple[I64, I64]) -> tuple[int, int]:
    """A component's (width, height) in pixels."""
    ys, xs = part
    return int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1


def gathered(specks: list[tuple[I64, I64]], shape: tuple[int, ...], line: int) -> list[tuple[I64, I64]]:
    """Specks lying along one broken stroke (a thin pen that skipped): those within about
    ``NEAR`` of the line's height of each other, found as components of a grid of cells that
    size, are one piece if together they are as big as a stroke that is never left out
    (``DROPPABLE``), so that scattered dust does not gather into digits."""
    if len(specks) < 2:
        return []
    cell = max(1, round(NEAR * line))
    grid = np.zeros((shape[0] // cell + 1, shape[1] // cell + 1), bool)
    for ys, xs in specks:
        grid[ys // cell, xs // cell] = True
    labels, _ = label(grid)
    groups = collections.defaultdict(list)
    for ys, xs in specks:
        groups[int(labels[ys[0] // cell, xs[0] // cell])].append((ys, xs))
    out = []
    for members in groups.values():
        ys, xs = np.concatenate([m[0] for m in members]), np.concatenate([m[1] for m in members])
        if len(members) > 1 and max(size((ys, xs))) >= DROPPABLE * line:
            out.append((ys, xs))
    return out


def nested(parts: list[tuple[I64, I64]]) -> list[tuple[I64, I64]]:
    """Components lying wholly inside another's box, touching none of its sides, joined to the
    smallest that holds them: they are part of that digit (the inner outline of an outlined
    font's digit, a bit broken off inside a digit, a zero's slash), never a digit of their own."""
    boxes = [(int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) for ys, xs in parts]  # x0, y0, x1, y1

    def inside(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
        return outer[0] < inner[0] and outer[1] < inner[1] and inner[2] < outer[2] and inner[3] < outer[3]

    holder = list(range(len(parts)))
    for k, box in enumerate(boxes):
        around = [j for j, other in enumerate(boxes) if inside(box, other)]
        if around:
            holder[k] = min(around, key=lambda j: (boxes[j][2] - boxes[j][0]) * (boxes[j][3] - boxes[j][1]))
    groups = collections.defaultdict(list)
    for k in range(len(parts)):
        top = k
        while holder[top] != top:  # a box strictly inside another is smaller: no cycle
            top = holder[top]
        groups[top].append(parts[k])
    return [(np.concatenate([m[0] for m in g]), np.concatenate([m[1] for m in g])) if len(g) > 1 else g[0]
            for g in groups.values()]


def segment(ink: Image.Image, read: Reader, work: Work | None = None) -> list[Piece]:
    """"L" ink coverage of a drawn number → its digits, left to right. Raises EmptyImage,
    TooManyDigits, or TooComplex when a count of ``work`` is over its budget (checked before the
    stage it bounds; ``work.check`` is called between pieces of work)."""
    work = work or Work()
    a = np.asarray(ink)
    inked = a > INK
    ink_runs = row_runs(inked)
    work.count("ink_runs", len(ink_runs[0]))
    work.count("ink_pixels", int((ink_runs[2] - ink_runs[1]).sum()))
    parts = grouped(*ink_runs, a.shape[1], found=lambda k: work.count("pieces", k))
    if not parts:
        raise EmptyImage("The drawing is empty: draw a number.")
    line = max(size(p)[1] for p in parts)
    hollow = fill_outlines(inked, line, ink_runs, work)
    if hollow.any():  # a drawing in outlines, or sketched: its strokes made solid
        a, inked = np.where(hollow, np.uint8(255), a), inked | hollow
        work.count("ink_pixels", int(np.count_nonzero(inked)))
        parts = components(inked, found=lambda k: work.count("pieces", k))
    work.check()
    sizes = [size(p) for p in parts]
    speck = [max(w, h) < SPECK * line for w, h in sizes]
    strokes = gathered([p for p, s in zip(parts, speck, strict=True) if s], a.shape, line)
    parts = [p for p, s in zip(parts, speck, strict=True) if not s] + strokes
    if len(parts) > 4 * MAX_PIECES:
        raise TooManyDigits(f"The drawing has {len(parts)} separate pieces; a number may have at most "
                            f"{MAX_PIECES} digits.")
    parts = nested(parts)
    sizes = [size(p) for p in parts]  # once the nested ones are joined to theirs
    found = atoms(a, parts, sizes, line, work)
    if len(found) > MAX_ATOMS:  # before reading them: every run of them would be read
        raise TooManyDigits(f"The drawing falls into {len(found)} pieces; a number may have at most "
                            f"{MAX_PIECES} digits.")
    runs = [(i, j) for i in range(len(found)) for j in range(i + 1, min(i + MAX_RUN, len(found)) + 1)
            if j == i + 1 or joinable(found[i:j], line)]
    work.count("candidate_pixels", sum(box_area(found[i:j]) for i, j in runs))
    canvas = Canvas(a, inked, found)
    drawn, fitted = [], []
    for i, j in runs:
        work.check()
        drawn.append(canvas.draw(i, j))
        fitted.append(fit_mnist(drawn[-1][1]))
    X = np.stack(fitted)
    work.check()
    confidence = read(X)
    score = {(i, j): math.log(max(float(c), 1e-9)) + shape_cost(box, line)
             + JOIN_COST * (len({a.component for a in found[i:j]}) - 1)
             for (i, j), c, (box, _) in zip(runs, confidence, drawn, strict=True)}
    pieces = collections.Counter(a.component for a in found)
    drop = [DROP_COST if pieces[a.component] == 1 and max(a.x1 - a.x0, a.height) < DROPPABLE * line else -math.inf
            for a in found]
    chosen = best_reading(len(found), score, drop)
    if len(chosen) > MAX_PIECES:
        raise TooManyDigits(f"The drawing has {len(chosen)} digits or pieces; a number may have at most "
                            f"{MAX_PIECES}.")
    where = {run: k for k, run in enumerate(runs)}
    return [Piece(drawn[where[run]][0], X[where[run]], where[run]) for run in chosen]
