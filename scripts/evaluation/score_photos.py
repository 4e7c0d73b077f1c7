"""Score a photo-like test set through the real API, with each condition's figure beside it.

    python -m scripts.datasets.make_photos --kind digits --count 600 --seed 0 --out data/photos/digits
    python -m scripts.evaluation.score_photos data/photos/digits              # in-process app, weights/digitpad.npz
    python -m scripts.evaluation.score_photos data/photos/numbers --url http://127.0.0.1:8000
    python -m scripts.evaluation.score_photos data/photos/nondigits --send dataurl
    python -m scripts.evaluation.score_photos data/photos/numbers --clean 0   # also the writing before the photo

Each file goes to the API as it is, as an upload (``/api/predict/file``, ``/api/read/file``; the
default) or as a data URL in a JSON body (``/api/predict``, ``/api/read``): digits and non-digits
to predict, numbers to read. What counts:

- digits: read right (the digit right, the verdict not ``not_a_digit``), rejected (``not_a_digit``
  or ``empty_image``) or wrong;
- numbers: read exactly (``text`` is the number's digits);
- non-digits: answered honestly (``empty_image``, ``not_a_digit`` or ``unsure``), not with a
  confident digit.

A body over the server's limit (413) or an image over its size limits (``image_too_large``) is
"refused: too large", apart from the rest; any other error is shown with its code. Below the
totals, the share right (or exact, or honest) for each value of each condition in labels.csv
(numbers binned), so a reader sees what fails; and the mean time per image (wall, and CPU of
this process when the app runs in it).

``--clean SEED`` (digits and numbers) also sends each photo's writing as ``make_photos`` drew it
before the paper, the light and the camera: the photo's own random stream is run again from the
seed the set was made with (``make_set``'s, default sides), and its clean coverage is sent as a
black-on-white PNG drawing to the same route. That says how much of what is missed is the photo
path's (the clean writing reads right, the photo does not) and how much the writing's own (an
MNIST digit the model misreads however it is sent).
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import itertools
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from model.mnist import load_split
from scripts.evaluation.score_drawn_digits import client
from scripts.harness.machine import cpu_name

ROUTES = {"digits": "/api/predict", "numbers": "/api/read", "nondigits": "/api/predict"}
GOOD = {"digits": "read right", "numbers": "read exactly", "nondigits": "honest"}
TOO_LARGE = "refused: too large"
CLEAN_SIDES = (600, 3000)  # make_photos' default sides: the clean writing is drawn again as make_set drew it
CLEAN_MARGIN = 20  # px of white round the clean writing
CONDITIONS = ("source", "paper", "ruling", "ink", "stroke", "lighting", "darkening", "vignette", "shadow", "glare",
              "edge", "table", "rotation", "perspective", "tint", "exposure", "noise", "blur", "motion", "sharpen",
              "jpeg", "exif", "mode", "long side", "digit_height", "bytes", "digits")
BINS: dict[str, tuple[float, ...]] = {  # bin edges of the numeric conditions (a value at an edge goes above)
    "stroke": (0.05, 0.09), "darkening": (0.01, 0.45), "vignette": (0.1, 0.25), "glare": (0.01, 0.5),
    "rotation": (2, 5), "perspective": (0.02, 0.04), "exposure": (0.9, 1.0), "noise": (5, 10),
    "blur": (0.5, 1.25), "motion": (0.01,), "sharpen": (0.01,), "jpeg": (60, 80),
    "long side": (1000, 2000), "digit_height": (150, 300), "bytes": (1 << 19, 1 << 20),
}


def send(c: Any, route: str, name: str, data: bytes, how: str, media: str = "image/jpeg") -> Any:
    """POST one file as an upload or as a data URL; the response."""
    if how == "upload":
        return c.post(f"{route}/file?preview=false", files={"file": (name, data, media)})
    url = f"data:{media};base64," + base64.b64encode(data).decode()
    return c.post(f"{route}?preview=false", json={"image": url})


def clean_writing(rows: list[dict[str, str]], seed: int, X: NDArray[np.float32], y: NDArray[np.uint8],
                  sides: tuple[int, int] = CLEAN_SIDES) -> list[bytes]:
    """Each photo's writing before the paper, the light and the camera (``make_photos.placed_photo``
    run again on the photo's own random stream, with the MNIST digits X, y and the ``sides`` the
    set was made with), as a PNG: black ink on white, a margin round it."""
    from scripts.datasets import make_photos as mp
    fonts = mp.font_files(mp.FONT_FOLDERS)
    pngs = []
    for row in rows:
        rng = np.random.default_rng([seed, mp.KINDS.index(row["kind"]), int(row["file"].split("_")[0])])
        cond = mp.draw_conditions(row["kind"], rng, sides, False)
        _, label, placed = mp.placed_photo(row["kind"], cond, X, y, fonts, rng, sides[1])
        if label != row["label"] or placed.ink is None:
            raise SystemExit(f"{row['file']}: seed {seed} draws {label!r}, not {row['label']!r}: the set was made "
                             "with another seed, other sides, or another version of make_photos")
        grey = np.round(255 * (1 - np.clip(placed.ink, 0, 1))).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(np.pad(grey, CLEAN_MARGIN, constant_values=255), "L").save(buf, "PNG")
        pngs.append(buf.getvalue())
    return pngs


def outcome(kind: str, label: str, status: int, answer: dict[str, Any]) -> str:
    """What the answer was, in the scorer's words (the good one is GOOD[kind])."""
    code = answer.get("code", "")
    if status == 413 or code == "image_too_large":
        return TOO_LARGE
    if kind == "numbers":
        return "read exactly" if status == 200 and answer.get("text") == label else (
            "misread" if status == 200 else f"error {code or status}")
    rejected = code == "empty_image" or answer.get("verdict") == "not_a_digit"
    if kind == "nondigits":
        if rejected or answer.get("verdict") == "unsure":
            return "honest"
        return "confident digit" if status == 200 else f"error {code or status}"
    if rejected:
        return "rejected"
    if status != 200:
        return f"error {code or status}"
    return "read right" if str(answer["digit"]) == label else "wrong"


