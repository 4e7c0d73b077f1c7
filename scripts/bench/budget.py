"""Where the imaging cost model's defaults come from, and what they buy (a benchmark, not a test).

    python -m scripts.bench.budget                           # the sets under data/, the probes
    python -m scripts.bench.budget --sets /tmp/numbers data/drawn --every 4
    python -m scripts.bench.budget --probes-only

Part 1, the real drawings: every PNG of each drawn test set (``make_drawn_digits``,
``make_drawn_numbers`` with each source; the folders given with ``--sets``) goes through
``/api/read``'s path (segmentation, every candidate read by the network) and ``/api/predict``'s
path (``prepare_image``) with no budget, and the largest of each count of the cost model
(``app.imaging.budget``) is printed beside its default limit, with the share of drawings that
reach it (must be none).

Part 2, the probes (``scripts.harness.costly``: the cheapest bodies that cost the most): the CPU
time (``time.process_time``, this process) of ``read_number``, ``predict_one`` and
``explain_one`` on each, beside the same for a typical drawing (``examples/number.png``,
``examples/digit.png``), and how each ended (answered, or the error's code).

BLAS threads: one (``OPENBLAS_NUM_THREADS=1``), as the server's CPU threads run."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import base64
import contextlib
import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.api.routes.explain import explain_one
from app.api.routes.predict import predict_one
from app.api.routes.read import number_ink, read_number
from app.api.schemas import ExplainRequest, PredictRequest
from app.imaging.budget import Budget, Work
from app.imaging.decode import ImageLimits
from app.imaging.errors import InputError
from app.imaging.preprocess import prepare_image
from app.imaging.segment import segment
from app.serving.executor import Job
from app.serving.predictor import Predictor
from scripts.harness import costly
from scripts.harness.costly import least_cpu

UNBOUNDED = ImageLimits(budget=Budget().scaled(1e6))
PROBES: dict[str, Callable[[], str]] = {
    "thin_lines": costly.thin_lines, "specks": costly.specks, "comb": costly.comb,
    "comb 256 teeth": lambda: costly.comb(teeth=256), "comb 340 teeth": lambda: costly.comb(teeth=340),
    "checkerboard": costly.checkerboard, "mesh": costly.mesh, "rings": costly.rings,
    "zigzag": costly.zigzag, "wide_pieces": costly.wide_pieces, "mesh 16": lambda: costly.mesh(step=16),
    "rings 16": lambda: costly.rings(step=16), "rings 96": lambda: costly.rings(step=96),
    "comb 20 teeth": lambda: costly.comb(teeth=20),
}


def counts(png: bytes, predictor: Predictor) -> dict[str, int]:
    """The cost model's counts of one drawing on both paths, with no budget."""
    work = Work(UNBOUNDED.budget)
    ink, _, _ = number_ink(png, None, UNBOUNDED)

    def read(X: np.ndarray) -> np.ndarray:
        P, none = predictor.predict(X)
        return np.asarray(P.max(axis=1) * (1.0 - none))

    for path in (lambda: segment(ink, read, work), lambda: prepare_image(png, UNBOUNDED, work)):
        with contextlib.suppress(InputError):  # refused for another reason (too many digits): still counted
            path()
    return work.counts


def real_sets(folders: list[Path], every: int, predictor: Predictor) -> None:
    limits = Budget()
    names = [f.name for f in dataclasses.fields(limits)]
    print(f"{'set':28s} {'drawings':>8s} " + " ".join(f"{n:>16s}" for n in names))
    worst = dict.fromkeys(names, 0)
    for folder in folders:
        files = sorted(folder.glob("*.png"))[::every]
        seen = [counts(f.read_bytes(), predictor) for f in files]
        most = {n: max((c.get(n, 0) for c in seen), default=0) for n in names}
        over = sum(any(c.get(n, 0) > getattr(limits, n) for n in names) for c in seen)
        worst = {n: max(worst[n], most[n]) for n in names}
        print(f"{folder.name:28s} {len(files):8d} " + " ".join(f"{most[n]:16,d}" for n in names)
              + f"   over a limit: {over}")
    print(f"{'largest':28s} {'':8s} " + " ".join(f"{worst[n]:16,d}" for n in names))
    print(f"{'limit (default)':28s} {'':8s} " + " ".join(f"{getattr(limits, n):16,d}" for n in names))
    print(f"{'margin':28s} {'':8s} " + " ".join(f"{getattr(limits, n) / max(worst[n], 1):15.1f}×" for n in names))


def probes(predictor: Predictor) -> None:
    limits = ImageLimits()
    typical = {"number.png (typical)": Path("examples/number.png"), "digit.png (typical)": Path("examples/digit.png")}
    bodies = {name: base64.b64encode(p.read_bytes()).decode() for name, p in typical.items()}
    bodies |= {name: make() for name, make in PROBES.items()}
    print(f"\n{'body':22s} {'bytes':>7s} {'read ms':>9s} {'ended':>15s} {'predict ms':>11s} {'ended':>15s} "
          f"{'explain ms':>11s} {'ended':>15s}")
    for name, body in bodies.items():
        data = base64.b64decode(body)
        r = least_cpu(functools.partial(read_number, Job(), data, None, limits, predictor, True), enough=0.05)
        one, why = PredictRequest.model_validate({"image": body}), ExplainRequest.model_validate({"image": body})
        p = least_cpu(functools.partial(predict_one, Job(), one, limits, predictor, True), enough=0.05)
        e = least_cpu(functools.partial(explain_one, Job(), why, limits, predictor), enough=0.05)
        print(f"{name:22s} {len(data):7d} {r[0] * 1000:9.1f} {r[1]:>15s} {p[0] * 1000:11.1f} {p[1]:>15s} "
              f"{e[0] * 1000:11.1f} {e[1]:>15s}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", type=Path, nargs="*", default=None,
                   help="folders of drawn test sets (default: data/drawn and data/numbers*)")
    p.add_argument("--every", type=int, default=1, help="take every n-th drawing of each set (default: %(default)s)")
    p.add_argument("--weights", type=Path, default=Path("weights/digitpad.npz"), help="(default: %(default)s)")
    p.add_argument("--probes-only", action="store_true", help="skip the real sets")
    args = p.parse_args()
    predictor = Predictor.load(args.weights)
    if not args.probes_only:
        folders = args.sets if args.sets is not None else sorted(Path("data").glob("drawn*")) + sorted(
            Path("data").glob("numbers*"))
        real_sets(folders, args.every, predictor)
    probes(predictor)


if __name__ == "__main__":
    main()
