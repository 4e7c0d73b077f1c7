"""``POST /api/predict/batch?errors=inline``: an input the batch cannot read is answered in its place
by the error ``/api/predict`` gives it alone, every other input is answered as without it, and the
batch's own limits still refuse the whole batch. Without the parameter, one bad input fails it all."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from scripts.harness import costly
from scripts.harness.server import huge_image
from tests.api.test_api import BAD_BODIES, data_url, png_header_only
from tests.app_fixtures import app_weights
from tests.drawing import drawing
from tests.paths import ROOT

BATCH = "/api/predict/batch"
PIXELS = [0.0] * 400 + [1.0] * 20 + [0.0] * 364
DIGIT = base64.b64encode((ROOT / "examples" / "digit.png").read_bytes()).decode()
# What one input can be wrong with, once the body is valid JSON of the batch's schema
BROKEN = [(body, status, code) for body, status, code in BAD_BODIES if code != "invalid_request"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(weights=app_weights(tmp_path_factory.mktemp("batch") / "w.npz"))
    with TestClient(create_app(settings)) as c:
        yield c


def good_inputs(n: int) -> list[dict[str, Any]]:
    """``n`` readable inputs, images of different sizes and shapes, and pixels."""
    shapes = ["7", "4", "1"]
    return [{"pixels": PIXELS} if i % 5 == 4 else
            {"image": data_url(drawing(box=(40 + i, 40, 150, 200), shape=shapes[i % 3]))} for i in range(n)]


def results(client: TestClient, inputs: list[dict[str, Any]], query: str = "?errors=inline") -> list[Any]:
    r = client.post(BATCH + query, json={"inputs": inputs})
    assert r.status_code == 200, r.text
    answers: list[Any] = r.json()["results"]
    assert len(answers) == len(inputs)
    return answers


def alone(client: TestClient, item: dict[str, Any]) -> dict[str, Any]:
    """What /api/predict answers for ``item``: its status and body."""
    r = client.post("/api/predict", json=item)
    return {"status": r.status_code, **r.json()}


def test_one_broken_image_in_a_full_batch_is_answered_in_its_place(client: TestClient) -> None:
    most = client.app.state.settings.max_batch  # type: ignore[attr-defined]
    good, broken, at = good_inputs(most - 1), {"image": data_url(drawing()[:300])}, 37
    inputs = [*good[:at], broken, *good[at:]]
    answers = results(client, inputs)
    single = alone(client, broken)
    assert answers[at] == {"error": {"detail": single["detail"], "code": single["code"]}}
    assert single["code"] == "invalid_image"
    assert answers[:at] + answers[at + 1:] == results(client, good)  # the same answers, each in its place
    assert all("digit" in a for a in answers[:at] + answers[at + 1:])
    r = client.post(BATCH, json={"inputs": inputs})  # without the parameter: the whole batch fails
    assert (r.status_code, r.json()) == (422, {"detail": f"inputs[{at}]: {single['detail']}", "code": "invalid_image"})
    assert client.post(BATCH + "?errors=fail", json={"inputs": inputs}).json() == r.json()


def test_the_issues_case_one_broken_image_among_256(tmp_path: Path) -> None:
    """A batch raised to 256 canvases (by default it holds 64 inputs, 8.3 megapixels and one
    drawing's work: ``DIGITPAD_MAX_BATCH``, ``_MAX_BATCH_PIXELS``, ``_MAX_WORK``): one broken image
    among 256 gets its error in its place and the 255 others their answers."""
    settings = Settings(weights=app_weights(tmp_path / "w.npz"), max_batch=256, max_batch_pixels=256 * 280 * 280,
                        max_work=4.0)
    with TestClient(create_app(settings)) as c:
        inputs: list[dict[str, Any]] = [{"image": DIGIT}] * 255
        inputs.insert(200, {"image": data_url(drawing()[:300])})
        answers = results(c, inputs)
    assert answers[200]["error"]["code"] == "invalid_image"
    assert sum("digit" in a for a in answers) == 255


@pytest.mark.parametrize(("body", "status", "code"), BROKEN)
def test_each_inline_error_is_what_predict_answers_alone(client: TestClient, body: dict[str, Any], status: int,
                                                         code: str) -> None:
    single = alone(client, body)
    assert (single["status"], single["code"]) == (status, code)
    answers = results(client, [{"pixels": PIXELS}, body, {"image": DIGIT}], "?errors=inline&preview=false")
    assert answers[1] == {"error": {"detail": single["detail"], "code": code}}
    assert "digit" in answers[0] and "digit" in answers[2] and "preview" not in answers[0]
    r = client.post(BATCH, json={"inputs": [{"pixels": PIXELS}, body]})
    assert (r.status_code, r.json()["code"], r.json()["detail"]) == (status, code, f"inputs[1]: {single['detail']}")


@pytest.mark.parametrize("token", [b"NaN", b"Infinity"])
def test_non_finite_pixels_are_an_inline_error(client: TestClient, token: bytes) -> None:
    bad = b'{"pixels": [' + token + b", 0.5" * 783 + b"]}"
    body = b'{"inputs": [' + bad + b', {"pixels": [' + b", ".join(b"%g" % p for p in PIXELS) + b"]}]}"
    r = client.post(BATCH + "?errors=inline", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert r.json()["results"][0]["error"]["code"] == "invalid_pixels" and "digit" in r.json()["results"][1]


def test_an_input_over_the_shared_budget_is_an_inline_too_complex(client: TestClient) -> None:
    comb = costly.comb(side=360, teeth=20)  # answered alone; many of them outgrow one drawing's budget
    most = client.app.state.settings.max_batch  # type: ignore[attr-defined]
    answers = results(client, [{"image": comb}] * (most - 1) + [{"image": DIGIT}])
    refused = [a["error"] for a in answers if "error" in a]
    assert refused and all(e["code"] == "too_complex" for e in refused)
    assert refused[0]["detail"].startswith("The batch's drawings have, together")
    assert "digit" in answers[0] and "error" in answers[-2]
    assert answers[-1]["digit"] == alone(client, {"image": DIGIT})["digit"]  # the refused ones spent nothing


def test_a_drawing_refused_alone_leaves_the_budget_to_the_others(client: TestClient) -> None:
    specks = costly.specks()  # over one drawing's budget on its own
    assert alone(client, {"image": specks})["code"] == "too_complex"
    answers = results(client, [{"image": specks}, {"image": DIGIT}, {"image": specks}, {"image": DIGIT}])
    assert [a.get("error", {}).get("code") for a in answers] == ["too_complex", None, "too_complex", None]
    assert answers[1] == answers[3]
    assert answers[1]["preview"] == results(client, [{"image": DIGIT}])[0]["preview"]  # read as it is alone


def test_the_batchs_own_limits_refuse_the_whole_batch(client: TestClient, tmp_path: Path) -> None:
    most = client.app.state.settings.max_batch  # type: ignore[attr-defined]
    broken = {"image": "@@@"}
    too_many = client.post(BATCH + "?errors=inline", json={"inputs": [{"pixels": PIXELS}] * most + [broken]})
    assert (too_many.status_code, too_many.json()["code"]) == (422, "batch_too_large")
    too_big = client.post(BATCH + "?errors=inline", json={"inputs": [{"image": huge_image()}] * 2 + [broken]})
    assert (too_big.status_code, too_big.json()["code"]) == (422, "batch_too_large")
    assert "megapixels" in too_big.json()["detail"]
    not_the_schema = client.post(BATCH + "?errors=inline", json={"inputs": [{"pixels": PIXELS}, {}]})
    assert (not_the_schema.status_code, not_the_schema.json()["code"]) == (422, "invalid_request")
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = client.post(BATCH + "?errors=inline", json={"inputs": [{"image": "A" * limit}]})
    assert (body.status_code, body.json()["code"]) == (413, "body_too_large")


def test_an_input_whose_header_is_too_large_is_left_out_of_the_batchs_pixels(client: TestClient) -> None:
    too_large = data_url(png_header_only(100_000, 100_000))
    answers = results(client, [{"image": huge_image(2400)}, {"image": too_large}, {"image": DIGIT}])
    assert "digit" in answers[0] and answers[1]["error"]["code"] == "image_too_large" and "digit" in answers[2]


@pytest.mark.parametrize("query", ["?errors=bogus", "?errors=", "?errors=INLINE"])
def test_an_unknown_errors_value_is_refused_clearly(client: TestClient, query: str) -> None:
    r = client.post(BATCH + query, json={"inputs": [{"pixels": PIXELS}]})
    assert (r.status_code, r.json()) == (422, {"detail": "?errors: Input should be 'fail' or 'inline'",
                                               "code": "invalid_request"})


def test_the_openapi_document_shows_both_shapes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"][BATCH]["post"]
    errors = next(p for p in operation["parameters"] if p["name"] == "errors")
    assert (errors["in"], errors["schema"]["enum"]) == ("query", ["fail", "inline"])
    assert errors["schema"]["default"] == "fail"
    assert "inline" in errors["description"] and "whole batch" in errors["description"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchResponse")
    schemas = spec["components"]["schemas"]
    assert schemas["BatchResponse"]["properties"]["results"]["items"]["anyOf"] == [
        {"$ref": "#/components/schemas/Prediction"}, {"$ref": "#/components/schemas/ItemError"}]
    assert schemas["ItemError"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert schemas["ErrorBody"]["required"] == ["detail", "code"]
    example = schemas["ItemError"]["examples"][0]
    assert results(client, [{"image": "@@@"}])[0] == example  # the example is a real answer
