"""The canvas payload: what each form of a drawing costs the server to decode and prepare (a benchmark).

    python -m scripts.bench.canvas                          # 60 drawings, 15 rounds
    python -m scripts.bench.canvas --drawings 100 --rounds 20
    python -m scripts.bench.canvas --write /tmp/forms       # also each form's files, a folder each

The drawings are ``scripts.datasets.canvas.page_drawings``: digits and non-digits as people draw
them on the page, 280 px high (the page's export), one in eight on a wide pad. Each is sent in
the forms below; for each form the table gives the payload (the PNG or WebP file, and the data
URL the JSON carries), the decode (``decode_image``) and the decode and preparation together
(``prepare_image``: the 28×28 input), as the median CPU time of one drawing, and that against
the page's form before (Chromium's RGBA PNG decoded by Pillow). Rows marked "Pillow" decode with
Pillow alone, as the server did before ``app.imaging.png``; the others as the server does now.
Every round runs every form on every drawing, so load falls on all of them alike.

"Strokes as points" is the drawing sent as its points (JSON, 1/1000 of the pad) and drawn on the
server (Pillow, 4× supersampled, as ``scripts.datasets.canvas`` draws): its "decode" is that
drawing. A browser's canvas draws its edges otherwise, so that form cannot give the page's
input exactly; it is here for its cost."""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.imaging.decode import ImageLimits, decode_image
from app.imaging.preprocess import prepare_decoded, prepare_image
from scripts.datasets.canvas import Stroke, chromium_png, ink_png, page_strokes, strokes_image
from scripts.harness.machine import cpu_name

LIMITS = ImageLimits()
PEN = 0.07  # of the canvas's height, as static/pad.js draws


@dataclass
class Form:
    name: str
    payloads: list[bytes]
    decode: Callable[[bytes], Image.Image]
    prepare: Callable[[bytes], object]
    data_url: bool = True  # sent as a data URL (else as JSON text)


def pillow_decode(data: bytes) -> Image.Image:
    """``decode_image`` as it was with Pillow alone (for these small images: load, then RGB or RGBA)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.convert("RGBA" if img.has_transparency_data else "RGB")


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def grey_alpha_png(img: Image.Image) -> bytes:
    return encoded(Image.merge("LA", (Image.new("L", img.size), img.getchannel("A"))), "PNG")


def points_json(strokes: list[Stroke], size: tuple[int, int]) -> bytes:
    H = size[1]
    return json.dumps({"size": size, "strokes": [[[round(x / H, 3), round(y / H, 3)] for x, y in s]
                                                 for s in strokes]}).encode()


def drawn(text: bytes) -> Image.Image:
    """Strokes as points (``points_json``) drawn on the server."""
    d = json.loads(text)
    W, H = d["size"]
    return strokes_image([[(x * H, y * H) for x, y in s] for s in d["strokes"]], (W, H), PEN * H, 4)


def forms(n: int) -> list[Form]:
    drawings = page_strokes(n, seed=26)
    canvases = [strokes_image(s, size, PEN * size[1], 4) for s, size in drawings]
    chromium = [chromium_png(c) for c in canvases]
    pillow_rgba = [encoded(c, "PNG") for c in canvases]
    now = lambda b: decode_image(b, LIMITS)  # noqa: E731
    before = lambda b: prepare_decoded(pillow_decode(b))  # noqa: E731
    return [
        Form("RGBA PNG, Chromium's (the page before), Pillow", chromium, pillow_decode, before),
        Form("RGBA PNG, Chromium's, libspng (now)", chromium, now, prepare_image),
        Form("RGBA PNG, Pillow's encoder, Pillow", pillow_rgba, pillow_decode, before),
        Form("RGBA PNG, Pillow's encoder, libspng (now)", pillow_rgba, now, prepare_image),
        Form("palette PNG (the page now), Pillow", [ink_png(c) for c in canvases], pillow_decode, before),
        Form("palette PNG (the page now), zlib-ng (now)", [ink_png(c) for c in canvases], now, prepare_image),
        Form("grey + alpha PNG, Pillow", [grey_alpha_png(c) for c in canvases], now, prepare_image),
        Form("lossless WebP, Pillow", [encoded(c, "WEBP", lossless=True, exact=True) for c in canvases], now,
             prepare_image),
        Form("strokes as points, drawn on the server", [points_json(s, size) for s, size in drawings], drawn,
             lambda b: prepare_decoded(drawn(b)), data_url=False),
    ]


def write(table: list[Form], folder: Path) -> None:
    """Each form's payloads as files: ``folder``/<form>/<drawing>.<png, webp or json>."""
    for f in table:
        kind = re.sub(r"[^a-z0-9]+", "-", f.name.lower()).strip("-")
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for k, data in enumerate(f.payloads):
            ext = "json" if not f.data_url else "webp" if data[:4] == b"RIFF" else "png"
            (folder / kind / f"{k:03d}.{ext}").write_bytes(data)


def cpu_ms(fn: Callable[[bytes], object], data: bytes) -> float:
    t0 = time.process_time_ns()
    fn(data)
    return (time.process_time_ns() - t0) / 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--drawings", type=int, default=60, help="drawings (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=15, help="rounds of every form on each drawing (default: %(default)s)")
    p.add_argument("--write", type=Path, help="write each form's payloads to a folder of its own here")
    args = p.parse_args()

    table = forms(args.drawings)
    if args.write:
        write(table, args.write)
    decode: dict[str, list[float]] = {f.name: [] for f in table}
    both: dict[str, list[float]] = {f.name: [] for f in table}
    for _ in range(args.rounds):
        for f in table:
            for data in f.payloads:
                decode[f.name].append(cpu_ms(f.decode, data))
                both[f.name].append(cpu_ms(f.prepare, data))

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, load average {load}")
    print(f"{args.drawings} drawings (280 px high), {args.rounds} rounds; median CPU ms of one drawing")
    base = statistics.median(both[table[0].name])
    print(f"{'form':50s} {'file B':>7s} {'sent B':>7s} {'decode':>7s} {'+prepare':>9s} {'ratio':>6s}")
    for f in table:
        size = statistics.median(len(d) for d in f.payloads)
        sent = statistics.median(len(base64.b64encode(d)) + 22 if f.data_url else len(d) for d in f.payloads)
        total = statistics.median(both[f.name])
        print(f"{f.name:50s} {size:7.0f} {sent:7.0f} {statistics.median(decode[f.name]):7.3f} "
              f"{total:9.3f} {total / base:6.2f}")


if __name__ == "__main__":
    main()
