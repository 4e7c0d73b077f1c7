"""A model and its insides as the API sends them: the layer table, the first convolution's
kernels, a layer's output, all as compact ``Grid`` objects (bytes 0–255 between a low and a high
value, base64), so that an explanation of one drawing stays well under 200 KB. A model's whole
description (``info_json``) is written once per model name and version, on a CPU thread, and
kept as JSON bytes."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.api.answers import json_bytes
from app.api.schemas import ModelInfo
from app.serving.executor import Job
from app.serving.predictor import Predictor
from model.network import Network

HIDDEN = {"image", "flatten", "dropout"}  # reshapes and the identity at inference: nothing new to see
KEPT = 16  # model descriptions kept: every served model, and those of a few reloads before
_described: dict[tuple[str, str], bytes] = {}  # (name, version) → ModelInfo as JSON


def grid(a: NDArray[Any]) -> dict[str, Any]:
    """An array of any shape (images channels first) → a Grid."""
    low, high = float(a.min()), float(a.max())
    span = high - low if high > low else 1.0
    data = np.round((a - low) / span * 255).astype(np.uint8)
    return {"shape": list(a.shape), "low": low, "high": high, "data": base64.b64encode(data.tobytes()).decode()}


def channels_first(a: NDArray[Any]) -> NDArray[Any]:
    """(H, W, C) → (C, H, W); a vector stays as it is."""
    return np.ascontiguousarray(a.transpose(2, 0, 1)) if a.ndim == 3 else a


def architecture(net: Network) -> list[dict[str, Any]]:
    """Each layer, the shape it produces for one drawing (channels first) and its parameters."""
    A: NDArray[Any] = np.zeros((1, 784), np.float32)
    out = []
    for layer in net.layers:
        A = layer.forward(A)
        shape = list(channels_first(A[0]).shape)
        out.append({"type": layer.kind, "output_shape": shape,
                    "parameters": int(sum(p.size for p in layer.params.values()))})
    return out


def first_filters(net: Network) -> dict[str, Any] | None:
    conv = next((layer for layer in net.layers if layer.kind == "conv2d"), None)
    if conv is None:
        return None
    W = conv.params["W"]  # (F, C, k, k)
    return grid(W.reshape(W.shape[0] * W.shape[1], W.shape[2], W.shape[3]))


def summary(p: Predictor, default: bool) -> dict[str, Any]:
    test = p.meta.get("test") or {}
    return {"name": p.name, "version": p.version, "default": default, "description": p.meta.get("description"),
            "preset": p.meta.get("preset"), "n_params": p.net.n_params(),
            "outputs": int(p.meta["layers"][-1].get("n_out", 10)), "test_accuracy": test.get("accuracy")}


def info(p: Predictor) -> dict[str, Any]:
    """Everything ``ModelInfo`` holds."""
    meta, test = p.meta, p.meta.get("test") or {}
    return {
        "name": p.name, "version": p.version, "description": meta.get("description"), "preset": meta.get("preset"),
        "n_params": p.net.n_params(), "layers": meta["layers"], "input": meta.get("input") or {},
        "temperature": meta["temperature"], "training": meta.get("training") or {},
        "history": meta.get("history") or [], "train_accuracy": meta.get("train_accuracy"),
        "test_accuracy": test.get("accuracy"), "per_class_accuracy": test.get("per_class_accuracy"), "test": test,
        "data_sha256": meta.get("data_sha256") or {}, "created": meta.get("created"),
        "code_version": meta.get("code_version"), "outputs": int(meta["layers"][-1].get("n_out", 10)),
        "architecture": architecture(p.net), "first_filters": first_filters(p.net),
        "test_errors": meta.get("test_errors") or [],
        "verdict": {**(meta.get("verdict") or {}), **p.thresholds},
    }


def described(p: Predictor) -> bytes | None:
    """``info_json(p)`` if it has been written already."""
    return _described.get((p.name, p.version))


def info_json(job: Job, p: Predictor) -> bytes:
    """``info(p)`` checked against ``ModelInfo`` and written as JSON, kept for the next requests."""
    answer = json_bytes(ModelInfo.model_validate(info(p)).model_dump(mode="json"))
    if len(_described) >= KEPT:
        _described.clear()
    _described[p.name, p.version] = answer
    return answer
