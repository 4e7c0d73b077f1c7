"""The forms a canvas drawing comes in give the network the same input, whichever decoder reads them.

The page sends its ink on a palette (``scripts.datasets.canvas.ink_png``, as ``static/pad.js``
builds it); browsers' canvases send RGBA (``chromium_png``, or Pillow's encoder's). Each is read
by ``app.imaging.png``'s fast decoders or, for anything else, by Pillow, and must prepare to
exactly the 28×28 input of the same canvas read by Pillow alone (as lossless WebP, which only
Pillow decodes)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from app.imaging.decode import ImageLimits, decode_image
from app.imaging.errors import EmptyImage, ImageTooLarge, InvalidImage
from app.imaging.png import decode_png
from app.imaging.preprocess import prepare_image
from scripts.datasets.canvas import chromium_png, ink_png, page_drawings

N = 300


def encoded(img: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    options = {"lossless": True, "exact": True, "quality": 0, "method": 0} if fmt == "WEBP" else {"compress_level": 1}
    img.save(out, fmt, **options)
    return out.getvalue()


def by_pillow(img: Image.Image) -> np.ndarray:
    """The canvas's input as Pillow alone decodes it (its RGBA exactly, as lossless WebP)."""
    return prepare_image(encoded(img, "WEBP"))


def outcome(data: bytes) -> tuple[bytes, str]:
    """The prepared input's bytes, or why the drawing is empty (a tap is only a speck)."""
    try:
        return prepare_image(data).tobytes(), ""
    except EmptyImage as e:
        return b"", str(e)


@pytest.fixture(scope="module")
def drawings() -> list[Image.Image]:
    return page_drawings(N, seed=26, supersample=2)


def test_every_form_of_a_drawing_prepares_to_the_same_input(drawings: list[Image.Image]) -> None:
    prepared = 0
    for img in drawings:
        reference = outcome(encoded(img, "WEBP"))
        prepared += reference[1] == ""
        for form in (ink_png(img), chromium_png(img), encoded(img)):
            assert outcome(form) == reference
    assert prepared >= 0.95 * N  # nearly all are drawings, not specks


def test_the_fast_decoders_give_pillows_pixels(drawings: list[Image.Image]) -> None:
    for img in drawings[:40]:
        for data in (ink_png(img), chromium_png(img), encoded(img)):
            fast = decode_png(data)
            assert fast is not None
            with Image.open(io.BytesIO(data)) as slow:
                assert fast.mode == slow.mode
                assert np.array_equal(np.asarray(fast.convert("RGBA")), np.asarray(slow.convert("RGBA")))


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        n, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out


def rebuilt(parts: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
                                           for k, d in parts)



def replaced(data: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with chunk ``kind``'s data replaced (and its CRC made right)."""
    return rebuilt([(k, body if k == kind else d) for k, d in chunks(data)])


def palette_image(alpha: np.ndarray, order: np.ndarray) -> Image.Image:
    """Black ink on a palette whose index i has alpha ``order[i]``."""
    p = Image.fromarray(np.argsort(order).astype(np.uint8)[alpha], "P")
    p.putpalette(bytes(768))
    p.info["transparency"] = order.astype(np.uint8).tobytes()
    return p


@pytest.mark.parametrize("order", ["rising", "shuffled"])
def test_a_palette_png_from_another_encoder_reads_as_its_canvas(order: str) -> None:
    """Pillow's encoder, and a palette whose alpha does not rise with the index."""
    img = page_drawings(1, seed=3)[0]
    levels = np.arange(256) if order == "rising" else np.random.default_rng(0).permutation(256)
    data = encoded(palette_image(np.asarray(img.getchannel("A")), levels))
    assert decode_image(data, ImageLimits()).mode == "P"  # read as black ink, from the indices
    assert np.array_equal(prepare_image(data), by_pillow(img))


def test_an_opaque_black_palette_is_as_empty_as_its_rgba() -> None:
    black = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    for data in (ink_png(black), encoded(black, "WEBP")):
        with pytest.raises(EmptyImage, match="no ink stands out"):
            prepare_image(data)


def test_a_transparent_palette_is_empty() -> None:
    with pytest.raises(EmptyImage, match="fully transparent"):
        prepare_image(ink_png(Image.new("RGBA", (280, 280), (0, 0, 0, 0))))


def test_a_coloured_palette_is_read_as_any_image() -> None:
    img = page_drawings(1, seed=5)[0]
    red = replaced(ink_png(img), b"PLTE", bytes([200, 0, 0]) * 256)
    assert decode_png(red) is None
    assert decode_image(red, ImageLimits()).mode == "RGBA"
    rgba = Image.merge("RGBA", (*Image.new("RGB", img.size, (200, 0, 0)).split(), img.getchannel("A")))
    assert np.array_equal(prepare_image(red), by_pillow(rgba))


def test_image_data_longer_than_its_header_says_is_left_to_pillow() -> None:
    img = page_drawings(1, seed=6)[0]
    data = ink_png(img)
    rows = zlib.decompress(dict(chunks(data))[b"IDAT"])
    longer = replaced(data, b"IDAT", zlib.compress(rows + bytes(10 * len(rows))))
    assert decode_png(longer) is None
    assert np.array_equal(prepare_image(longer), by_pillow(img))  # Pillow reads the rows the header gives


@pytest.mark.parametrize("form", ["ink", "chromium"])
def test_a_damaged_png_is_refused_as_before(form: str) -> None:
    img = page_drawings(1, seed=7)[0]
    data = ink_png(img) if form == "ink" else chromium_png(img)
    idat = dict(chunks(data))[b"IDAT"]
    adler = bytearray(data)
    adler[-20] ^= 0xFF  # the last byte of the image data: its zlib checksum
    header = bytearray(data)
    header[30] ^= 0xFF  # the header's CRC
    for bad in (replaced(data, b"IDAT", idat[: len(idat) // 2]), bytes(adler), bytes(header)):
        assert decode_png(bad) is None
        with pytest.raises(InvalidImage):
            prepare_image(bad)


def test_image_data_in_several_chunks_is_read_and_out_of_order_is_left_to_pillow() -> None:
    img = page_drawings(1, seed=8)[0]
    parts = chunks(ink_png(img))
    idat = dict(parts)[b"IDAT"]
    at = parts.index((b"IDAT", idat))

    def with_idat(*middle: tuple[bytes, bytes]) -> bytes:
        return rebuilt(parts[:at] + list(middle) + parts[at + 1:])

    two = with_idat((b"IDAT", idat[:50]), (b"IDAT", idat[50:]))
    assert decode_png(two) is not None
    assert np.array_equal(prepare_image(two), by_pillow(img))
    interrupted = with_idat((b"IDAT", idat[:50]), (b"tEXt", b"a\0b"), (b"IDAT", idat[50:]))
    assert decode_png(interrupted) is None
    with pytest.raises(InvalidImage):  # Pillow's reading: the image data ends at the text
        prepare_image(interrupted)
    header_second = rebuilt([parts[1], parts[0], *parts[2:]])
    assert decode_png(header_second) is None
    assert np.array_equal(prepare_image(header_second), by_pillow(img))  # Pillow's reading


def test_a_png_over_the_limits_is_refused_before_it_is_inflated() -> None:
    img = page_drawings(1, seed=9)[0]
    for data in (ink_png(img), chromium_png(img)):
        with pytest.raises(ImageTooLarge, match=f"{img.width}×{img.height} px; the limit is 200 px"):
            prepare_image(data, ImageLimits(max_side=200))
