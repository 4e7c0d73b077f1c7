"""Every endpoint and every error of the API, through FastAPI's TestClient."""

from __future__ import annotations

import base64
import hashlib
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.serving.models import Models
from app.serving.predictor import Predictor, StartupError
from app.settings import Settings
from tests.drawing import drawing, encode
from tests.paths import ROOT


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width×height but holds no pixel data: only a header is readable."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def check_prediction(body: dict[str, Any], weights: Path, image: bool) -> None:
    """An answer's fields and their sense; an image's answer says where its digit was found
    (``tests.drawing.drawing()``'s "7": a box of 150 × 200 px at (60, 40), and a pen 16 px wide)."""
    assert set(body) == {"digit", "confidence", "probabilities", "verdict", "alternatives",
                         "not_a_digit_probability", "preview", "model"} | ({"box"} if image else set())
    if image:
        x, y, w, h = body["box"]
        assert abs(x - 60) < 10 and abs(y - 40) < 10 and abs(w - 150) < 20 and abs(h - 200) < 20, body["box"]
    assert body["verdict"] in ("digit", "unsure", "not_a_digit")
    p = np.array(body["probabilities"])
    assert p.shape == (10,) and (p >= 0).all() and abs(p.sum() - 1) < 1e-9
    assert body["digit"] == int(p.argmax()) and body["confidence"] == pytest.approx(p.max())
    preview = np.array(body["preview"])
    assert preview.shape == (28, 28) and preview.min() >= 0 and preview.max() <= 1
    assert body["model"] == {"name": "test", "version": hashlib.sha256(weights.read_bytes()).hexdigest()[:12]}


# ----- health -------------------------------------------------------------

