"""Any drawing → the 28×28 input the network was trained on, the way MNIST was made.

MNIST's digits were fitted into a 20×20 box (aspect ratio kept, grey levels from
anti-aliasing) and shifted so that their centre of mass sits at the centre of the
28×28 field. ``prepare_image`` does the same to a drawing of any size and style:

1. decode (``app.imaging.decode``) and flatten alpha: transparent pixels become the
   paper colour that contrasts with the painted ones (a ``toDataURL()`` canvas
   is black ink with alpha = coverage on transparent black);
2. ink = colour distance from the paper (the median border colour, largest
   difference over R, G, B), scaled so the strongest ink is 1: dark-on-light,
   light-on-dark and coloured ink all work, and a blend of ink and paper keeps
   its coverage as its grey level; a noise floor (``FLOOR`` of the strongest
   ink) clears JPEG haze and paper texture;
3. drop isolated specks far from the drawing (``app.imaging.specks``), and fill the
   strokes of a digit drawn in outlines (``app.imaging.outlines``);
4. crop the ink's bounding box at full resolution, scale its longest side to
   20 px with area averaging (Pillow's BOX filter; bilinear when enlarging), so
   a tall thin "1" stays thin, and stretch the grey levels so the strongest
   pixel is 1 (every MNIST digit reaches 1, however thin the pen was);
5. place it in 28×28 so that the centre of mass lands on pixel (14, 14), in
   pixel-index coordinates, where MNIST puts it (MNIST shifted by whole pixels,
   so its digits' centres sit there to within rounding). We shift by a
   *fraction* of a pixel instead, folded into the one resampling step, so the
   same digit drawn anywhere gives the same 28×28.
   Never binarised.

The full-resolution steps are Pillow operations (C loops over uint8); numpy
only sees cropped parts (a canvas's painted box, the speck grid, the digit).
The result is rounded to 4 decimals (a change ≤ 5e-5) so that the preview sent
back is short JSON and is, as float32, exactly what the network saw."""

from __future__ import annotations

import functools
import math
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops

from app.imaging.budget import Work
from app.imaging.decode import ImageLimits, alpha_table, black_ink, decode_image
from app.imaging.errors import EmptyImage, InvalidPixels
from app.imaging.outlines import solid
from app.imaging.photo import looks_like_photo, photo_ink
from app.imaging.specks import drop_specks

F32 = NDArray[np.float32]
Source = Literal["auto", "drawing", "photo"]  # what an image is: decided (auto), or said by the client
SIZE, BOX, CENTRE = 28, 20, 14.0
MIN_CONTRAST = 0.12  # colour distance (0…1) below which nothing counts as ink
FLOOR = 0.15  # fraction of the strongest ink treated as background noise
MIN_INK = 0.1  # prepared pixels whose strongest value is below this hold no drawing (empty_image)


def prepare_image(data: bytes, limits: ImageLimits | None = None, work: Work | None = None) -> F32:
    """Image file bytes (PNG, JPEG, WebP, GIF) → (28, 28) float32 in [0, 1], white ink on black.
    ``work`` counts the costly stages' work against its budget (default: ``limits.budget``)
    and calls its ``check`` between them.

    Raises InvalidImage, UnsupportedFormat, ImageTooLarge, EmptyImage or TooComplex."""
    limits = limits or ImageLimits()
    work = work or Work(limits.budget)
    img = decode_image(data, limits)
    work.check()
    return prepare_decoded(img, work)


def prepare_decoded(img: Image.Image, work: Work | None = None) -> F32:
    """A decoded image (as ``decode_image`` gives) → (28, 28) float32: ``prepare_image`` after the decode."""
    return fit_decoded(img, work or Work())[0]


def fit_decoded(img: Image.Image, work: Work, source: Source = "auto") -> tuple[F32, tuple[int, int, int, int]]:
    """A decoded image → (28, 28) float32 (``prepare_decoded``, ``source`` as ``ink_map`` takes
    it), and the box (x, y, width, height) in the image's pixels of the ink it was fitted from."""
    ink, (left, top, _, _) = ink_map(img, source)
    kept = solid(drop_specks(ink, (left, top), img.size), work)
    x = fit_mnist(kept)
    x0, y0, x1, y1 = kept.getbbox() or (0, 0, *kept.size)  # fit_mnist has found ink in it
    return x, (x0 + left, y0 + top, x1 - x0, y1 - y0)


