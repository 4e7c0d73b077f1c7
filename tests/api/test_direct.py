"""The reading routes' plain requests answered directly (``app.api.direct``) give exactly what
FastAPI's own routes give: the same answers, the same errors, the same headers; what the direct
way does not take goes on to FastAPI; a full pool refuses before the body is read."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app.api.deps import get_models
from app.api.direct import DirectRoutes
from app.api.errors import ApiError
from app.main import create_app
from app.settings import Settings

PIXELS = [0.0] * 400 + [1.0] * 20 + [0.0] * 364


def drawing() -> str:
    im = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(im).line([(60, 15), (60, 105)], fill=(0, 0, 0, 255), width=12)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


IMAGE = drawing()
BODIES: dict[str, tuple[str, bytes]] = {
    "pixels": ("/api/predict", json.dumps({"pixels": PIXELS}).encode()),
    "image": ("/api/predict", json.dumps({"image": IMAGE}).encode()),
    "nested pixels": ("/api/predict", json.dumps({"pixels": [PIXELS[i:i + 28] for i in range(0, 784, 28)]}).encode()),
    "batch": ("/api/predict/batch", json.dumps({"inputs": [{"pixels": PIXELS}, {"image": IMAGE}]}).encode()),
    "read": ("/api/read", json.dumps({"image": IMAGE}).encode()),
    "image as a photo": ("/api/predict", json.dumps({"image": IMAGE, "source": "photo"}).encode()),
    "read as a drawing": ("/api/read", json.dumps({"image": IMAGE, "source": "drawing"}).encode()),
    "batch with hints": ("/api/predict/batch", json.dumps({"inputs": [
        {"image": IMAGE, "source": "photo"}, {"pixels": PIXELS, "source": "drawing"}]}).encode()),
    "unknown source": ("/api/predict", json.dumps({"image": IMAGE, "source": "scan"}).encode()),
    "full batch of hinted rows": ("/api/predict/batch", json.dumps({"inputs": [
        {"pixels": [PIXELS[i:i + 28] for i in range(0, 784, 28)], "source": "photo"}] * 64}).encode()),
    "explain": ("/api/explain", json.dumps({"pixels": PIXELS}).encode()),
    "not JSON": ("/api/predict", b"{pixels: [0]"),
    "both fields": ("/api/predict", json.dumps({"pixels": PIXELS, "image": IMAGE}).encode()),
    "wrong type": ("/api/predict", b'{"pixels": "abc"}'),
    "extra field": ("/api/predict", json.dumps({"pixels": PIXELS, "colour": 1}).encode()),
    "too few pixels": ("/api/predict", b'{"pixels": [0, 1]}'),
    "not an image": ("/api/predict", b'{"image": "aGVsbG8gd29ybGQ="}'),
    "bad base64": ("/api/predict", b'{"image": "data:image/png;base64,@@@"}'),
    "unknown model": ("/api/predict", json.dumps({"pixels": PIXELS, "model": "nope"}).encode()),
    "empty batch item": ("/api/predict/batch", b'{"inputs": [{}]}'),
    "batch too large": ("/api/predict/batch", json.dumps({"inputs": [{"pixels": PIXELS}] * 65}).encode()),
    "broken batch item": ("/api/predict/batch", json.dumps({"inputs": [{"pixels": PIXELS}, {"image": "@@@"},
                                                                      {"pixels": [0.5] * 3}]}).encode()),
    "too deep": ("/api/predict", b'{"pixels":' + b"[" * 300 + b"]" * 300 + b"}"),
    "empty body": ("/api/predict", b""),
    "null": ("/api/read", b"null"),
    "a list": ("/api/explain", b"[1, 2]"),
}


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    """The app as served, and the same app without ``DirectRoutes``: FastAPI's routes alone."""
    from tests.app_fixtures import app_weights

    settings = Settings(weights=app_weights(tmp_path_factory.mktemp("direct") / "w.npz"))
    direct, routed = create_app(settings), create_app(settings)
    routed.user_middleware = [m for m in routed.user_middleware if not served_by(m.cls)]
    with TestClient(direct) as a, TestClient(routed) as b:
        yield a, b


def answer(client: TestClient, path: str, body: bytes, query: str = "") -> tuple[int, Any, dict[str, str]]:
    r = client.post(path + query, content=body, headers={"content-type": "application/json"})
    headers = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date", "content-length")}
    return r.status_code, r.json(), headers


def served_by(middleware: object) -> bool:
    return middleware is DirectRoutes


