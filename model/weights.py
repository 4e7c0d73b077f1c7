"""Saving and loading a network as one self-describing ``.npz`` file.

The file holds one array per parameter (``"<layer index>.<name>"``, float32)
and ``metadata``: UTF-8 JSON as uint8 bytes, with the format version, the
layer list, the input convention, the temperature and whatever the training
run recorded. It loads with ``allow_pickle=False``; anything malformed is
refused with a ``WeightsError`` that says what is wrong."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from model.layers import build_layer
from model.network import Network

FORMAT_VERSION = 1
INPUT_CONVENTION = {
    "shape": [784], "layout": "28×28 row-major", "dtype": "float32", "range": [0.0, 1.0],
    "ink": "white (1.0) on black (0.0)",
    "preparation": "MNIST: ink bounding box fitted into 20×20, centre of mass at the centre of 28×28",
}


class WeightsError(ValueError):
    """A weights file that cannot be used, with the reason."""


def version(path: str | Path) -> str:
    """A weights file's version: the first 12 hex digits of its SHA-256 (what /api/model shows)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def save(path: str | Path, net: Network, metadata: dict[str, Any]) -> None:
    """Write ``net`` and ``metadata`` to ``path`` atomically: a temporary file in the
    same folder, flushed to disk, then renamed over the target. An interrupted
    save leaves any previous file untouched."""
    path = Path(path)
    meta = {**metadata, "format_version": FORMAT_VERSION, "layers": net.config(),
            "input": INPUT_CONVENTION, "temperature": float(net.temperature)}
    arrays: dict[str, Any] = {name: np.asarray(p, dtype=np.float32) for name, p, _ in net.parameters()}
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; the file is meant to be read by a server's user
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path) -> tuple[Network, dict[str, Any]]:
    """Read a network and its metadata from ``path``; raise WeightsError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    with open(path, "rb") as f:
        if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # every .npz is a zip archive (maybe empty)
            raise WeightsError(f"{path}: not an .npz file (no zip header)")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise WeightsError(f"{path}: contains a pickled object array, which is never loaded") from None
        raise WeightsError(f"{path}: not a valid .npz weights file ({e})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise WeightsError(f"{path}: truncated or not an .npz file ({e})") from None
    if "metadata" not in arrays:
        raise WeightsError(f"{path}: missing the 'metadata' record")
    try:
        meta = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeightsError(f"{path}: metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise WeightsError(f"{path}: metadata is not a JSON object")
    for key in ("format_version", "layers", "temperature"):
        if key not in meta:
            raise WeightsError(f"{path}: metadata is missing {key!r}")
    if meta["format_version"] != FORMAT_VERSION:
        raise WeightsError(f"{path}: format version {meta['format_version']!r}, expected {FORMAT_VERSION}")
    T = meta["temperature"]
    if not isinstance(T, (int, float)) or not np.isfinite(T) or T <= 0:
        raise WeightsError(f"{path}: temperature must be a positive number, got {T!r}")
    if not isinstance(meta["layers"], list) or not meta["layers"]:
        raise WeightsError(f"{path}: 'layers' must be a non-empty list")
    layers = []
    for i, config in enumerate(meta["layers"]):
        if not isinstance(config, dict):
            raise WeightsError(f"{path}: layer {i} is not a JSON object")
        try:
            layer = build_layer(config)
        except (ValueError, TypeError) as e:
            raise WeightsError(f"{path}: layer {i}: {e}") from None
        for key, shape in layer.param_shapes().items():
            name = f"{i}.{key}"
            if name not in arrays:
                raise WeightsError(f"{path}: missing array {name!r} for layer {i} ({config['type']})")
            a = arrays.pop(name)
            if a.shape != shape:
                raise WeightsError(f"{path}: array {name!r} has shape {a.shape}, expected {shape}")
            if a.dtype != np.float32:
                raise WeightsError(f"{path}: array {name!r} has dtype {a.dtype}, expected float32")
            if not np.isfinite(a).all():
                raise WeightsError(f"{path}: array {name!r} holds NaN or infinity")
            layer.params[key][...] = a  # into the layer's own array, which keeps its memory layout
        layers.append(layer)
    if arrays:
        raise WeightsError(f"{path}: unexpected arrays {sorted(arrays)}")
    net = Network(layers, temperature=float(T))
    try:
        out = net.logits(np.zeros((1, 784), dtype=np.float32))
    except (ValueError, IndexError) as e:
        raise WeightsError(f"{path}: the layers do not fit together on a 784-pixel input ({e})") from None
    if out.shape not in ((1, 10), (1, 11)):
        raise WeightsError(f"{path}: the network gives {out.shape[-1]} outputs, expected 10 (digits) "
                           "or 11 (digits and 'not a digit')")
    return net, meta