def bin_names(key: str) -> list[str]:
    """The names of a numeric condition's bins, lowest first: "< a", "a–b", …, "≥ z"."""
    edges = [f"{e / 1024:.0f} KiB" if key == "bytes" else f"{e:g}" for e in BINS[key]]
    return [f"< {edges[0]}"] + [f"{a}–{b}" for a, b in itertools.pairwise(edges)] + [f"≥ {edges[-1]}"]


def bin_of(key: str, value: float) -> str:
    return bin_names(key)[int(np.searchsorted(BINS[key], value, side="right"))]


def in_order(key: str, group: str) -> tuple[int, str]:
    """Bins low to high, other values alphabetically (numbers as numbers)."""
    if key in BINS:
        return bin_names(key).index(group), ""
    return (0, f"{float(group):012.3f}") if group.replace(".", "", 1).isdigit() else (0, group)


def groups(row: dict[str, str]) -> dict[str, str]:
    """Each condition's group for this row: its value, or its bin."""
    values = dict(row)
    values["long side"] = str(max(int(row["width"]), int(row["height"])))
    values["rotation"] = str(abs(float(row["rotation"])))
    if row["kind"] == "numbers":
        values["digits"] = str(len(row["label"]))
    return {key: bin_of(key, float(values[key])) if key in BINS else values[key]
            for key in CONDITIONS if key in values}


def score(rows: list[dict[str, str]], folder: Path, c: Any, how: str, clean: list[bytes] | None = None
          ) -> tuple[list[str], list[float], list[float]]:
    """Each row's outcome, and the wall and CPU seconds its request took (``clean``: those PNGs
    sent instead of the photos)."""
    outcomes, wall, cpu = [], [], []
    for k, row in enumerate(rows):
        t, p = time.perf_counter(), time.process_time()
        if clean is None:
            r = send(c, ROUTES[row["kind"]], row["file"], (folder / row["file"]).read_bytes(), how)
        else:
            r = send(c, ROUTES[row["kind"]], "clean.png", clean[k], how, "image/png")
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - p)
        answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        outcomes.append(outcome(row["kind"], row["label"], r.status_code, answer))
    return outcomes, wall, cpu


