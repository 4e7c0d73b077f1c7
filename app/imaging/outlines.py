"""Outlined digits → solid ones: the hollow inside of an outlined stroke is filled with ink.

Some handwriting fonts (and some people) draw each stroke as its outline. The network has only
seen solid strokes: an outlined 3 reads as no digit, an outlined 1 as a 0. A hole in the ink
(paper enclosed by ink, 4-connected, so that it does not leak out between pixels touching at
a corner) is surely the inside of an outlined stroke when it is

- long and bent: its perimeter squared over its area (4π for a disc, a little more for a drawn
  digit's loop) is over ``LONG``, and it fills under ``BENT`` of its convex hull, like
  the inside of a stroke, which runs along the digit and bends with it; or
- tiny: its mean thickness (twice its area over its perimeter; a disc's radius) is under ``TINY``
  of the line's height, like the specks of paper left between the strokes of a sketched
  outline, or the pinholes where a thick pen crossed itself.

Such holes are the mark of a drawing in outlines only when they add up to ``HOLLOW`` of its ink
or more, which no solid number of the test sets does (the paper a pair of touching digits
encloses comes closest), and an outlined font's numbers mostly do many times over. Or when the
tiny ones are many, ``SKETCHED`` or more for each line's height of the ink's width: strokes
sketched in many lines or hatched, as Cabin Sketch draws them, leave dozens of slivers of paper in
each digit, a solid drawing a few pinholes at most; then the tiny holes and the long bent ones
are filled, not the convex ones (a narrow 0's loop stays open).

In a drawing in outlines every hole longer than a loop usually is (perimeter squared over area
over ``LOOSE``) is filled too, as a straight 1's or a bold font's fat strokes are convex; a round
loop (a 0, the loops of an 8, an outlined 0's counter, which its inner outline encloses) stays
open. A solid drawing is never changed, so a narrow 0 stays a 0 and two touching digits keep the
paper they enclose."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from app.imaging.budget import Work
from app.imaging.components import Runs, expand, gaps, holes, runs

INK = 40       # of 255: what counts as ink when telling strokes and holes apart
LONG = 30.0    # perimeter² / area over which a hole is the inside of a stroke,
BENT = 0.8     # if it fills less than this of its convex hull
TINY = 0.045   # of the line's height: holes thinner than this on average are inside strokes
HOLLOW = 0.3   # of the ink: the area of such holes in a drawing of outlined strokes
LOOSE = 18.0   # perimeter² / area over which a hole in such a drawing is filled too
SKETCHED = 6.0  # tiny holes for each line's height of the ink's width: strokes sketched or hatched
MAX_LONG = 200  # long holes to take the hull of: a number in outlines has a few per digit


def fill_outlines(inked: NDArray[np.bool_], line: int, ink: Runs | None = None,
                  work: Work | None = None) -> NDArray[np.bool_]:
    """Which pixels of the paper are the insides of outlined or sketched strokes (see the
    module): a mask of ``inked``'s shape, all False unless the drawing is in outlines or
    sketched. ``inked``: the pixels that count as ink (``ink``: their runs, if known); ``line``:
    the height of the line of digits, in pixels. Every hole is measured at once, in numpy; only
    the long ones have their hull taken, one by one, and a drawing with more than ``MAX_LONG``
    of them is no number. ``work`` counts the ink's runs and the long holes' runs against its
    budget before they are worked on (``app.imaging.budget``)."""
    work = work or Work()
    rows, starts, ends = ink or runs(inked)
    work.count("ink_runs", len(rows))
    filled = np.zeros_like(inked)
    if len(rows) == 0:
        return filled
    ink_area, widths = int((ends - starts).sum()), (int(ends.max()) - int(starts.min())) / line
    work.count("ink_pixels", ink_area)
    found = gaps(rows, starts, ends, inked.shape[1])
    most_area, most_holes = found.most()
    if most_area < HOLLOW * ink_area and most_holes < SKETCHED * widths:
        return filled  # as below, told without finding the holes
    h_rows, h_starts, h_ends, number = holes(found)
    k = int(number.max()) + 1 if len(number) else 0
    if int((h_ends - h_starts).sum()) < HOLLOW * ink_area and k < SKETCHED * widths:
        return filled  # too little paper enclosed, and too few holes: neither outlines nor sketched
    ys, xs = expand(h_rows, h_starts, h_ends)
    flat, width, paper = ys * inked.shape[1] + xs, inked.shape[1], inked.ravel()
    beside = paper[flat - width] | paper[flat + width]  # ink above or below
    ends_ = np.cumsum(h_ends - h_starts)
    beside[ends_ - 1] = True  # a gap's first and last pixels touch the ink runs either side
    beside[ends_ - (h_ends - h_starts)] = True
    area = np.bincount(number, weights=h_ends - h_starts, minlength=k)
    perimeter = np.bincount(np.repeat(number, h_ends - h_starts), weights=beside, minlength=k)
    tiny = 2 * area < TINY * line * perimeter
    long = ~tiny & (perimeter * perimeter > LONG * area)
    if np.count_nonzero(long) > MAX_LONG:
        return filled
    bent = np.zeros(k, bool)
    order = np.argsort(number, kind="stable")  # each hole's runs together
    per_hole = np.bincount(number, minlength=k)
    work.count("hull_runs", int(per_hole[long].sum()))
    bounds = np.r_[0, np.cumsum(per_hole)]
    for h in np.flatnonzero(long):
        work.check()
        mine = order[bounds[h]:bounds[h + 1]]
        bent[h] = area[h] < BENT * hull_area(h_rows[mine], h_starts[mine], h_ends[mine])
    if area[tiny | bent].sum() >= HOLLOW * ink_area:  # in outlines
        chosen = tiny | bent | (perimeter * perimeter > LOOSE * area)
    elif np.count_nonzero(tiny) >= SKETCHED * widths:  # sketched
        chosen = tiny | bent
    else:
        return filled
    keep = np.repeat(chosen[number], h_ends - h_starts)
    filled[ys[keep], xs[keep]] = True
    return filled


def solid(ink: Image.Image, work: Work | None = None) -> Image.Image:
    """"L" ink coverage with some ink → the same, its outlined strokes filled with full ink
    (the line's height is the ink's; ``work``: as for ``fill_outlines``)."""
    a = np.asarray(ink)
    inked = a > INK
    rows = np.flatnonzero(inked.any(axis=1))
    if len(rows) == 0:
        return ink
    filled = fill_outlines(inked, int(rows[-1] - rows[0]) + 1, work=work)
    return Image.fromarray(np.where(filled, np.uint8(255), a)) if filled.any() else ink


def hull_area(rows: NDArray[np.int64], starts: NDArray[np.int64], ends: NDArray[np.int64]) -> float:
    """The area of the convex hull of runs of pixels (their rows, starts and ends), each pixel a
    unit square: the hull of the runs' corners (Andrew's monotone chain)."""
    corners = sorted({(x, y) for r, lo, hi in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
                      for x in (lo, hi) for y in (r, r + 1)})

    def half(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
        chain: list[tuple[int, int]] = []
        for p in points:
            while len(chain) >= 2 and ((chain[-1][0] - chain[-2][0]) * (p[1] - chain[-2][1])
                                       - (chain[-1][1] - chain[-2][1]) * (p[0] - chain[-2][0])) <= 0:
                chain.pop()
            chain.append(p)
        return chain[:-1]

    hull = np.array(half(corners) + half(corners[::-1]), float)
    x, y = hull[:, 0], hull[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, 1) - y @ np.roll(x, 1)))
