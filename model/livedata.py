"""The images live runs learn from: MNIST's training set where a folder holds it, else the subset
shipped in the package (``model/data/mnist-subset.npz``).

Both are cut the same way from MNIST's 60,000 training images, in one seeded order
(``mnist_order``): its first ``VALIDATION`` images are the validation set, the rest the training
images, and the first ``FULL_BATCH`` of those are the full batch. The subset is that order cut
short: the same validation images and the same full batch, and the first ``SUBSET_TRAIN``
training images. So a full-batch run gives the same numbers from either source.

Reading MNIST's files costs most of a second (decompressing and checking their hashes); ``load``
keeps the arrays as ``.npy`` files in a cache folder the first time and maps them after, so
every run's process shares them in the page cache instead of reading them again."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from model.live import LiveData, as_inputs
from model.mnist import SHA256, IDXError, find, parse_idx, read_bytes

VALIDATION = 2000    # validation images: accuracy to 0.05 %, and a pass of the CNN in a tenth of a second
FULL_BATCH = 6000    # full-batch images: the tutorial's 500 steps of gradient descent in about 6 s of one core
SUBSET_TRAIN = 20000  # training images shipped: the smallest the MLP with Adam passes 97 % on (docs/benchmarks.md)
ORDER_SEED = 0
SUBSET = Path(__file__).resolve().parent / "data" / "mnist-subset.npz"
Source = Literal["mnist", "subset"]
ARRAYS = ("X", "y", "X_val", "y_val")


def mnist_order(n: int = 60000) -> NDArray[np.intp]:
    """The seeded order MNIST's training images are cut in (validation first)."""
    return np.random.default_rng(ORDER_SEED).permutation(n)


def has_mnist(directory: Path | None) -> bool:
    """Whether ``directory`` holds MNIST's training images and labels (raw or .gz)."""
    if directory is None:
        return False
    try:
        find(directory, "train-images-idx3-ubyte")
        find(directory, "train-labels-idx1-ubyte")
    except FileNotFoundError:
        return False
    return True


def read_mnist_train(directory: Path) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """MNIST's training images (60000, 784) and labels (60000,) as uint8, hashes checked."""
    arrays = []
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        path = find(directory, stem)
        data = read_bytes(path)
        if hashlib.sha256(data).hexdigest() != SHA256[stem]:
            raise IDXError(f"{path}: not the official MNIST file (its SHA-256 differs)")
        arrays.append(parse_idx(data, name=str(path)))
    return arrays[0].reshape(len(arrays[0]), 784), arrays[1]


def cut(X: NDArray[np.uint8], y: NDArray[np.uint8], train: int | None = None) -> dict[str, NDArray[Any]]:
    """MNIST's training set in ``mnist_order``: validation images and ``train`` training images
    (all the rest when None), uint8."""
    order = mnist_order(len(y))
    val, rest = order[:VALIDATION], order[VALIDATION:]
    rest = rest if train is None else rest[:train]
    return {"X": X[rest], "y": y[rest], "X_val": X[val], "y_val": y[val]}


def read_source(source: Source, directory: Path | None) -> dict[str, NDArray[Any]]:
    if source == "mnist":
        assert directory is not None
        return cut(*read_mnist_train(directory))
    with np.load(SUBSET, allow_pickle=False) as npz:
        return {name: npz[name] for name in ARRAYS}


def cached(source: Source, directory: Path | None, cache: Path) -> Path:
    """The folder under ``cache`` holding the source's arrays as .npy files, written first if
    missing (one process at a time: a lock file; the folder appears whole, by a rename)."""
    folder = cache / source
    if folder.is_dir():
        return folder
    cache.mkdir(exist_ok=True)  # not its parents: a folder removed meanwhile (the server stopped) stays removed
    with open(cache / f".{source}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.is_dir():
            return folder
        tmp = Path(tempfile.mkdtemp(prefix=f".{source}.", dir=cache))
        try:
            for name, array in read_source(source, directory).items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def load(source: Source, directory: Path | None = None, cache: Path | None = None) -> LiveData:
    """The live runs' data from ``source`` ("mnist": the folder ``directory``; "subset": the
    shipped file), mapped from ``cache`` when given."""
    if cache is None:
        arrays = read_source(source, directory)
    else:
        folder = cached(source, directory, cache)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
    return LiveData(arrays["X"], arrays["y"], as_inputs(np.asarray(arrays["X_val"])),
                    np.asarray(arrays["y_val"]), min(FULL_BATCH, len(arrays["y"])))


def save_subset(X: NDArray[np.uint8], y: NDArray[np.uint8], path: Path = SUBSET) -> None:
    """Write the shipped subset from MNIST's training images (60000, 784) and labels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = cut(X, y, SUBSET_TRAIN)
    np.savez_compressed(path, **arrays)
