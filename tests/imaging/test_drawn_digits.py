"""The shipped model reads re-drawn MNIST test digits as well as the originals.

400 digits of the committed MNIST test sample are re-drawn as canvas images by
``scripts.datasets.make_drawn_digits`` (200–400 px canvases, 25–90% of the height, thin,
normal and thick strokes, the four ink styles in turn) and sent through the
real API; the same digits are also sent untouched as ``pixels``. The drawn
accuracy must be within 1 point of the untouched one. The full-size figure,
per style, comes from ``python -m scripts.evaluation.score_drawn_digits``."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.mnist import read_idx
from scripts.datasets.make_drawn_digits import STROKES, STYLES, canvas, redraw
from tests.paths import DATA, ROOT

SHIPPED = ROOT / "weights" / "digitpad.npz"
N = 400


@pytest.fixture(scope="module")
def shipped_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(weights=SHIPPED))) as client:
        yield client


def predict_all(client: TestClient, inputs: list[dict[str, object]], chunk: int = 50) -> list[int]:
    digits = []
    for k in range(0, len(inputs), chunk):
        r = client.post("/api/predict/batch", json={"inputs": inputs[k:k + chunk]})
        assert r.status_code == 200, r.json()
        digits += [result["digit"] for result in r.json()["results"]]
    return digits


def test_drawn_digits_read_as_well_as_mnist(shipped_client: TestClient) -> None:
    X = read_idx(DATA / "t10k-sample-images-idx3-ubyte.gz").astype(np.float32) / 255
    y = read_idx(DATA / "t10k-sample-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)
    picks = rng.choice(len(y), size=N, replace=False).tolist()
    drawn: list[dict[str, object]] = []
    for n, i in enumerate(picks):
        style, stroke = STYLES[n % len(STYLES)], STROKES[rng.integers(len(STROKES))]
        H, W = (int(v) for v in rng.integers(200, 401, size=2))
        img = canvas(redraw(X[i], rng.uniform(0.25, 0.9) * H, stroke, rng), H, W, style, rng)
        png = io.BytesIO()
        img.save(png, "PNG")
        drawn.append({"image": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()})
    truth = y[picks]
    drawn_acc = float(np.mean(np.array(predict_all(shipped_client, drawn)) == truth))
    plain = [{"pixels": X[i].tolist()} for i in picks]
    plain_acc = float(np.mean(np.array(predict_all(shipped_client, plain)) == truth))
    assert drawn_acc >= plain_acc - 0.01, f"drawn {drawn_acc:.2%} vs untouched {plain_acc:.2%}"
