"""The stroke renderer and the synthetic drawings: fitted as MNIST was, seeded, and no
non-digit that a fair reader would call a 1."""

from __future__ import annotations

import numpy as np
import pytest

from model.glyphs import DIGITS, NON_DIGITS, draw_digits, draw_non_digits, looks_like_a_one
from model.strokes import render

ROWS, COLS = np.mgrid[0:28, 0:28]


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    m = img.sum()
    return float((img * ROWS).sum() / m), float((img * COLS).sum() / m)


def test_render_fits_the_longer_side_into_20_pixels_and_centres_the_mass() -> None:
    for stroke, pen in [(np.array([[0.5, 0.0], [0.5, 1.0]]), 0.1), (np.array([[0.0, 0.5], [1.0, 0.5]]), 0.1),
                        (np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), 0.2)]:
        img = render([stroke], pen)
        rows, cols = np.flatnonzero(img.max(axis=1) > 0.05), np.flatnonzero(img.max(axis=0) > 0.05)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (20, 21, 22)
        cy, cx = centre_of_mass(img)
        assert abs(cy - 14) < 1.5 and abs(cx - 14) < 1.5
        assert img.max() == 1.0 and img.dtype == np.float32


def test_a_tap_fills_the_box_as_the_server_would_fit_it() -> None:
    img = render([np.array([[0.3, 0.3]])], 0.1)
    assert (img > 0.5).sum() > 200  # a disc about 20 px across, not a speck


def test_a_thicker_pen_gives_thicker_strokes() -> None:
    line = [np.array([[0.5, 0.0], [0.5, 1.0]])]
    assert render(line, 0.3).sum() > 2 * render(line, 0.06).sum()


def test_drawings_are_seeded_and_labelled() -> None:
    a = draw_digits(40, np.random.default_rng(3))
    b = draw_digits(40, np.random.default_rng(3))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    X, y, styles = a
    assert X.shape == (40, 784) and all(DIGITS[s][0] == label for s, label in zip(styles, y, strict=True))
    N, kinds = draw_non_digits(40, np.random.default_rng(3))
    assert N.shape == (40, 784) and set(kinds) <= set(NON_DIGITS)


@pytest.mark.parametrize("style", list(DIGITS))
def test_every_style_renders_inside_the_field(style: str) -> None:
    X, _, _ = draw_digits(20, np.random.default_rng(0), styles=[style])
    assert X.shape == (20, 784) and (X.max(axis=1) == 1.0).all()
    for img in X.reshape(-1, 28, 28):
        rows, cols = np.flatnonzero(img.max(axis=1) > 0.05), np.flatnonzero(img.max(axis=0) > 0.05)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22  # fitted into 20 px (+ anti-aliasing)


def test_a_lone_upright_stroke_counts_as_a_one() -> None:
    """draw_non_digits redraws any non-digit that came out as one upright line (a fair 1)."""
    assert looks_like_a_one([np.array([[0.5, 0.0], [0.52, 1.0]])])
    assert looks_like_a_one([np.array([[0.5, 0.0], [0.6, 0.5], [0.62, 1.0]])])
    assert not looks_like_a_one([np.array([[0.0, 0.5], [1.0, 0.5]])])
    assert not looks_like_a_one(DIGITS["7 plain"][1]) and not looks_like_a_one([np.array([[0.3, 0.3]])])
