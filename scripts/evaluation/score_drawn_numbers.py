"""Score the drawn-numbers test set through the real API: ``POST /api/read``, read exactly or not.

    python -m scripts.datasets.make_drawn_numbers                  # once: data/numbers/
    python -m scripts.evaluation.score_drawn_numbers                 # in-process app, weights/digitpad.npz
    python -m scripts.evaluation.score_drawn_numbers --url http://127.0.0.1:8000

Every image is sent as a data URL, as the page does; a number counts as read when ``text`` is
exactly its digits. Printed: the share read exactly with no touching digits and with one
touching pair (goals: 98 % and 85 %), by length, ink style and pen, and the mean time a read
took (in-process only). For MNIST numbers it also reads each digit as drawn apart (``parts/``)
with the network in ``--weights`` (in-process, also with ``--url``): what the reading would be
if every cut were perfect, the network's own share of the misses, with and without touching
digits and by pen."""

from __future__ import annotations

import argparse
import base64
import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from app.imaging.preprocess import fit_mnist
from app.serving.predictor import Predictor
from model.verdict import in_a_number, verdict
from scripts.evaluation.score_drawn_digits import client


def perfect_cuts(parts: Path, predictor: Predictor) -> str:
    """The text the network reads from a number's digits drawn apart (make_drawn_numbers's parts)."""
    with np.load(parts) as npz:
        X = np.stack([fit_mnist(Image.fromarray(npz[k])) for k in npz.files])
    P, none = predictor.predict(X)
    thresholds = in_a_number(predictor.thresholds)
    return "".join("?" if verdict(p, float(q), thresholds)[0] == "not_a_digit" else str(int(p.argmax()))
                   for p, q in zip(P, none, strict=True))


def show(shares: dict[str, list[bool]], indent: str) -> None:
    """Each key's share right, the two touching kinds first."""
    for key in sorted(shares, key=lambda k: (not k.startswith(("no", "one")), k)):
        v = shares[key]
        print(f"{indent}{key:{26 - len(indent)}s} {np.mean(v):7.2%}  ({sum(v)}/{len(v)})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/numbers"), help="(default: %(default)s)")
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"), help="(default: %(default)s)")
    p.add_argument("--url", default=None, help="score a running server instead (default: in-process)")
    p.add_argument("--show", type=int, default=10, help="misreads to print (default: %(default)s)")
    args = p.parse_args()
    with open(args.data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    hits: dict[str, list[bool]] = defaultdict(list)
    perfect: dict[str, list[bool]] = defaultdict(list)
    predictor = Predictor.load(args.weights)
    misses, seconds = [], []
    with client(args.url, args.weights) as c:
        for row in rows:
            png = (args.data / row["file"]).read_bytes()
            t = time.perf_counter()
            image = "data:image/png;base64," + base64.b64encode(png).decode()
            r = c.post("/api/read?preview=false", json={"image": image})
            seconds.append(time.perf_counter() - t)
            text = r.json().get("text") if r.status_code == 200 else f"{r.status_code} {r.json().get('code')}"
            ok = text == row["text"]
            kind = "one touching pair" if row["touching"] == "1" else "no touching digits"
            for key in (kind, f"{len(row['text'])} digits", f"style {row['style']}", f"stroke {row['stroke']}"):
                hits[key].append(ok)
            if not ok:
                misses.append((row["file"], row["text"], text))
            parts = args.data / "parts" / row["file"].replace(".png", ".npz")
            if parts.is_file():
                right = perfect_cuts(parts, predictor) == row["text"]
                for key in (kind, f"stroke {row['stroke']}"):
                    perfect[key].append(right)
    show(hits, "  ")
    if perfect:
        print("  with perfect cuts (the network alone, each digit drawn apart):")
        show(perfect, "    ")
    print(f"mean time per read through the API: {np.mean(seconds) * 1000:.1f} ms")
    for name, truth, got in misses[:args.show]:
        print(f"  {name}: {truth} read as {got}")


if __name__ == "__main__":
    main()
