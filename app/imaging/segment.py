"""A drawn number → its digits, in order: pieces of ink found at full resolution, the strokes of
one digit merged, touching digits split, specks dropped, left to right.

1. Ink (``preprocess.ink_map``) above ``INK`` is labelled into 8-connected components at full
   resolution (the run-based labelling of ``app.imaging.specks``: a Python loop per run of ink,
   not per pixel).
2. The line's height is the tallest component's. A component smaller than ``SPECK`` of it both
   ways is a speck and is dropped.
3. Two components are one digit when the narrower one's horizontal centre lies within the
   wider one's extent: the two strokes of a 4 or a 5, a 7's crossbar, an 8 drawn as two loops. A piece
   shorter than ``FRAGMENT`` of the line joins its nearest neighbour (a 5's detached flag).
4. A piece wider than ``WIDE`` times its height is touching digits: each cut at a minimum of the
   vertical ink profile is tried, and the one whose two halves the network reads most
   confidently is kept, if they read better than the whole; halves that are still wide are
   cut again (``read`` is the network, handed in: this module knows no model).
5. Pieces are ordered by their centres from left to right, which a sloping line does not upset.

Each piece is then fitted to 28×28 exactly as ``/api/predict`` fits a drawing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from app.imaging.errors import EmptyImage, InputError
from app.imaging.preprocess import fit_mnist
from app.imaging.specks import label

F32 = NDArray[np.float32]
Reader = Callable[[F32], NDArray[np.float64]]  # (k, 28, 28) → confidence of each, in [0, 1]
INK = 40          # of 255: what counts as ink when telling pieces apart
SPECK = 0.12      # of the line's height, both ways: smaller pieces are specks
WIDE = 0.9        # width / height over which a piece may be touching digits (a cut must read better)…
CLEARLY_WIDE = 1.35  # …by MARGIN in confidence, unless it is wider than this
MARGIN = 0.2
FRAGMENT = 0.5    # of the line's height: a shorter piece is part of a digit (a 5's flag)…
NEAR = 0.25       # …and joins the nearest piece within this much of the line's height
MAX_PIECES = 12


class TooManyDigits(InputError):
    code = "too_many_digits"


@dataclass
class Piece:
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int
    ids: list[int]

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def join(self, other: Piece) -> Piece:
        return Piece(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1),
                     max(self.y1, other.y1), self.ids + other.ids)


def components(labels: NDArray[np.int32], n: int) -> list[Piece]:
    """The bounding box of each labelled component 1…n."""
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    out = []
    for k in range(1, n + 1):
        sel = lab == k
        kx, ky = xs[sel], ys[sel]
        out.append(Piece(int(kx.min()), int(ky.min()), int(kx.max()) + 1, int(ky.max()) + 1, [k]))
    return out


def merge(pieces: list[Piece]) -> list[Piece]:
    """Join two pieces when the narrower one's horizontal centre lies within the wider one's
    extent (the bar of a 4 and its stem, a 7 and its crossbar, two loops of an 8), until none
    do. A slanted 1 that merely overlaps its neighbour's edge stays apart."""
    pieces = sorted(pieces, key=lambda p: p.x0)
    changed = True
    while changed:
        changed = False
        for i in range(len(pieces)):
            for j in range(i + 1, len(pieces)):
                a, b = pieces[i], pieces[j]
                narrow, wide = (a, b) if a.width <= b.width else (b, a)
                if wide.x0 <= (narrow.x0 + narrow.x1) / 2 <= wide.x1:
                    pieces[i] = a.join(b)
                    del pieces[j]
                    changed = True
                    break
            if changed:
                break
    return pieces


def attach_fragments(pieces: list[Piece], line: int) -> list[Piece]:
    """A piece under FRAGMENT of the line's height is part of a digit, not one: it joins the
    nearest piece (by horizontal gap) if that is within NEAR of the line's height."""
    pieces = sorted(pieces, key=lambda p: p.x0)
    while len(pieces) > 1:
        small = [i for i, p in enumerate(pieces) if p.height < FRAGMENT * line]
        joined = False
        for i in small:
            p = pieces[i]
            gaps = [(max(q.x0 - p.x1, p.x0 - q.x1, 0), j) for j, q in enumerate(pieces) if j != i]
            gap, j = min(gaps)
            if gap <= NEAR * line:
                pieces[j] = pieces[j].join(p)
                del pieces[i]
                joined = True
                break
        if not joined:
            break
    return pieces


