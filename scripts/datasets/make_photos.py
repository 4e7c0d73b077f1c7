"""Make photo-like test images: digits, numbers and non-digits written on paper and photographed.

    python -m scripts.datasets.make_photos --kind digits --count 600 --seed 0 --out data/photos/digits
    python -m scripts.datasets.make_photos --kind numbers --count 200 --seed 0 --out data/photos/numbers
    python -m scripts.datasets.make_photos --kind nondigits --count 200 --seed 0 --out data/photos/nondigits
    python -m scripts.datasets.make_photos --kind digits --count 40 --large --out /tmp/big   # some 12 MP photos

Seeds: tune on ``TUNING_SEED`` (0); ``HELD_OUT_SEED`` (2028) is for reporting only, never for
tuning, so that its figures say how the photo pipeline does on photos it was not fitted to.

What is written, and how. The writing comes from the sources the drawn test sets already use
(MNIST *test* digits redrawn as ``make_drawn_digits`` does, ``model.glyphs`` pen strokes, digits
typed in a font; numbers composed as ``make_drawn_numbers`` composes them), at a photo's scale
(a digit 80–600 px tall). Each image then goes through one function per effect:

- the ink (``ink_alpha``): blue or black ballpoint (thin-ish, unevenly dark), black felt pen
  (solid), pencil (grey, grainy, lower contrast), red or green pen; each stroke thinned or
  thickened to the pen's width (``restroke``);
- the paper (``paper_sheet``): white, cream or grey recycled with fibres; plain, ruled (blue lines,
  sometimes a red margin) or squared (blue or grey), the writing sitting on a line or crossing one;
- the framing (``framing``): the sheet rotated (±8°) and seen in a mild perspective, sometimes with
  its edge in the frame and a table behind (wood, dark or grey), the paper's shadow on it;
- the light (``light``): a linear or radial gradient (one side 30–60 % darker), vignetting, a white
  balance and exposure, the soft shadow of a hand or phone (a blob or a band), glare (a bright soft
  ellipse that may wash out part of the ink); or a flat-bed scan, evenly lit;
- the camera (``camera``): Gaussian blur (0–2 px for every 100 px of digit height), sometimes motion
  blur, noise (σ 2–20), sharpening, JPEG quality 40–95, and in some files an EXIF Orientation
  (3, 6 or 8) with the pixels turned the other way, so that only a reader that honours EXIF sees
  them upright (``ImageOps.exif_transpose`` undoes it).

Non-digits, for honest answers: blank paper, a printed paragraph, handwritten letters, a scribble,
a face, and a table with no paper on it, all under the same conditions.

Everything is drawn from ``numpy.random.default_rng([seed, kind, n])``, one stream per image: the
same seed writes the same files, and image n does not depend on the count. ``labels.csv`` holds
each file's label (the digit, the number's digits, or the kind of non-digit), its kind and every
condition (``Conditions``). Photos are 600–3000 px on the long side, most under 1 MiB as JPEG;
``--large`` makes every eighth one a 12-megapixel photo (4000×3000). Score them with
``python -m scripts.evaluation.score_photos``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import glob
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from app.imaging.components import label as pieces_of
from model.glyphs import DIGITS, LETTERS, SIGNS, perturb, resample, scribble
from model.mnist import load_split
from scripts.datasets.canvas import strokes_image
from scripts.datasets.make_drawn_digits import redraw
from scripts.datasets.make_drawn_numbers import compose, font_number, pen_number, touching_gap
from scripts.datasets.make_font_glyphs import typed

F32 = NDArray[np.float32]
TUNING_SEED = 0  # tune the photo pipeline on this seed's sets
HELD_OUT_SEED = 2028  # report only: never tune on it
KINDS = ("digits", "numbers", "nondigits")
FONT_FOLDERS = ["/usr/share/fonts", str(Path(__file__).resolve().parents[2] / "tests" / "data" / "fonts")]
ORIENTATION = 0x0112  # the EXIF tag
STORED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}

# Inks: the colour each shows at full strength on white paper (RGB), and the pen's width as a share
# of the digit's height. How often each is drawn is INK_SHARE.
INKS: dict[str, tuple[tuple[int, int, int], tuple[float, float]]] = {
    "ballpoint blue": ((35, 50, 135), (0.035, 0.07)),
    "ballpoint black": ((45, 45, 55), (0.035, 0.07)),
    "felt black": ((20, 20, 24), (0.08, 0.14)),
    "pencil": ((85, 85, 92), (0.03, 0.06)),
    "pen red": ((185, 35, 45), (0.045, 0.08)),
    "pen green": ((35, 120, 70), (0.045, 0.08)),
}
INK_SHARE = {"ballpoint blue": 0.33, "ballpoint black": 0.1, "felt black": 0.2, "pencil": 0.22,
             "pen red": 0.075, "pen green": 0.075}
PAPERS = {"white": (247, 247, 245), "cream": (250, 242, 222), "grey recycled": (212, 209, 200)}
TABLES = ("wood", "dark", "grey")
NONDIGIT_SHARE = {"blank": 0.2, "text": 0.15, "letter": 0.25, "scribble": 0.15, "face": 0.1, "table": 0.15}
WORDS = ("the quick brown fox jumps over a lazy dog while seven friends watch from behind old garden wall "
         "please remember bring notes before class starts every morning paper pencil table window light "
         "reading writing page chapter letter simple short sentence each line ends here and there")


@dataclass
class Conditions:
    """How one photo was made (one row of labels.csv besides file, label and kind)."""

    source: str  # digits/numbers: mnist, strokes or font; non-digits: their kind
    paper: str  # white, cream, grey recycled (none: a bare table)
    ruling: str  # plain, ruled, ruled margin, squared blue, squared grey
    ink: str  # a key of INKS, or print (the paragraph), or none
    stroke: float  # the stroke's width as a share of the digit's height, after restroking
    lighting: str  # even, linear, radial, or scan (a flat-bed scanner: no shadow, glare or perspective)
    darkening: float  # how much darker the gradient's dark side is (0.3–0.6; 0 when even)
    vignette: float  # the corners' darkening
    shadow: str  # none, blob (a hand), band (a phone's edge)
    glare: float  # the glare's strength at its centre (0: none)
    edge: str  # none, side, corner: the paper's edges in the frame; table: no paper at all
    table: str  # what is behind the paper: wood, dark, grey
    rotation: float  # degrees, counter-clockwise
    perspective: float  # the frame's corners moved by up to this share of its size
    tint: str  # white balance: neutral, warm, cool
    exposure: float  # the paper's brightness scale (over 1: highlights clip)
    noise: float  # Gaussian σ in grey levels
    blur: float  # Gaussian σ in px for every 100 px of digit height
    motion: float  # motion blur's length in px (0: none)
    sharpen: float  # the unsharp mask's strength (0: none)
    jpeg: int  # quality
    exif: int  # the EXIF Orientation written (0: no EXIF)
    mode: str  # RGB, or L (a grey scan)
    width: int  # the photo's size as seen upright
    height: int
    digit_height: int  # px: the writing's height (a number's digits; the paragraph's line)


# ---- drawing the conditions --------------------------------------------------------------------

def pick(rng: np.random.Generator, shares: dict[str, float]) -> str:
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def frame_size(rng: np.random.Generator, sides: tuple[int, int], large: bool) -> tuple[int, int]:
    """(width, height): a phone's 4:3 mostly, sometimes 3:2, 16:9 or square, either way up."""
    if large:
        return (4000, 3000) if rng.random() < 0.5 else (3000, 4000)
    long = log_uniform(rng, *sides)
    ratio = float(rng.choice([4 / 3, 3 / 2, 16 / 9, 1.0], p=[0.7, 0.1, 0.15, 0.05]))
    short = round(long / ratio)
    return (round(long), short) if rng.random() < 0.5 else (short, round(long))