def prepare_pixels(values: list[float] | list[list[float]]) -> F32:
    """An already prepared input, 28 rows of 28 or a flat 784, in [0, 1] → (28, 28) float32."""
    try:
        a = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        raise InvalidPixels("pixels must be 28 lists of 28 numbers; the rows differ in length.") from None
    if a.shape == (SIZE * SIZE,):
        a = a.reshape(SIZE, SIZE)
    if a.shape != (SIZE, SIZE):
        raise InvalidPixels(f"pixels must be 28 lists of 28 numbers or a flat list of 784; "
                            f"got shape {list(a.shape)}.")
    if not np.isfinite(a).all():
        raise InvalidPixels("pixels must be finite numbers; found NaN or infinity.")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        hint = " (divide 0–255 values by 255)" if hi <= 255 and lo >= 0 else ""
        raise InvalidPixels(f"pixels must be in [0, 1], white ink on black; found {lo:g} to {hi:g}{hint}.")
    if hi < MIN_INK:
        raise EmptyImage(f"The drawing is empty: no pixel reaches {MIN_INK:g}, the least ink that counts "
                         f"(the strongest is {hi:.3g}).")
    return _finish(a)


def ink_map(img: Image.Image, source: Source = "auto") -> tuple[Image.Image, tuple[int, int, int, int]]:
    """An RGB or RGBA image, or a palette image of black ink with alpha (``black_ink``) → "L" ink
    coverage, 0 paper … 255 full ink, of a box of it that holds all the ink, and that box: the
    whole image, or less when a margin is cut off.

    ``source`` says what the image is: ``"auto"`` decides (an opaque image that ``looks_like_photo``
    is a photo), ``"photo"`` takes the photo's way (``photo_ink``; transparency on white paper),
    ``"drawing"`` never does."""
    if source == "photo":
        return photo_ink(_on_white(img)), (0, 0, *img.size)
    if black_ink(img):
        found = _palette_ink(img)
        if found is not None:
            return found
        img = img.convert("RGBA")  # all opaque: as any opaque image, below
    opaque = img.mode != "RGBA"
    if img.mode == "RGBA":
        # Outside this box every pixel is (0, 0, 0, 0), transparent black: the empty part of a
        # canvas. Cropping to it first keeps the full-resolution work to the drawing.
        box = img.getbbox(alpha_only=False)
        if box is None:
            raise EmptyImage("The drawing is empty: the image is fully transparent.")
        whole = box == (0, 0, *img.size)
        painted = img if whole else img.crop(box)
        alpha = painted.getchannel("A")
        a_lo, a_hi = cast(tuple[int, int], alpha.getextrema())  # a_hi is the whole image's
        if a_hi == 0:
            raise EmptyImage("The drawing is empty: the image is fully transparent.")
        opaque = a_lo == 255 and whole
        if not opaque:  # some pixel is not opaque (none outside the box is)
            if _one_colour(painted, whole):
                # One colour with alpha = coverage (a browser canvas): the ink *is* the alpha.
                return _stretch(alpha, a_hi), box
            # Flatten onto the paper that contrasts with what is painted.
            alpha = alpha if whole else img.getchannel("A")
            lum = np.array(img.convert("L").histogram(mask=alpha), dtype=np.float64)
            dark_ink = float(lum @ np.arange(256)) < 127.5 * float(lum.sum())
            paper = Image.new("RGBA", img.size, (255, 255, 255, 255) if dark_ink else (0, 0, 0, 255))
            paper.alpha_composite(img)
            img = paper
        img = img.convert("RGB")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    W, H = img.size
    if opaque and source == "auto" and looks_like_photo(img):
        return photo_ink(img), (0, 0, W, H)
    strips = [img.crop(box) for box in ((0, 0, W, 1), (0, H - 1, W, H), (0, 0, 1, H), (W - 1, 0, W, H))]
    border = np.concatenate([np.asarray(s).reshape(-1, 3) for s in strips])
    paper_rgb = tuple(int(v) for v in np.median(border, axis=0).round())
    r, g, b = ImageChops.difference(img, Image.new("RGB", img.size, paper_rgb)).split()
    d = ImageChops.lighter(ImageChops.lighter(r, g), b)
    return _stretch(d, cast(tuple[int, int], d.getextrema())[1]), (0, 0, W, H)


def _on_white(img: Image.Image) -> Image.Image:
    """An image as RGB, what is transparent in it on white paper (a photo's ink is darker than its paper)."""
    if img.mode == "RGB":
        return img
    paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
    paper.alpha_composite(img.convert("RGBA"))
    return paper.convert("RGB")


def _palette_ink(img: Image.Image) -> tuple[Image.Image, tuple[int, int, int, int]] | None:
    """A ``black_ink`` image (the page's canvas, one byte a pixel) → what ``ink_map`` gives for the
    RGBA image it stands for; ``None`` if every pixel is opaque. Where the alpha rises with the
    index from 0 at index 0 alone (as the page's palette does), the indices stand for the alpha
    in the extrema and the box, and only the box is looked up."""
    alpha = alpha_table(img)
    if alpha[0] == 0 < alpha[1] and alpha == sorted(alpha):
        values = img
    else:
        values, alpha = img.point(alpha, "L"), list(range(256))
    lo, hi = cast(tuple[int, int], values.getextrema())
    if alpha[lo] == 255:
        return None
    box = values.getbbox()
    if box is None:
        raise EmptyImage("The drawing is empty: the image is fully transparent.")
    table = _stretch_table(alpha[hi])  # raises if no ink stands out
    painted = values if box == (0, 0, *img.size) else values.crop(box)
    return painted.point([table[a] for a in alpha], "L"), box


