"""Train a network on MNIST and save it as a self-describing .npz file.

    python -m scripts.train                       # the shipped model → weights/digitpad.npz
    python -m scripts.train --preset mlp --out weights/mlp.npz
    python -m scripts.train --preset handwriting --out weights/handwriting.npz   # + fonts (make_font_glyphs)
    python -m scripts.train --preset blog --out weights/blog.npz
    python -m scripts.train --layers 784-256-128-10 --optimizer momentum --lr 0.05 --epochs 10 --out /tmp/x.npz

The validation split is carved from the 60,000 training images with the seed;
it picks the best epoch and the softmax temperature. The test set is only
measured at the end and recorded. The same seed gives the same weights on the
same machine. Safe to re-run: the output is replaced atomically at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from model import weights
from model.augment import resolved_augment
from model.calibration import calibrated, expected_calibration_error, fit_temperature
from model.metrics import confusion_matrix, misread, per_class_accuracy
from model.mnist import IDXError, load_split, validation_split
from model.network import Network
from model.presets import DEFAULT_PRESET, PRESETS, cnn, mlp
from model.train import Glyphs, train, with_synthetic
from model.verdict import choose_thresholds, split
from scripts import project_root
from scripts.datasets import make_font_glyphs

ROOT = project_root()


def code_version() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "model", "scripts"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET,
                   help="starting point (default: %(default)s)")
    p.add_argument("--layers", help="fully connected sizes, e.g. 784-256-128-10 (overrides the preset's architecture)")
    p.add_argument("--conv", help="CNN channels,kernel,hidden e.g. 32,64,5,256 (overrides the preset's architecture)")
    p.add_argument("--dropout", type=float,
                   help="dropout rate for --layers/--conv (default: 0 for --layers, 0.4 for --conv)")
    p.add_argument("--optimizer", choices=["gd", "momentum", "rmsprop", "adam"])
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--schedule", choices=["constant", "cosine", "step"])
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="0 = full batch")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random distortions each epoch (presets decide by default)")
    p.add_argument("--patience", type=int, help="early stopping patience in epochs (0 = off)")
    p.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--val-size", type=int, default=5000,
                   help="validation images carved from the training set (default: %(default)s)")
    p.add_argument("--train-limit", type=int, default=0,
                   help="use only this many training images (0 = all; for quick trials)")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "mnist",
                   help="folder with the MNIST files (default: %(default)s)")
    p.add_argument("--glyphs", type=Path, default=ROOT / "data" / "font_glyphs.npz",
                   help="glyphs typed in fonts, for presets that train on them; made by "
                        "scripts.datasets.make_font_glyphs when missing (default: %(default)s)")
    p.add_argument("--out", type=Path, default=ROOT / "weights" / "digitpad.npz", help="(default: %(default)s)")
    return p.parse_args(argv)


def font_glyphs(path: Path) -> tuple[Glyphs, dict[str, Any]]:
    """The glyphs typed in fonts (made first if missing), and what the metadata says of them."""
    if not path.is_file():
        print(f"{path} is missing: making it (python -m scripts.datasets.make_font_glyphs)", flush=True)
        if make_font_glyphs.main(["--out", str(path)]):
            raise SystemExit(1)
    with np.load(path) as z:
        X, y, fonts = z["X"].astype(np.float32) / np.float32(255), z["y"], [str(f) for f in z["fonts"]]
    about = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "glyphs": len(y),
             "fonts": fonts}
    return (X, y), about


def build(args: argparse.Namespace) -> tuple[list[dict[str, Any]], Any, str]:
    layers, cfg, description = PRESETS[args.preset]
    if args.layers:
        layers = mlp([int(s) for s in args.layers.split("-")], dropout=args.dropout or 0.0)
        description = f"{args.layers} fully connected"
    elif args.conv:
        c1, c2, k, hidden = (int(s) for s in args.conv.split(","))
        layers = cnn(c1, c2, k, hidden, 0.4 if args.dropout is None else args.dropout)
        description = f"CNN {args.conv}"
    changes = {name: getattr(args, flag) for name, flag in [
        ("optimizer", "optimizer"), ("lr", "lr"), ("schedule", "schedule"), ("epochs", "epochs"),
        ("batch_size", "batch_size"), ("weight_decay", "weight_decay"), ("patience", "patience")]
        if getattr(args, flag) is not None}
    if args.augment is not None:
        changes["augment"] = {} if args.augment else None
    return layers, dataclasses.replace(cfg, seed=args.seed, **changes), description


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layers, cfg, description = build(args)
    try:
        X_all, y_all, train_hashes = load_split(args.data, "train")
        X_test, y_test, test_hashes = load_split(args.data, "t10k")
    except (FileNotFoundError, IDXError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    tr, va = validation_split(X_all.shape[0], args.val_size, args.seed)
    if args.train_limit:
        tr = tr[:args.train_limit]
    X, y, X_val, y_val = X_all[tr], y_all[tr], X_all[va], y_all[va]
    net = Network.from_config(layers, seed=args.seed)
    print(f"{args.preset}: {description}; {net.n_params():,} parameters; "
          f"{len(tr):,} training / {len(va):,} validation images", flush=True)
    full_batch = cfg.batch_size == 0 or cfg.batch_size >= len(tr)
    bar: tqdm | None = None

    def on_batch(step: int, steps: int, loss: float, acc: float) -> None:
        nonlocal bar
        if full_batch:
            return
        if bar is None:
            bar = tqdm(total=steps, leave=False, dynamic_ncols=True, file=sys.stdout)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)

    def on_epoch(r: dict[str, Any]) -> None:
        nonlocal bar
        if bar is not None:
            bar.close()
            bar = None
        if full_batch:  # the tutorial printed its accuracy every 10 iterations
            if r["epoch"] % 10 == 0 or r["epoch"] == 1:
                print(f"Iteration {r['epoch']:4d}: loss {r['loss']:.4f}  train accuracy {r['train_accuracy']:.4f}"
                      f"  validation accuracy {r['val_accuracy']:.4f}", flush=True)
        else:
            print(f"epoch {r['epoch']:3d}/{cfg.epochs}  loss {r['loss']:.4f}  train {r['train_accuracy']:.4f}"
                  f"  val loss {r['val_loss']:.4f}  val {r['val_accuracy']:.4f}  lr {r['lr']:.2e}"
                  f"  {r['seconds']:.1f}s", flush=True)

    if cfg.synthetic:  # validation also holds drawn digits and non-digits, fixed by the seed
        X_val, y_val = with_synthetic(X_val, y_val, {"digits": 0.2, "non_digits": 0.2},
                                      np.random.default_rng(args.seed + 10_000))
    fonts, glyphs_used = None, None
    if any(key.startswith("font_") for key in cfg.synthetic or {}):
        fonts, glyphs_used = font_glyphs(args.glyphs)
    start = time.perf_counter()
    history = train(net, X, y, X_val, y_val, cfg, on_batch=on_batch, on_epoch=on_epoch, fonts=fonts)
    seconds = time.perf_counter() - start
    _, train_acc = net.evaluate(X, y)
    T = fit_temperature(net.predict_logits(X_val), y_val)
    net.temperature = T
    thresholds = choose_thresholds(net.predict_proba(X_val), y_val) if cfg.synthetic else None
    logits = net.predict_logits(X_test)
    digits_before, _ = split(calibrated(logits, 1.0))
    digits, none = split(calibrated(logits, T))
    pred = digits.argmax(axis=1)  # over 0–9, whatever the 11th output says
    C = confusion_matrix(y_test, pred)
    test_acc = float((pred == y_test).mean())
    ece_before = expected_calibration_error(digits_before, y_test)
    ece_after = expected_calibration_error(digits, y_test)
    rejected = float((none >= thresholds["reject"]).mean()) if thresholds else 0.0
    metadata = {
        "name": args.out.stem, "preset": args.preset, "description": description,
        "n_params": net.n_params(),
        "training": {**cfg.to_dict(), "augment": resolved_augment(cfg.augment),
                     "train_images": len(tr), "val_images": len(va),
                     **({"font_glyphs": glyphs_used} if glyphs_used else {}),
                     "seconds": round(seconds, 1), "machine": f"{__import__('os').cpu_count()} cores"},
        "history": history,
        "train_accuracy": train_acc,
        "test": {"accuracy": test_acc, "per_class_accuracy": per_class_accuracy(C).tolist(),
                 "confusion_matrix": C.tolist(), "ece_before": ece_before, "ece_after": ece_after,
                 "rejected": rejected, "n": int(y_test.shape[0])},
        "test_errors": misread(X_test, y_test, pred),
        **({"verdict": thresholds} if thresholds else {}),
        "data_sha256": {**train_hashes, **test_hashes},
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
    }
    weights.save(args.out, net, metadata)
    print(json.dumps({"out": str(args.out), "train_accuracy": round(train_acc, 4),
                      "best_val_accuracy": max(h["val_accuracy"] for h in history),
                      "test_accuracy": test_acc, "temperature": round(T, 4),
                      "ece_before": round(ece_before, 4), "ece_after": round(ece_after, 4),
                      "mnist_test_rejected": round(rejected, 4), "verdict": thresholds,
                      "seconds": round(seconds, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
