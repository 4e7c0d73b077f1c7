"""From what a client sends to pixels: data URL or base64 → bytes → RGB(A) image (or black ink on a palette).

Sizes are checked on the header Pillow reads in ``Image.open``, before any pixel
is decoded, so a small file that claims a huge image costs nothing. An image
within the limits but larger than ``WORK_PIXELS`` is decoded reduced: a JPEG at
1/2, 1/4 or 1/8 scale straight from its DCT (Pillow's ``draft``, the whole
reduction at once), any other format reduced by box-averaging right after
decoding, so the rest of the pipeline never holds more than about one and a half
megapixels whatever was sent. A digit is fitted into 20×20 pixels in the end; that keeps
any drawing's strokes, and the thin strokes of a number that fills only part of a photo.

PNGs, what browsers send, are tried first with ``app.imaging.png``'s faster decoders (the drawing
page's ink as a palette image, a canvas's RGBA; its own reading of the header, checked against the
same limits, before anything is inflated); Pillow decodes whatever those leave.

Decoding itself needs the full image in memory (``BYTES_PER_PIXEL``: libwebp
about twice what the other decoders need), so the decodes running at once in this
process share ``DECODE_BUDGET``: a thread waits until its image fits. Peak memory
is then the budget plus the small working images, however many requests arrive."""

from __future__ import annotations

import base64
import binascii
import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from app.imaging.budget import Budget
from app.imaging.errors import ImageTooLarge, InvalidImage, UnsupportedFormat, excerpt
from app.imaging.png import decode_png, png_size

FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
MEDIA_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif"}
ACCEPTED = "send a PNG, JPEG, WebP or GIF image"
JPEG_REDUCED = 2  # a JPEG may be this many times larger a side than the limits: its decode is reduced
WORK_PIXELS = 1_500_000  # larger images are decoded or reduced to about this
ORIENTATION = 0x0112  # EXIF's tag
TURNED = {5, 6, 7, 8}  # the orientations that turn the stored image a quarter: width and height swap
BYTES_PER_PIXEL = {"WebP": 16}  # the budget's estimate of a decode's peak (libwebp's buffers); others 8

# Pillow's own decompression-bomb guard warns (rather than raises) between 89 and
# 179 megapixels. Make it raise everywhere so it is a second wall behind our check.
warnings.simplefilter("error", Image.DecompressionBombWarning)


@dataclass(frozen=True)
class ImageLimits:
    """The largest image accepted, checked on the header before decoding, and the budget of the
    work on the decoded drawing (``app.imaging.budget``). The defaults fit a full-screen canvas
    on a 4K display (3840×2160, 8.3 megapixels); see ``Settings``."""

    max_side: int = 4096
    max_pixels: int = 8_294_400
    budget: Budget = field(default_factory=Budget)


class MemoryBudget:
    """At most ``limit`` bytes of decoding at once; threads wait for their turn."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._turn = threading.Condition()

    @contextmanager
    def hold(self, n: int) -> Iterator[None]:
        n = min(n, self.limit)  # an image dearer than the whole budget still runs, alone
        with self._turn:
            self._turn.wait_for(lambda: self.used + n <= self.limit)
            self.used += n
        try:
            yield
        finally:
            with self._turn:
                self.used -= n
                self._turn.notify_all()


DECODE_BUDGET = MemoryBudget(160 << 20)  # one 8-megapixel WebP, two 8-megapixel PNGs


def payload_bytes(text: str) -> bytes:
    """The image bytes in a data URL (``data:image/png;base64,…``) or bare base64."""
    text = text.strip()
    if text[:5].lower() == "data:":
        header, comma, text = text.partition(",")
        if not comma:
            raise InvalidImage("The data URL has no ',' before its data.")
        media_type, *params = header[5:].lower().split(";")
        if media_type and media_type not in MEDIA_TYPES:
            raise UnsupportedFormat(f"The data URL holds {excerpt(media_type)}; {ACCEPTED}.")
        if "base64" not in params:
            raise InvalidImage("The data URL must be base64-encoded (data:image/png;base64,…).")
    data = "".join(text.split()).replace("-", "+").replace("_", "/")
    if not data:
        raise InvalidImage(f"The image is empty; {ACCEPTED}.")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage("The image is not valid base64 or a data URL.") from None


def open_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Image file bytes → an opened, not yet decoded image whose header passed the limits."""
    if not data:
        raise InvalidImage(f"The file is empty; {ACCEPTED}.")
    if data.lstrip()[:5].lower() in (b"<svg ", b"<svg>", b"<?xml"):
        raise UnsupportedFormat(f"SVG drawings are not supported; {ACCEPTED}.")
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"The image is larger than {limits.max_side} px a side "
                            f"or {limits.max_pixels / 1e6:g} megapixels.") from None
    except Exception:  # Pillow raises many types on junk; all mean "not an image"
        raise InvalidImage(f"This is not an image that can be read; {ACCEPTED}.") from None
    fmt = str(img.format)
    if fmt not in FORMATS:
        img.close()
        raise UnsupportedFormat(f"{excerpt(fmt, 16)} images are not supported; {ACCEPTED}.")
    w, h = img.size
    # A JPEG is never decoded whole (``_draft``): a phone's 12 to 48 megapixels are read reduced.
    grow = JPEG_REDUCED if fmt in ("JPEG", "MPO") else 1
    side, pixels = limits.max_side * grow, limits.max_pixels * grow * grow
    if w > side or h > side or w * h > pixels:
        img.close()
        raise ImageTooLarge(f"The image is {w}×{h} px; the limit is {side} px a side "
                            f"and {pixels / 1e6:g} megapixels.")
    if w == 0 or h == 0:
        img.close()
        raise InvalidImage("The image has no pixels.")
    return img