def _one_colour(painted: Image.Image, whole: bool) -> bool:
    """Whether every pixel of an RGBA image has the same R, G and B, whatever its alpha. Given
    ``painted``, its box of pixels other than (0, 0, 0, 0), and ``whole``: that box is all of it."""
    px = np.asarray(painted).view("<u4")  # each pixel's R, G, B, A as one number, A in the top byte
    some, every = int(np.bitwise_or.reduce(px, axis=None)), int(np.bitwise_and.reduce(px, axis=None))
    if (some ^ every) & 0xFFFFFF:  # some R, G or B bit differs between two pixels
        return False
    return whole or not some & 0xFFFFFF  # nothing outside the box, or the box is black like it


def _stretch(d: Image.Image, strongest: int) -> Image.Image:
    """Colour distance (0…255) → ink: below FLOOR of the strongest is paper, the strongest is 255."""
    return d.point(_stretch_table(strongest), "L")


@functools.cache
def _stretch_table(strongest: int) -> bytes:
    """``_stretch``'s table; raises EmptyImage if ``strongest`` is too faint to be ink."""
    if strongest < MIN_CONTRAST * 255:
        raise EmptyImage("The drawing is empty: no ink stands out from the background.")
    floor = FLOOR * strongest
    lut = np.clip(np.round((np.arange(256) - floor) * (255 / (strongest - floor))), 0, 255)
    return lut.astype(np.uint8).tobytes()


def fit_mnist(ink: Image.Image) -> F32:
    """"L" ink coverage with some ink → (28, 28) float32: the MNIST box-fit and centring.

    Placement and scaling are one resampling step: the crop's centre of mass is
    computed at full resolution and Pillow's ``resize(box=…)`` samples exactly the
    source window that lands on whole output pixels, so a sub-pixel shift costs no
    extra blur. Only the ink counts, not where it lies, so any crop of an image
    that holds all its ink gives the same result."""
    bbox = ink.getbbox()
    if bbox is None:
        raise EmptyImage("The drawing is empty: draw a digit.")
    left0, top0, right0, bottom0 = bbox
    h, w = bottom0 - top0, right0 - left0
    s = BOX / max(h, w)  # output px per source px
    pad = math.ceil(1 / s) + 1  # the whole-pixel window reaches < 1 output px past the crop
    part = ink.crop((left0 - pad, top0 - pad, right0 + pad, bottom0 + pad))  # 0 outside the image
    a = np.asarray(part)[pad:pad + h, pad:pad + w].astype(np.float64)  # whole numbers: the sums are exact
    rows, cols = a.sum(axis=1), a.sum(axis=0)
    mass = float(rows.sum())
    cy = float(rows @ np.arange(h)) / mass + 0.5  # continuous coordinates:
    cx = float(cols @ np.arange(w)) / mass + 0.5  # pixel i spans [i, i + 1)
    # Output position of the crop's top-left corner: centre of mass on pixel (14, 14),
    # i.e. at 14.5 continuous, kept inside the 28×28 field.
    ty = min(max(CENTRE + 0.5 - s * cy, 0.0), SIZE - s * h)
    tx = min(max(CENTRE + 0.5 - s * cx, 0.0), SIZE - s * w)
    top, left = math.floor(ty), math.floor(tx)
    bottom, right = min(math.ceil(ty + s * h), SIZE), min(math.ceil(tx + s * w), SIZE)
    window = ((left - tx) / s + pad, (top - ty) / s + pad, (right - tx) / s + pad, (bottom - ty) / s + pad)
    kind = Image.Resampling.BOX if s <= 1 else Image.Resampling.BILINEAR
    small = np.asarray(part.convert("F").resize((right - left, bottom - top), kind, box=window))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top:bottom, left:right] = _finish(np.divide(small, small.max(), dtype=np.float64).clip(0.0, 1.0))
    return out


def _finish(a: NDArray[np.float64]) -> F32:
    return np.round(a, 4).astype(np.float32)


def nudges(x: F32) -> F32:
    """A prepared input (28, 28) → itself and six nudged copies (7, 28, 28): shifted one pixel
    right, left, down and up, and scaled by 0.9 and 1.1 about the centre. A digit that reads as
    a coin flip between two is read again as all seven (``app.api.routes.read``)."""
    out = [x] + [np.roll(x, step, axis) for axis in (1, 0) for step in (1, -1)]
    field = Image.fromarray(x, "F")
    for s in (0.9, 1.1):
        c = CENTRE * (1 - 1 / s)  # the inverse map x → x / s + c keeps the centre in place
        out.append(np.asarray(field.transform((SIZE, SIZE), Image.Transform.AFFINE, (1 / s, 0, c, 0, 1 / s, c),
                                              Image.Resampling.BILINEAR), np.float32))
    return np.stack(out)