def draw_conditions(kind: str, rng: np.random.Generator, sides: tuple[int, int] = (600, 3000),
                    large: bool = False) -> Conditions:
    """A photo's conditions; the writing's height is 15–60 % of the short side (a number's digits
    8–30 %), within 80–600 px."""
    scan = rng.random() < 0.1
    W, H = frame_size(rng, sides, large)
    short = min(W, H)
    lo, hi = (0.08, 0.3) if kind == "numbers" else (0.15, 0.6)  # a number's digits are smaller in the frame
    digit_height = round(log_uniform(rng, max(80, lo * short), max(81, min(600, hi * short))))
    ruling = pick(rng, {"plain": 0.35, "ruled": 0.2, "ruled margin": 0.1, "squared blue": 0.25, "squared grey": 0.1})
    lighting = "scan" if scan else pick(rng, {"even": 0.2, "linear": 0.45, "radial": 0.35})
    return Conditions(
        source="", paper=pick(rng, {"white": 0.5, "cream": 0.25, "grey recycled": 0.25}), ruling=ruling,
        ink=pick(rng, INK_SHARE), stroke=0.0, lighting=lighting,
        darkening=round(rng.uniform(0.3, 0.6), 2) if lighting in ("linear", "radial") else 0.0,
        vignette=0.0 if scan else round(rng.uniform(0, 0.35), 2),
        shadow="none" if scan else pick(rng, {"none": 0.5, "blob": 0.25, "band": 0.25}),
        glare=0.0 if scan or rng.random() < 0.7 else round(rng.uniform(0.3, 0.65), 2),
        edge="none" if scan else pick(rng, {"none": 0.6, "side": 0.25, "corner": 0.15}),
        table=TABLES[int(rng.integers(3))],
        rotation=round(float(np.clip(rng.normal(0, 1.2 if scan else 3.5), -8, 8)), 1),
        perspective=0.0 if scan else round(rng.uniform(0, 0.06), 3),
        tint="neutral" if scan else pick(rng, {"neutral": 0.4, "warm": 0.4, "cool": 0.2}),
        exposure=round(rng.uniform(0.97, 1.06) if scan else rng.uniform(0.78, 1.1), 2),
        noise=round(log_uniform(rng, 1, 4) if scan else log_uniform(rng, 2, 20), 1),
        blur=round(rng.uniform(0, 0.6) if scan else rng.uniform(0, 2), 2),
        motion=0.0 if scan or rng.random() < 0.8 else round(rng.uniform(0.01, 0.04) * digit_height, 1),
        sharpen=0.0 if rng.random() < 0.5 else round(rng.uniform(0.4, 1.2), 2),
        jpeg=int(rng.integers(40, 96)),
        exif=0 if scan else int(rng.choice([0, 1, 3, 6, 8], p=[0.55, 0.1, 0.08, 0.17, 0.1])),
        mode="L" if scan and rng.random() < 0.5 else "RGB",
        width=W, height=H, digit_height=digit_height)


# ---- the writing: coverage (h, w) float32 in [0, 1], 1 = fully inked -----------------------------

def crop(cov: F32) -> F32:
    rows, cols = np.flatnonzero(cov.max(axis=1) > 0.02), np.flatnonzero(cov.max(axis=0) > 0.02)
    if not len(rows):
        return cov
    return cov[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def rescaled(cov: F32, height: float) -> F32:
    """Ink scaled to ``height`` px; enlarged, its edges are kept one pixel wide (as ``redraw`` does)."""
    cov = crop(cov)
    scale = height / cov.shape[0]
    size = (max(1, round(cov.shape[1] * scale)), max(1, round(height)))
    g = np.asarray(Image.fromarray(cov.astype(np.float32)).resize(size, Image.Resampling.BICUBIC), np.float32)
    if scale > 1:
        g = (g - 0.5) * scale + 0.5
    return np.clip(g, 0, 1).astype(np.float32)


def smoothed(stroke: NDArray[np.float64]) -> NDArray[np.float64]:
    """A stroke's path without the point-to-point jitter ``perturb`` gives it (drawn at 28×28 it does
    not show; photographed at hundreds of pixels it would look like a trembling hand): a running
    mean over every 13 of 4 times as many points (about three of the original's), the ends kept."""
    if len(stroke) < 3:
        return stroke
    dense = resample(stroke, 4 * len(stroke))
    padded = np.concatenate([np.repeat(dense[:1], 6, axis=0), dense, np.repeat(dense[-1:], 6, axis=0)])
    out = np.stack([np.convolve(padded[:, k], np.ones(13) / 13, mode="valid") for k in range(2)], axis=1)
    out[0], out[-1] = dense[0], dense[-1]
    return out


def glyph_ink(drawing: list[NDArray[np.float64]], height: float, pen: float, aspect: float) -> F32:
    """A ``model.glyphs`` drawing (unit box, y down) drawn with a round pen ``pen`` px wide, ``height``
    px tall, its x squeezed by ``aspect`` (digits 0.6–0.75, as a person writes them)."""
    drawing = [smoothed(s) for s in drawing]
    pts = np.concatenate(drawing)
    lo, span = pts.min(axis=0), np.ptp(pts, axis=0)
    s = max(height - pen, 4.0) / max(span[1], span[0] * aspect, 1e-3)
    pad = pen + 2
    strokes = [[(float((x - lo[0]) * s * aspect + pad), float((y - lo[1]) * s + pad)) for x, y in stroke]
               for stroke in drawing]
    size = (math.ceil(span[0] * s * aspect + 2 * pad), math.ceil(span[1] * s + 2 * pad))
    alpha = strokes_image(strokes, size, pen).getchannel("A")
    return crop(np.asarray(alpha, np.float32) / np.float32(255))


def stroke_width(cov: F32) -> float:
    """The mean stroke width in px: twice the ink's area over its outline's length (Σ|∇coverage|)."""
    gy, gx = np.diff(cov, axis=0), np.diff(cov, axis=1)
    outline = float(np.abs(gy).sum() + np.abs(gx).sum()) * 0.8  # |gx|+|gy| overstates |∇| by ~4/π on average
    return 2 * float(cov.sum()) / max(outline, 1e-6)


def gaussian_blur(a: F32, sigma: float) -> F32:
    """A float array in [0, 1] blurred by Pillow, through 8 bits (plenty for coverage and masks)."""
    img = Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8))
    return np.asarray(img.filter(ImageFilter.GaussianBlur(sigma)), np.float32) * np.float32(1 / 255)


