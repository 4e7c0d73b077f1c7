"""Make the font glyphs the handwriting model trains on: digits and letters typed in 144 handwriting fonts.

    python -m scripts.datasets.make_font_glyphs          # fetch the fonts from npm, → data/font_glyphs.npz
    python -m scripts.datasets.make_font_glyphs --fonts /usr/share/fonts/truetype/dejavu --out /tmp/g.npz

MNIST holds the digits of 500 writers, all in one American school hand: a Parisienne 9 with a
small loop and a long hairline tail, an Amatic 6 three times taller than wide, or a Kristi 4 with
a closed top is nothing like any of them, and the ``honest`` network reads such digits wrong. So
the ``handwriting`` preset also trains on digits typed in handwriting fonts (and, so that typed
strokes are no sign of a digit, on the letters ``model.glyphs`` draws as non-digits, labelled 10).

The fonts are 144 handwriting fonts from Google Fonts (OFL or Apache licensed), pinned in
``scripts/datasets/fonts/package.json`` and installed from npm (@fontsource) into ``build/fonts-train``.
None of them is in any test set: the handwriting test sets (docs/model-card.md) use other fonts. Each glyph
is typed large, in seven variants (as typed; at a small size, so its anti-aliasing is coarse; its
strokes thickened a little and a lot; thinned; squeezed to 60 % of its width; widened by half)
and fitted into 28×28 exactly as the server fits a drawing (``app.imaging.preprocess.fit_mnist``).
A character a font lacks (it would type the font's "missing" box) is left out. Training distorts
them afresh each epoch, like MNIST's digits.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from app.imaging.preprocess import fit_mnist
from model.glyphs import NONE
from scripts import project_root

ROOT = project_root()
FONTS = ROOT / "build" / "fonts-train"
DIGITS = "0123456789"
LETTERS = "AEFHKMNRWXehkmnrwx"  # model.glyphs's non-digit letters: nothing a reader takes for a digit
MISSING = "\ue000"  # a private-use character: what a font types for a character it lacks


def fetch(folder: Path) -> Path:
    """npm-install the pinned fonts into ``folder`` (once) → where their files are."""
    files = folder / "node_modules" / "@fontsource"
    if not files.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "scripts" / "datasets" / "fonts" / "package.json", folder / "package.json")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True)
    return files


def font_files(folders: list[Path]) -> list[str]:
    """TrueType/OpenType files, and of @fontsource packages the Latin regular WOFF."""
    return sorted(f for d in folders for f in glob.glob(f"{d}/**/*", recursive=True)
                  if f.endswith((".ttf", ".otf", "latin-400-normal.woff")))


def typed(font: ImageFont.FreeTypeFont, char: str) -> Image.Image:
    """One character as "L" ink (255 = ink) with a margin."""
    left, top, right, bottom = font.getbbox(char)
    margin = max(4, int(font.size) // 8)
    img = Image.new("L", (int(right - left) + 2 * margin, int(bottom - top) + 2 * margin), 0)
    ImageDraw.Draw(img).text((margin - left, margin - top), char, 255, font)
    return img


def variants(path: str, char: str) -> list[Image.Image]:
    """The character typed in seven ways, or none if the font lacks it."""
    big, small = ImageFont.truetype(path, 96), ImageFont.truetype(path, 32)
    ink = typed(big, char)
    if ink.getbbox() is None or ink.tobytes() == typed(big, MISSING).tobytes():
        return []
    w, h = ink.size
    return [ink, typed(small, char), ink.filter(ImageFilter.MaxFilter(5)), ink.filter(ImageFilter.MaxFilter(9)),
            ink.filter(ImageFilter.MinFilter(3)), ink.resize((max(1, round(w * 0.6)), h), Image.Resampling.BOX),
            ink.resize((round(w * 1.5), h), Image.Resampling.BILINEAR)]


def glyphs(paths: list[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """(n, 784) uint8 images, their labels (0–9, or 10 for a letter), and the font of each."""
    X, y, font = [], [], []
    for f, path in enumerate(paths):
        for char in DIGITS + LETTERS:
            for img in variants(path, char):
                if img.getbbox() is None:  # a hairline thinned away
                    continue
                X.append(np.round(fit_mnist(img) * 255).astype(np.uint8).ravel())
                y.append(int(char) if char in DIGITS else NONE)
                font.append(f)
    return np.array(X, np.uint8).reshape(-1, 784), np.array(y, np.int64), np.array(font, np.int64)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fonts", type=Path, nargs="+", default=None,
                   help="font folders (default: the pinned npm fonts, installed into build/fonts-train)")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "font_glyphs.npz", help="(default: %(default)s)")
    args = p.parse_args(argv)
    paths = font_files(args.fonts or [fetch(FONTS)])
    if not paths:
        print("error: no fonts found", file=sys.stderr)
        return 1
    X, y, font = glyphs(paths)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    names = np.array([Path(f).name.split("-latin-")[0] for f in paths])
    np.savez_compressed(args.out, X=X, y=y, font=font, fonts=names)
    print(f"wrote {len(y)} glyphs ({int((y < NONE).sum())} digits, {int((y == NONE).sum())} letters) "
          f"of {len(paths)} fonts to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
