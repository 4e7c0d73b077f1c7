"""Several models at once (``GET /api/models``, ``"model"`` in requests, ``DIGITPAD_MODELS``) and
``POST /api/explain``'s contract, on the packaged weights."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.serving.models import load_models
from app.serving.predictor import StartupError
from app.settings import Settings
from model import weights
from tests.drawing import drawing
from tests.paths import ROOT

PACKAGED = ROOT / "weights"
IMAGE = "data:image/png;base64," + base64.b64encode(drawing()).decode()  # a 7


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:  # the packaged default: all three models
        yield c


def decoded(grid: dict[str, Any]) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(str(grid["data"])), np.uint8)
    assert data.size == int(np.prod(list(grid["shape"])))
    return data


def test_the_packaged_models_are_all_served(api: TestClient) -> None:
    listed = api.get("/api/models").json()["models"]
    assert {m["name"] for m in listed} == {"digitpad", "handwriting", "mlp", "blog"}
    assert [m["name"] for m in listed if m["default"]] == ["digitpad"]
    by_name = {m["name"]: m for m in listed}
    assert by_name["blog"]["n_params"] == 7960 and by_name["blog"]["outputs"] == 10
    assert by_name["digitpad"]["version"] == weights.version(PACKAGED / "digitpad.npz")
    assert api.get("/api/model").json()["name"] == "digitpad"  # /api/model keeps describing the default


def test_requests_choose_their_model(api: TestClient) -> None:
    for name in ("digitpad", "handwriting", "mlp", "blog"):
        r = api.post("/api/predict", json={"image": IMAGE, "model": name})
        assert r.status_code == 200 and r.json()["model"]["name"] == name
    assert api.post("/api/predict", json={"image": IMAGE}).json()["model"]["name"] == "digitpad"
    png = base64.b64decode(IMAGE.split(",")[1])
    assert api.post("/api/predict/file?model=mlp", files={"file": ("d.png", png, "image/png")}).json()[
        "model"]["name"] == "mlp"
    batch = api.post("/api/predict/batch", json={"inputs": [{"image": IMAGE}], "model": "blog"}).json()
    assert batch["results"][0]["model"]["name"] == "blog"
    assert api.post("/api/read", json={"image": IMAGE, "model": "mlp"}).json()["model"]["name"] == "mlp"
    assert api.get("/api/models/blog").json()["name"] == "blog"


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("post", "/api/predict", {"json": {"image": IMAGE, "model": "resnet"}}),
    ("post", "/api/predict/batch", {"json": {"inputs": [{"image": IMAGE}], "model": "resnet"}}),
    ("post", "/api/read", {"json": {"image": IMAGE, "model": "resnet"}}),
    ("post", "/api/explain", {"json": {"image": IMAGE, "model": "resnet"}}),
    ("get", "/api/models/resnet", {}),
])
def test_an_unknown_model_is_404(api: TestClient, method: str, path: str, kwargs: dict[str, object]) -> None:
    r = getattr(api, method)(path, **kwargs)
    assert r.status_code == 404 and r.json()["code"] == "unknown_model"
    assert "digitpad" in r.json()["detail"] and "GET /api/models" in r.json()["detail"]


def test_the_models_setting(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("blog", "mlp"):
        shutil.copy(PACKAGED / f"{name}.npz", folder)
    models = load_models(Settings(models=str(folder)))
    assert set(models.by_name) == {"blog", "mlp"} and models.default == "blog"  # no digitpad: the first by name
    listed = load_models(Settings(models=f"{folder / 'mlp.npz'},{PACKAGED / 'digitpad.npz'}"))
    assert set(listed.by_name) == {"mlp", "digitpad"} and listed.default == "digitpad"
    chosen = load_models(Settings(models=str(folder), weights=folder / "mlp.npz"))
    assert chosen.default == "mlp"  # DIGITPAD_WEIGHTS names the default among them
    single = load_models(Settings(weights=folder / "blog.npz"))
    assert list(single.by_name) == ["blog"]  # DIGITPAD_WEIGHTS alone: that one file
    shutil.copy(PACKAGED / "blog.npz", folder / "blog-copy.npz")
    with pytest.raises(StartupError, match="two models are named 'blog'"):
        load_models(Settings(models=str(folder)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(StartupError, match=r"holds no \.npz file"):
        load_models(Settings(models=str(tmp_path / "empty")))
    with pytest.raises(StartupError, match=r"missing\.npz: no such file"):
        load_models(Settings(models=f"{folder / 'mlp.npz'},{tmp_path / 'missing.npz'}"))


def test_explain_contract(api: TestClient) -> None:
    for name in ("digitpad", "mlp", "blog"):
        r = api.post("/api/explain", json={"image": IMAGE, "model": name})
        assert r.status_code == 200
        assert len(r.content) < 200_000  # the whole answer stays small
        e = r.json()
        predicted = api.post("/api/predict", json={"image": IMAGE, "model": name}).json()
        assert e["digit"] == predicted["digit"] and e["probabilities"] == pytest.approx(predicted["probabilities"])
        saliency = np.array(e["saliency"])
        assert saliency.shape == (28, 28) and np.abs(saliency).max() == pytest.approx(1.0)
        assert e["saliency_scale"] > 0 and len(e["preview"]) == 28
        kinds = [layer["type"] for layer in e["layers"]]
        assert "dense" in kinds and not {"image", "flatten", "dropout"} & set(kinds)
        for layer in e["layers"]:
            decoded(layer["values"])
        assert e["layers"][-1]["values"]["shape"] == [11 if name == "digitpad" else 10]  # the logits
    cnn = api.post("/api/explain", json={"image": IMAGE}).json()
    assert cnn["layers"][0]["type"] == "conv2d" and cnn["layers"][0]["values"]["shape"] == [32, 24, 24]
    assert api.post("/api/explain", json={"pixels": [0.0] * 784}).json()["code"] == "empty_image"


def test_model_details_for_the_explorer(api: TestClient) -> None:
    m = api.get("/api/models/digitpad").json()
    assert [layer["output_shape"] for layer in m["architecture"]][:2] == [[1, 28, 28], [32, 24, 24]]
    assert sum(layer["parameters"] for layer in m["architecture"]) == m["n_params"]
    assert m["first_filters"]["shape"] == [32, 5, 5] and decoded(m["first_filters"]).size == 800
    assert len(m["test_errors"]) >= 10
    first = m["test_errors"][0]
    assert first["truth"] != first["answer"] and len(base64.b64decode(first["image"])) == 784
    assert m["training"]["augment"]["rotate"] > 0  # the distortions actually used, spelled out
    assert api.get("/api/models/blog").json()["first_filters"] is None
    assert api.get("/api/models/blog").json()["training"]["augment"] is None  # trained without distortions


def test_explore_page_is_served(api: TestClient) -> None:
    r = api.get("/explore")
    assert r.status_code == 200 and 'data-testid="architecture"' in r.text
    assert "/explore" in api.get("/").text  # linked from the main page