def restroke(cov: F32, r: float) -> F32:
    """Dilate (r > 0) or erode (r < 0) the ink's outline by |r| px, anti-aliased: blur with σ and
    cut at the level where a straight edge's profile Φ(x/σ) stands r px outside the old edge."""
    if abs(r) < 0.3:
        return cov
    sigma = max(abs(r), 1.0)
    pad = math.ceil(abs(r) + 3 * sigma)
    g = gaussian_blur(np.pad(cov, pad), sigma)
    level = NormalDist().cdf(-r / sigma)
    slope = NormalDist().pdf(r / sigma) / sigma  # the profile's slope there, per px: a one-pixel ramp
    return crop(np.clip((g - level) / slope + 0.5, 0, 1).astype(np.float32))


def pen_width(height: float, ink: str, rng: np.random.Generator) -> float:
    """The pen's width in px for digits ``height`` px tall."""
    lo, hi = INKS[ink][1]
    return rng.uniform(lo, hi) * height


def fit_pen(cov: F32, target: float) -> F32:
    """Thin or thicken the strokes to the pen's width (``target`` px). Thinning stops short where
    it would break the strokes or wipe one out (where it takes away much more ink than the width
    it takes off, or changes the number of pieces)."""
    w = stroke_width(cov)
    r = max((target - w) / 2, -0.25 * w)
    for _ in range(4):
        out = restroke(cov, r)
        if r >= 0 or (out.sum() >= 0.8 * cov.sum() * (w + 2 * r) / w and pieces(out) == pieces(cov)):
            return out
        r /= 2
    return cov


def pieces(cov: F32) -> int:
    """How many pieces the ink is in, specks apart: a digit broken by too thin a cut is in more."""
    labels, _ = pieces_of(cov >= 0.5)
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= max(4, 0.002 * cov.size)).sum())


def unbroken(digit: F32, height: float, stroke: str, rng: np.random.Generator) -> F32:
    """``redraw`` of an MNIST digit, but cut thick where its own cut breaks it into more pieces
    (a faint stroke cut away leaves pieces no reader would join): the photos stay legible."""
    out = redraw(digit, height, stroke, rng)
    if stroke == "thick":
        return out
    thick = redraw(digit, height, "thick", rng)
    return thick if pieces(thick) < pieces(out) else out


def mnist_stroke(ink: str, rng: np.random.Generator) -> str:
    """How ``redraw`` cuts an MNIST digit's outline: normal, or sometimes thick for a felt pen. (Its
    thin cut breaks faint digits apart; ``fit_pen`` thins them without breaking them.)"""
    return "thick" if ink == "felt black" and rng.random() < 0.4 else "normal"


def mnist_ink(X: F32, y: NDArray[np.uint8], height: float, ink: str, rng: np.random.Generator) -> tuple[F32, str]:
    i = int(rng.integers(len(y)))
    return unbroken(X[i].reshape(28, 28), height, mnist_stroke(ink, rng), rng), str(int(y[i]))


def stroke_digit_ink(height: float, ink: str, rng: np.random.Generator) -> tuple[F32, str]:
    names = list(DIGITS)
    name = names[int(rng.integers(len(names)))]
    pen = rng.uniform(*INKS[ink][1]) * height
    return glyph_ink(perturb(DIGITS[name][1], rng), height, pen, rng.uniform(0.6, 0.75)), str(DIGITS[name][0])


def typed_ink(text: str, fonts: list[str], height: float, rng: np.random.Generator) -> F32:
    font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], 120)
    return rescaled(np.asarray(typed(font, text), np.float32) / np.float32(255), height)


def digit_ink(cond: Conditions, X: F32, y: NDArray[np.uint8], fonts: list[str],
              rng: np.random.Generator) -> tuple[F32, str]:
    """One digit: an MNIST test digit (60 %), pen strokes (30 %) or typed (10 %)."""
    h = cond.digit_height
    cond.source = pick(rng, {"mnist": 0.6, "strokes": 0.3, "font": 0.1})
    if cond.source == "mnist":
        return mnist_ink(X, y, h, cond.ink, rng)
    if cond.source == "strokes":
        return stroke_digit_ink(h, cond.ink, rng)
    label = str(int(rng.integers(10)))
    return typed_ink(label, fonts, h, rng), label


def mnist_number_ink(X: F32, y: NDArray[np.uint8], height: float, ink: str, pen: float | None,
                     rng: np.random.Generator) -> tuple[F32, str]:
    """2–6 MNIST test digits as ``make_drawn_numbers`` composes them; a third with one touching pair.
    Each digit is fitted to the ``pen`` on its own: thinning the whole number to its mean width
    would wipe out a digit thinner than the rest (a 1)."""
    k = int(rng.integers(2, 7))
    picks = rng.integers(0, len(y), k)
    stroke = mnist_stroke(ink, rng)
    parts = [unbroken(X[i].reshape(28, 28), height * rng.uniform(0.88, 1.12), stroke, rng) for i in picks]
    if pen is not None:
        parts = [fit_pen(part, pen) for part in parts]
    gaps = [int(height * rng.uniform(0.08, 0.45)) for _ in range(k)]
    lifts = [int(rng.uniform(0, 0.1) * height) for _ in range(k)]
    if rng.random() < 1 / 3:
        j = int(rng.integers(0, k - 1))
        gaps[j] = touching_gap(parts[j], parts[j + 1], lifts[j], lifts[j + 1])
    return compose(parts, gaps, lifts), "".join(str(int(y[i])) for i in picks)


def number_ink(cond: Conditions, X: F32, y: NDArray[np.uint8], fonts: list[str], pen: float | None,
               rng: np.random.Generator) -> tuple[F32, str]:
    """A number: MNIST test digits (60 %, each fitted to the ``pen``), pen strokes spaced as a
    person spaces them (30 %), typed (10 %)."""
    h = cond.digit_height
    cond.source = pick(rng, {"mnist": 0.6, "strokes": 0.3, "font": 0.1})
    if cond.source == "mnist":
        return mnist_number_ink(X, y, h, cond.ink, pen, rng)
    if cond.source == "strokes":
        img, text, _ = pen_number(rng, (0.02, 0.03))
        return rescaled(np.asarray(img.getchannel("A"), np.float32) / np.float32(255), h * 1.1), text
    img, text, _ = font_number(rng, fonts)
    return rescaled(np.asarray(img, np.float32) / np.float32(255), h), text


