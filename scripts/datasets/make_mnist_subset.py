"""Write the MNIST subset the package ships for live training when no MNIST folder is set.

    python -m scripts.datasets.make_mnist_subset      # → model/data/mnist-subset.npz (about 3.5 MB)

MNIST's training images in model/livedata.py's seeded order, cut short: its 2,000 validation
images and first 20,000 training images, as uint8 (model/livedata.py says why these sizes).
Re-running gives the same arrays.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.livedata import SUBSET, read_mnist_train, save_subset
from scripts import project_root

ROOT = project_root()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT / "data" / "mnist", help="(default: %(default)s)")
    p.add_argument("--out", type=Path, default=SUBSET, help="(default: %(default)s)")
    args = p.parse_args(argv)
    save_subset(*read_mnist_train(args.data), path=args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
