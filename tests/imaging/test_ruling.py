"""Ruled lines taken off a photo's ink (app/imaging/ruling.py), on small synthetic ink maps: the
lines of a ruled page are found and the writing is not; a line that wanders by a pixel from strip
to strip is found where the ruling's step expects it, and only there; a stroke crossing a line
keeps its ink when the line goes; a line darker across the page goes whole, and a stroke along
it stays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from app.imaging import ruling
from app.imaging.ruling import STRIPS, lines_in, unruled

H, W = 150, 200
STEP = 15  # px between ruled lines
FIRST = 10


def ruled(rows: list[int], darkness: float = 0.3) -> NDArray[np.float32]:
    """An ink map (H, W) with a 1-px line across at each row."""
    ink = np.zeros((H, W), np.float32)
    for r in rows:
        ink[r] = darkness
    return ink


def everywhere() -> NDArray[np.bool_]:
    return np.ones((H, W), bool)


def offsets(found: list[tuple[float, float, float]]) -> list[int]:
    return sorted(round(rho) for _, rho, _ in found)


def test_the_lines_of_a_ruled_page_are_found_and_not_the_writing() -> None:
    rows = list(range(FIRST, H, STEP))
    ink = ruled(rows)
    ink[40:75, 90:96] = 0.8  # a stroke of writing, upright, across two lines: a few strips only
    ink[40:46, 80:110] = 0.8
    found = lines_in(ink, everywhere())
    assert offsets(found) == rows
    assert all(abs(angle) < math.radians(1) for angle, _, _ in found)


def wandering_line(ink: NDArray[np.float32], row: int, darkness: float = 0.3) -> None:
    """A line at ``row`` in even strips and one pixel lower in odd ones: rounding and a slight bow."""
    width = W // STRIPS
    for s in range(STRIPS):
        ink[row + s % 2, s * width:(s + 1) * width] = darkness


def test_a_line_that_wanders_is_found_where_the_ruling_expects_one() -> None:
    rows = [r for r in range(FIRST, H, STEP) if r != 70]
    ink = ruled(rows)
    wandering_line(ink, 70)
    found = offsets(lines_in(ink, everywhere()))
    assert any(abs(r - 70) <= 1 for r in found), found
    assert [r for r in found if abs(r - 70) > 1] == rows


def test_a_wandering_line_out_of_step_is_not_a_line() -> None:
    ink = ruled([10, 25, 40, 55])
    wandering_line(ink, 110)  # far past the ruling's step: nothing expects a line there
    assert offsets(lines_in(ink, everywhere())) == [10, 25, 40, 55]
    alone = np.zeros((H, W), np.float32)
    wandering_line(alone, 70)
    assert lines_in(alone, everywhere()) == []


def test_a_stroke_crossing_a_line_keeps_its_ink_when_the_line_goes() -> None:
    rows = list(range(FIRST, H, STEP))
    ink = ruled(rows)
    ink[30:90, 100:104] = np.maximum(ink[30:90, 100:104], 0.7)  # a stroke down across lines 40, 55, 70, 85
    out = unruled(ink, everywhere())
    assert out[rows][:, :90].max() < 0.05  # the lines are gone away from the stroke
    assert out[55, 100:104].min() > 0.3  # the stroke keeps what it adds to the line it crosses
    assert out[30:90, 100:104].mean() > 0.5


def test_a_line_darker_across_the_page_goes_whole_and_a_stroke_along_it_stays(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = list(range(FIRST, H, STEP))
    ink = ruled(rows)
    ink[rows] = np.linspace(0.2, 0.6, W, dtype=np.float32)  # three times as dark on the right: the light's fall
    ink[55, 40:70] = 0.9  # a stroke running along line 55 for a stretch and a half
    out = unruled(ink, everywhere())
    lines = np.delete(out[rows], rows.index(55), axis=0)
    assert lines.max() < 0.1  # every line goes, the darker end too
    assert out[55, 40:70].mean() > 0.3  # the stroke keeps most of its ink
    monkeypatch.setattr(ruling, "NEIGHBOURS", STRIPS * 4)  # one profile for the whole line, as before
    before = np.delete(unruled(ink, everywhere())[rows], rows.index(55), axis=0)
    assert before[:, 150:].max() > 0.15  # its darker end was left behind


def test_a_page_in_perspective_keeps_each_lines_own_lean() -> None:
    """Lines turning a degree from one to the next (perspective), or split between two neighbouring
    angles (a lean half-way between them), are not moved to one lean: only a line astray from
    lines that mostly lean alike is (tests/imaging/test_photo.py shows one on a photo)."""
    stands = np.full((len(ruling.ANGLES), STRIPS, 400), 0.1)  # every line shows everywhere
    turning = [(math.radians(-d), 20.0 + 20 * d, 0.1) for d in range(6)]
    assert ruling._agreeing(turning, stands, W) == turning
    split = [(math.radians(6 + d % 2), 20.0 + 20 * d, 0.1) for d in range(6)]
    assert ruling._agreeing(split, stands, W) == split
    astray = [(0.0, 20.0 + 20 * d, 0.1) for d in range(5)] + [(math.radians(-3), 130.0, 0.1)]
    stands[:] = -0.1
    stands[np.argmin(np.abs(ruling.ANGLES)), 3:, 125 + ruling._margin(W)] = 0.1  # where it crosses the middle
    moved = ruling._agreeing(astray, stands, W)
    assert moved[:5] == astray[:5]
    assert moved[5][:2] == (0.0, 125.0)


def test_a_grid_too_fine_for_the_small_copy_is_looked_for_on_a_larger_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A noisy page (800 × 600) squared every 24 px with faint 2-px lines: on the 200 px copy the
    lines are 6 px apart and half a pixel wide, and only some are found; looked for again on a
    copy twice the size, the grid goes whole."""
    rng = np.random.default_rng(3)
    ink = np.clip(rng.normal(0.02, 0.04, (600, 800)), 0, 1).astype(np.float32)
    rows, cols = np.arange(7, 590, 24), np.arange(7, 790, 24)
    for r in rows:
        ink[r:r + 2] += 0.12
    for c in cols:
        ink[:, c:c + 2] += 0.12  # the crossings darker, as where two lines of ink overlap
    on = np.zeros(ink.shape, bool)
    on[rows] = on[rows + 1] = True
    on[:, cols] = on[:, cols + 1] = True
    paper = np.ones(ink.shape, bool)
    noise = np.mean(ink[~on] > 0.1)  # the paper's own noise over 0.1
    assert np.mean(unruled(ink, paper)[on] > 0.1) < 2 * noise
    monkeypatch.setattr(ruling, "MANY", 10**9)  # never fine: looked for on the small copy only
    assert np.mean(unruled(ink, paper)[on] > 0.1) > 0.1


def test_a_dark_line_is_found_once() -> None:
    """A dark line 3 px thick stands out at its own lean and, less, a degree either way, pivoting
    about its middle: it is one line, not two taken off side by side in the wrong places."""
    ink = np.zeros((H, W), np.float32)
    ink[70:73] = 0.6
    found = lines_in(ink, everywhere())
    assert len(found) == 1 and abs(found[0][1] - 71) <= 1, found


def test_a_fine_grid_is_looked_for_again_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second look is on a copy twice the size and no more, however fine the lines there: the
    work for a photo stays bounded."""
    sizes = []

    def looked(small: NDArray[np.float32], paper: NDArray[np.bool_]) -> list[tuple[float, float, float]]:
        sizes.append(max(small.shape))
        return []

    monkeypatch.setattr(ruling, "lines_in", looked)
    monkeypatch.setattr(ruling, "_fine", lambda found: True)  # every copy's lines are "too fine"
    unruled(np.zeros((1200, 1600), np.float32), np.ones((1200, 1600), bool))
    assert sorted(sizes) == [200, 200, 400, 400]
