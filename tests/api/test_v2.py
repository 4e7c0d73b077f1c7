"""The Open Inference Protocol (KServe V2) endpoints, spoken to by a real client: Triton's
``tritonclient.http`` against a real ``digitpad-serve`` on 127.0.0.1, in both of its data
encodings (binary tensor data, its default, and JSON)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from model import weights
from model.mnist import read_idx
from scripts.harness.server import Served, serving
from tests.paths import ROOT

SAMPLE = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("v2"), ROOT / "weights" / "digitpad.npz") as s:
        yield s


@pytest.fixture(scope="module")
def client(server: Served) -> Iterator[triton.InferenceServerClient]:
    c = triton.InferenceServerClient(url=server.url.removeprefix("http://"))
    yield c
    c.close()


def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(SAMPLE / "t10k-sample-images-idx3-ubyte.gz")[:n].reshape(n, 784).astype(np.float32) / 255
    return X, read_idx(SAMPLE / "t10k-sample-labels-idx1-ubyte.gz")[:n]


def test_health_and_metadata(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.get_server_metadata()["name"] == "digitpad"
    for name in ("digitpad", "mlp", "blog"):
        assert client.is_model_ready(name)
        meta = client.get_model_metadata(name)
        assert meta["name"] == name and meta["inputs"][0] == {"name": "input", "datatype": "FP32", "shape": [-1, 784]}
        assert [o["name"] for o in meta["outputs"]] == ["probabilities", "digit", "verdict"]
    assert meta["versions"] == [weights.version(ROOT / "weights" / "blog.npz")]


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("shape", [(64, 784), (64, 28, 28)])
def test_infer_matches_the_network(client: triton.InferenceServerClient, binary: bool, shape: tuple[int, ...]) -> None:
    X, y = sample(64)
    given = triton.InferInput("input", list(shape), "FP32")
    given.set_data_from_numpy(X.reshape(shape), binary_data=binary)
    result = client.infer("digitpad", [given], request_id="r-1")
    P = result.as_numpy("probabilities")
    assert P.shape == (64, 10) and P.dtype == np.float32
    assert np.allclose(P.sum(axis=1), 1, atol=1e-5)
    net, _ = weights.load(ROOT / "weights" / "digitpad.npz")
    full = net.predict_proba(X)
    assert np.allclose(P, full[:, :10] / full[:, :10].sum(axis=1, keepdims=True), atol=1e-5)
    assert (result.as_numpy("digit") == P.argmax(axis=1)).all() and (P.argmax(axis=1) == y).mean() >= 0.98
    verdicts = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("verdict")]
    assert set(verdicts) <= {"digit", "unsure", "not_a_digit"} and verdicts.count("digit") >= 60
    assert result.get_response()["id"] == "r-1" and result.get_response()["model_name"] == "digitpad"


def test_one_output_asked_for_and_another_model(client: triton.InferenceServerClient) -> None:
    X, _ = sample(3)
    given = triton.InferInput("input", [3, 784], "FP32")
    given.set_data_from_numpy(X, binary_data=False)
    result = client.infer("blog", [given], outputs=[triton.InferRequestedOutput("digit", binary_data=False)])
    assert [o["name"] for o in result.get_response()["outputs"]] == ["digit"]
    assert result.get_response()["model_name"] == "blog"


def test_errors_are_the_protocols(client: triton.InferenceServerClient, server: Served) -> None:
    X, _ = sample(2)
    given = triton.InferInput("input", [2, 784], "FP32")
    given.set_data_from_numpy(X)
    with pytest.raises(InferenceServerException, match="unknown model"):
        client.infer("resnet", [given])
    wrong = triton.InferInput("pixels", [2, 784], "FP32")
    wrong.set_data_from_numpy(X)
    with pytest.raises(InferenceServerException, match="named \"input\""):
        client.infer("digitpad", [wrong])
    for body, words in [({"inputs": [{"name": "input", "shape": [1, 10], "datatype": "FP32", "data": [0] * 10}]},
                         "input shape"),
                        ({"inputs": [{"name": "input", "shape": [1, 784], "datatype": "INT8", "data": [0] * 784}]},
                         "FP32"),
                        ({"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": [2.0] * 784}]},
                         "in [0, 1]"),
                        ({"inputs": [{"name": "input", "shape": [2, 784], "datatype": "FP32", "data": [0] * 784}]},
                         "needs 1568"),
                        ({"inputs": []}, "exactly one input")]:
        r = httpx.post(f"{server.url}/v2/models/digitpad/infer", json=body)
        assert r.status_code == 400 and set(r.json()) == {"error"} and words in r.json()["error"], r.text
    r = httpx.post(f"{server.url}/v2/models/digitpad/infer", content=b"{not json")
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    assert httpx.get(f"{server.url}/v2/models/resnet").json() == {
        "error": "unknown model 'resnet'; this server has digitpad, blog, handwriting, mlp"}
