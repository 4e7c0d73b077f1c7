"""``app.imaging.components``: the vectorised components agree with a cell-by-cell flood fill on
random masks, 8- and 4-connected, and keep touching corners together (8-connected) or apart."""

from __future__ import annotations

import numpy as np
import pytest

from app.imaging.components import components, expand, gaps, holes, runs
from tests.imaging.helpers import flood_labels


@pytest.mark.parametrize("diagonal", [True, False])
def test_the_same_components_as_a_flood_fill(diagonal: bool) -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = rng.integers(1, 40, 2)
        mask = rng.random((h, w)) < rng.uniform(0.05, 0.7)
        found = components(mask, diagonal)
        labels, n = flood_labels(mask, diagonal)
        assert len(found) == n
        assert sum(len(ys) for ys, _ in found) == int(mask.sum())
        for ys, xs in found:
            ids = labels[ys, xs]
            assert (ids == ids[0]).all() and int((labels == ids[0]).sum()) == len(ys)


def test_diagonal_neighbours_and_empty() -> None:
    mask = np.zeros((5, 6), bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal: one piece (8-connected)
    mask[4, 5] = True
    pieces = components(mask)
    assert [len(ys) for ys, _ in pieces] == [3, 1]
    assert [len(ys) for ys, _ in components(mask, diagonal=False)] == [1, 1, 1, 1]
    assert components(np.zeros((3, 3), bool)) == []


def found_holes(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``holes`` as each hole's pixels, row-major."""
    rows, starts, ends, number = holes(gaps(*runs(mask), mask.shape[1]))
    out = []
    for h in range(int(number.max()) + 1 if len(number) else 0):
        ys, xs = expand(rows[number == h], starts[number == h], ends[number == h])
        order = np.lexsort((xs, ys))
        out.append((ys[order], xs[order]))
    return out


def test_holes_are_the_paper_that_touches_no_side() -> None:
    """``holes``: the 4-connected paper components that reach no side of the image, pixel for pixel,
    in the order of their first pixel; paper between two ink pixels touching at a corner is no way out."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        h, w = rng.integers(1, 40, 2)
        mask = rng.random((h, w)) < rng.uniform(0.3, 0.8)
        expected = [(ys, xs) for ys, xs in components(~mask, diagonal=False)
                    if ys.min() > 0 and xs.min() > 0 and ys.max() < h - 1 and xs.max() < w - 1]
        found = found_holes(mask)
        assert len(found) == len(expected)
        for (ys, xs), (ey, ex) in zip(found, expected, strict=True):
            assert np.array_equal(ys, ey) and np.array_equal(xs, ex)
    diamond = np.zeros((5, 5), bool)
    diamond[[0, 1, 1, 2, 2, 3, 3, 4], [2, 1, 3, 0, 4, 1, 3, 2]] = True  # corners touching only
    assert [(ys.tolist(), xs.tolist()) for ys, xs in found_holes(diamond)] == [([1, 2, 2, 2, 3], [2, 1, 2, 3, 2])]
    assert found_holes(np.ones((3, 3), bool)) == [] and found_holes(np.zeros((3, 3), bool)) == []


def test_the_gaps_bound_the_holes() -> None:
    """``Gaps.most``: the holes never hold more paper, nor are more, than it says (``fill_outlines``
    skips finding them when even that is too little)."""
    rng = np.random.default_rng(2)
    for _ in range(300):
        h, w = rng.integers(1, 40, 2)
        mask = rng.random((h, w)) < rng.uniform(0.3, 0.8)
        found = found_holes(mask)
        area, count = gaps(*runs(mask), w).most()
        assert sum(len(ys) for ys, _ in found) <= area and len(found) <= count
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False  # one hole of 9 pixels, three gaps, the top one with no gap above
    assert gaps(*runs(ring), 5).most() == (9, 1)
