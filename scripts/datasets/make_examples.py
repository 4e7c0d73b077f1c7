"""Write examples/: the files the curl commands of README.md and docs/api.md send (committed; this remakes them).

    python -m scripts.datasets.make_examples

``digit.png``: a 7 as a canvas would export it (black ink, alpha coverage, 280×280);
``number.png``: "2026" drawn with round-pen strokes on a 900×300 transparent canvas;
``pixels.json``: a prepared 28×28 input (the /docs example 2), white ink on black in [0, 1]."""

from __future__ import annotations

import json

from app.api.examples import PIXELS_2
from model.glyphs import DIGITS
from scripts import project_root
from scripts.datasets.canvas import seven_png, strokes_png

OUT = project_root() / "examples"
NUMBER = ["2 plain", "0 oval", "2 plain", "6 loop"]


def number_2026_png(size: tuple[int, int] = (900, 300), pen: float = 0.07) -> bytes:
    strokes = [[(120 + 180 * k + x * 110, 60 + y * 180) for x, y in stroke]
               for k, name in enumerate(NUMBER) for stroke in DIGITS[name][1]]
    return strokes_png(strokes, size, pen * size[1])


def main() -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / "digit.png").write_bytes(seven_png())
    (OUT / "number.png").write_bytes(number_2026_png())
    (OUT / "pixels.json").write_text(json.dumps(PIXELS_2) + "\n")
    print(f"wrote digit.png, number.png and pixels.json to {OUT}")


if __name__ == "__main__":
    main()
