"""Hand-drawn digits in the styles MNIST rarely shows, and drawings that are not digits.

Digits are stroke templates, one per style (a 1 with a flag and a foot, the European
1 with a long up-stroke, a 7 with a crossbar, open and closed 4s, 9s with a straight
stem, …), in a unit box with y pointing down. Non-digits are letters and signs that no
one would fairly read as a digit (no O, I, l, S, Z, B, G, b, g, q, …), shapes,
scribbles, random strokes, a tap and pieces of digits. ``perturb`` gives every drawing
its own slant, rotation, aspect, wobble and jitter; ``model.strokes.render_batch``
draws them with a round pen. Pure numpy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.strokes import render_batch

Array = NDArray[Any]
Drawing = list[Array]
NONE = 10  # the label of "not a digit"


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 0) -> Array:
    """Points on an ellipse from angle a0 to a1 (degrees, counter-clockwise as on paper)."""
    n = n or max(4, int(abs(a1 - a0) / 15) + 1)
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def line(*points: tuple[float, float]) -> Array:
    return np.array(points, dtype=np.float64)


def join(*parts: Array) -> Array:
    return np.concatenate(parts)


# ---- digits, by style ------------------------------------------------------------------------

DIGITS: dict[str, tuple[int, Drawing]] = {
    "0 oval": (0, [arc(0.5, 0.5, 0.32, 0.5, 90, 450)]),
    "0 round": (0, [arc(0.5, 0.5, 0.45, 0.5, 100, 460)]),
    "1 stick": (1, [line((0.5, 0.0), (0.5, 1.0))]),
    "1 flag": (1, [line((0.3, 0.22), (0.55, 0.0), (0.55, 1.0))]),
    "1 flag and foot": (1, [line((0.3, 0.22), (0.55, 0.0), (0.55, 1.0)), line((0.3, 1.0), (0.8, 1.0))]),
    "1 european": (1, [line((0.1, 0.5), (0.6, 0.0), (0.6, 1.0))]),
    "2 plain": (2, [join(arc(0.5, 0.28, 0.38, 0.28, 165, -30), line((0.12, 1.0), (0.9, 1.0)))]),
    "2 curly": (2, [join(arc(0.5, 0.28, 0.38, 0.28, 165, -35), arc(0.2, 0.88, 0.12, 0.12, 60, 300),
                         line((0.3, 0.97), (0.9, 1.0)))]),
    "3 round": (3, [join(arc(0.48, 0.26, 0.33, 0.26, 150, -90), arc(0.48, 0.74, 0.37, 0.26, 90, -150))]),
    "3 flat top": (3, [join(line((0.15, 0.0), (0.85, 0.0), (0.45, 0.42)), arc(0.5, 0.7, 0.38, 0.3, 100, -150))]),
    "4 open": (4, [line((0.6, 0.0), (0.08, 0.68), (0.92, 0.68)), line((0.68, 0.3), (0.68, 1.0))]),
    "4 closed": (4, [line((0.68, 1.0), (0.68, 0.0), (0.08, 0.68), (0.92, 0.68))]),
    "4 upright": (4, [line((0.15, 0.0), (0.15, 0.6), (0.88, 0.6)), line((0.72, 0.0), (0.72, 1.0))]),
    "5 plain": (5, [join(line((0.82, 0.0), (0.25, 0.0), (0.2, 0.45)), arc(0.48, 0.7, 0.36, 0.3, 140, -150))]),
    "5 two strokes": (5, [join(line((0.25, 0.0), (0.2, 0.45)), arc(0.48, 0.7, 0.36, 0.3, 140, -150)),
                          line((0.25, 0.0), (0.85, 0.0))]),
    "6 loop": (6, [join(arc(0.78, 0.62, 0.55, 0.62, 95, 190), arc(0.5, 0.72, 0.3, 0.28, 180, 540))]),
    "7 plain": (7, [line((0.1, 0.0), (0.9, 0.0), (0.38, 1.0))]),
    "7 crossbar": (7, [line((0.1, 0.0), (0.9, 0.0), (0.38, 1.0)), line((0.35, 0.5), (0.85, 0.5))]),
    "7 curved": (7, [join(line((0.1, 0.05), (0.9, 0.0)), arc(1.3, 1.0, 0.85, 1.0, 150, 180))]),
    "8 two loops": (8, [arc(0.5, 0.25, 0.27, 0.25, 0, 360), arc(0.5, 0.72, 0.33, 0.28, 90, 450)]),
    "8 one stroke": (8, [join(arc(0.5, 0.25, 0.27, 0.25, 20, 270), arc(0.5, 0.72, 0.33, 0.28, 90, -270),
                              arc(0.5, 0.25, 0.27, 0.25, 270, 380))]),
    "9 straight stem": (9, [arc(0.48, 0.28, 0.32, 0.28, 0, 360), line((0.8, 0.2), (0.76, 1.0))]),
    "9 curved stem": (9, [join(arc(0.48, 0.28, 0.32, 0.28, -10, 360), arc(0.2, 0.3, 0.6, 0.7, 0, -80))]),
}


# ---- not digits ------------------------------------------------------------------------------

LETTERS: dict[str, Drawing] = {
    "A": [line((0.0, 1.0), (0.5, 0.0), (1.0, 1.0)), line((0.22, 0.6), (0.78, 0.6))],
    "E": [line((0.85, 0.0), (0.1, 0.0), (0.1, 1.0), (0.85, 1.0)), line((0.1, 0.5), (0.7, 0.5))],
    "F": [line((0.85, 0.0), (0.1, 0.0), (0.1, 1.0)), line((0.1, 0.5), (0.7, 0.5))],
    "H": [line((0.1, 0.0), (0.1, 1.0)), line((0.9, 0.0), (0.9, 1.0)), line((0.1, 0.5), (0.9, 0.5))],
    "K": [line((0.1, 0.0), (0.1, 1.0)), line((0.85, 0.0), (0.1, 0.55), (0.9, 1.0))],
    "M": [line((0.0, 1.0), (0.1, 0.0), (0.5, 0.7), (0.9, 0.0), (1.0, 1.0))],
    "N": [line((0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0))],
    "R": [join(line((0.1, 1.0), (0.1, 0.0)), arc(0.4, 0.25, 0.35, 0.25, 180, -90), line((0.1, 0.5), (0.9, 1.0)))],
    "W": [line((0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0))],
    "X": [line((0.05, 0.0), (0.95, 1.0)), line((0.95, 0.0), (0.05, 1.0))],
    "e": [join(line((0.1, 0.55), (0.9, 0.55)), arc(0.5, 0.55, 0.4, 0.45, 0, 300))],
    "h": [line((0.15, 0.0), (0.15, 1.0)), join(arc(0.5, 0.65, 0.35, 0.3, 180, 0), line((0.85, 0.65), (0.85, 1.0)))],
    "k": [line((0.15, 0.0), (0.15, 1.0)), line((0.8, 0.35), (0.15, 0.7), (0.85, 1.0))],
    "m": [join(line((0.05, 1.0), (0.05, 0.3)), arc(0.27, 0.5, 0.22, 0.2, 180, 0), line((0.49, 0.5), (0.49, 1.0))),
          join(arc(0.71, 0.5, 0.22, 0.2, 180, 0), line((0.93, 0.5), (0.93, 1.0)))],
    "n": [join(line((0.1, 1.0), (0.1, 0.3)), arc(0.5, 0.55, 0.4, 0.3, 180, 0), line((0.9, 0.55), (0.9, 1.0)))],
    "r": [line((0.2, 1.0), (0.2, 0.3)), arc(0.6, 0.6, 0.4, 0.3, 170, 60)],
    "w": [line((0.0, 0.3), (0.25, 1.0), (0.5, 0.45), (0.75, 1.0), (1.0, 0.3))],
    "x": [line((0.1, 0.3), (0.9, 1.0)), line((0.9, 0.3), (0.1, 1.0))],
}

SIGNS: dict[str, Drawing] = {
    "plus": [line((0.5, 0.0), (0.5, 1.0)), line((0.0, 0.5), (1.0, 0.5))],
    "equals": [line((0.0, 0.35), (1.0, 0.35)), line((0.0, 0.65), (1.0, 0.65))],
    "hash": [line((0.35, 0.0), (0.25, 1.0)), line((0.75, 0.0), (0.65, 1.0)),
             line((0.05, 0.33), (0.95, 0.33)), line((0.05, 0.67), (0.95, 0.67))],
    "asterisk": [line((0.5, 0.0), (0.5, 1.0)), line((0.07, 0.25), (0.93, 0.75)), line((0.93, 0.25), (0.07, 0.75))],
    "percent": [arc(0.22, 0.2, 0.18, 0.18, 0, 360), line((0.9, 0.0), (0.1, 1.0)), arc(0.78, 0.8, 0.18, 0.18, 0, 360)],
    "arrow": [line((0.0, 0.5), (1.0, 0.5)), line((0.65, 0.15), (1.0, 0.5), (0.65, 0.85))],
    "check": [line((0.0, 0.55), (0.35, 1.0), (1.0, 0.0))],
    "heart": [join(arc(0.28, 0.28, 0.25, 0.25, 200, 0), arc(0.72, 0.28, 0.25, 0.25, 180, -20),
                   line((0.95, 0.45), (0.5, 1.0), (0.05, 0.45)))],
    "star": [line(*[(0.5 + 0.5 * np.sin(a), 0.5 - 0.5 * np.cos(a)) for a in np.radians(np.arange(0, 721, 144))])],
    "triangle": [line((0.5, 0.0), (1.0, 0.9), (0.0, 0.9), (0.5, 0.0))],
    "wave": [line(*[(x, 0.5 + 0.3 * np.sin(x * 4 * np.pi)) for x in np.linspace(0, 1, 25)])],
    "zigzag": [line((0.0, 0.2), (0.2, 0.8), (0.4, 0.2), (0.6, 0.8), (0.8, 0.2), (1.0, 0.8))],
    "spiral": [line(*[(0.5 + r * np.cos(a), 0.5 + r * np.sin(a))
                      for a, r in zip(np.linspace(0, 5 * np.pi, 40), np.linspace(0.05, 0.5, 40), strict=True)])],
    "smiley": [arc(0.5, 0.5, 0.5, 0.5, 0, 360), line((0.35, 0.35)), line((0.65, 0.35)),
               arc(0.5, 0.55, 0.25, 0.22, 200, 340)],
}


def scribble(rng: np.random.Generator) -> Drawing:
    """A random walk that keeps turning: what a child draws."""
    n = int(rng.integers(15, 40))
    heading = np.cumsum(rng.normal(0, 0.9, n)) + rng.uniform(0, 2 * np.pi)
    step = rng.uniform(0.05, 0.15, n)
    return [np.cumsum(np.stack([step * np.cos(heading), step * np.sin(heading)], axis=1), axis=0)]


def random_strokes(rng: np.random.Generator) -> Drawing:
    return [rng.random((int(rng.integers(2, 5)), 2)) for _ in range(int(rng.integers(2, 5)))]


def tap(rng: np.random.Generator) -> Drawing:
    return [rng.random((1, 2))]


def digit_piece(rng: np.random.Generator) -> Drawing:
    """A third to a half of one stroke of a digit: half a loop, a hook, a lone bar."""
    _, strokes = list(DIGITS.values())[int(rng.integers(len(DIGITS)))]  # 1s too: see looks_like_a_one
    s = strokes[int(rng.integers(len(strokes)))]
    s = resample(s, 24)
    keep = int(rng.integers(6, 11))
    start = int(rng.integers(0, 24 - keep))
    return [s[start:start + keep]]


def _template(drawing: Drawing) -> Callable[[np.random.Generator], Drawing]:
    return lambda rng: drawing


NON_DIGITS: dict[str, Callable[[np.random.Generator], Drawing]] = {
    **{f"letter {k}": _template(d) for k, d in LETTERS.items()},
    **{k: _template(d) for k, d in SIGNS.items()},
    "scribble": scribble, "random strokes": random_strokes, "tap": tap, "piece of a digit": digit_piece,
}
# How often each kind is drawn: the procedural ones stand for endless variety.
_NON_DIGIT_WEIGHT = {"scribble": 6.0, "random strokes": 4.0, "piece of a digit": 4.0, "tap": 1.0}


# ---- randomness ------------------------------------------------------------------------------

def resample(points: Array, n: int) -> Array:
    """n points evenly spaced along a polyline (a single point stays a single point)."""
    if len(points) < 2:
        return points
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return points[:1]
    u = np.linspace(0, s[-1], n)
    return np.stack([np.interp(u, s, points[:, 0]), np.interp(u, s, points[:, 1])], axis=1)


def perturb(drawing: Drawing, rng: np.random.Generator, amount: float = 1.0) -> Drawing:
    """A hand's version of a template: slant, rotation, aspect, smooth wobble along each stroke,
    jitter of its points, and strokes that overshoot or stop short."""
    angle = np.radians(rng.normal(0, 7) * amount)
    slant = rng.normal(0, 0.15) * amount
    aspect = np.exp(rng.normal(0, 0.15) * amount)
    c, s = np.cos(angle), np.sin(angle)
    M = np.array([[c, -s], [s, c]]) @ np.array([[aspect, slant], [0.0, 1.0]])
    out = []
    for stroke in drawing:
        pts = resample(stroke, max(len(stroke), int(np.linalg.norm(np.diff(stroke, axis=0), axis=1).sum() / 0.06) + 2))
        if len(pts) > 1:
            wobble = np.cumsum(rng.normal(0, 0.012 * amount, pts.shape), axis=0)
            pts = pts + wobble - np.linspace(0, 1, len(pts))[:, None] * wobble[-1]  # ends stay near their places
            pts = pts + rng.normal(0, 0.02 * amount, (1, 2)) * np.linspace(-1, 1, len(pts))[:, None]
        out.append((pts - 0.5) @ M.T + rng.normal(0, 0.015 * amount, (1, 2)))
    return out


def pens(rng: np.random.Generator, n: int) -> Array:
    """Pen widths relative to the drawing's size, log-uniform from a big drawing with a fine pen
    (0.06: about 1.1 px once fitted) to a small one with a thick pen (0.35: about 5 px); the
    page's pen is 7 % of the pad, and people draw at a quarter to the whole of it."""
    return np.exp(rng.uniform(np.log(0.06), np.log(0.35), n))


