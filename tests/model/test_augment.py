"""Augmentation keeps shapes, range and labels, and is reproducible from its seed."""

from __future__ import annotations

import numpy as np
import pytest

from model.augment import AugmentConfig, augment
from model.mnist import read_idx
from tests.paths import DATA


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    images = read_idx(DATA / "t10k-sample-images-idx3-ubyte.gz")[:200]
    return images.reshape(200, 784).astype(np.float32) / 255


def test_keeps_shape_dtype_and_range(digits: np.ndarray) -> None:
    out = augment(digits, np.random.default_rng(0))
    assert out.shape == digits.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.array_equal(out, digits)


def test_same_seed_same_output_other_seed_other_output(digits: np.ndarray) -> None:
    a = augment(digits, np.random.default_rng(42))
    b = augment(digits, np.random.default_rng(42))
    c = augment(digits, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.01


def test_the_identity_config_changes_nothing(digits: np.ndarray) -> None:
    none = AugmentConfig(rotate=0, scale=0, shear=0, shift=0, elastic=0, stroke=0)
    np.testing.assert_allclose(augment(digits, np.random.default_rng(0), none), digits, atol=1e-6)


def test_shift_moves_ink_by_whole_pixels(digits: np.ndarray) -> None:
    """A pure shift is a translation: the centre of mass moves, the ink total stays."""
    shift_only = AugmentConfig(rotate=0, scale=0, shear=0, shift=3, elastic=0, stroke=0)
    out = augment(digits, np.random.default_rng(1), shift_only)
    rows = np.arange(28)
    def com(x: np.ndarray) -> np.ndarray:
        img = x.reshape(-1, 28, 28)
        return np.stack([(img.sum(2) * rows).sum(1), (img.sum(1) * rows).sum(1)], 1) / img.sum((1, 2))[:, None]
    moved = np.abs(com(out) - com(digits)).max(axis=1)
    assert moved.max() <= 3.01 and moved.mean() > 0.5
    np.testing.assert_allclose(out.sum(1)[moved < 1.5], digits.sum(1)[moved < 1.5], rtol=0.02)


def test_stroke_thickening_and_thinning_change_the_ink(digits: np.ndarray) -> None:
    only_strokes = AugmentConfig(rotate=0, scale=0, shear=0, shift=0, elastic=0, stroke=1.0)
    out = augment(digits, np.random.default_rng(2), only_strokes)
    ratio = out.sum(1) / digits.sum(1)
    assert (ratio > 1.05).sum() > 30 and (ratio < 0.95).sum() > 30


def test_a_thin_pen_keeps_only_the_middle_of_the_strokes_and_faint_parts_vanish(digits: np.ndarray) -> None:
    """Redrawn with a thin pen (``cut``): less ink, every image's strongest pixel 1, no ink where
    the digit had none, and the faintest inked pixels gone; with ``cut=0`` nothing changes."""
    only_cut = AugmentConfig(rotate=0, scale=0, shear=0, shift=0, elastic=0, stroke=0, cut=1.0)
    out = augment(digits, np.random.default_rng(3), only_cut)
    assert (out.sum(1) < 0.8 * digits.sum(1)).mean() > 0.95
    np.testing.assert_allclose(out.max(1), 1.0, atol=1e-5)
    near = np.zeros_like(digits, dtype=bool).reshape(-1, 28, 28)
    ink = digits.reshape(-1, 28, 28) > 0
    for dy in (-1, 0, 1):  # the enlargement may spread a value one pixel at most
        for dx in (-1, 0, 1):
            near |= np.roll(ink, (dy, dx), axis=(1, 2))
    assert out.reshape(-1, 28, 28)[~near].max() < 0.05
    faint = (digits > 0.05) & (digits < 0.3)
    assert out[faint].mean() < 0.1 * digits[faint].mean()
    no_cut = AugmentConfig(rotate=0, scale=0, shear=0, shift=0, elastic=0, stroke=0, cut=0.0)
    np.testing.assert_allclose(augment(digits, np.random.default_rng(3), no_cut), digits, atol=1e-6)
