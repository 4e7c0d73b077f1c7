"""The glyphs typed in fonts that the shipped model trains on (``scripts.datasets.make_font_glyphs``), and
how training draws them (``model.train.with_synthetic``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from model.glyphs import NONE
from model.train import with_synthetic
from scripts.datasets import make_font_glyphs
from scripts.datasets.make_font_glyphs import DIGITS, LETTERS, glyphs, variants
from scripts.train import font_glyphs
from tests.paths import DATA

FONTS = DATA / "fonts"  # three OFL fonts no training run uses
FONT = str(FONTS / "kristi-latin-400-normal.woff")
ROWS, COLS = np.mgrid[0:28, 0:28]


def aspect(inked: np.ndarray) -> np.ndarray:
    """Width over height of the ink of each (28, 28) image."""
    return inked.any(axis=1).sum(axis=1) / inked.any(axis=2).sum(axis=1)


def test_each_digit_and_letter_of_a_font_in_seven_variants_fitted_as_the_server_fits_a_drawing() -> None:
    X, y, font = glyphs([FONT])
    assert X.shape == (7 * len(DIGITS + LETTERS), 784) and X.dtype == np.uint8 and (font == 0).all()
    assert np.bincount(y).tolist() == [7] * 10 + [7 * len(LETTERS)]
    images = X.reshape(-1, 28, 28).astype(np.float64)
    mass = images.sum(axis=(1, 2))
    assert (images.max(axis=(1, 2)) == 255).all()  # the strongest ink is 1, as fit_mnist makes it
    assert np.abs((images * ROWS).sum(axis=(1, 2)) / mass - 14).max() < 0.6  # centre of mass on (14, 14)
    assert np.abs((images * COLS).sum(axis=(1, 2)) / mass - 14).max() < 0.6
    plain, _, thick, thicker, thin, _, _ = (images[k::7].sum(axis=(1, 2)) for k in range(7))
    assert (thick > plain).all() and (thicker > thick).all() and (thin < plain).all()
    typed, narrow, wide = (aspect(images[k::7] > 0) for k in (0, 5, 6))
    assert (narrow < typed).all() and (wide > typed).all()  # squeezed and widened before fitting


def test_a_character_the_font_lacks_is_left_out() -> None:
    assert variants(FONT, "中") == [] and len(variants(FONT, "7")) == 7


def test_training_draws_font_digits_and_letters_in_their_shares() -> None:
    X, y = np.zeros((1000, 784), np.float32), np.arange(1000) % 10
    bank = (np.tile(np.arange(20, dtype=np.float32)[:, None], (1, 784)), np.array(list(range(10)) + [NONE] * 10))
    Xs, ys = with_synthetic(X, y, {"font_digits": 0.1, "font_letters": 0.05}, np.random.default_rng(0), bank)
    assert len(ys) == 1150 and (Xs[:1000] == 0).all()
    digits, letters = Xs[1000:1100, 0], Xs[1100:, 0]
    assert (digits < 10).all() and (ys[1000:1100] == digits).all()  # each glyph keeps its own label
    assert (letters >= 10).all() and (ys[1100:] == NONE).all()
    assert len(set(digits.tolist())) == 10
    with pytest.raises(ValueError, match="fonts"):
        with_synthetic(X, y, {"font_digits": 0.1}, np.random.default_rng(0))


def test_the_glyph_file_the_trainer_reads_says_what_it_holds(tmp_path: Path) -> None:
    out = tmp_path / "glyphs.npz"
    assert make_font_glyphs.main(["--fonts", str(FONTS), "--out", str(out)]) == 0
    (X, y), about = font_glyphs(out)
    assert X.shape == (3 * 7 * len(DIGITS + LETTERS), 784) and X.dtype == np.float32 and 0 <= X.min() < X.max() == 1
    assert about["fonts"] == ["amatic-sc", "kristi", "parisienne"] and about["glyphs"] == len(y)
    assert about["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
