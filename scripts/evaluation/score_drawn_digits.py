"""Score the drawn-digits test set through the real API, per ink style and stroke.

    python -m scripts.datasets.make_drawn_digits                   # once: data/drawn/
    python -m scripts.evaluation.score_drawn_digits                  # in-process app, weights/digitpad.npz
    python -m scripts.evaluation.score_drawn_digits --weights /tmp/dev-weights.npz
    python -m scripts.evaluation.score_drawn_digits --url http://127.0.0.1:8000   # a running server

Every image is sent as a data URL to ``POST /api/predict``, exactly as the page
does; it counts as read right when the digit is right and the verdict is not
"not a digit". For comparison the same MNIST test digits, untouched, are sent as
``pixels``, and the model's accuracy on all 10 000 MNIST test digits is read
from ``GET /api/model``. The goal: drawn accuracy within 1 point of MNIST's.
"""

from __future__ import annotations

import argparse
import base64
import csv
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from model.mnist import load_split


class Client(Protocol):
    def get(self, url: str) -> Any: ...
    def post(self, url: str, *, json: Any) -> Any: ...


@contextmanager
def client(url: str | None, weights: Path) -> Iterator[Client]:
    if url:
        import httpx

        with httpx.Client(base_url=url, timeout=30) as c:
            yield c
    else:
        from fastapi.testclient import TestClient

        from app.main import create_app
        from app.settings import Settings

        with TestClient(create_app(Settings(weights=weights))) as c:
            yield c


def predict_digit(c: Client, body: dict[str, Any]) -> int:
    """The digit read, or -1 when the answer is an error or "not a digit" (a digit not read)."""
    r = c.post("/api/predict", json=body)
    if r.status_code != 200:
        print(f"  {r.status_code} {r.json()}", file=sys.stderr)
        return -1
    answer = r.json()
    return -1 if answer.get("verdict") == "not_a_digit" else int(answer["digit"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/drawn"), help="drawn set (default: %(default)s)")
    p.add_argument("--mnist", type=Path, default=Path("data/mnist"), help="MNIST folder (default: %(default)s)")
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"),
                   help="weights for the in-process app (default: %(default)s)")
    p.add_argument("--url", default=None, help="score a running server instead (default: in-process)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N images (default: all)")
    args = p.parse_args()

    with open(args.data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:args.limit]
    X, y, _ = load_split(args.mnist, "t10k")
    hits: dict[str, list[bool]] = defaultdict(list)
    with client(args.url, args.weights) as c:
        model = c.get("/api/model").json()
        for k, row in enumerate(rows):
            png = (args.data / row["file"]).read_bytes()
            digit = predict_digit(c, {"image": "data:image/png;base64," + base64.b64encode(png).decode()})
            ok = digit == int(row["label"])
            for key in ("all", f"style {row['style']}", f"stroke {row['stroke']}"):
                hits[key].append(ok)
            i = int(row["mnist_index"])
            hits["same digits as MNIST pixels"].append(
                predict_digit(c, {"pixels": X[i].tolist()}) == int(y[i]))
            if (k + 1) % 200 == 0:
                print(f"  {k + 1}/{len(rows)}: {np.mean(hits['all']):.2%}", file=sys.stderr)

    print(f"model {model['name']} {model['version']}: MNIST test accuracy {model['test_accuracy']:.2%} "
          f"(10 000 digits)")
    for key in sorted(hits, key=lambda k: (k != "all", k)):
        v = hits[key]
        print(f"  {key:32s} {np.mean(v):7.2%}  ({sum(v)}/{len(v)})")
    gap = 100 * (model["test_accuracy"] - np.mean(hits["all"]))
    print(f"drawn digits are {gap:+.2f} points below MNIST test accuracy (goal: ≤ 1)")


if __name__ == "__main__":
    main()