def looks_like_a_one(drawing: Drawing) -> bool:
    """Whether a drawing is, in effect, one upright line: a fair reading of it is "1"."""
    pts = np.concatenate(drawing)
    if len(pts) < 2:
        return False
    centred = pts - pts.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    thin = values[0] < 0.02 * values[1]
    return bool(thin and abs(vectors[1, 1]) > np.cos(np.radians(35)))  # main axis within 35° of upright


def draw_digits(n: int, rng: np.random.Generator, styles: list[str] | None = None
                ) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str]]:
    """n stroke-drawn digits (n, 784) float32, their labels, and the style of each."""
    names = styles or list(DIGITS)
    picked = [names[i] for i in rng.integers(len(names), size=n)]
    drawings = [perturb(DIGITS[name][1], rng) for name in picked]
    X = render_batch(drawings, pens(rng, n)).reshape(n, -1)
    return X, np.array([DIGITS[name][0] for name in picked]), picked


def draw_non_digits(n: int, rng: np.random.Generator) -> tuple[NDArray[np.float32], list[str]]:
    """n drawings that are not digits (n, 784) float32, and the kind of each."""
    kinds = list(NON_DIGITS)
    weight = np.array([_NON_DIGIT_WEIGHT.get(k, 1.0) for k in kinds])
    picked = [kinds[i] for i in rng.choice(len(kinds), size=n, p=weight / weight.sum())]
    drawings = []
    for k in picked:
        drawing = perturb(NON_DIGITS[k](rng), rng, 1.3)
        while looks_like_a_one(drawing):  # a lone upright stroke is a 1, whatever made it
            drawing = perturb(NON_DIGITS[k](rng), rng, 1.3)
        drawings.append(drawing)
    return render_batch(drawings, pens(rng, n)).reshape(n, -1), picked
