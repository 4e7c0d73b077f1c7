"""Make the drawn-numbers test set: numbers of 2–6 MNIST *test* digits as wide canvas drawings.

    python -m scripts.datasets.make_drawn_numbers                        # → data/numbers/ (600 PNGs + labels.csv)
    python -m scripts.datasets.make_drawn_numbers --count 200 --out /tmp/numbers --seed 1
    python -m scripts.datasets.make_drawn_numbers --source strokes --out data/numbers-strokes  # pen strokes
    python -m scripts.datasets.make_drawn_numbers --source fonts --out data/numbers-fonts  # this machine's fonts
    python -m scripts.datasets.make_drawn_numbers --source pens --out data/numbers-pens  # as a person spaces them
    python -m scripts.datasets.make_drawn_numbers --source fonts --fonts build/fonts/node_modules/@fontsource \
        --out data/numbers-handwriting                                     # fonts from npm (docs/development.md)

Each digit is redrawn as in ``make_drawn_digits`` (thin, normal or thick strokes), all of one
number at a common height (±12 %), side by side with random gaps (8–45 % of the height), each
on a baseline jittered by up to 10 % of the height, on a canvas 1.2–1.6 times the number's
size, in the four ink styles in turn. In ``--touching`` of the numbers (default a third) one
pair of neighbours is pushed together until their strokes touch. Only MNIST test digits are
used, never training ones. Each number's digits are also kept apart, as drawn, in
``parts/NAME.npz``, so the scorer can tell what perfect cuts would read. Score them with
``python -m scripts.evaluation.score_drawn_numbers``.

Other sources, for numbers that are not MNIST's (2–5 digits, the four ink styles, no touching
pairs on purpose): ``--source strokes`` draws each digit from ``model.glyphs``'s templates with
its own slant and wobble and a round pen (7 % of the canvas's height, as the page draws), evenly
spread over a 900×300 canvas; ``--source pens`` draws them as a person spaces them (``pen_number``:
canvases of 600–1200 × 200–400, gaps of 15–60 % of a digit's width, pens of 2–10 % of the
height); ``--source fonts`` types the number in a font found under the ``--fonts`` folders
(printed type or handwriting fonts, never seen in training), at a random size, on a canvas
1.2–1.6 times its size, and names the font in labels.csv, so the scorer gives each its figure.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from model.mnist import load_split
from scripts.datasets.make_drawn_digits import STROKES, STYLES, canvas, redraw

F32 = NDArray[np.float32]


def compose(parts: list[F32], gaps: list[int], lifts: list[int]) -> F32:
    """Digits' coverages side by side: gap i after part i (negative: overlapping columns),
    part i lowered by lifts[i] pixels."""
    H = max(p.shape[0] + lift for p, lift in zip(parts, lifts, strict=True))
    W = sum(p.shape[1] for p in parts) + sum(gaps[:-1])
    out = np.zeros((H, max(W, 1)), np.float32)
    x = 0
    for p, gap, lift in zip(parts, gaps, lifts, strict=True):
        h, w = p.shape
        out[lift:lift + h, x:x + w] = np.maximum(out[lift:lift + h, x:x + w], p)
        x += w + gap
    return out


def touching_gap(left: F32, right: F32, lift_l: int, lift_r: int) -> int:
    """The (negative or zero) gap at which ``right`` first touches ``left``."""
    for gap in range(0, -min(left.shape[1], right.shape[1]) // 2, -1):
        both = compose([left, right], [gap, 0], [lift_l, lift_r])
        alone = compose([left, right], [gap + 2, 0], [lift_l, lift_r])
        if (both > 0.5).sum() < (alone > 0.5).sum():  # strokes now overlap
            return gap
    return 0


def stroke_number(rng: np.random.Generator) -> tuple[Image.Image, str]:
    from scripts.datasets.canvas import number_png

    png, text = number_png(int(rng.integers(2, 6)), int(rng.integers(1 << 30)))
    img = Image.open(io.BytesIO(png))
    img.load()
    return img, text


def pen_number(rng: np.random.Generator, pens: tuple[float, float] = (0.02, 0.1)) -> tuple[Image.Image, str, str]:
    """2–5 digits from model.glyphs's templates as a person spaces them: a 600–1200 × 200–400
    canvas, digits 40–75 % of its height, gaps 15–60 % of a digit's width, a round pen ``pens``
    of the height (2–10 %), each digit on its own baseline."""
    from model.glyphs import DIGITS, perturb
    from scripts.datasets.canvas import strokes_png

    names = [n for n in DIGITS if "flag" not in n]
    picked = [names[i] for i in rng.integers(len(names), size=int(rng.integers(2, 6)))]
    W, H = int(rng.choice([600, 900, 1200])), int(rng.choice([200, 300, 400]))
    height = H * rng.uniform(0.4, 0.75)
    gap = rng.uniform(0.15, 0.6)
    scale = min(1.0, 0.95 * W / (height * 0.6 * (len(picked) * (1 + gap) - gap)))
    height *= scale
    width = height * 0.6
    pen = rng.uniform(*pens) * H
    x = (W - width * (len(picked) * (1 + gap) - gap)) / 2
    strokes = []
    for name in picked:
        y0 = (H - height) / 2 + rng.normal(0, 0.03) * H
        strokes += [[(x + (px + 0.5) * width, y0 + (py + 0.5) * height) for px, py in stroke]
                    for stroke in perturb(DIGITS[name][1], rng)]
        x += width * (1 + gap)
    img = Image.open(io.BytesIO(strokes_png(strokes, (W, H), pen)))
    img.load()
    return img, "".join(str(DIGITS[n][0]) for n in picked), f"pen {pen / H:.2f}"


def font_number(rng: np.random.Generator, fonts: list[str], outlined: bool = False) -> tuple[Image.Image, str, str]:
    """A number typed in one of ``fonts``; ``outlined``: only the outline of its glyphs inked, a
    line 1.5–3 % of the size wide round each (an outlined font, made from any font)."""
    text = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(2, 6))))
    path = fonts[int(rng.integers(len(fonts)))]
    size = int(rng.integers(60, 160))
    font = ImageFont.truetype(path, size)
    line = max(1, round(size * rng.uniform(0.015, 0.03))) if outlined else 0
    left, top, right, bottom = font.getbbox(text, stroke_width=line)
    W, H = int((right - left) * rng.uniform(1.2, 1.6)) + 20, int((bottom - top) * rng.uniform(1.3, 2.0)) + 20
    img = Image.new("L", (W, H), 0)
    at = ((W - (right - left)) / 2 - left, (H - (bottom - top)) / 2 - top)
    # Pillow draws the stroke round each glyph, then the glyph over it: in paper colour, a hollow glyph
    ImageDraw.Draw(img).text(at, text, 0 if outlined else 255, font, stroke_width=line, stroke_fill=255)
    return img, text, Path(path).name


def painted(ink: Image.Image, style: str, rng: np.random.Generator) -> Image.Image:
    """A number's ink ("L" coverage, or the alpha of "RGBA") painted on a canvas in ``style``."""
    coverage = np.asarray(ink.getchannel("A") if ink.mode == "RGBA" else ink, np.float32) / np.float32(255)
    return canvas(coverage, coverage.shape[0], coverage.shape[1], style, rng)


