"""Saving and loading the self-describing .npz weights file."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model import weights
from model.network import Network
from tests.model_fixtures import TINY_CNN, tiny_network, toy_problem


@pytest.mark.parametrize("config", [None, TINY_CNN], ids=["mlp", "cnn"])
def test_save_then_load_gives_bit_identical_predictions(tmp_path: Path, config: Any) -> None:
    net = tiny_network() if config is None else Network.from_config(config, seed=3)
    net.temperature = 1.7
    X, _ = toy_problem(32)
    path = tmp_path / "w.npz"
    weights.save(path, net, {"name": "t", "history": [{"epoch": 1, "loss": 0.5}]})
    loaded, meta = weights.load(path)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by a server running as another user
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.temperature == 1.7
    assert meta["layers"] == net.config() and meta["history"][0]["loss"] == 0.5
    assert meta["format_version"] == weights.FORMAT_VERSION and meta["input"]["shape"] == [784]


def _write_npz(path: Path, arrays: dict[str, Any], allow_pickle: bool = False) -> None:
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **arrays)


def _arrays(weights_file: Path) -> dict[str, Any]:
    with np.load(weights_file) as npz:
        return {k: npz[k] for k in npz.files}


def _meta(arrays: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(arrays["metadata"].tobytes()))


def _with_meta(arrays: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    return {**arrays, "metadata": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}


def test_rejects_a_pickled_object_array(tmp_path: Path, weights_file: Path) -> None:
    arrays = _arrays(weights_file)
    arrays["0.W"] = np.array([{"evil": 1}], dtype=object)
    bad = tmp_path / "pickled.npz"
    _write_npz(bad, arrays, allow_pickle=True)
    with pytest.raises(weights.WeightsError, match="pickled object array"):
        weights.load(bad)


def test_rejects_a_truncated_file(tmp_path: Path, weights_file: Path) -> None:
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(weights_file.read_bytes()[: weights_file.stat().st_size // 2])
    with pytest.raises(weights.WeightsError, match=r"truncated or not an \.npz"):
        weights.load(bad)


def test_rejects_wrong_shapes(tmp_path: Path, weights_file: Path) -> None:
    arrays = _arrays(weights_file)
    arrays["0.W"] = arrays["0.W"][:, :783]
    bad = tmp_path / "shape.npz"
    _write_npz(bad, arrays)
    with pytest.raises(weights.WeightsError, match=r"'0.W' has shape \(32, 783\), expected \(32, 784\)"):
        weights.load(bad)


def test_rejects_missing_metadata(tmp_path: Path, weights_file: Path) -> None:
    arrays = _arrays(weights_file)
    del arrays["metadata"]
    bad = tmp_path / "nometa.npz"
    _write_npz(bad, arrays)
    with pytest.raises(weights.WeightsError, match="missing the 'metadata' record"):
        weights.load(bad)


@pytest.mark.parametrize("change,message", [
    (lambda m: m.pop("layers"), "missing 'layers'"),
    (lambda m: m.update(format_version=99), "format version 99"),
    (lambda m: m.update(temperature=-1), "temperature must be a positive number"),
    (lambda m: m.update(layers=[{"type": "transformer"}]), "unknown layer type 'transformer'"),
    (lambda m: m["layers"].append({"type": "dense", "n_in": 10, "n_out": 3}), "missing array '3.W'"),
])
def test_rejects_bad_metadata(tmp_path: Path, weights_file: Path, change: Any, message: str) -> None:
    arrays = _arrays(weights_file)
    meta = _meta(arrays)
    change(meta)
    bad = tmp_path / "meta.npz"
    _write_npz(bad, _with_meta(arrays, meta))
    with pytest.raises(weights.WeightsError, match=message):
        weights.load(bad)


def test_rejects_wrong_dtype_nan_and_extra_arrays(tmp_path: Path, weights_file: Path) -> None:
    for key, value, message in [("0.W", None, "dtype float64"), ("0.b", np.nan, "NaN or infinity"),
                                ("extra", np.zeros(3, np.float32), "unexpected arrays")]:
        arrays = _arrays(weights_file)
        if key == "0.W":
            arrays[key] = arrays[key].astype(np.float64)
        elif key == "0.b":
            arrays[key] = np.full_like(arrays[key], value)
        else:
            arrays[key] = value
        bad = tmp_path / f"{key}.npz"
        _write_npz(bad, arrays)
        with pytest.raises(weights.WeightsError, match=message):
            weights.load(bad)


def test_rejects_a_missing_file_and_non_npz(tmp_path: Path) -> None:
    with pytest.raises(weights.WeightsError, match="no such file"):
        weights.load(tmp_path / "absent.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(weights.WeightsError, match=r"not an \.npz file \(no zip header\)"):
        weights.load(text)
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(weights.WeightsError, match="no zip header"):
        weights.load(pickled)


def test_an_interrupted_save_leaves_the_old_file_intact(tmp_path: Path, weights_file: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = weights_file.read_bytes()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C in the middle of writing

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        weights.save(weights_file, tiny_network(seed=9), {"name": "new"})
    assert weights_file.read_bytes() == before
    assert os.listdir(tmp_path) == [weights_file.name]  # no temporary file left behind
    weights.load(weights_file)


def test_the_file_is_a_plain_zip_of_npy_arrays(weights_file: Path) -> None:
    with zipfile.ZipFile(weights_file) as z:
        names = sorted(z.namelist())
        assert names == ["0.W.npy", "0.b.npy", "2.W.npy", "2.b.npy", "metadata.npy"]
        header = z.read("metadata.npy")[:128]
    assert b"'descr': '|u1'" in header  # metadata is bytes, not a pickled object
    assert io.BytesIO(header).read(6) == b"\x93NUMPY"