def report(kind: str, rows: list[dict[str, str]], outcomes: list[str]) -> None:
    """The totals, then each condition's groups: the share with the good outcome, and how many."""
    n = len(outcomes)
    counts = Counter(outcomes)
    order = [GOOD[kind], *(o for o in ("rejected", "wrong", "misread", "confident digit") if o in counts)]
    order += sorted(o for o in counts if o not in order)
    for o in order:
        print(f"  {o:28s} {100 * counts[o] / n:6.1f} %  ({counts[o]}/{n})")
    by: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row, o in zip(rows, outcomes, strict=True):
        for key, group in groups(row).items():
            by[key][group].append(o == GOOD[kind])
    print(f"  by condition ({GOOD[kind]} %, photos):")
    for key in CONDITIONS:
        if key in by and len(by[key]) > 1:
            ordered = sorted(by[key].items(), key=lambda item: in_order(key, item[0]))
            parts = [f"{g} {100 * np.mean(v):.0f} ({len(v)})" for g, v in ordered]
            print(f"    {key:13s} " + " · ".join(parts))


def compare_clean(rows: list[dict[str, str]], photo: list[str], clean: list[str]) -> None:
    """The clean writing's figure beside the photos', overall and by source, and what the photo
    path loses (the clean writing right, its photo not) and gains."""
    good = GOOD[rows[0]["kind"]]
    print(f"the same writing before the photo (clean, drawn: no paper, light or camera), {good}:")
    for source in [None, *sorted({r["source"] for r in rows})]:
        pick = [i for i, r in enumerate(rows) if source is None or r["source"] == source]
        c = sum(clean[i] == good for i in pick)
        ph = sum(photo[i] == good for i in pick)
        lost = sum(clean[i] == good and photo[i] != good for i in pick)
        gained = sum(clean[i] != good and photo[i] == good for i in pick)
        name = "all" if source is None else f"source {source}"
        print(f"  {name:16s} clean {100 * c / len(pick):5.1f} %, photo {100 * ph / len(pick):5.1f} % "
              f"({len(pick)}): the photo path loses {lost}, gains {gained}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path, help="a folder written by scripts.datasets.make_photos")
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"),
                   help="weights for the in-process app (default: %(default)s)")
    p.add_argument("--url", default=None, help="score a running server instead (default: in-process)")
    p.add_argument("--send", choices=["upload", "dataurl"], default="upload",
                   help="as a file upload or a data URL in JSON (default: %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N photos (default: all)")
    p.add_argument("--clean", type=int, default=None, metavar="SEED",
                   help="also the writing before the photo, drawn again from the seed the set was made with")
    p.add_argument("--mnist", type=Path, default=Path("data/mnist"),
                   help="MNIST folder for --clean, as make_photos was given (default: %(default)s)")
    args = p.parse_args()
    with open(args.data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:args.limit]
    if args.clean is not None and any(r["kind"] == "nondigits" for r in rows):
        p.error("--clean takes sets of digits or numbers")
    clean = None if args.clean is None else clean_writing(rows, args.clean, *load_split(args.mnist, "t10k")[:2])
    with client(args.url, args.weights) as c:
        outcomes, wall, cpu = score(rows, args.data, c, args.send)
        clean_outcomes = None if clean is None else score(rows, args.data, c, args.send, clean)[0]
    for kind in sorted({r["kind"] for r in rows}):
        mine = [(r, o) for r, o in zip(rows, outcomes, strict=True) if r["kind"] == kind]
        where = args.url or f"in-process app, {args.weights}"
        print(f"{kind}: {len(mine)} photos in {args.data} ({where}, sent as {args.send}s)")
        report(kind, [r for r, _ in mine], [o for _, o in mine])
    if clean_outcomes is not None:
        compare_clean(rows, outcomes, clean_outcomes)
    cpu_text = "" if args.url else f", {1000 * np.mean(cpu):.1f} ms CPU (this process, all threads)"
    print(f"mean time per image: {1000 * np.mean(wall):.1f} ms wall{cpu_text}")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, load average {load}")


if __name__ == "__main__":
    main()
