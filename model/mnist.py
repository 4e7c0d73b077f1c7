"""Reading MNIST's IDX files (gzip-compressed or raw) and checking their hashes."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# SHA-256 of the *decompressed* official files (the values public loaders pin).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid MNIST IDX file."""


def read_bytes(path: Path) -> bytes:
    """The decompressed content of ``path``, whether or not it is gzip-compressed."""
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise IDXError(f"{path}: damaged gzip data ({e})") from None
    return raw


def parse_idx(data: bytes, name: str = "IDX data") -> NDArray[np.uint8]:
    """Parse IDX bytes of unsigned bytes (type 0x08): images (n, rows, cols) or labels (n,).

    Validates the magic number, the dimensions and the data length."""
    if len(data) < 4:
        raise IDXError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise IDXError(f"{name}: bad magic number 0x{data[:4].hex()} "
                       "(expected 0x00000801 for labels or 0x00000803 for images)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated header")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if ndim == 3 and (dims[1] != 28 or dims[2] != 28):
        raise IDXError(f"{name}: images are {dims[1]}×{dims[2]}, expected 28×28")
    if dims[0] == 0:
        raise IDXError(f"{name}: holds no items")
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise IDXError(f"{name}: dimensions {dims} need {expected} bytes of data, "
                       f"found {len(data) - header} (truncated or inconsistent)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: Path) -> NDArray[np.uint8]:
    return parse_idx(read_bytes(path), name=str(path))


def idx_bytes(array: NDArray[np.uint8]) -> bytes:
    """An array of unsigned bytes, (n,) labels or (n, 28, 28) images, in IDX format."""
    magic = bytes([0, 0, 0x08, array.ndim])
    return magic + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.astype(np.uint8).tobytes()


def find(directory: Path, stem: str) -> Path:
    """The file for ``stem`` in ``directory``: raw, or with .gz."""
    for candidate in (Path(directory) / stem, Path(directory) / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{stem}(.gz) not found in {directory}: "
                            "run `python -m scripts.fetch_mnist` first")


def load_split(directory: Path, split: str) -> tuple[NDArray[np.float32], NDArray[np.uint8], dict[str, str]]:
    """Load ``split`` ('train' or 't10k') from ``directory``.

    Returns X: (n, 784) float32 in [0, 1], y: (n,) uint8 and the SHA-256 of the
    decompressed files, which must match the official ones."""
    hashes: dict[str, str] = {}
    arrays: dict[str, NDArray[np.uint8]] = {}
    for kind in ("images", "labels"):
        stem = f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
        path = find(directory, stem)
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256[stem]:
            raise IDXError(f"{path}: SHA-256 {digest} differs from the official {SHA256[stem]}")
        hashes[stem] = digest
        arrays[kind] = parse_idx(data, name=str(path))
    images, labels = arrays["images"], arrays["labels"]
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IDXError(f"{directory}: {split} images {images.shape} and labels {labels.shape} do not match")
    X = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    return X, labels.copy(), hashes


def validation_split(n: int, n_val: int, seed: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Indices (train, val) of a seeded random split of range(n)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
