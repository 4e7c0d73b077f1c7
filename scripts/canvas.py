"""Drawings as the page's canvas exports them, for the benchmarks and examples: strokes drawn
with a round pen (round caps and joins), black ink with alpha = coverage on transparency, drawn
``supersample`` times larger and box-reduced so the edges are anti-aliased like a browser's."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]  # points in the canvas's pixels


def canvas_png(strokes: list[Stroke], size: tuple[int, int], pen: float, supersample: int = 2) -> bytes:
    """``strokes`` on a ``size`` canvas with a pen ``pen`` pixels wide, as PNG bytes."""
    W, H = size
    mask = Image.new("L", (W * supersample, H * supersample), 0)
    d = ImageDraw.Draw(mask)
    r = pen * supersample / 2
    for stroke in strokes:
        pts = [(x * supersample, y * supersample) for x, y in stroke]
        if len(pts) > 1:
            d.line(pts, fill=255, width=round(2 * r))
        for x, y in pts:
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.putalpha(mask.resize(size, Image.Resampling.BOX))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()
