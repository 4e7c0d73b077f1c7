"""Write the small samples that the test suite commits and uses.

    python -m scripts.datasets.make_test_sample        # → tests/data/t10k-sample-{images,labels}-idx*-ubyte.gz,
                                              #   tests/data/train-sample-{images,labels}-idx*-ubyte.gz
                                              #   and tests/data/nondigits-sample-images-idx3-ubyte.gz

The first N images of the official MNIST test set, the first TRAIN_N of its training set (the
fine-tuning tests' replay sample), and N_NON drawn non-digits (model/glyphs.py, seed 7, which
training never uses), in the IDX format as uint8, gzip-compressed. Deterministic: re-running
gives identical files.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

from model.glyphs import draw_non_digits
from model.mnist import find, idx_bytes, read_idx
from scripts import project_root

ROOT = project_root()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT / "data" / "mnist", help="(default: %(default)s)")
    p.add_argument("--n", type=int, default=1000, help="(default: %(default)s)")
    p.add_argument("--non-digits", type=int, default=300, help="drawn non-digits (default: %(default)s)")
    p.add_argument("--train-n", type=int, default=2000,
                   help="training digits, the fine-tuning tests' replay sample (default: %(default)s)")
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "data", help="(default: %(default)s)")
    args = p.parse_args(argv)
    images = read_idx(find(args.data, "t10k-images-idx3-ubyte"))[: args.n]
    labels = read_idx(find(args.data, "t10k-labels-idx1-ubyte"))[: args.n]
    train_images = read_idx(find(args.data, "train-images-idx3-ubyte"))[: args.train_n]
    train_labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))[: args.train_n]
    args.out.mkdir(parents=True, exist_ok=True)
    drawn, _ = draw_non_digits(args.non_digits, np.random.default_rng(7))
    non_digits = np.round(drawn.reshape(-1, 28, 28) * 255).astype(np.uint8)
    for name, arr in (("t10k-sample-images-idx3-ubyte.gz", images), ("t10k-sample-labels-idx1-ubyte.gz", labels),
                      ("nondigits-sample-images-idx3-ubyte.gz", non_digits),
                      ("train-sample-images-idx3-ubyte.gz", train_images),
                      ("train-sample-labels-idx1-ubyte.gz", train_labels)):
        raw = idx_bytes(arr)
        (args.out / name).write_bytes(gzip.compress(raw, mtime=0))
        print(f"wrote {args.out / name} ({arr.shape[0]} items)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