def image_pixels(data: bytes, limits: ImageLimits) -> int:
    """How many pixels the image claims (header only); raises as ``decode_image`` would."""
    with open_image(data, limits) as img:
        return img.width * img.height


def decode_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Image file bytes → a decoded RGB or RGBA image: the first frame, EXIF orientation applied,
    at most about ``WORK_PIXELS`` (larger images are decoded or reduced to about that). A palette
    image of black ink with alpha (``black_ink``: what the drawing page sends) stays a "P" image.
    A PNG that ``app.imaging.png`` reads (as browsers and the page send them) is decoded there."""
    fast = _fast_png(data, limits)
    if fast is not None:
        return fast
    with open_image(data, limits) as img:
        fmt = FORMATS[str(img.format)]
        try:
            img.seek(0)  # an animation's first frame
            frame: Image.Image = img
            factor = _factor(img.width, img.height)
            if fmt == "JPEG":
                factor = _draft(img, factor)  # the size is the reduced one from here on
            with DECODE_BUDGET.hold(img.width * img.height * BYTES_PER_PIXEL.get(fmt, 8)):
                if fmt == "JPEG":
                    frame = ImageOps.exif_transpose(img)  # phone photos are often stored sideways
                frame.load()
                if frame.width * frame.height <= WORK_PIXELS and black_ink(frame):
                    return frame
                mode = "RGBA" if frame.has_transparency_data else "RGB"
                out = _reduce(frame.convert(mode) if frame.mode != mode else frame, factor)
                out.info["format"] = fmt  # a JPEG may be a scan: ``photo.looks_like_photo``
                return out
        except Exception:  # truncated or corrupt data shows up only when decoding
            raise InvalidImage(f"The {fmt} file is damaged or truncated.") from None


def upright_size(data: bytes, limits: ImageLimits) -> tuple[int, int]:
    """The width and height of the image ``decode_image`` reads, at full resolution: the header's,
    swapped for a JPEG whose EXIF orientation turns it a quarter (as a browser shows it, and as
    ``decode_image`` turns it). Header only; raises as ``open_image`` does."""
    size = png_size(data)
    if size is not None:
        return size
    with open_image(data, limits) as img:
        w, h = img.size
        turned = FORMATS[str(img.format)] == "JPEG" and img.getexif().get(ORIENTATION) in TURNED
    return (h, w) if turned else (w, h)


def _fast_png(data: bytes, limits: ImageLimits) -> Image.Image | None:
    """``data`` decoded by ``app.imaging.png``, if it is a PNG that it reads, within the limits and
    ``WORK_PIXELS``; else ``None``: it is decoded (or refused) as any image is."""
    size = png_size(data)
    if size is None:
        return None
    w, h = size
    if max(w, h) > limits.max_side or w * h > min(limits.max_pixels, WORK_PIXELS):
        return None
    with DECODE_BUDGET.hold(w * h * 8):
        return decode_png(data)


def black_ink(img: Image.Image) -> bool:
    """Whether ``img`` is a "P" image whose palette is all black, with an alpha for each index
    (PNG's tRNS): the canvas's black ink with alpha = coverage, one byte a pixel."""
    if img.mode != "P" or not isinstance(img.info.get("transparency"), bytes):
        return False
    palette = img.getpalette("RGB")
    return palette is not None and not any(palette)


def alpha_table(img: Image.Image) -> list[int]:
    """A ``black_ink`` image's alpha of each index, 256 of them (an index past tRNS is opaque)."""
    alpha = list(img.info["transparency"])[:256]
    return alpha + [255] * (256 - len(alpha))


def _factor(w: int, h: int) -> int:
    """The smallest whole factor that brings a w × h image within about WORK_PIXELS."""
    return max(1, math.ceil(math.sqrt(w * h / WORK_PIXELS)))


def _draft(img: Image.Image, factor: int) -> int:
    """Ask the JPEG decoder to reduce by ``factor`` (``_factor``) in its DCT, at 1/2, 1/4 or 1/8:
    the power of two at or above it, so that a photo is decoded straight within WORK_PIXELS (from a
    quarter of it up to all of it, as the powers of two fall), never at full size or twice the size
    and box-reduced after, which costs more and holds more memory. Returns the factor left for
    ``_reduce``: 1 unless the image is larger than 1/8 can bring within WORK_PIXELS (or the
    decoder declined the draft)."""
    if factor == 1:
        return 1
    w, h = img.size
    scale = min(8, 1 << (factor - 1).bit_length())
    img.draft("RGB", (w // scale, h // scale))  # the decoder takes the largest scale s with w ÷ asked ≥ s
    done = round(w / img.width)  # the scale taken: img.width is w ÷ s rounded up
    return math.ceil(factor / done)


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """Box-average an image by ``factor`` (premultiplied alpha for RGBA, as Pillow does)."""
    return img.reduce(factor) if factor > 1 else img
