"""From what a client sends to pixels: data URL or base64 → bytes → RGB(A) image.

Sizes are checked on the header Pillow reads in ``Image.open``, before any pixel
is decoded, so a small file that claims a huge image costs nothing."""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from app.input_errors import ImageTooLarge, InvalidImage, UnsupportedFormat

FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
MEDIA_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif"}
ACCEPTED = "send a PNG, JPEG, WebP or GIF image"

# Pillow's own decompression-bomb guard warns (rather than raises) between 89 and
# 179 megapixels. Make it raise everywhere so it is a second wall behind our check.
warnings.simplefilter("error", Image.DecompressionBombWarning)


@dataclass(frozen=True)
class ImageLimits:
    max_side: int = 4096
    max_pixels: int = 16_000_000


def payload_bytes(text: str) -> bytes:
    """The image bytes in a data URL (``data:image/png;base64,…``) or bare base64."""
    text = text.strip()
    if text[:5].lower() == "data:":
        header, comma, text = text.partition(",")
        if not comma:
            raise InvalidImage("The data URL has no ',' before its data.")
        media_type, *params = header[5:].lower().split(";")
        if media_type and media_type not in MEDIA_TYPES:
            raise UnsupportedFormat(f"The data URL holds {media_type!r}; {ACCEPTED}.")
        if "base64" not in params:
            raise InvalidImage("The data URL must be base64-encoded (data:image/png;base64,…).")
    data = "".join(text.split()).replace("-", "+").replace("_", "/")
    if not data:
        raise InvalidImage(f"The image is empty; {ACCEPTED}.")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage("The image is not valid base64 or a data URL.") from None


def decode_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Image file bytes → a decoded RGB or RGBA image: the first frame, EXIF orientation applied."""
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
    with img:
        fmt = str(img.format)
        if fmt not in FORMATS:
            raise UnsupportedFormat(f"{fmt} images are not supported; {ACCEPTED}.")
        w, h = img.size
        if w > limits.max_side or h > limits.max_side or w * h > limits.max_pixels:
            raise ImageTooLarge(f"The image is {w}×{h} px; the limit is {limits.max_side} px a side "
                                f"and {limits.max_pixels / 1e6:g} megapixels.")
        if w == 0 or h == 0:
            raise InvalidImage("The image has no pixels.")
        try:
            img.seek(0)  # an animation's first frame
            frame: Image.Image = img
            if FORMATS[fmt] == "JPEG":
                frame = ImageOps.exif_transpose(img)  # phone photos are often stored sideways
            frame.load()
            mode = "RGBA" if frame.has_transparency_data else "RGB"
            out = frame.convert(mode) if frame.mode != mode else frame
        except Exception:  # truncated or corrupt data shows up only when decoding
            raise InvalidImage(f"The {FORMATS[fmt]} file is damaged or truncated.") from None
    return out
