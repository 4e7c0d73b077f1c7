"""``digitpad-finetune``: teach the served model the corrections its users sent.

    digitpad-finetune --weights weights/digitpad.npz --out /tmp/next.npz      # DIGITPAD_DATABASE_URL's corrections
    digitpad-finetune --weights CURRENT.npz --database postgresql://… --out NEW.npz --mnist data/mnist

Starts from CURRENT's weights and trains on the corrections mixed with a replay sample of MNIST
training digits, holding a share of the corrections out (``model.finetune``). NEW is written
only if MNIST test accuracy stays within 0.1 point of CURRENT's and the held-out corrections are
read better; otherwise it says why, writes nothing and exits 1. NEW's metadata records its
parent's version, how many corrections were used and held out, and both measurements. Then
swap it in: ``mv NEW.npz weights/digitpad.npz && kill -HUP <digitpad-serve>``. Seeded: the same
database, weights and seed give the same NEW on the same machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from app.settings import Settings
from app.storage import feedback as store
from app.storage.database import StorageError, open_database
from model import weights
from model.finetune import FinetuneConfig, finetune
from model.mnist import IDXError, load_split
from scripts import project_root


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="digitpad-finetune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, required=True, help="the current weights (CURRENT.npz)")
    p.add_argument("--out", type=Path, required=True, help="where to write the fine-tuned weights (NEW.npz)")
    p.add_argument("--database", help="a database URL (default: DIGITPAD_DATABASE_URL, as the server)")
    p.add_argument("--mnist", type=Path, default=project_root() / "data" / "mnist",
                   help="MNIST folder: replay from train, gate on t10k (default: %(default)s)")
    defaults = FinetuneConfig()
    p.add_argument("--epochs", type=int, default=defaults.epochs, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=defaults.lr, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="(default: %(default)s)")
    args = p.parse_args(argv)
    try:
        net, meta = weights.load(args.weights)
        X_train, y_train, _ = load_split(args.mnist, "train")
        X_test, y_test, _ = load_split(args.mnist, "t10k")
        db = open_database(args.database or Settings().database_url)
        try:
            images, labels = store.load(db)
        finally:
            db.dispose()
    except (weights.WeightsError, IDXError, FileNotFoundError, StorageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    X = (images.reshape(len(labels), 784) / np.float32(255)).astype(np.float32)
    cfg = FinetuneConfig(epochs=args.epochs, lr=args.lr, seed=args.seed)
    new, outcome = finetune(net, X, labels.astype(np.int64), X_train, y_train, X_test, y_test, cfg)
    if new is None:
        print(f"not written: {outcome.reason}", file=sys.stderr)
        return 1
    meta = dict(meta)  # weights.save writes the format, layers, input and temperature afresh
    meta["parent"] = weights.version(args.weights)
    meta["finetune"] = {**outcome.to_dict(), "config": cfg.__dict__}
    weights.save(args.out, new, meta)
    print(f"wrote {args.out}: {outcome.reason}; {outcome.corrections_used} corrections used, "
          f"{outcome.corrections_held_out} held out; parent {meta['parent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
