"""8-connected components of a boolean image at full resolution, in numpy with no Python loop
per pixel: the runs of ink of each row are found with one comparison of the rows laid end to end,
runs in neighbouring rows that overlap (or touch at a corner) are linked with two
``searchsorted``, and the links are resolved by hooking and pointer jumping until every run points
at its component's first run (a few dozen runs, as a coarse grid has, by a plain union-find
instead: there numpy's cost per call would be most of the work). The holes that ink encloses are
components of the gaps between its runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
Runs = tuple[I64, I64, I64]  # a mask's runs of True: rows, starts, ends (exclusive), row-major
SMALL = 64  # runs that ``resolve`` joins by a plain union-find: numpy's cost per call would dominate


def runs(mask: NDArray[np.bool_]) -> Runs:
    """The horizontal runs of True in row-major order: rows, starts, ends (exclusive)."""
    h, w = mask.shape
    flat = np.zeros(h * (w + 1) + 1, bool)  # the rows one after another, each after a False
    flat[:-1].reshape(h, w + 1)[:, 1:] = mask
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1  # where a run starts, and where it has ended
    rows = edges[::2] // (w + 1)
    row_start = rows * (w + 1) + 1
    return rows, edges[::2] - row_start, edges[1::2] - row_start


def links(rows: I64, starts: I64, ends: I64, width: int, diagonal: bool = True) -> tuple[I64, I64]:
    """Pairs (i, j) of runs in rows r and r + 1 that are 8-connected (4-connected: not
    ``diagonal``, so runs that touch only at a corner are apart)."""
    span = width + 2  # keys row * span + column keep rows apart
    key_start, key_end = rows * span + starts, rows * span + ends
    below = (rows + 1) * span
    # first run below ending at or after our start (after it: sharing a column), and the runs
    # below starting at or before our end (before it)
    lo = np.searchsorted(key_end, below + starts, side="left" if diagonal else "right")
    hi = np.searchsorted(key_start, below + ends, side="right" if diagonal else "left")
    count = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(rows)), count)
    first = np.repeat(lo, count)
    return i, first + np.arange(len(i)) - np.repeat(np.cumsum(count) - count, count)


def resolve(n: int, i: I64, j: I64) -> tuple[I64, int]:
    """Component numbers 0…k-1 of n runs joined by the pairs (i, j), and k; the components in
    the order of their first runs."""
    if n <= SMALL:
        return _resolve_small(n, i.tolist(), j.tolist())
    parent = np.arange(n)
    while True:
        a, b = parent[i], parent[j]
        if np.array_equal(a, b):
            break
        low = np.minimum(a, b)
        np.minimum.at(parent, a, low)  # hook each root under the smaller one
        np.minimum.at(parent, b, low)
        while True:  # jump: point every run at its root
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    roots, numbers = np.unique(parent, return_inverse=True)
    return numbers.astype(np.int64), len(roots)


def _resolve_small(n: int, i: list[int], j: list[int]) -> tuple[I64, int]:
    """``resolve`` by a plain union-find, each root the smallest run of its component."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = x = parent[parent[x]]
        return x

    for a, b in zip(i, j, strict=True):
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    roots = [root(x) for x in range(n)]
    number = {r: k for k, r in enumerate(sorted(set(roots)))}
    return np.array([number[r] for r in roots], np.int64), len(number)


def _any(_: int) -> None:
    return None


def components(mask: NDArray[np.bool_], diagonal: bool = True,
               found: Callable[[int], None] = _any) -> list[tuple[I64, I64]]:
    """The (rows, columns) of each 8-connected component's pixels (4-connected: not
    ``diagonal``), components in the order of their first pixel (row-major). ``found`` is told
    how many there are before their pixels are gathered (it may raise to stop there)."""
    return grouped(*runs(mask), mask.shape[1], diagonal, found)


def grouped(rows: I64, starts: I64, ends: I64, width: int, diagonal: bool = True,
            found: Callable[[int], None] = _any) -> list[tuple[I64, I64]]:
    """``components`` of a mask ``width`` wide given as its runs (``runs``)."""
    if len(rows) == 0:
        return []
    number, k = resolve(len(rows), *links(rows, starts, ends, width, diagonal))
    found(k)
    return pixels(rows, starts, ends, number, k)


