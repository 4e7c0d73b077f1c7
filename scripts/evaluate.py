"""Measure a weights file on the 10,000 MNIST test images.

    python -m scripts.evaluate                                   # weights/digitpad.npz
    python -m scripts.evaluate weights/mlp.npz --errors artifacts/mlp-errors.png
    python -m scripts.evaluate --table weights/blog.npz weights/mlp.npz weights/digitpad.npz

Prints test accuracy (argmax over 0–9), per-class accuracy, the confusion
matrix, the expected calibration error (15 bins) of the digits' probabilities at
temperature 1 and at the stored temperature, and, for the verdicts: the share of
MNIST test digits wrongly rejected as "not a digit", the share of held-out
stroke-drawn non-digits rejected, and the accuracy on held-out stroke-drawn digits
by style (model/glyphs.py, seed --seed, never used in training, whose seeds are
the training seed and seed + 10,000). Writes a PNG grid of the misclassified
digits labelled "truth->prediction". --table prints the results table of docs/model-card.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from model import weights
from model.augment import resolved_augment
from model.calibration import calibrated, expected_calibration_error
from model.glyphs import draw_digits, draw_non_digits
from model.metrics import confusion_matrix, misread, per_class_accuracy
from model.mnist import IDXError, load_split
from model.verdict import in_a_number, split
from scripts import project_root

ROOT = project_root()


def error_grid(X: NDArray[np.float32], y: NDArray[Any], pred: NDArray[Any], cols: int = 20,
               scale: int = 2) -> Image.Image:
    """A grid of the given digits (m, 784), each captioned "truth->prediction"."""
    cell_w, cell_h = 28 * scale, 28 * scale + 12
    rows = max(1, -(-len(y) // cols))
    sheet = Image.new("L", (cols * cell_w, rows * cell_h), 0)
    draw = ImageDraw.Draw(sheet)
    for i in range(len(y)):
        r, c = divmod(i, cols)
        digit = Image.fromarray((X[i].reshape(28, 28) * 255).astype(np.uint8)).resize((28 * scale, 28 * scale))
        sheet.paste(digit, (c * cell_w, r * cell_h + 12))
        draw.text((c * cell_w + 2, r * cell_h), f"{y[i]}->{pred[i]}", fill=200)  # PIL's default font has no arrow
    return sheet


HELD_OUT = 1000  # of each: stroke-drawn non-digits, and stroke-drawn digits


def measure(path: Path, X: NDArray[np.float32], y: NDArray[Any], seed: int) -> dict[str, Any]:
    net, meta = weights.load(path)
    logits = net.predict_logits(X)
    digits, none = split(calibrated(logits, net.temperature))
    pred = digits.argmax(axis=1)
    C = confusion_matrix(y, pred)
    reject = float((meta.get("verdict") or {}).get("reject", 1.01))
    rng = np.random.default_rng(seed)
    N, _ = draw_non_digits(HELD_OUT, rng)
    D, yD, styles = draw_digits(HELD_OUT, rng)
    dD, noneD = split(net.predict_proba(D))
    noneN = split(net.predict_proba(N))[1]
    rightD = (dD.argmax(axis=1) == yD) & (noneD < reject)
    by_style = {s: float(rightD[[t == s for t in styles]].mean()) for s in sorted(set(styles))}
    return {"net": net, "meta": meta, "pred": pred, "confusion": C,
            "accuracy": float((pred == y).mean()), "per_class": per_class_accuracy(C),
            "ece_before": expected_calibration_error(split(calibrated(logits, 1.0))[0], y),
            "ece_after": expected_calibration_error(digits, y),
            "rejected": float((none >= reject).mean()),
            "non_digits_rejected": float((noneN >= reject).mean()),
            "non_digits_rejected_in_a_number": float((noneN >= in_a_number({"reject": reject})["reject"]).mean()),
            "drawn_accuracy": float(rightD.mean()), "drawn_by_style": by_style}


def store(path: Path, r: dict[str, Any], X: NDArray[np.float32], y: NDArray[Any]) -> None:
    """Add test_errors and the resolved training.augment to a weights file's metadata (the
    weights themselves unchanged; the file's version changes with its bytes)."""
    meta = dict(r["meta"])  # weights.save writes the format, layers, input and temperature afresh
    meta["test_errors"] = misread(X, y, r["pred"])
    training = meta.get("training") or {}
    if "augment" in training:
        training["augment"] = resolved_augment(training["augment"])
    weights.save(path, r["net"], meta)
    print(f"{path}: stored {len(meta['test_errors'])} misread test digits and the training distortions")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", type=Path, nargs="*", default=[ROOT / "weights" / "digitpad.npz"])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "mnist", help="(default: %(default)s)")
    p.add_argument("--errors", type=Path, help="PNG of misclassified digits (default: artifacts/<name>-errors.png)")
    p.add_argument("--table", action="store_true", help="print a Markdown results table for all weights files")
    p.add_argument("--store", action="store_true",
                   help="write into each weights file what the explorer shows and older files lack: the MNIST "
                   "test digits it reads wrong (48 at most) and its training distortions spelled out")
    p.add_argument("--seed", type=int, default=2026, help="held-out drawn sets (default: %(default)s)")
    args = p.parse_args(argv)
    try:
        X, y, _ = load_split(args.data, "t10k")
    except (FileNotFoundError, IDXError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        results = [(path, measure(path, X, y, args.seed)) for path in args.weights]
    except weights.WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.store:
        for path, r in results:
            store(path, r, X, y)
    if args.table:
        print("| model | preset | parameters | test accuracy | MNIST rejected | ECE before → after calibration "
              "| drawn non-digits rejected | drawn digits right (worst style) | training time |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for path, r in results:
            t = r["meta"].get("training", {})
            worst = min(r["drawn_by_style"].items(), key=lambda kv: kv[1])
            print(f"| `{path.name}` | {r['meta'].get('preset', '?')} | {r['net'].n_params():,} "
                  f"| {r['accuracy']:.2%} | {r['rejected']:.2%} | {r['ece_before']:.2%} → {r['ece_after']:.2%} "
                  f"| {r['non_digits_rejected']:.1%} | {r['drawn_accuracy']:.1%} ({worst[0]}: {worst[1]:.1%}) "
                  f"| {t.get('seconds', float('nan')) / 60:.1f} min |")
        return 0
    for path, r in results:
        print(f"{path}: {r['meta'].get('description', '')}")
        print(f"  test accuracy   {r['accuracy']:.4f}  ({int((r['pred'] != y).sum())} errors of {len(y)})")
        print(f"  ECE (15 bins)   {r['ece_before']:.4f} at T=1, {r['ece_after']:.4f} at T={r['net'].temperature:.3f}")
        print(f"  MNIST test rejected as not a digit  {r['rejected']:.4f}")
        print(f"  held-out drawn non-digits rejected  {r['non_digits_rejected']:.4f}  "
              f"(of {HELD_OUT}, seed {args.seed}); as a piece of a number (/api/read) "
              f"{r['non_digits_rejected_in_a_number']:.4f}")
        print(f"  held-out drawn digits read right    {r['drawn_accuracy']:.4f}  (of {HELD_OUT}; by style below)")
        print("    " + "  ".join(f"{k}: {v:.3f}" for k, v in r["drawn_by_style"].items()))
        print("  per class       " + "  ".join(f"{d}:{a:.4f}" for d, a in enumerate(r["per_class"])))
        print("  confusion matrix (rows: truth, columns: prediction)")
        print("       " + " ".join(f"{d:5d}" for d in range(10)))
        for d, row in enumerate(r["confusion"]):
            print(f"  {d:3d}  " + " ".join(f"{v:5d}" for v in row))
        wrong = np.flatnonzero(r["pred"] != y)
        out = args.errors or ROOT / "artifacts" / f"{path.stem}-errors.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        error_grid(X[wrong], y[wrong], r["pred"][wrong]).save(out)
        print(f"  misclassified digits: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
