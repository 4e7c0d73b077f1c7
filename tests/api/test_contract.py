"""The API's stricter contract, in-process: never echo input, one set of security headers,
HEAD wherever GET works, no Host-header redirects, CORS closed by default, JSON numbers only,
near-empty pixels, batch pixel budget, readiness while draining, and an OpenAPI document
that lists every status and code."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.errors import CODES
from app.imaging.errors import excerpt
from app.main import create_app
from app.runtime.shutdown import shutdown
from app.settings import Settings
from scripts.harness.server import huge_image
from tests.drawing import drawing
from tests.paths import ROOT

HTML_PATHS = ["/", "/static/index.html"]
ALL_PATHS = [*HTML_PATHS, "/healthz", "/readyz", "/api/model", "/static/app.js", "/openapi.json", "/nothing"]


def png_url() -> str:
    return "data:image/png;base64," + base64.b64encode(drawing()).decode()


# ----- never echo -------------------------------------------------------------------

def test_unknown_media_type_is_not_echoed(client: TestClient) -> None:
    media = "image/x-" + "<script>alert(1)</script>" * 36_000  # ~900 KB
    r = client.post("/api/predict", json={"image": f"data:{media};base64,AAAA"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_format"
    assert len(r.content) < 400 and "<script>" not in r.text


def test_long_paths_and_methods_are_not_echoed(client: TestClient) -> None:
    r = client.get("/" + "a" * 60_000 + "<b>")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and len(r.content) < 400
    r = client.request("PATCH", "/api/predict")
    assert r.status_code == 405 and "POST" in r.json()["detail"]


def test_excerpt_is_short_and_escaped() -> None:
    text = excerpt("<img src=x onerror=alert(1)>" * 10)
    assert "<" not in text and ">" not in text and text.endswith("…") and len(text) < 200
    assert excerpt("a\x00b") == "'a\\x00b'"


# ----- headers, HEAD, redirects, CORS ------------------------------------------------

@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_response_has_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if path in HTML_PATHS:
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    else:
        assert "default-src 'none'" in csp or r.headers["content-type"].startswith("text/html")


def test_errors_and_posts_have_the_security_headers(client: TestClient) -> None:
    for r in (client.post("/api/predict", json={}), client.post("/api/predict", json={"pixels": [0.5] * 784})):
        assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in r.headers


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/api/model", "/static/index.html", "/openapi.json"])
def test_head_answers_wherever_get_does(client: TestClient, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_redirects_never_use_the_host_header(client: TestClient) -> None:
    r = client.get("/static", headers={"host": "evil.example"}, follow_redirects=False)
    assert r.status_code in (301, 307, 308) and r.headers["location"] == "/static/"


def test_cors_is_closed_by_default(client: TestClient) -> None:
    r = client.options("/api/predict", headers={"origin": "https://elsewhere.example",
                                                "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    r = client.post("/api/predict", json={"pixels": [0.5] * 784}, headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_opens_to_listed_origins(weights_path: Path) -> None:
    settings = Settings(weights=weights_path, cors_origins=["https://ok.example"])
    with TestClient(create_app(settings)) as c:
        ok = c.options("/api/predict", headers={"origin": "https://ok.example",
                                                "access-control-request-method": "POST"})
        other = c.options("/api/predict", headers={"origin": "https://other.example",
                                                   "access-control-request-method": "POST"})
    assert ok.headers["access-control-allow-origin"] == "https://ok.example"
    assert "access-control-allow-origin" not in other.headers


# ----- a stricter contract -----------------------------------------------------------

@pytest.mark.parametrize("pixels", [["0.5"] * 784, [True] * 784, [[0.5] * 28] * 27 + [["1"] * 28], [None] * 784])
def test_pixels_must_be_json_numbers(client: TestClient, pixels: list[object]) -> None:
    r = client.post("/api/predict", json={"pixels": pixels})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_integers_are_numbers(client: TestClient) -> None:
    assert client.post("/api/predict", json={"pixels": [0] * 400 + [1] * 20 + [0] * 364}).status_code == 200


@pytest.mark.parametrize("ink", [4e-5, 0.01, 0.099])
def test_faint_pixels_are_empty(client: TestClient, ink: float) -> None:
    r = client.post("/api/predict", json={"pixels": [0.0] * 400 + [ink] * 20 + [0.0] * 364})
    assert (r.status_code, r.json()["code"]) == (422, "empty_image")
    assert "0.1" in r.json()["detail"]


def test_explicit_null_does_not_count_as_the_other_field(client: TestClient) -> None:
    r = client.post("/api/predict", json={"image": None, "pixels": [0.5] * 784})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_invalid_utf8_is_a_documented_400(client: TestClient) -> None:
    r = client.post("/api/predict", content=b'{"image": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and r.json()["code"] in CODES[r.status_code]


def test_empty_file_upload(client: TestClient) -> None:
    r = client.post("/api/predict/file", files={"file": ("d.png", b"", "image/png")})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_image")


def test_batch_pixel_budget_is_checked_before_decoding(client: TestClient) -> None:
    huge = huge_image()  # 8.3 megapixels in a few hundred bytes
    r = client.post("/api/predict/batch", json={"inputs": [{"image": huge}] * 2})
    assert (r.status_code, r.json()["code"]) == (422, "batch_too_large")
    assert "megapixels" in r.json()["detail"]
    large = huge_image(2400)  # 5.8 megapixels: room for seven small drawings beside it
    r = client.post("/api/predict/batch", json={"inputs": [{"image": large}] + [{"image": png_url()}] * 7})
    assert r.status_code == 200 and len(r.json()["results"]) == 8


def test_large_images_are_read_reduced(client: TestClient) -> None:
    r = client.post("/api/predict", json={"image": huge_image()})
    assert r.status_code == 200 and max(max(row) for row in r.json()["preview"]) == 1.0


# ----- readiness while draining ------------------------------------------------------

@pytest.fixture
def draining(client: TestClient) -> Iterator[TestClient]:
    shutdown.draining = True
    yield client
    shutdown.reset()


def test_not_ready_while_shutting_down(draining: TestClient) -> None:
    assert draining.get("/healthz").status_code == 200
    r = draining.get("/readyz")
    assert r.status_code == 503 and r.json()["code"] == "not_ready" and r.headers["retry-after"] == "1"


# ----- the OpenAPI document ----------------------------------------------------------

def test_openapi_lists_every_status_and_code(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/predict", "/api/predict/file", "/api/predict/batch"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "400", "408", "413", "415", "422", "503"} <= set(responses)
        for status in (400, 408, 413, 415, 422, 503):
            for code in CODES[status]:
                assert f"`{code}`" in responses[str(status)]["description"]
    request = spec["components"]["schemas"]["PredictRequest"]
    assert request["oneOf"] == [{"required": ["image"]}, {"required": ["pixels"]}]
    assert request["properties"]["image"]["type"] == "string"  # not nullable
    upload = spec["components"]["schemas"]["Body_predict_file_api_predict_file_post"]["properties"]["file"]
    assert upload["minLength"] == 1


def test_the_openapi_document_keeps_limits_and_codes_out_of_its_introduction(client: TestClient) -> None:
    """The introduction, shown above the endpoints, is short and links to the limits and the codes,
    which are sections of their own (tags without endpoints: ReDoc's pages, left out by Swagger UI)."""
    spec = client.get("/openapi.json").json()
    intro = spec["info"]["description"]
    assert len(intro.splitlines()) <= 3 and "(/redoc#tag/Limits)" in intro and "(/redoc#tag/Errors)" in intro
    assert not any(f"`{code}`" in intro for codes in CODES.values() for code in codes)
    sections = {tag["name"]: tag for tag in spec["tags"] if tag.get("x-traitTag")}
    assert set(sections) == {"Limits", "Errors"}
    for status, codes in CODES.items():
        for code, meaning in codes.items():
            assert f"- **{status}** `{code}`: {meaning}" in sections["Errors"]["description"]
    assert "batches of up to 64 inputs" in sections["Limits"]["description"]


def test_the_api_reference_documents_every_setting_and_code() -> None:
    reference = (ROOT / "docs" / "api.md").read_text()
    for name in Settings.model_fields:
        assert f"DIGITPAD_{name.upper()}" in reference, name
    for status, codes in CODES.items():
        for code in codes:
            assert f"| {status} | `{code}` |" in reference, code


def test_preview_can_be_left_out(client: TestClient) -> None:
    pixels = [0.0] * 400 + [1.0] * 20 + [0.0] * 364
    full = client.post("/api/predict", json={"pixels": pixels}).json()
    lean = client.post("/api/predict?preview=false", json={"pixels": pixels}).json()
    assert "preview" in full and "preview" not in lean
    assert lean == {k: v for k, v in full.items() if k != "preview"}
    batch = client.post("/api/predict/batch?preview=false", json={"inputs": [{"pixels": pixels}]}).json()
    assert batch["results"] == [lean]
