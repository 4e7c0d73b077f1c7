"""Fast decodes of the PNGs drawing pages send, beside Pillow's general decoder.

- **Ink as a palette image**, what the drawing page builds (``static/pad.js``): 8-bit indexed
  colour whose palette is all black and whose ``tRNS`` gives each index its alpha, the ink's
  coverage, in rows that are not filtered (filter type 0), not interlaced. It is the canvas's
  picture exactly, in a quarter of the bytes of RGBA to inflate. Its chunks are read here, the
  image data inflated with zlib-ng (stopped at the size the header gives) and the rows checked,
  giving the "P" image Pillow would give.
- **RGBA**, what a canvas's ``toDataURL("image/png")`` gives (8 bits, not interlaced), decoded by
  libspng (``pyspng``), which inflates and unfilters faster than Pillow does.

``decode_png`` returns ``None`` for any other PNG, an animation, or one whose chunks or data these
decoders find fault with: Pillow then decodes it (or refuses it) as it does any image, so what is
accepted and what is refused stays Pillow's call. The caller checks the header's size (``png_size``)
against its limits first."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import numpy as np
import pyspng
from PIL import Image
from zlib_ng import zlib_ng

SIGNATURE = b"\x89PNG\r\n\x1a\n"
PALETTE, RGBA = 3, 6  # PNG colour types
ANIMATION = {b"acTL", b"fcTL", b"fdAT"}  # APNG: left to Pillow, which picks the frame


def png_size(data: bytes) -> tuple[int, int] | None:
    """The width and height a PNG's header gives (read from the bytes, before anything is decoded);
    ``None`` if ``data`` does not start as a PNG does."""
    if not data.startswith(SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    return struct.unpack_from(">II", data, 16)


def decode_png(data: bytes) -> Image.Image | None:
    """PNG file bytes → a decoded "P" (ink on a black palette with alpha) or "RGBA" image, or
    ``None`` where Pillow is to decode it."""
    chunks = _chunks(data)
    if chunks is None or b"IHDR" not in chunks or len(chunks[b"IHDR"]) != 13:
        return None
    w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    if depth != 8 or interlace or w == 0 or h == 0:
        return None
    if colour == PALETTE:
        return _black_ink(chunks, w, h)
    if colour == RGBA:
        return _rgba(data, w, h)
    return None


def _chunks(data: bytes) -> dict[bytes, bytes] | None:
    """Each chunk's type → its data (the IDATs' joined), up to IEND; ``None`` unless the file is laid
    out as the standard says (the header first, the image data in one run of IDATs, no critical
    chunk after it), and every chunk is whole, passes its CRC, comes once (IDAT aside) and is no
    animation's."""
    if not data.startswith(SIGNATURE):
        return None
    found: dict[bytes, bytes] = {}
    idat: list[bytes] = []
    for kind, body in _each_chunk(data):
        if kind is None or kind in ANIMATION or (not found and kind != b"IHDR"):
            return None
        if kind == b"IDAT":
            if b"IDAT" in found:  # image data after another chunk that followed image data
                return None
            idat.append(body)
            continue
        if kind == b"IEND":
            return {**found, b"IDAT": b"".join(idat)} if idat else None
        if idat:
            found[b"IDAT"] = b""  # the run of IDATs is over
        if kind in found or (idat and kind[:1].isupper()):  # repeated; critical after the image data
            return None
        found[kind] = body
    return None  # no IEND


def _each_chunk(data: bytes) -> Iterator[tuple[bytes | None, bytes]]:
    pos = len(SIGNATURE)
    while pos + 12 <= len(data):
        n, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + n
        if end + 4 > len(data) or zlib.crc32(data[pos + 4:end]) != struct.unpack_from(">I", data, end)[0]:
            yield None, b""
            return
        yield kind, data[pos + 8:end]
        pos = end + 4


def _black_ink(chunks: dict[bytes, bytes], w: int, h: int) -> Image.Image | None:
    """The page's palette image: every palette colour black, alpha from tRNS, rows unfiltered."""
    palette, alpha = chunks.get(b"PLTE", b""), chunks.get(b"tRNS")
    if not palette or len(palette) % 3 or len(palette) > 768 or any(palette) or alpha is None:
        return None
    rows = _inflate(chunks[b"IDAT"], h * (w + 1))
    if rows is None:
        return None
    a = np.frombuffer(rows, np.uint8).reshape(h, w + 1)
    if a[:, 0].any() or (len(palette) < 768 and int(a[:, 1:].max()) >= len(palette) // 3):  # filtered; no such colour
        return None
    img = Image.frombuffer("P", (w, h), np.ascontiguousarray(a[:, 1:]), "raw", "P", 0, 1)
    img.putpalette(palette, "RGB")
    img.info["transparency"] = alpha
    return img


def _inflate(stream: bytes, size: int) -> bytes | None:
    """A zlib stream that inflates to exactly ``size`` bytes, inflated; else ``None``."""
    inflater = zlib_ng.decompressobj()
    try:
        out = inflater.decompress(stream, size + 1)
    except Exception:  # zlib_ng.error (its stub declares no class): a damaged stream
        return None
    return out if len(out) == size and inflater.eof else None


def _rgba(data: bytes, w: int, h: int) -> Image.Image | None:
    try:
        a = pyspng.load(data, "RGBA")
    except Exception:  # libspng's complaints come as RuntimeError (or MemoryError)
        return None
    if a.shape != (h, w, 4):
        return None
    return Image.frombuffer("RGBA", (w, h), a, "raw", "RGBA", 0, 1)
