"""``digitpad-export --onnx``: the exported graph, run by onnxruntime on the committed MNIST sample,
gives digitpad's own probabilities within 1e-5 and the same argmax, for every packaged model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from model import weights
from model.mnist import read_idx
from scripts import export
from tests.paths import ROOT


@pytest.mark.parametrize("name", ["digitpad", "mlp", "blog"])
def test_onnx_matches_digitpad(name: str, tmp_path: Path) -> None:
    source = ROOT / "weights" / f"{name}.npz"
    out = tmp_path / f"{name}.onnx"
    assert export.main(["--onnx", str(out), "--weights", str(source)]) == 0
    model = onnx.load(out)
    onnx.checker.check_model(model)
    ops = {n.op_type for n in model.graph.node}
    assert {"Gemm", "Relu", "Softmax", "Div"} <= ops and "Dropout" not in ops
    X = read_idx(ROOT / "tests" / "data" / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    P = session.run(["probabilities"], {"input": X})[0]
    net, _ = weights.load(source)
    Q = net.predict_proba(X)
    assert P.shape == Q.shape == (1000, net.config()[-1]["n_out"])
    assert np.abs(P - Q).max() <= 1e-5
    assert np.array_equal(P.argmax(axis=1), Q.argmax(axis=1))
    if name == "digitpad":
        assert {"Conv", "MaxPool", "Transpose", "Flatten"} <= ops


def test_export_refuses_a_bad_weights_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    assert export.main(["--onnx", str(tmp_path / "x.onnx"), "--weights", str(bad)]) == 2
    assert not (tmp_path / "x.onnx").exists()