def others(args: argparse.Namespace) -> None:
    """--source strokes, pens or fonts: each number painted in the four ink styles in turn."""
    rng = np.random.default_rng(args.seed)
    fonts = sorted(f for d in args.fonts for f in glob.glob(f"{d}/**/*", recursive=True)
                   if f.endswith((".ttf", ".otf", "latin-400-normal.woff")))
    if args.source == "fonts" and not fonts:
        raise SystemExit("no TrueType fonts under /usr/share/fonts (apt-get install fonts-dejavu-core)")
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "labels.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "text", "touching", "style", "stroke", "width", "height"])
        for n in range(args.count):
            if args.source == "strokes":
                (ink, text), how = stroke_number(rng), "strokes"
            elif args.source == "pens":
                ink, text, how = pen_number(rng, tuple(args.pens))
            else:
                ink, text, how = font_number(rng, fonts, args.outlined)
            style = STYLES[n % len(STYLES)]
            img = painted(ink, style, rng)
            name = f"{n:05d}_{text}_{style}.png"
            img.save(args.out / name)
            out.writerow([name, text, 0, style, how, img.width, img.height])
    typed = f", {len(fonts)} fonts" if args.source == "fonts" else ""
    print(f"wrote {args.count} numbers ({args.source}{typed}) and labels.csv to {args.out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=["mnist", "strokes", "pens", "fonts"], default="mnist",
                   help="MNIST test digits, model.glyphs pen strokes (evenly spaced as in bench_read, or "
                        "spaced and sized as a person would: pens), or fonts (default: %(default)s)")
    p.add_argument("--mnist", type=Path, default=Path("data/mnist"), help="MNIST folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("data/numbers"), help="output folder (default: %(default)s)")
    p.add_argument("--count", type=int, default=600, help="numbers (default: %(default)s)")
    p.add_argument("--touching", type=float, default=1 / 3, help="share with one touching pair (default: 1/3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--pens", type=float, nargs=2, default=[0.02, 0.1], metavar=("LEAST", "MOST"),
                   help="--source pens: the pen's width, a share of the canvas's height (default: 0.02 0.1)")
    p.add_argument("--fonts", nargs="+", default=["/usr/share/fonts"],
                   help="--source fonts: folders searched for .ttf/.otf/.woff fonts (default: %(default)s)")
    p.add_argument("--outlined", action="store_true",
                   help="--source fonts: only each glyph's outline inked, as an outlined font draws it")
    args = p.parse_args()
    if args.source != "mnist":
        others(args)
        return
    X, y, _ = load_split(args.mnist, "t10k")
    rng = np.random.default_rng(args.seed)
    (args.out / "parts").mkdir(parents=True, exist_ok=True)
    with open(args.out / "labels.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "text", "touching", "style", "stroke", "width", "height"])
        for n in range(args.count):
            k = int(rng.integers(2, 7))
            picks = rng.integers(0, len(y), k)
            style, stroke = STYLES[n % len(STYLES)], STROKES[rng.integers(len(STROKES))]
            height = rng.uniform(60, 160)
            parts = [redraw(X[i].reshape(28, 28), height * rng.uniform(0.88, 1.12), stroke, rng) for i in picks]
            gaps = [int(height * rng.uniform(0.08, 0.45)) for _ in range(k)]
            lifts = [int(rng.uniform(0, 0.1) * height) for _ in range(k)]
            touching = bool(rng.random() < args.touching)
            if touching:
                j = int(rng.integers(0, k - 1))
                gaps[j] = touching_gap(parts[j], parts[j + 1], lifts[j], lifts[j + 1])
            coverage = compose(parts, gaps, lifts)
            H, W = coverage.shape
            img: Image.Image = canvas(coverage, int(H * rng.uniform(1.2, 1.6)), int(W * rng.uniform(1.2, 1.6)),
                                      style, rng)
            text = "".join(str(int(y[i])) for i in picks)
            name = f"{n:05d}_{text}_{style}.png"
            img.save(args.out / name)
            np.savez_compressed(args.out / "parts" / name.replace(".png", ".npz"),
                                *[np.round(p * 255).astype(np.uint8) for p in parts])
            out.writerow([name, text, int(touching), style, stroke, img.width, img.height])
    print(f"wrote {args.count} numbers and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
