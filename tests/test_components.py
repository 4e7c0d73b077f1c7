"""``app.imaging.components``: the vectorised components agree with a cell-by-cell flood fill on
random masks, and keep touching corners together."""

from __future__ import annotations

import numpy as np

from app.imaging.components import components
from tests.test_preprocess import _flood_labels


def test_the_same_components_as_a_flood_fill() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = rng.integers(1, 40, 2)
        mask = rng.random((h, w)) < rng.uniform(0.05, 0.7)
        found = components(mask)
        labels, n = _flood_labels(mask)
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
    assert components(np.zeros((3, 3), bool)) == []