def served_directly(app: FastAPI) -> bool:
    return any(served_by(m.cls) for m in app.user_middleware)


@pytest.mark.parametrize("name", list(BODIES))
@pytest.mark.parametrize("query", ["", "?preview=false"])
def test_direct_answers_are_fastapis(clients: tuple[TestClient, TestClient], name: str, query: str) -> None:
    direct, routed = clients
    assert served_directly(direct.app) and not served_directly(routed.app)  # type: ignore[arg-type]
    path, body = BODIES[name]
    query = "" if path == "/api/explain" else query
    got, want = answer(direct, path, body, query), answer(routed, path, body, query)
    assert got == want
    assert got[0] < 500, got


BATCH_QUERIES = ["?errors=inline", "?errors=fail", "?errors=inline&preview=false", "?preview=false&errors=inline",
                 "?errors=bogus", "?errors=inline&errors=inline", "?errors=inline&x=1", "?errors=inline&"]


@pytest.mark.parametrize("name", ["batch", "broken batch item", "empty batch item", "batch too large"])
@pytest.mark.parametrize("query", BATCH_QUERIES)
def test_direct_batch_answers_are_fastapis_whatever_errors_says(clients: tuple[TestClient, TestClient], name: str,
                                                                  query: str) -> None:
    direct, routed = clients
    path, body = BODIES[name]
    got, want = answer(direct, path, body, query), answer(routed, path, body, query)
    assert got == want
    assert got[0] < 500, got


def test_the_direct_way_answers_a_batch_with_inline_errors(weights_path: Path) -> None:
    """With FastAPI's routes unable to answer (their models dependency refuses), only the direct way
    can: it takes ``errors=inline`` and ``errors=fail``, and leaves any other value to FastAPI."""
    app = create_app(Settings(weights=weights_path))

    async def refused() -> None:
        raise ApiError(418, "fastapi", "answered by FastAPI's route")

    app.dependency_overrides[get_models] = refused
    path, body = BODIES["broken batch item"]
    with TestClient(app) as client:
        status, inline, _ = answer(client, path, body, "?errors=inline&preview=false")
        assert status == 200 and [sorted(r) for r in inline["results"]] == [
            ["alternatives", "confidence", "digit", "model", "not_a_digit_probability", "probabilities", "verdict"],
            ["error"], ["error"]]
        assert answer(client, path, body, "?errors=fail")[:2] == (422, {
            "detail": "inputs[1]: The image is not valid base64 or a data URL.", "code": "invalid_image"})
        assert answer(client, path, body, "?errors=inline&x=1")[1]["code"] == "fastapi"


def test_what_the_direct_way_does_not_take_goes_to_fastapi(clients: tuple[TestClient, TestClient]) -> None:
    direct, _ = clients
    path, body = BODIES["pixels"]
    r = direct.post(path + "?preview=maybe", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")
    r = direct.post(path + "?preview=1&x=2", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and "preview" in r.json()
    r = direct.post("/api/explain?preview=false", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200  # FastAPI ignores a query the route does not take
    r = direct.post(path, content=body, headers={"content-type": "text/plain"})
    assert r.status_code in (415, 422) and r.json()["code"]
    r = direct.post(path, content=body, headers={"content-type": "application/json;charset=UTF-8"})
    assert r.status_code == 200 and r.json()["digit"] in range(10)


def test_a_full_pool_refuses_before_reading_the_body(clients: tuple[TestClient, TestClient]) -> None:
    direct, _ = clients
    pool = direct.app.state.pool  # type: ignore[attr-defined]
    saved = pool.max_wait, pool.mean
    pool.max_wait, pool.mean = 0.01, 10.0  # as if every job took 10 s: any queue is too long
    try:
        pool._jobs.update({object(), object(), object()})  # three jobs ahead

        def body() -> Iterator[bytes]:
            raise AssertionError("the body was read")
            yield b""

        r = direct.post("/api/predict", content=body(), headers={"content-type": "application/json"})
    finally:
        pool._jobs.clear()
        pool.max_wait, pool.mean = saved
    assert (r.status_code, r.json()["code"], r.headers["retry-after"]) == (503, "overloaded", "1")


def test_direct_requests_are_counted_under_their_route(clients: tuple[TestClient, TestClient]) -> None:
    direct, _ = clients
    direct.post("/api/predict", json={"pixels": PIXELS})
    metrics = direct.get("/metrics").text
    assert 'route="/api/predict",status="200"' in metrics
