"""Write examples/: the files the README's curl commands send (committed; this remakes them).

    python -m scripts.make_examples

``digit.png``: a 7 as a canvas would export it (black ink, alpha coverage, 280×280);
``number.png``: "2026" drawn with round-pen strokes on a 900×300 transparent canvas;
``pixels.json``: a prepared 28×28 input (the /docs example 2), white ink on black in [0, 1]."""

from __future__ import annotations

import io
import json

from PIL import Image, ImageDraw

from app.api.examples import PIXELS_2
from model.glyphs import DIGITS
from scripts import project_root
from scripts.bench_preprocess import canvas_png

OUT = project_root() / "examples"
NUMBER = ["2 plain", "0 oval", "2 plain", "6 loop"]


def number_png(size: tuple[int, int] = (900, 300), pen: float = 0.07) -> bytes:
    W, H = size
    mask = Image.new("L", (2 * W, 2 * H), 0)
    d = ImageDraw.Draw(mask)
    r = pen * H
    for k, name in enumerate(NUMBER):
        x0, y0, w, h = 2 * (120 + 180 * k), 2 * 60, 2 * 110, 2 * 180
        for stroke in DIGITS[name][1]:
            pts = [(x0 + x * w, y0 + y * h) for x, y in stroke]
            d.line(pts, fill=255, width=round(2 * r))
            for px, py in pts:
                d.ellipse((px - r, py - r, px + r, py + r), fill=255)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.putalpha(mask.resize(size, Image.Resampling.BOX))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / "digit.png").write_bytes(canvas_png())
    (OUT / "number.png").write_bytes(number_png())
    (OUT / "pixels.json").write_text(json.dumps(PIXELS_2) + "\n")
    print(f"wrote digit.png, number.png and pixels.json to {OUT}")


if __name__ == "__main__":
    main()