def paragraph_ink(size: int, width: int, fonts: list[str], rng: np.random.Generator) -> F32:
    """A printed paragraph: lines of words (no digits) in one font, ``size`` px, wrapped at ``width``."""
    font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], size)
    words, lines, line = WORDS.split(), [], ""
    for _ in range(int(rng.integers(4, 9))):
        while font.getlength(line) < width:
            line += words[int(rng.integers(len(words)))] + " "
        lines.append(line.strip())
        line = ""
    lines[-1] = lines[-1][:max(3, len(lines[-1]) // 2)] + "."
    img = Image.new("L", (width + size * 4, round(len(lines) * size * 1.5 + size)), 0)
    d = ImageDraw.Draw(img)
    for k, text in enumerate(lines):
        d.text((size, size // 2 + k * size * 1.5), text, 255, font)
    return crop(np.asarray(img, np.float32) / np.float32(255))


def face_drawing() -> list[NDArray[np.float64]]:
    """A round face: the outline, two eyes, a nose, a smile."""
    smiley = SIGNS["smiley"]
    return [*smiley, np.array([[0.5, 0.45], [0.47, 0.58], [0.53, 0.58]])]


def nondigit_ink(cond: Conditions, fonts: list[str], rng: np.random.Generator) -> tuple[F32 | None, str]:
    """Something that is not a digit (None: nothing written), and its label."""
    kind = cond.source = pick(rng, NONDIGIT_SHARE)
    h = cond.digit_height
    pen = rng.uniform(*INKS[cond.ink][1]) * h
    if kind in ("blank", "table"):  # the printed lines at a writing's scale: a 20th to an 8th of the frame
        cond.digit_height = round(min(cond.width, cond.height) * rng.uniform(0.05, 0.12))
        return None, kind
    if kind == "text":
        cond.ink, size = "print", max(14, round(min(cond.width, cond.height) * rng.uniform(0.025, 0.05)))
        cond.digit_height = size
        return paragraph_ink(size, round(cond.width * rng.uniform(0.45, 0.75)), fonts, rng), kind
    if kind == "letter":
        if rng.random() < 1 / 3:
            char = "ABEHKMNRWXaehkmnrwx"[int(rng.integers(19))]
            return typed_ink(char, fonts, h, rng), f"letter {char}"
        char = list(LETTERS)[int(rng.integers(len(LETTERS)))]
        return glyph_ink(perturb(LETTERS[char], rng), h, pen, rng.uniform(0.7, 0.9)), f"letter {char}"
    drawing = scribble(rng) + scribble(rng) if kind == "scribble" else face_drawing()  # two walks: a knot
    return glyph_ink(perturb(drawing, rng, 1.2), h * rng.uniform(1, 1.5), pen, 1.0), kind


# ---- the ink on the paper ----------------------------------------------------------------------

def smooth_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> F32:
    """Noise with features about ``scale`` px across, zero mean, unit-ish spread, (h, w) float32."""
    h, w = shape
    small = rng.standard_normal((max(2, math.ceil(h / scale) + 1), max(2, math.ceil(w / scale) + 1)))
    big = Image.fromarray(small.astype(np.float32)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(big, np.float32)


def ink_alpha(cov: F32, ink: str, rng: np.random.Generator) -> F32:
    """How strongly the ink covers each pixel: a ballpoint's uneven darkness, a felt pen's solid soft
    edge, a pencil's graphite caught on the paper's tooth (grainy, lighter)."""
    w = max(stroke_width(cov), 1.0)
    if ink.startswith("ballpoint"):
        return cov * np.clip(0.82 + 0.14 * smooth_noise(cov.shape, 3 * w, rng), 0.55, 1.0)
    if ink == "felt black":
        return gaussian_blur(cov, 0.6) * np.float32(0.97)
    if ink == "pencil":
        tooth = smooth_noise(cov.shape, 1.5, rng) + 0.5 * smooth_noise(cov.shape, 4, rng)
        grain = np.clip(0.85 + 0.25 * tooth, 0.3, 1.0).astype(np.float32)
        return cov * grain * np.float32(rng.uniform(0.6, 0.9))
    if ink == "print":
        return cov
    return cov * np.clip(0.9 + 0.08 * smooth_noise(cov.shape, 4 * w, rng), 0.7, 1.0)


def paper_texture(shape: tuple[int, int], paper: str, rng: np.random.Generator) -> F32:
    """Paper (h, w, 3) float32 in 0…255: its colour, a slow mottling, a fine grain; recycled paper's
    fibres."""
    base = np.array(PAPERS[paper], np.float32) + rng.normal(0, 2.5, 3).astype(np.float32)
    amount, scale = (3.0, 12) if paper == "grey recycled" else (1.2, 30)
    shade = amount * smooth_noise(shape, scale, rng) + 1.5 * rng.standard_normal(shape, dtype=np.float32)
    sheet = base + shade[..., None]
    if paper == "grey recycled":
        sheet += fibres(shape, rng)[..., None]
    return sheet


def fibres(shape: tuple[int, int], rng: np.random.Generator) -> F32:
    """Short dark and light curls, one per 600 px² or so: recycled paper's fibres."""
    h, w = shape
    dark, light = Image.new("L", (w, h), 0), Image.new("L", (w, h), 0)
    n = h * w // 600
    turns = rng.normal(0, 0.6, (n, 4)).cumsum(axis=1) + rng.uniform(0, 2 * np.pi, (n, 1))
    steps = np.stack([np.cos(turns), np.sin(turns)], axis=2) * rng.uniform(2, 6, (n, 1, 1))
    curls = np.cumsum(steps, axis=1) + (rng.random((n, 1, 2)) * (w, h))  # (n, 4 points, xy)
    draw = {False: ImageDraw.Draw(dark), True: ImageDraw.Draw(light)}
    for pts, k in zip(curls.tolist(), rng.random(n).tolist(), strict=True):
        draw[k >= 0.6].line([tuple(p) for p in pts], fill=int(10 + 25 * k), width=1)
    return (np.asarray(light, np.float32) * np.float32(0.35) - np.asarray(dark, np.float32) * np.float32(0.6))


def line_profile(n: int, spacing: float, offset: float, width: float) -> F32:
    """Coverage along one axis of lines every ``spacing`` px from ``offset``, each ``width`` px wide."""
    d = np.abs((np.arange(n) + 0.5 - offset + spacing / 2) % spacing - spacing / 2)
    return np.clip(width / 2 + 0.5 - d, 0, 1).astype(np.float32)


def ruling_layer(cond: Conditions, shape: tuple[int, int], ink_box: tuple[float, float, float, float],
                 rng: np.random.Generator) -> tuple[F32, F32]:
    """The printed lines: (coverage (h, w), colour of each pixel's lines (h, w, 3)). Ruled paper's
    lines are spaced so the writing spans 0.6–1.6 of them, one of them (most often) under its foot;
    squared paper's squares are a 1.5th to a 4th of the writing's height."""
    h, w = shape
    left, _, _, bottom = ink_box
    colour = np.zeros((h, w, 3), np.float32)
    if cond.ruling.startswith("squared"):
        spacing = cond.digit_height / rng.uniform(1.5, 4)
        lw = max(0.8, spacing * rng.uniform(0.02, 0.045))
        rows = line_profile(h, spacing, rng.uniform(0, spacing), lw)
        cols = line_profile(w, spacing, rng.uniform(0, spacing), lw)
        cover = np.maximum(rows[:, None], cols[None, :])
        colour[:] = (150, 185, 225) if cond.ruling == "squared blue" else (165, 165, 165)
        return cover * np.float32(rng.uniform(0.55, 0.9)), colour
    if cond.ruling.startswith("ruled"):
        spacing = cond.digit_height / rng.uniform(0.6, 1.6)
        foot = bottom + cond.digit_height * (rng.uniform(-0.12, 0.06) if rng.random() < 0.7 else rng.uniform(-1, 0))
        lw = max(0.8, spacing * rng.uniform(0.01, 0.025))
        cover = np.broadcast_to(line_profile(h, spacing, foot % spacing, lw)[:, None], shape).copy()
        colour[:] = (140, 175, 220)
        cover *= np.float32(rng.uniform(0.6, 0.95))
        if cond.ruling == "ruled margin":
            x = left - cond.digit_height * rng.uniform(0.3, 2.0)
            margin = line_profile(w, 1e9, x, lw * 1.5)[None, :] * np.float32(0.9)
            colour[:, margin[0] > 0] = (225, 110, 120)
            cover = np.maximum(cover, np.broadcast_to(margin, shape))
        return cover, colour
    return np.zeros(shape, np.float32), colour


def paper_sheet(cond: Conditions, shape: tuple[int, int], ink: F32 | None, at: tuple[int, int],
                rng: np.random.Generator) -> Image.Image:
    """The sheet as written on, flat: paper, its printed lines, and the ink with its top-left at ``at``."""
    sheet = paper_texture(shape, cond.paper, rng)
    y0, x0 = at
    ih, iw = ink.shape if ink is not None else (cond.digit_height, cond.digit_height)
    cover, colour = ruling_layer(cond, shape, (x0, y0, x0 + iw, y0 + ih), rng)
    sheet *= 1 - cover[..., None] * (1 - colour / 255)
    if ink is not None:
        alpha = ink_alpha(ink, cond.ink, rng)
        rgb = np.array(INKS[cond.ink][0] if cond.ink in INKS else (25, 25, 28), np.float32)
        rgb = rgb + rng.normal(0, 6, 3).astype(np.float32)
        region = sheet[y0:y0 + ih, x0:x0 + iw]
        region *= 1 - alpha[..., None] * (1 - np.clip(rgb, 0, 255) / 255)
    return Image.fromarray(np.clip(np.round(sheet), 0, 255).astype(np.uint8))


# ---- the table and the framing -----------------------------------------------------------------

def table_texture(shape: tuple[int, int], table: str, rng: np.random.Generator) -> F32:
    """What the paper lies on (h, w, 3) float32: wood (grain and rings along one direction), a dark
    desk, or a grey one."""
    h, w = shape
    if table == "wood":
        base = np.array([150, 105, 70], np.float32) * np.float32(rng.uniform(0.6, 1.15))
        base *= rng.uniform(0.95, 1.05, 3).astype(np.float32)
        along_x = rng.random() < 0.5
        n, m = (h, w) if along_x else (w, h)
        grain = np.asarray(Image.fromarray(rng.standard_normal((max(2, n // 4), max(2, m // 60))).astype(np.float32))
                           .resize((m, n), Image.Resampling.BICUBIC), np.float32)
        bands = np.asarray(Image.fromarray(rng.standard_normal((max(2, n // 40), 4)).astype(np.float32))
                           .resize((m, n), Image.Resampling.BICUBIC), np.float32)
        rings = np.sin(np.arange(n, dtype=np.float32)[:, None] / rng.uniform(10, 30) + 2.5 * bands)
        pattern = 0.04 * grain + 0.06 * bands + 0.05 * rings
        pattern = (pattern if along_x else pattern.T).astype(np.float32)
        return (base * (1 + pattern[..., None]) + 2 * rng.standard_normal((h, w, 1))).astype(np.float32)
    level = rng.uniform(25, 60) if table == "dark" else rng.uniform(100, 150)
    base = level * np.array([1.0, rng.uniform(0.97, 1.03), rng.uniform(0.95, 1.08)], np.float32)
    shade = 0.03 * level * smooth_noise(shape, 80, rng) + 2 * rng.standard_normal(shape, dtype=np.float32)
    return base + shade[..., None]


def homography(src: NDArray[np.float64], dst: NDArray[np.float64]) -> list[float]:
    """Pillow's PERSPECTIVE coefficients taking each point of ``src`` (4, 2) to ``dst`` (4, 2)."""
    A, b = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        A += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        b += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(A), np.array(b))]


def framing(cond: Conditions, ink_size: tuple[int, int], rng: np.random.Generator
            ) -> tuple[tuple[int, int], tuple[int, int], list[float]]:
    """Where the camera looks: the sheet's size, the ink's top-left on it, and the coefficients
    taking each photo pixel to its point on the sheet (rotation, perspective and placement).

    The ink lands near the photo's middle; the frame's corners are moved by up to
    ``perspective`` of its size (a tilted phone) and turned by ``rotation``. The sheet covers
    the whole frame, or (edge: side, corner) stops short of it on one or two sides, between
    the ink and the frame's border, leaving the table in view."""
    W, H = cond.width, cond.height
    ih, iw = ink_size
    slack = np.array([max(0.0, W - iw * 1.25), max(0.0, H - ih * 1.25)]) / 2
    centre = np.array([W / 2, H / 2]) + rng.uniform(-0.6, 0.6, 2) * slack
    corners = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float64)
    moved = corners + rng.uniform(-1, 1, (4, 2)) * cond.perspective * np.array([W, H])
    a = np.radians(cond.rotation)
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # frame → sheet: the sheet turned by +a
    on_sheet = (moved - centre) @ turn.T  # the frame's corners on the sheet, the ink's centre at (0, 0)
    lo, hi = on_sheet.min(axis=0) - 4, on_sheet.max(axis=0) + 4
    ink_lo, ink_hi = np.array([-iw / 2, -ih / 2]), np.array([iw / 2, ih / 2])
    lo, hi = np.minimum(lo, ink_lo - 4), np.maximum(hi, ink_hi + 4)  # a strong tilt may push the ink out
    k = int(rng.integers(4))
    sides = {"side": [k], "corner": [k, (k + 1) % 4]}.get(cond.edge, [])
    for side in sides:  # 0 left, 1 top, 2 right, 3 bottom
        axis, low = side % 2, side < 2
        f = rng.uniform(0.25, 0.8)
        if low:
            lo[axis] = ink_lo[axis] - 0.15 * ih - f * (ink_lo[axis] - 0.15 * ih - lo[axis])
        else:
            hi[axis] = ink_hi[axis] + 0.15 * ih + f * (hi[axis] - ink_hi[axis] - 0.15 * ih)
    size = (math.ceil(hi[0] - lo[0]), math.ceil(hi[1] - lo[1]))
    at = (round(-ih / 2 - lo[1]), round(-iw / 2 - lo[0]))
    return size, at, homography(corners, on_sheet - lo)


def photographed(cond: Conditions, sheet: Image.Image | None, coeffs: list[float],
                 rng: np.random.Generator) -> F32:
    """The scene in the camera's frame (H, W, 3) float32: the sheet warped onto the table, which
    shows (with the paper's soft shadow on it) wherever the sheet does not reach."""
    W, H = cond.width, cond.height
    if sheet is None:
        return table_texture((H, W), cond.table, rng)
    edge_colour = (*(int(v) for v in np.asarray(sheet)[::64, ::64].reshape(-1, 3).mean(axis=0)), 0)
    warped = sheet.convert("RGBA").transform((W, H), Image.Transform.PERSPECTIVE, coeffs,
                                             Image.Resampling.BILINEAR, fillcolor=edge_colour)
    scene = np.asarray(warped, np.float32)
    paper, mask = scene[..., :3], scene[..., 3] * np.float32(1 / 255)
    if mask.min() > 0.99:
        cond.edge = "none"  # the sheet's edges fell outside the frame after all
        return paper
    table = table_texture((H, W), cond.table, rng)
    reach = max(2.0, 0.006 * max(W, H))
    dx, dy = (int(v) for v in rng.integers(-round(reach), round(reach) + 1, 2))
    shifted = np.pad(mask, ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))), mode="edge")
    cast = gaussian_blur(shifted[max(-dy, 0):max(-dy, 0) + H, max(-dx, 0):max(-dx, 0) + W], reach)
    table *= 1 - 0.45 * cast[..., None]
    return paper * mask[..., None] + table * (1 - mask[..., None])


# ---- the light ----------------------------------------------------------------------------------

def grid(shape: tuple[int, int], step: int = 8) -> tuple[F32, F32, float, float]:
    """Coordinates of a coarse grid over the frame (every ``step`` px): xs, ys, and the frame's size."""
    H, W = shape
    ys, xs = np.mgrid[0:math.ceil(H / step) + 1, 0:math.ceil(W / step) + 1].astype(np.float32) * step
    return xs, ys, float(W), float(H)


def upsampled(field: F32, shape: tuple[int, int], step: int = 8) -> F32:
    """A field computed on ``grid`` brought to the frame's pixels."""
    H, W = shape
    img = Image.fromarray(field.astype(np.float32))
    big = img.resize((img.width * step, img.height * step), Image.Resampling.BILINEAR)
    return np.asarray(big, np.float32)[:H, :W]


def gradient(shape: tuple[int, int], cond: Conditions, rng: np.random.Generator) -> F32:
    """Light falling off across the frame: one side (linear) or away from a spot (radial) up to
    ``darkening`` darker."""
    xs, ys, W, H = grid(shape)
    if cond.lighting == "linear":
        a = rng.uniform(0, 2 * np.pi)
        t = xs * np.cos(a) + ys * np.sin(a)
        t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    elif cond.lighting == "radial":
        cx, cy = rng.uniform(-0.2, 1.2) * W, rng.uniform(-0.2, 1.2) * H
        r = np.hypot(xs - cx, ys - cy)
        t = r / max(float(r.max()), 1.0)
    else:
        return np.ones_like(xs)
    return 1 - cond.darkening * t ** rng.uniform(0.7, 1.5)


def vignette(shape: tuple[int, int], amount: float) -> F32:
    xs, ys, W, H = grid(shape)
    r = np.hypot((xs - W / 2) / (W / 2), (ys - H / 2) / (H / 2)) / np.sqrt(2)
    return 1 - amount * r ** 2.5


def soft_shape(shape: tuple[int, int], cond: Conditions, rng: np.random.Generator) -> F32:
    """Where a hand's or a phone's shadow falls, 0…1 with a soft, ragged edge: a blob (an irregular
    ellipse) or a band (everything beyond a line)."""
    xs, ys, W, H = grid(shape)
    short = min(W, H)
    soft = rng.uniform(0.05, 0.2) * short
    ragged = smooth_noise(xs.shape, 24, rng) * 0.015 * short
    if cond.shadow == "blob":
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        rx, ry = rng.uniform(0.2, 0.5, 2) * short
        a = rng.uniform(0, np.pi)
        u = (xs - cx) * np.cos(a) + (ys - cy) * np.sin(a)
        v = -(xs - cx) * np.sin(a) + (ys - cy) * np.cos(a)
        d = (np.sqrt((u / rx) ** 2 + (v / ry) ** 2) - 1) * min(rx, ry)  # px outside the ellipse
    else:
        a = rng.uniform(0, 2 * np.pi)
        n = np.array([np.cos(a), np.sin(a)])
        t = (xs - W / 2) * n[0] + (ys - H / 2) * n[1]
        d = rng.uniform(0.15, 0.45) * float(np.abs(t).max()) - t  # the band covers t beyond a line
    return (1 / (1 + np.exp(np.clip((d + ragged) / soft, -30, 30)))).astype(np.float32)


def glare_map(shape: tuple[int, int], strength: float, rng: np.random.Generator) -> F32:
    """A bright soft ellipse (a lamp's reflection), 0…strength, often near the frame's middle."""
    xs, ys, W, H = grid(shape)
    short = min(W, H)
    cx, cy = rng.normal(0.5, 0.2) * W, rng.normal(0.5, 0.2) * H
    rx, ry = rng.uniform(0.08, 0.3, 2) * short
    a = rng.uniform(0, np.pi)
    u = (xs - cx) * np.cos(a) + (ys - cy) * np.sin(a)
    v = -(xs - cx) * np.sin(a) + (ys - cy) * np.cos(a)
    return (strength * np.exp(-((u / rx) ** 2 + (v / ry) ** 2) ** 0.8)).astype(np.float32)


TINTS = {"neutral": (1.0, 1.0, 1.0), "warm": (1.0, 0.93, 0.8), "cool": (0.9, 0.96, 1.0)}


def light(scene: F32, cond: Conditions, rng: np.random.Generator) -> F32:
    """The scene lit: gradient × vignette × white balance × exposure, the shadow (bluish, lit by
    the sky), then glare pulling everything towards white."""
    shape = scene.shape[:2]
    field = gradient(shape, cond, rng) * vignette(shape, cond.vignette)
    tint = np.array(TINTS[cond.tint], np.float32) * rng.uniform(0.97, 1.03, 3).astype(np.float32)
    scene = scene * upsampled(field, shape)[..., None] * (tint * np.float32(cond.exposure))
    if cond.shadow != "none":
        s = upsampled(soft_shape(shape, cond, rng), shape)[..., None] * np.float32(rng.uniform(0.25, 0.55))
        scene *= 1 - s * np.array([1.1, 1.0, 0.85], np.float32)
    if cond.glare > 0:
        g = upsampled(glare_map(shape, cond.glare, rng), shape)[..., None]
        scene += (262 - scene) * g
    return scene


# ---- the camera ---------------------------------------------------------------------------------

def camera(scene: F32, cond: Conditions, rng: np.random.Generator) -> Image.Image:
    """What the phone writes: the lens's blur, a shaken hand's motion blur, sensor noise (mostly
    shared by the channels), the phone's sharpening."""
    img = Image.fromarray(np.clip(np.round(scene), 0, 255).astype(np.uint8))
    sigma = cond.blur * cond.digit_height / 100
    if sigma > 0.2:
        img = img.filter(ImageFilter.GaussianBlur(sigma))
    a = np.asarray(img, np.float32)
    if cond.motion >= 1:
        a = motion_blur(a, cond.motion, rng.uniform(0, np.pi))
    H, W = a.shape[:2]
    grain = rng.standard_normal((H, W, 1), dtype=np.float32) * 0.85
    grain = grain + rng.standard_normal((H, W, 3), dtype=np.float32) * 0.5
    a = a + grain * np.float32(cond.noise)
    img = Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8))
    if cond.sharpen > 0:
        img = img.filter(ImageFilter.UnsharpMask(radius=1.5, percent=round(100 * cond.sharpen), threshold=2))
    return img.convert("L") if cond.mode == "L" else img


def motion_blur(a: F32, length: float, angle: float) -> F32:
    """The mean of the image shifted along a line ``length`` px long at ``angle``."""
    n = max(2, round(length))
    out = np.zeros_like(a)
    for t in np.linspace(-length / 2, length / 2, n):
        out += np.roll(a, (round(t * np.sin(angle)), round(t * np.cos(angle))), axis=(0, 1))
    return out * np.float32(1 / n)


def save_photo(img: Image.Image, path: Path, quality: int, orientation: int) -> None:
    """Write a JPEG; with an EXIF Orientation of 3, 6 or 8 the pixels are stored turned the other
    way, so a viewer that honours the tag shows ``img`` upright (and one that ignores it does not)."""
    extra = {}
    if orientation:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        extra["exif"] = exif.tobytes()
        if orientation in STORED:
            img = img.transpose(STORED[orientation])
    img.save(path, "JPEG", quality=quality, **extra)


# ---- one photo, a set --------------------------------------------------------------------------

def fit_in_frame(cond: Conditions, ink: F32, most: int, rng: np.random.Generator) -> F32:
    """A number wider than 80 % of the frame: the frame turned or widened (its long side up to
    ``most`` px), else the ink shrunk."""
    W, H = cond.width, cond.height
    need = ink.shape[1] / 0.8
    if need > W and H > W and need <= H:  # a portrait photo of a long number: turn the phone
        cond.width, cond.height = H, W
    elif need > W:
        cond.width = max(W, min(round(need), most))
        cond.height = round(cond.width * rng.uniform(0.56, 0.75))
    if ink.shape[1] > 0.8 * cond.width:
        ink = rescaled(ink, ink.shape[0] * 0.8 * cond.width / ink.shape[1])
    if ink.shape[0] > 0.8 * cond.height:
        ink = rescaled(ink, 0.8 * cond.height)
    return ink


def make_photo(kind: str, cond: Conditions, X: F32, y: NDArray[np.uint8], fonts: list[str],
               rng: np.random.Generator, most: int = 3000) -> tuple[Image.Image, str]:
    """One photo (upright, before EXIF) and its label; fills in cond's source, stroke and sizes
    (the long side at most ``most`` px)."""
    img, label, _ = placed_photo(kind, cond, X, y, fonts, rng, most)
    return img, label


@dataclass
class Placed:
    """Where the writing went: its clean coverage (h, w) (None: nothing written), its top-left
    ``at`` (row, column) on a sheet of ``size`` (width, height) px, and ``coeffs``, Pillow's
    PERSPECTIVE coefficients taking each photo pixel to its point on the sheet (``framing``)."""

    ink: F32 | None
    at: tuple[int, int]
    size: tuple[int, int]
    coeffs: list[float]
    sheet: bool  # False: a bare table, no paper in the frame


def placed_photo(kind: str, cond: Conditions, X: F32, y: NDArray[np.uint8], fonts: list[str],
                 rng: np.random.Generator, most: int = 3000) -> tuple[Image.Image, str, Placed]:
    """``make_photo``'s photo and label, and where its writing went (for ``truth``)."""
    ink: F32 | None
    pen = pen_width(cond.digit_height, cond.ink, rng) if cond.ink in INKS else None
    if kind == "digits":
        ink, label = digit_ink(cond, X, y, fonts, rng)
    elif kind == "numbers":
        ink, label = number_ink(cond, X, y, fonts, pen, rng)
    else:
        ink, label = nondigit_ink(cond, fonts, rng)
    if ink is not None and pen is not None and not (kind == "numbers" and cond.source == "mnist"):
        ink = fit_pen(ink, pen)
    if ink is not None:
        ink = fit_in_frame(cond, ink, max(most, cond.width, cond.height), rng)
        cond.stroke = round(stroke_width(ink) / max(cond.digit_height, 1), 3)
        if kind != "nondigits" or cond.source != "text":
            cond.digit_height = int(ink.shape[0])
    if label in ("blank", "table"):
        cond.ink = "none"
    if label == "table":
        cond.paper, cond.ruling, cond.edge = "none", "none", "table"
    shape = ink.shape if ink is not None else (cond.digit_height, cond.digit_height)
    size, at, coeffs = framing(cond, (int(shape[0]), int(shape[1])), rng)
    sheet = None if label == "table" else paper_sheet(cond, (size[1], size[0]), ink, at, rng)
    scene = photographed(cond, sheet, coeffs, rng)
    return camera(light(scene, cond, rng), cond, rng), label, Placed(ink, at, size, coeffs, sheet is not None)


# ---- what a photo holds, and photos of a given size (for benchmarks) ---------------------------

def truth(cond: Conditions, placed: Placed) -> tuple[F32, F32]:
    """What the photo (upright, as ``placed_photo`` made it) shows, before ink texture, light and
    camera: the writing's clean coverage and the sheet's, each (H, W) float32 in [0, 1], warped
    into the frame as the sheet was. An ink-mask's ground truth: coverage over 0.5."""
    W, H = cond.width, cond.height
    sheet_ink = np.zeros((placed.size[1], placed.size[0]), np.float32)
    if placed.ink is not None:
        (y0, x0), (ih, iw) = placed.at, placed.ink.shape
        sheet_ink[y0:y0 + ih, x0:x0 + iw] = placed.ink
    layers = [sheet_ink, np.ones_like(sheet_ink) if placed.sheet else np.zeros_like(sheet_ink)]
    warped = [Image.fromarray(a, "F").transform((W, H), Image.Transform.PERSPECTIVE, placed.coeffs,
                                                 Image.Resampling.BILINEAR, fillcolor=0.0) for a in layers]
    ink, paper = (np.clip(np.asarray(w, np.float32), 0, 1).astype(np.float32) for w in warped)
    return ink, paper


def conditions_at(kind: str, size: tuple[int, int], rng: np.random.Generator) -> Conditions:
    """A photo's conditions as ``draw_conditions`` draws them, in a frame of exactly ``size``
    (width, height, upright): the writing's height scaled with the frame's short side."""
    cond = draw_conditions(kind, rng, (max(size), max(size)))
    scale = min(size) / min(cond.width, cond.height)
    cond.width, cond.height = size
    cond.digit_height = int(np.clip(round(cond.digit_height * scale), 80, 600))
    return cond


def photo_at(kind: str, size: tuple[int, int], seed: int, n: int, X: F32, y: NDArray[np.uint8],
             fonts: list[str]) -> tuple[Image.Image, str, Conditions, Placed]:
    """Photo ``n`` of ``kind`` (upright, before EXIF), exactly ``size`` (width, height) px, with its
    label, conditions and placement; one stream per (seed, kind, n, size). A number too long for
    the frame makes ``make_photo`` widen or turn it: that draw is skipped for the next."""
    for attempt in range(20):
        rng = np.random.default_rng([seed, KINDS.index(kind), n, *size, attempt])
        cond = conditions_at(kind, size, rng)
        img, label, placed = placed_photo(kind, cond, X, y, fonts, rng, max(size))
        if (cond.width, cond.height) == size:
            return img, label, cond, placed
    raise ValueError(f"no {kind} photo fits {size[0]}×{size[1]} px")


def font_files(folders: list[str]) -> list[str]:
    """The fonts under ``folders``, folder by folder in the order given, each folder's sorted by
    their paths within it: the same list wherever the repository is checked out (sorting the
    full paths put the repository's fonts before or after the system's by the checkout's path,
    and a seed then drew other fonts)."""
    return [f for d in folders for f in sorted(glob.glob(f"{d}/**/*", recursive=True))
            if f.endswith((".ttf", ".otf", ".woff")) and "Math" not in f]


def make_set(kind: str, count: int, seed: int, out: Path, X: F32, y: NDArray[np.uint8],
             sides: tuple[int, int] = (600, 3000), large: bool = False) -> list[dict[str, str]]:
    """Write ``count`` photos of ``kind`` and their labels.csv into ``out``; the rows of labels.csv."""
    fonts = font_files(FONT_FOLDERS)
    if not fonts:
        raise SystemExit("no fonts found under /usr/share/fonts (apt-get install fonts-dejavu-core)")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(count):
        rng = np.random.default_rng([seed, KINDS.index(kind), n])
        cond = draw_conditions(kind, rng, sides, large and n % 8 == 7)
        img, label = make_photo(kind, cond, X, y, fonts, rng, sides[1])
        name = f"{n:05d}_{label.replace(' ', '-')}.jpg"
        save_photo(img, out / name, cond.jpeg, cond.exif)
        rows.append({"file": name, "label": label, "kind": kind,
                     **{k: str(v) for k, v in dataclasses.asdict(cond).items()},
                     "bytes": str((out / name).stat().st_size)})
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["file", "label", "kind"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def contact_sheet(out: Path, rows: list[dict[str, str]], path: Path, side: int = 400) -> None:
    """A PNG of the photos in ``rows`` (four a row, as a viewer that honours EXIF shows them), each
    captioned with its label and conditions: for a person to judge whether they look real."""
    keys = [("label", "source", "ink", "stroke"), ("paper", "ruling", "edge", "table"),
            ("lighting", "darkening", "shadow", "glare", "tint"),
            ("rotation", "perspective", "noise", "blur", "motion"), ("jpeg", "exif", "width", "height", "digit_height")]
    cell = (side, side + 14 * len(keys) + 8)
    sheet = Image.new("RGB", (4 * cell[0], math.ceil(len(rows) / 4) * cell[1]), "white")
    draw = ImageDraw.Draw(sheet)
    for k, row in enumerate(rows):
        x, y = k % 4 * cell[0], k // 4 * cell[1]
        with Image.open(out / row["file"]) as img:
            thumb = ImageOps.exif_transpose(img).convert("RGB")
        thumb.thumbnail((side - 8, side - 8))
        sheet.paste(thumb, (x + 4, y + 4))
        caption = "\n".join(" ".join(f"{key} {row[key]}" for key in line) for line in keys)
        draw.multiline_text((x + 4, y + side + 2), caption, fill="black", spacing=2)
    sheet.save(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=KINDS, required=True, help="what is written")
    p.add_argument("--count", type=int, default=200, help="photos (default: %(default)s)")
    p.add_argument("--seed", type=int, default=TUNING_SEED,
                   help=f"random seed (default: %(default)s; {HELD_OUT_SEED} is held out: never tune on it)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--mnist", type=Path, default=Path("data/mnist"), help="MNIST folder (default: %(default)s)")
    p.add_argument("--sides", type=int, nargs=2, default=[600, 3000], metavar=("LEAST", "MOST"),
                   help="the photo's long side in px, drawn log-uniformly (default: 600 3000)")
    p.add_argument("--large", action="store_true", help="every eighth photo 12 megapixels (4000×3000)")
    p.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet of the first 12 (a PNG)")
    args = p.parse_args()
    X, y = (load_split(args.mnist, "t10k")[:2] if args.kind != "nondigits"
            else (np.zeros((1, 784), np.float32), np.zeros(1, np.uint8)))
    rows = make_set(args.kind, args.count, args.seed, args.out, X, y, tuple(args.sides), args.large)
    big = sum(int(r["bytes"]) > 1 << 20 for r in rows)
    print(f"wrote {len(rows)} photos ({args.kind}, seed {args.seed}; {big} over 1 MiB) and labels.csv to {args.out}")
    if args.sheet:
        contact_sheet(args.out, rows[:12], args.sheet)
        print(f"wrote a contact sheet of the first {min(12, len(rows))} to {args.sheet}")


if __name__ == "__main__":
    main()