class Gaps(NamedTuple):
    """The gaps between two runs of ink in a row (``gaps``): where holes can be."""

    rows: I64
    starts: I64
    ends: I64
    out: NDArray[np.bool_]  # shares a column with the paper outside the ink, in the row above or below
    i: I64  # gaps i and j, in neighbouring rows, are 4-connected
    j: I64

    def most(self) -> tuple[int, int]:
        """At most how much paper the holes hold, and at most how many holes there are: the gaps
        not out, and those of them with no gap above (each hole has a topmost gap)."""
        inner = ~self.out
        inner[self.j] = False
        return int((self.ends - self.starts)[~self.out].sum()), int(np.count_nonzero(inner))


def gaps(rows: I64, starts: I64, ends: I64, width: int) -> Gaps:
    """The gaps between two runs of a row of ink given as its runs (``runs``), which of them share
    a column with the paper before a row's first run or after its last, in the row above or below,
    or with a row of no ink (they are out: not in a hole), and which are 4-connected."""
    same = rows[1:] == rows[:-1]
    g_rows, g_starts, g_ends = rows[1:][same], ends[:-1][same], starts[1:][same]
    if len(g_rows) == 0:
        return Gaps(g_rows, g_starts, g_ends, np.zeros(0, bool), g_rows, g_rows)
    top = int(rows[0])
    span = int(rows[-1]) - top + 3  # every row of ink, and one of no ink above and below
    inked = np.zeros(span, bool)
    first, last = np.zeros(span, np.int64), np.zeros(span, np.int64)
    opens, closes = np.r_[True, ~same], np.r_[~same, True]  # each row's first run, and last
    inked[rows[opens] - top + 1] = True
    first[rows[opens] - top + 1] = starts[opens]
    last[rows[closes] - top + 1] = ends[closes]
    out = np.zeros(len(g_rows), bool)
    for step in (0, 2):  # the row above, the row below
        near = g_rows - top + step
        out |= ~inked[near] | (g_starts < first[near]) | (g_ends > last[near])
    return Gaps(g_rows, g_starts, g_ends, out, *links(g_rows, g_starts, g_ends, width, diagonal=False))


def holes(g: Gaps) -> tuple[I64, I64, I64, I64]:
    """The paper that ink encloses, given its ``gaps``, as runs (rows, starts, ends) and their
    hole's number, 0…k-1 in the order of the holes' first pixels: each hole a 4-connected
    component of the paper (the dual of 8-connected ink: no hole leaks out between two pixels
    touching at a corner) that cannot reach the edge, which is a component of gaps none out."""
    if len(g.rows) == 0:
        return g.rows, g.starts, g.ends, g.rows
    number, k = resolve(len(g.rows), g.i, g.j)
    inside = ~(np.bincount(number, weights=g.out, minlength=k) > 0)[number]
    _, number = np.unique(number[inside], return_inverse=True)
    return g.rows[inside], g.starts[inside], g.ends[inside], number.astype(np.int64)


def expand(rows: I64, starts: I64, ends: I64) -> tuple[I64, I64]:
    """Runs → the (rows, columns) of their pixels, run after run."""
    length = ends - starts
    offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    return np.repeat(rows, length), np.repeat(starts, length) + offset


def pixels(rows: I64, starts: I64, ends: I64, number: I64, k: int) -> list[tuple[I64, I64]]:
    """Runs (their rows, starts and ends) numbered 0…k-1 by component → each component's pixels."""
    order = np.argsort(number, kind="stable")
    ys, xs = expand(rows[order], starts[order], ends[order])
    bounds = np.cumsum(np.bincount(number, weights=ends - starts, minlength=k).astype(np.int64))
    return [(ys[a:b], xs[a:b]) for a, b in zip(np.r_[0, bounds[:-1]], bounds, strict=True)]


def numbered(mask: NDArray[np.bool_]) -> tuple[Runs, I64, int]:
    """A mask's runs (``runs``), the number of each one's component (0…k-1, the components in the
    order of their first pixel), and k."""
    found = runs(mask)
    if len(found[0]) == 0:
        return found, found[0], 0
    return found, *resolve(len(found[0]), *links(*found, mask.shape[1]))


def label(mask: NDArray[np.bool_], found: tuple[Runs, I64, int] | None = None) -> tuple[NDArray[np.int32], int]:
    """The components as a label image: 1…n on their pixels, 0 elsewhere, and n (``found``: the
    mask's ``numbered``, if known)."""
    (rows, starts, ends), number, k = found or numbered(mask)
    labels = np.zeros(mask.shape, np.int32)
    ys, xs = expand(rows, starts, ends)
    labels[ys, xs] = np.repeat(number + 1, ends - starts).astype(np.int32)
    return labels, k