def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_not_ready_before_weights_load(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # no `with`: the lifespan has not run
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["code"] == "not_ready"
    r = client.post("/api/predict", json={"pixels": [0.5] * 784})
    assert r.status_code == 503 and r.json()["code"] == "not_ready"


# ----- predictions --------------------------------------------------------

def test_predict_image(client: TestClient, weights_path: Path) -> None:
    png = drawing()
    r = client.post("/api/predict", json={"image": data_url(png)})
    assert r.status_code == 200
    check_prediction(r.json(), weights_path, image=True)
    bare = client.post("/api/predict", json={"image": base64.b64encode(png).decode()})
    assert bare.json() == r.json()


def test_preview_is_what_the_network_saw(client: TestClient) -> None:
    first = client.post("/api/predict", json={"image": data_url(drawing(style="coloured"))}).json()
    again = client.post("/api/predict", json={"pixels": first["preview"]}).json()
    assert again["probabilities"] == first["probabilities"]
    assert again["preview"] == first["preview"]


def test_predict_pixels_flat_or_rows(client: TestClient, weights_path: Path) -> None:
    rows = np.zeros((28, 28))
    rows[4:24, 13:16] = 1.0
    a = client.post("/api/predict", json={"pixels": rows.tolist()})
    b = client.post("/api/predict", json={"pixels": rows.ravel().tolist()})
    assert a.status_code == b.status_code == 200
    check_prediction(a.json(), weights_path, image=False)
    assert a.json() == b.json()


@pytest.mark.parametrize(("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                                 ("WEBP", "image/webp"), ("GIF", "image/gif")])
def test_predict_file(client: TestClient, weights_path: Path, fmt: str, media_type: str) -> None:
    data = drawing(fmt=fmt)
    r = client.post("/api/predict/file", files={"file": (f"digit.{fmt.lower()}", data, media_type)})
    assert r.status_code == 200
    check_prediction(r.json(), weights_path, image=True)


def test_batch_in_order(client: TestClient, weights_path: Path) -> None:
    inputs: list[dict[str, Any]] = [{"image": data_url(drawing(shape="4"))},
                                    {"pixels": [0.0] * 400 + [1.0] * 20 + [0.0] * 364},
                                    {"image": data_url(drawing(style="light_on_black"))}]
    r = client.post("/api/predict/batch", json={"inputs": inputs})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 3
    for item, result in zip(inputs, results, strict=True):
        check_prediction(result, weights_path, image="image" in item)
        single = client.post("/api/predict", json=item).json()
        assert result["digit"] == single["digit"] and result["preview"] == single["preview"]
        assert result.get("box") == single.get("box")
        # float32 sums may round differently for a batch of 3 than for 1
        assert result["probabilities"] == pytest.approx(single["probabilities"], rel=1e-5)
    assert client.post("/api/predict/batch", json={"inputs": []}).json() == {"results": []}


def test_batch_limit(weights_path: Path) -> None:
    assert Settings().max_batch == 64
    with TestClient(create_app(Settings(weights=weights_path, max_batch=2))) as client:
        body = {"inputs": [{"pixels": [0.5] * 784}] * 3}
        r = client.post("/api/predict/batch", json=body)
    assert r.status_code == 422 and r.json()["code"] == "batch_too_large"


def test_batch_names_the_bad_input(client: TestClient) -> None:
    inputs = [{"pixels": [0.5] * 784}, {"image": data_url(encode(Image.new("RGB", (50, 50), "white")))}]
    r = client.post("/api/predict/batch", json={"inputs": inputs})
    assert r.status_code == 422
    assert r.json()["code"] == "empty_image" and r.json()["detail"].startswith("inputs[1]: ")


def test_model_info(client: TestClient, weights_path: Path) -> None:
    r = client.get("/api/model")
    assert r.status_code == 200
    m = r.json()
    assert m["name"] == "test"
    assert m["version"] == hashlib.sha256(weights_path.read_bytes()).hexdigest()[:12]
    assert m["layers"] == [{"type": "dense", "n_in": 784, "n_out": 10}] and m["n_params"] == 7850
    assert m["test_accuracy"] == 0.1 and len(m["per_class_accuracy"]) == 10
    assert m["history"][0]["epoch"] == 1 and m["training"]["optimizer"] == "sgd"
    assert m["input"]["shape"] == [784]


def test_page_and_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="pad"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/docs").status_code == 200


def test_openapi_examples_work(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/predict/file", "/api/predict/batch", "/api/model", "/healthz",
            "/readyz"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    for path, schema in (("/api/predict", "PredictRequest"), ("/api/predict/batch", "BatchRequest")):
        examples = schemas[schema]["examples"]
        assert examples
        for example in examples:
            assert client.post(path, json=example).status_code == 200
    assert client.post("/api/predict", json=schemas["PredictRequest"]["examples"][0]).json()["digit"] >= 0


# ----- errors -------------------------------------------------------------

BAD_BODIES = [
    ({"image": data_url(encode(Image.new("RGB", (280, 280), "white")))}, 422, "empty_image"),
    ({"image": data_url(encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0))))}, 422, "empty_image"),
    ({"pixels": [0.0] * 784}, 422, "empty_image"),
    ({"image": "!!! not base64 !!!"}, 422, "invalid_image"),
    ({"image": data_url(b"hello, I am text")}, 422, "invalid_image"),
    ({"image": data_url(drawing()[:100])}, 422, "invalid_image"),
    ({"image": ""}, 422, "invalid_image"),
    ({"image": data_url(encode(Image.new("RGB", (9, 9)), "BMP"), "image/bmp")}, 415, "unsupported_format"),
    ({"image": data_url(encode(Image.new("RGB", (9, 9)), "TIFF"))}, 415, "unsupported_format"),
    ({"image": data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")}, 415,
     "unsupported_format"),
    ({"image": data_url(encode(Image.new("L", (4097, 8))))}, 422, "image_too_large"),
    ({"image": data_url(png_header_only(4000, 4001))}, 422, "image_too_large"),       # 16.004 Mpx
    ({"image": data_url(png_header_only(100_000, 100_000))}, 422, "image_too_large"),  # never decoded
    ({"pixels": [0.5] * 783}, 422, "invalid_pixels"),
    ({"pixels": [[0.5] * 28] * 27 + [[0.5] * 29]}, 422, "invalid_pixels"),
    ({"pixels": [2.0] + [0.5] * 783}, 422, "invalid_pixels"),
    ({"pixels": [-1.0] + [0.5] * 783}, 422, "invalid_pixels"),
    ({"pixels": [255] * 784}, 422, "invalid_pixels"),
    ({"pixels": [[[0.5]]]}, 422, "invalid_request"),
    ({"pixels": "lots"}, 422, "invalid_request"),
    ({}, 422, "invalid_request"),
    ({"image": data_url(drawing()), "pixels": [0.5] * 784}, 422, "invalid_request"),
    ({"picture": "x"}, 422, "invalid_request"),
    ({"image": 12}, 422, "invalid_request"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
def test_errors(client: TestClient, body: dict[str, Any], status: int, code: str) -> None:
    r = client.post("/api/predict", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert set(r.json()) == {"detail", "code"} and r.json()["detail"]


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_pixels(client: TestClient, token: bytes) -> None:
    body = b'{"pixels": [' + token + b"" + b", 0.5" * 783 + b"]}"
    r = client.post("/api/predict", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_pixels")


@pytest.mark.parametrize("body", [
    {"pixels": "x" * 400_000},
    {"pixels": [[0.5] * 28] * 27 + [["x" * 20_000] * 28]},
    {"image": data_url(drawing()), "extra": "y" * 400_000},
    {"pixels": ["x"] * 784},
])
def test_validation_errors_do_not_echo_input(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/api/predict", json=body)
    assert r.status_code == 422 and len(r.content) < 1000
    assert "xxxxxxxxxx" not in r.text and "yyyyyyyyyy" not in r.text


def test_invalid_json(client: TestClient) -> None:
    r = client.post("/api/predict", content=b'{"pixels": [', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_body_over_limit_is_refused_before_parsing(client: TestClient) -> None:
    big = b"{" + b" " * (1 << 20) + b"}"  # valid JSON, just over 1 MiB
    r = client.post("/api/predict", content=big, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")
    junk = b"\xff" * ((1 << 20) + 1)  # unparseable: 413, not 422, so nothing parsed it
    r = client.post("/api/predict", content=junk, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")
    just_under = b'{"pixels": "' + b"x" * ((1 << 20) - 20) + b'"}'
    assert client.post("/api/predict", content=just_under,
                       headers={"content-type": "application/json"}).status_code == 422


def test_streamed_body_over_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"image": "'
        for _ in range(20):
            yield b"A" * 65536
        yield b'"}'

    r = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")


def test_upload_over_limit(client: TestClient) -> None:
    """Uploads have their own limit (DIGITPAD_MAX_UPLOAD_BYTES, 16 MiB), above the JSON bodies' 1 MiB."""
    r = client.post("/api/predict/file", files={"file": ("big.png", b"\0" * (16 << 20), "image/png")})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"", 422, "invalid_image"),
    (b"GIF89a but not really", 422, "invalid_image"),
    (encode(Image.new("RGB", (9, 9)), "BMP"), 415, "unsupported_format"),
    (png_header_only(5000, 10), 422, "image_too_large"),
    (encode(Image.new("RGB", (64, 64), "white")), 422, "empty_image"),
])
def test_file_errors(client: TestClient, data: bytes, status: int, code: str) -> None:
    r = client.post("/api/predict/file", files={"file": ("x", data, "application/octet-stream")})
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_file_field_required(client: TestClient) -> None:
    r = client.post("/api/predict/file", files={"upload": ("x.png", drawing(), "image/png")})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_not_found_and_method_not_allowed(client: TestClient) -> None:
    r = client.get("/api/nothing")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = client.get("/api/predict")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")
    assert r.headers["allow"] == "POST"
    r = client.post("/healthz")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


def test_unexpected_error_is_a_json_500(settings: Settings) -> None:
    class Broken(Predictor):
        def predict(self, X: Any) -> Any:
            raise RuntimeError("boom")

    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        real = app.state.predictor
        broken = Broken(real.net, real.meta, real.path, real.version)
        app.state.models = Models({real.name: broken}, real.name)
        plain = client.post("/api/predict", json={"pixels": [0.5] * 784})  # app.api.direct
        routed = client.post("/api/predict?preview=0", json={"pixels": [0.5] * 784})  # FastAPI's route
    for r in (plain, routed):
        assert r.status_code == 500
        assert r.json() == {"detail": "Something went wrong on the server; this is a bug.",
                            "code": "internal_error"}


# ----- startup ------------------------------------------------------------

@pytest.mark.parametrize(("content", "problem"), [
    (None, "no such file"),
    (b"PK\x03\x04 a zip that stops here", "truncated or not an .npz file"),
    (b"PK\x05\x06" + b"\0" * 18, "missing the 'metadata' record"),  # an empty zip
], ids=["missing", "truncated", "no-metadata"])
def test_startup_fails_on_bad_weights(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "weights.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StartupError, match=problem) as info, TestClient(create_app(Settings(weights=path))):
        pass
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_server_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT, env={"DIGITPAD_WEIGHTS": str(missing), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if str(missing) in line]
    assert len(lines) == 1 and "no such file" in lines[0]
    assert "Traceback" not in proc.stderr


def test_app_does_not_import_training_code() -> None:
    code = "import sys, app.main; print('\\n'.join(sorted(sys.modules)))"
    modules = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=60).stdout.split()
    ours = {m for m in modules if m.split(".")[0] in ("model", "scripts", "tqdm")}
    assert ours <= {"model", "model.weights", "model.network", "model.layers", "model.losses", "model.verdict",
                    "model.explain", "model.inference",
                    "model.tutorial"}  # one step's maths on one image, shown by /api/train/{id}/maths, like explain
    assert "model.network" in ours


def test_docs_are_served_from_here(client: TestClient) -> None:
    from scripts.vendor_docs import check
    assert check() == []  # static/vendor holds exactly the pinned, recorded files
    for path, script in (("/docs", "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js"),
                         ("/redoc", "/static/vendor/redoc/redoc.standalone.js")):
        r = client.get(path)
        assert r.status_code == 200 and script in r.text and "http" not in r.text.replace("http-equiv", "")
        assert client.get(script).status_code == 200
        csp = r.headers["content-security-policy"]
        assert "script-src" not in csp and "https:" not in csp and "cdn" not in csp  # scripts: default-src 'self'


def test_serve_help_lists_every_setting() -> None:
    out = subprocess.run([sys.executable, "-m", "app.runtime.cli", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    for name in Settings.model_fields:
        assert f"DIGITPAD_{name.upper()}" in out
    assert "(default: 8000)" in out and "(default: text)" in out
    bad = subprocess.run([sys.executable, "-m", "app.runtime.cli", "--port", "9"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "DIGITPAD_" in bad.stderr