def crop(ink: NDArray[np.uint8], labels: NDArray[np.int32], piece: Piece,
         cols: tuple[int, int] | None = None) -> Image.Image:
    """The piece's own ink (not its neighbours' within its box) as an "L" image, optionally
    only columns [c0, c1) of it."""
    box = (slice(piece.y0, piece.y1), slice(piece.x0, piece.x1))
    own = np.where(np.isin(labels[box], piece.ids), ink[box], 0).astype(np.uint8)
    if cols is not None:
        own[:, :cols[0]] = 0
        own[:, cols[1]:] = 0
    return Image.fromarray(own)


def best_cut(ink: NDArray[np.uint8], labels: NDArray[np.int32], piece: Piece, span: tuple[int, int],
             read: Reader) -> int | None:
    """The column (in the piece's box, within ``span``) at which touching digits are best split,
    or None when the span reads more confidently whole (a wide 0, 2 or 5) than any split's
    weaker half."""
    c0, c1 = span
    own = np.asarray(crop(ink, labels, piece, span), dtype=np.float64)
    profile = np.convolve(own.sum(axis=0), np.ones(5) / 5, mode="same")
    lo, hi = c0 + int(0.2 * (c1 - c0)), c0 + int(0.8 * (c1 - c0))
    if hi - lo < 3:
        return None
    inner = profile[lo:hi]
    minima = [lo + i for i in range(1, len(inner) - 1) if inner[i] <= inner[i - 1] and inner[i] <= inner[i + 1]]
    candidates = sorted(minima, key=lambda c: profile[c])[:4] or [lo + int(np.argmin(inner))]
    whole = crop(ink, labels, piece, span)
    x0, y0, x1, y1 = whole.getbbox() or (c0, 0, c1, 1)
    # a piece of a digit's usual shape must read clearly better cut; a very wide one only better
    margin = 0.0 if x1 - x0 > CLEARLY_WIDE * (y1 - y0) else MARGIN
    best, best_score = None, float(read(fit_mnist(whole)[None])[0]) + margin  # not cutting
    for c in candidates:
        halves = [crop(ink, labels, piece, (c0, c)), crop(ink, labels, piece, (c, c1))]
        if any(h.getbbox() is None for h in halves):
            continue
        score = float(read(np.stack([fit_mnist(h) for h in halves])).min())
        if score > best_score:
            best, best_score = c, score
    return best


def split(ink: NDArray[np.uint8], labels: NDArray[np.int32], piece: Piece, span: tuple[int, int],
          read: Reader, depth: int = 0) -> list[tuple[int, int]]:
    """Column spans of the digits in ``span`` of a piece: cut while a span's ink is wider than
    WIDE times its height and a cut reads better (three or more touching digits too)."""
    box = crop(ink, labels, piece, span).getbbox()
    if box is None:
        return []
    x0, y0, x1, y1 = box
    if depth >= MAX_PIECES or x1 - x0 <= WIDE * (y1 - y0):
        return [span]
    cut = best_cut(ink, labels, piece, span, read)
    if cut is None:
        return [span]
    return (split(ink, labels, piece, (span[0], cut), read, depth + 1)
            + split(ink, labels, piece, (cut, span[1]), read, depth + 1))


def segment(ink: Image.Image, read: Reader) -> list[tuple[tuple[int, int, int, int], F32]]:
    """"L" ink coverage of a drawn number → each digit's box (x, y, w, h, in ``ink``'s pixels)
    and its 28×28 input, left to right. Raises EmptyImage or TooManyDigits."""
    a = np.asarray(ink)
    labels, n = label(a > INK)
    if n == 0:
        raise EmptyImage("The drawing is empty: draw a number.")
    found = components(labels, n)
    line = max(p.height for p in found)
    found = [p for p in found if p.height >= SPECK * line or p.width >= SPECK * line]
    if len(found) > 4 * MAX_PIECES:
        raise TooManyDigits(f"The drawing has {len(found)} separate pieces; a number may have at most "
                            f"{MAX_PIECES} digits.")
    out: list[tuple[tuple[int, int, int, int], F32]] = []
    for piece in sorted(attach_fragments(merge(found), line), key=lambda p: (p.x0 + p.x1) / 2):
        for c0, c1 in split(a, labels, piece, (0, piece.width), read):
            part = crop(a, labels, piece, (c0, c1))
            x0, y0, x1, y1 = part.getbbox() or (c0, 0, c1, piece.height)
            out.append(((piece.x0 + x0, piece.y0 + y0, x1 - x0, y1 - y0), fit_mnist(part)))
    if len(out) > MAX_PIECES:
        raise TooManyDigits(f"The drawing has {len(out)} digits or pieces; a number may have at most {MAX_PIECES}.")
    return out
