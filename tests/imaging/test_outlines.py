"""``app.imaging.outlines``: digits drawn as outlines (an outlined font's hollow strokes) are read
as the solid digits they outline, by ``/api/read`` and ``/api/predict``; a solid drawing, even
one whose loops are long and thin, is never changed."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops

from app.imaging.components import runs
from app.imaging.outlines import HOLLOW, INK, fill_outlines, hull_area
from app.imaging.preprocess import prepare_image
from app.main import create_app
from app.serving.predictor import Predictor
from app.settings import Settings
from model.glyphs import DIGITS
from tests.drawing import encode, render
from tests.imaging.helpers import draw_strokes, read_text
from tests.paths import SHIPPED


def template(d: str) -> list[np.ndarray]:
    return DIGITS[next(k for k, (label, _) in DIGITS.items() if str(label) == d and "flag" not in k)][1]


def outlined(digits: str, pen: int = 24, line: int = 4) -> Image.Image:
    """A number's strokes drawn with a ``pen``-wide round pen, only a ``line`` wide rim of each
    inked: the hollow strokes of an outlined font."""
    items = [(template(d), (40 + 130 * i, 40, 80, 130)) for i, d in enumerate(digits)]
    size = (80 + 130 * len(digits), 220)
    return ImageChops.subtract(draw_strokes(size, items, pen), draw_strokes(size, items, pen - 2 * line))


@pytest.mark.parametrize("digits", ["2026", "4711", "3859"])
def test_a_number_drawn_in_outlines_is_read(predictor: Predictor, digits: str) -> None:
    """Read as drawn, "2026" is "2828" and "4711" "8888": each hollow stroke looks like a loop."""
    assert read_text(predictor, outlined(digits))[0] == digits


def test_outlined_numbers_and_digits_through_the_api() -> None:
    """White outlines on black, sent as a PNG: /api/read gives the number, /api/predict the digit."""
    def url(ink: Image.Image) -> str:
        png = encode(render(np.asarray(ink) / 255, "light_on_black"))
        return "data:image/png;base64," + base64.b64encode(png).decode()

    with TestClient(create_app(Settings(weights=SHIPPED))) as client:
        r = client.post("/api/read", json={"image": url(outlined("2026"))})
        assert r.status_code == 200 and r.json()["text"] == "2026"
        for d in "357":
            r = client.post("/api/predict", json={"image": url(outlined(d))})
            assert r.status_code == 200 and r.json()["digit"] == int(d)


@pytest.mark.parametrize(("digits", "box", "pen"), [("0", (60, 40, 46, 160), 6), ("10", (40, 40, 40, 150), 6),
                                                     ("8", (60, 30, 60, 160), 4)])
def test_a_solid_drawing_is_never_filled(predictor: Predictor, digits: str, box: tuple[int, int, int, int],
                                         pen: int) -> None:
    """A narrow 0 drawn with a thin pen has a hole as long and thin as a hollow stroke's, but
    convex, and no bent or tiny ones: nothing is filled, and it stays a 0 (filled, it is a 1)."""
    x, y, w, h = box
    items = [(template(d), (x + int(1.5 * w) * i, y, w, h)) for i, d in enumerate(digits)]
    ink = draw_strokes((x + int(1.5 * w) * len(digits) + 40, y + h + 40), items, pen)
    inked = np.asarray(ink) > INK
    assert not fill_outlines(inked, h).any()
    assert read_text(predictor, ink)[0] == digits
    x28 = prepare_image(encode(render(np.asarray(ink) / 255)))
    if len(digits) == 1:
        P, _ = predictor.predict(x28[None])
        assert int(P[0].argmax()) == int(digits)


def test_the_hull_of_pixels_and_no_ink() -> None:
    """Pixels are unit squares: a 3×5 block's hull is 15; an L of 20 pixels in a 6×6 box has the
    triangle its bend leaves out added, 28."""
    block = np.zeros((10, 10), bool)
    block[2:5, 3:8] = True
    assert hull_area(*runs(block)) == pytest.approx(15.0)
    ell = np.zeros((10, 10), bool)
    ell[2:8, 2:4] = True
    ell[6:8, 2:8] = True
    assert hull_area(*runs(ell)) == pytest.approx(28.0)
    assert not fill_outlines(np.zeros((5, 5), bool), 5).any()  # and no ink, no holes


def test_a_hatched_number_is_filled(predictor: Predictor) -> None:
    """Strokes drawn as a rim filled with close diagonal hatching (as Cabin Sketch draws them):
    the slivers of paper between the hatches are too small a share of the ink to mark a drawing
    in outlines, but so many that the drawing is sketched: they are filled, and nothing else is."""
    items = [(template(d), (40 + 130 * i, 40, 80, 130)) for i, d in enumerate("2026")]
    size = (80 + 130 * 4, 220)
    thick = np.asarray(draw_strokes(size, items, 26)) > 127
    inner = np.asarray(draw_strokes(size, items, 20)) > 127
    y, x = np.indices(thick.shape)
    hatched = thick & (~inner | ((x + y) % 5 != 0))  # a rim, and inside it ink with a gap every 5 px
    slivers = thick & ~hatched
    assert slivers.sum() < HOLLOW * hatched.sum()  # not by the share of paper
    filled = fill_outlines(hatched, 130)
    assert (filled & ~thick).sum() < 50  # a few pinholes at the rim's jags; the loops of 0 and 6 stay open
    assert (filled & slivers).sum() > 0.9 * slivers.sum()
    ink = Image.fromarray((hatched * 255).astype(np.uint8))
    assert read_text(predictor, ink)[0] == "2026"
