"""Make the drawn-digits test set: MNIST *test* digits re-drawn as browser-canvas images.

    python -m scripts.datasets.make_drawn_digits                          # → data/drawn/ (2000 PNGs + labels.csv)
    python -m scripts.datasets.make_drawn_digits --count 400 --out /tmp/drawn --seed 1

Each digit is cut out of its 28×28 MNIST image, enlarged (bicubic) to 25–90% of
a 200–400 px canvas's height and placed anywhere on it. Its stroke is redrawn at
a threshold of the enlarged grey levels, with a one-pixel anti-aliased edge:
"thin" (high threshold), "normal", or "thick" (blurred first, low threshold).
The four ink styles take turns: dark on white, light on black, dark on transparent
(what an unfilled canvas gives from ``toDataURL()``) and coloured ink on a white,
pastel or dark background. Safe to re-run: the same seed writes the same files.
Score them through the API with ``python -m scripts.evaluation.score_drawn_digits``.
"""

from __future__ import annotations

import argparse
import colorsys
import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from model.mnist import load_split

STYLES = ("dark_on_white", "light_on_black", "dark_on_transparent", "coloured")
STROKES = ("thin", "normal", "thick")
F32 = NDArray[np.float32]


def redraw(digit: F32, height: float, stroke: str, rng: np.random.Generator) -> F32:
    """digit: (28, 28) in [0, 1] → ink coverage (h, w) float32 with the ink ``height`` px tall."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = np.pad(digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 2)
    scale = float(height / (rows[-1] - rows[0] + 1))
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    big = Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.BICUBIC)
    g = np.clip(np.asarray(big, dtype=np.float32), 0.0, 1.0)
    if stroke == "thick":  # a blurred digit cut at a low level: the stroke grows on every side
        grey = Image.fromarray(np.round(g * 255).astype(np.uint8))
        blurred = grey.filter(ImageFilter.GaussianBlur(scale * rng.uniform(0.3, 0.6)))
        g = np.asarray(blurred, np.float32) * np.float32(1 / 255)
    g = g / max(float(g.max()), 1e-6)
    t = {"thin": rng.uniform(0.7, 0.85), "normal": rng.uniform(0.4, 0.6), "thick": rng.uniform(0.2, 0.35)}[stroke]
    cov = np.clip((g - t) * scale + 0.5, 0.0, 1.0).astype(np.float32)  # edge ≈ 1 px wide
    rows, cols = np.flatnonzero(cov.any(axis=1)), np.flatnonzero(cov.any(axis=0))
    return cov[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _colour(h: float, s: float, v: float) -> NDArray[np.float32]:
    return np.array(colorsys.hsv_to_rgb(h, s, v), dtype=np.float32) * 255


def colours(style: str, rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(ink RGB, paper RGB), 0…255."""
    if style == "dark_on_white":
        return np.full(3, rng.uniform(0, 50), np.float32), np.full(3, rng.uniform(235, 255), np.float32)
    if style == "light_on_black":
        return np.full(3, rng.uniform(200, 255), np.float32), np.full(3, rng.uniform(0, 30), np.float32)
    while True:  # coloured: a saturated ink on white, pastel or dark paper, clearly apart
        ink = _colour(rng.random(), rng.uniform(0.6, 1.0), rng.uniform(0.55, 1.0))
        paper = [np.full(3, 255, np.float32), _colour(rng.random(), rng.uniform(0.05, 0.2), 0.97),
                 _colour(rng.random(), rng.uniform(0.0, 0.5), rng.uniform(0.05, 0.2))][rng.integers(3)]
        if np.abs(ink - paper).max() >= 90:
            return ink, paper


def canvas(coverage: F32, H: int, W: int, style: str, rng: np.random.Generator) -> Image.Image:
    """Place the drawing anywhere on an H×W canvas (widened if the digit needs it), painted in ``style``."""
    H, W = max(H, coverage.shape[0]), max(W, coverage.shape[1])
    cov = np.zeros((H, W), np.float32)
    y, x = rng.integers(0, H - coverage.shape[0] + 1), rng.integers(0, W - coverage.shape[1] + 1)
    cov[y:y + coverage.shape[0], x:x + coverage.shape[1]] = coverage
    if style == "dark_on_transparent":
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[..., 3] = np.round(cov * 255)
        return Image.fromarray(rgba)
    ink, paper = colours(style, rng)
    rgb = paper + (ink - paper) * cov[..., None]
    return Image.fromarray(np.round(rgb).astype(np.uint8))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mnist", type=Path, default=Path("data/mnist"), help="MNIST folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("data/drawn"), help="output folder (default: %(default)s)")
    p.add_argument("--count", type=int, default=2000, help="images, styles in turn (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = p.parse_args()

    X, y, _ = load_split(args.mnist, "t10k")
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(y), size=min(args.count, len(y)), replace=False)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "labels.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "label", "style", "stroke", "mnist_index", "width", "height", "digit_height"])
        for n, i in enumerate(picks.tolist()):
            style, stroke = STYLES[n % len(STYLES)], STROKES[rng.integers(len(STROKES))]
            H, W = (int(v) for v in rng.integers(200, 401, size=2))
            coverage = redraw(X[i].reshape(28, 28), rng.uniform(0.25, 0.9) * H, stroke, rng)
            img = canvas(coverage, H, W, style, rng)
            name = f"{n:05d}_{y[i]}_{style}.png"
            img.save(args.out / name)
            out.writerow([name, int(y[i]), style, stroke, i, img.width, img.height, coverage.shape[0]])
    print(f"wrote {len(picks)} images and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
