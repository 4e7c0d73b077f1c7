"""Preprocessing: any drawing → the MNIST-style 28×28 the network expects.

Tolerance. The same "7" drawn with the same pen-to-size ratio but small, large,
in a corner, off-centre on a bigger canvas, inverted, on transparency, in colour
or saved as JPEG/WebP must give the same 28×28 to within a mean absolute
difference of 0.02 per pixel (on a 0…1 scale) and a correlation ≥ 0.95. Drawn
with a pen 2× thicker or 2.5× thinner the strokes differ, so only the geometry
must match: the same ink bounding box within 1 px, the centre of mass within
0.3 px, mean absolute difference ≤ 0.06, correlation ≥ 0.85."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from app.imaging.components import label
from app.imaging.decode import ImageLimits, payload_bytes
from app.imaging.errors import EmptyImage, ImageTooLarge, InvalidImage, InvalidPixels, UnsupportedFormat
from app.imaging.preprocess import prepare_image, prepare_pixels
from tests.drawing import coverage, drawing, encode, render
from tests.imaging.helpers import flood_labels

Arr = NDArray[np.float32]
REFERENCE: dict[str, object] = {}  # the defaults of tests.drawing.drawing: 280×280, 7 200 px tall, pen 16


def com(a: Arr) -> tuple[float, float]:
    r = np.arange(28)
    return float(a.sum(axis=1) @ r / a.sum()), float(a.sum(axis=0) @ r / a.sum())


def bbox(a: Arr) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def corr(a: Arr, b: Arr) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def reference() -> Arr:
    return prepare_image(drawing())


@pytest.mark.parametrize("variant", [
    {"box": (100, 120, 45, 60), "width": 5},                      # small
    {"box": (20, 5, 210, 270), "width": 22},                      # large
    {"box": (2, 2, 60, 80), "width": 7},                          # in a corner
    {"size": (400, 300), "box": (250, 150, 105, 140), "width": 11},  # off-centre, other canvas
    {"style": "light_on_black"},                                  # inverted
    {"style": "transparent"},                                     # toDataURL of an unfilled canvas
    {"style": "coloured"},                                        # red ink on cream paper
    {"fmt": "JPEG"},
    {"fmt": "WEBP"},
    {"fmt": "GIF"},
], ids=["small", "large", "corner", "off-centre", "inverted", "transparent", "coloured", "jpeg", "webp", "gif"])
def test_same_digit_same_input(reference: Arr, variant: dict[str, object]) -> None:
    x = prepare_image(drawing(**variant))  # type: ignore[arg-type]
    assert np.abs(x - reference).mean() <= 0.02
    assert corr(x, reference) >= 0.95


@pytest.mark.parametrize("width", [32, 6], ids=["thick", "thin"])
def test_pen_width_keeps_geometry(reference: Arr, width: float) -> None:
    x = prepare_image(drawing(width=width))
    assert all(abs(a - b) <= 1 for a, b in zip(bbox(x), bbox(reference), strict=True))
    assert all(abs(a - b) <= 0.3 for a, b in zip(com(x), com(reference), strict=True))
    assert np.abs(x - reference).mean() <= 0.06
    assert corr(x, reference) >= 0.85


@pytest.mark.parametrize("variant", [{}, {"box": (2, 2, 60, 80), "width": 7}, {"style": "light_on_black"},
                                     {"size": (397, 211), "box": (300, 60, 60, 140), "width": 9}])
def test_mnist_conventions(variant: dict[str, object]) -> None:
    x = prepare_image(drawing(**variant))  # type: ignore[arg-type]
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0          # white ink on black, full strength
    assert len(np.unique(x)) > 10                      # grey levels kept: never binarised
    top, bottom, left, right = bbox(x)
    assert max(bottom - top, right - left) + 1 in (20, 21)  # longest side fitted to 20 px
    cy, cx = com(x)
    assert abs(cy - 14) <= 0.25 and abs(cx - 14) <= 0.25   # centre of mass on pixel (14, 14)


def test_tall_one_is_not_widened() -> None:
    x = prepare_image(drawing(box=(120, 30, 0, 220), width=14, shape="1"))
    top, bottom, left, right = bbox(x)
    assert bottom - top + 1 in (20, 21)  # 20 px, straddling one more row after a sub-pixel shift
    assert right - left + 1 <= 3


def test_far_speck_is_ignored(reference: Arr) -> None:
    cov = coverage((280, 280), (60, 40, 150, 200), 16)
    cov[262:266, 268:272] = 1.0  # a 4×4 speck in the far corner
    x = prepare_image(encode(render(cov)))
    assert np.abs(x - reference).mean() <= 0.005


def test_separate_strokes_are_kept() -> None:
    """A "4" whose two strokes do not touch stays a 4, not just its bigger stroke."""
    cov = np.maximum(coverage((280, 280), (60, 40, 150, 200), 16, "1"),
                     coverage((280, 280), (20, 40, 80, 120), 16, "1"))
    x = prepare_image(encode(render(cov)))
    _, _, left, right = bbox(x)
    assert right - left + 1 >= 8


@pytest.mark.parametrize("img", [
    Image.new("RGB", (280, 280), (255, 255, 255)),
    Image.new("RGB", (280, 280), (0, 0, 0)),
    Image.new("RGB", (200, 300), (40, 120, 200)),
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
    Image.new("L", (1, 1), 0),
], ids=["white", "black", "blue", "transparent", "one-pixel"])
def test_empty_images(img: Image.Image) -> None:
    with pytest.raises(EmptyImage):
        prepare_image(encode(img))


def test_faint_noise_is_empty() -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(240 + rng.normal(0, 4, (280, 280, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(EmptyImage):
        prepare_image(encode(Image.fromarray(noisy), "JPEG", quality=70))


@pytest.mark.parametrize("specks", [[(100, 100)], [(20, 30), (250, 200), (140, 60)]], ids=["one", "three"])
def test_speck_only_is_empty(specks: list[tuple[int, int]]) -> None:
    cov = np.zeros((280, 280), np.float32)
    for y, x in specks:
        cov[y:y + 3, x:x + 3] = 1.0
    with pytest.raises(EmptyImage):
        prepare_image(encode(render(cov)))


def test_gif_uses_first_frame() -> None:
    first = render(coverage((120, 120), (30, 10, 60, 100), 8)).convert("P")
    blank = Image.new("P", (120, 120), 0)
    data = encode(first, "GIF", save_all=True, append_images=[blank])
    assert prepare_image(data).max() == 1.0


def test_size_limits_are_checked_before_decoding() -> None:
    with pytest.raises(ImageTooLarge):
        prepare_image(encode(Image.new("L", (300, 40))), ImageLimits(max_side=256))
    with pytest.raises(ImageTooLarge):
        prepare_image(encode(Image.new("L", (200, 200))), ImageLimits(max_pixels=200 * 199))


@pytest.mark.parametrize(("data", "error"), [
    (b"", InvalidImage),
    (b"hello, this is text", InvalidImage),
    (encode(Image.new("RGB", (50, 50)), "PNG")[:60], InvalidImage),   # truncated
    (encode(Image.new("RGB", (50, 50)), "BMP"), UnsupportedFormat),
    (encode(Image.new("RGB", (50, 50)), "TIFF"), UnsupportedFormat),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', UnsupportedFormat),
], ids=["empty", "text", "truncated", "bmp", "tiff", "svg"])
def test_bad_files(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        prepare_image(data)


def test_payload_forms() -> None:
    png = drawing()
    b64 = base64.b64encode(png).decode()
    assert payload_bytes(f"data:image/png;base64,{b64}") == png
    assert payload_bytes(b64) == png
    assert payload_bytes(base64.urlsafe_b64encode(png).decode().rstrip("=")) == png
    assert payload_bytes(f"  data:image/png;base64,{b64[:50]}\n{b64[50:]}  ") == png
    with pytest.raises(UnsupportedFormat):
        payload_bytes("data:image/svg+xml;base64,PHN2Zz4=")
    with pytest.raises(InvalidImage):
        payload_bytes("data:image/png,rawbytes")
    with pytest.raises(InvalidImage):
        payload_bytes("not base64 at all!")


def test_reprocessing_the_output_is_stable(reference: Arr) -> None:
    """An MNIST-style image comes back nearly unchanged (refitting its 20–21 px box resamples it)."""
    png = encode(Image.fromarray(np.round(reference * 255).astype(np.uint8)))
    again = prepare_image(png)
    assert np.abs(again - reference).mean() <= 0.02
    assert corr(again, reference) >= 0.97


def test_pixels_flat_and_nested_agree() -> None:
    a = np.zeros((28, 28))
    a[5:23, 12:15] = 0.8
    assert np.array_equal(prepare_pixels(a.ravel().tolist()), prepare_pixels(a.tolist()))


@pytest.mark.parametrize("values", [
    [0.5] * 783,
    [[0.5] * 28] * 27,
    [[0.5] * 27] * 28,
    [[0.5] * 28] * 27 + [[0.5] * 27],
    [float("nan")] + [0.5] * 783,
    [float("inf")] + [0.5] * 783,
    [1.5] + [0.5] * 783,
    [-0.1] + [0.5] * 783,
    [255.0] * 784,
], ids=["783", "27-rows", "27-cols", "ragged", "nan", "inf", "above-1", "negative", "0-255"])
def test_bad_pixels(values: list[float] | list[list[float]]) -> None:
    with pytest.raises(InvalidPixels):
        prepare_pixels(values)


def test_zero_pixels_are_empty() -> None:
    with pytest.raises(EmptyImage):
        prepare_pixels([0.0] * 784)


def test_labelling_matches_flood_fill() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        mask = rng.random((int(rng.integers(1, 25)), int(rng.integers(1, 25)))) < rng.uniform(0.1, 0.7)
        labels, n = label(mask)
        reference, m = flood_labels(mask)
        assert n == m
        assert ((labels > 0) == mask).all()
        assert len(set(zip(labels[mask].tolist(), reference[mask].tolist(), strict=True))) == n  # same partition
