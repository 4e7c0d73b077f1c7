"""``GET /metrics`` (read back by ``prometheus_client``'s own parser) and the request log lines,
on real ``digitpad-serve`` processes: one worker, and two merging their metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scripts.harness.server import serving
from tests.paths import ROOT

PIXELS = [[1.0 if 4 <= y < 24 and 13 <= x < 15 else 0.0 for x in range(28)] for y in range(28)]


def samples(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for given, v in found.get(name, []) if all(given.get(k) == w for k, w in labels.items()))


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_count_what_happened(tmp_path: Path, workers: int) -> None:
    with serving(tmp_path, ROOT / "weights" / "digitpad.npz", workers=workers) as s, httpx.Client(base_url=s.url) as c:
        for _ in range(6):
            assert c.post("/api/predict", json={"pixels": PIXELS}).status_code == 200
        assert c.post("/api/predict", json={"pixels": [0.0] * 784}).json()["code"] == "empty_image"
        assert c.post("/api/predict", json={"pixels": PIXELS, "model": "nope"}).status_code == 404
        found = samples(s.url)
    assert total(found, "digitpad_http_requests_total", route="/api/predict", status="200") == 6
    assert total(found, "digitpad_http_requests_total", route="/api/predict", status="422") == 1
    assert total(found, "digitpad_http_request_duration_seconds_count", route="/api/predict") == 8
    assert total(found, "digitpad_predictions_total", model="digitpad", digit="1") == 6
    assert total(found, "digitpad_rejected_requests_total", code="empty_image") == 1
    assert total(found, "digitpad_rejected_requests_total", code="unknown_model") == 1
    versions = {labels["name"] for labels, v in found["digitpad_model_info"] if v == 1}
    assert versions == {"digitpad", "handwriting", "mlp", "blog"}
    assert "digitpad_http_requests_in_flight" in found
    if workers == 1:
        assert total(found, "process_cpu_seconds_total") > 0  # process metrics


def test_request_lines_are_json_with_an_id_and_no_body(tmp_path: Path) -> None:
    weights = ROOT / "weights" / "digitpad.npz"
    with serving(tmp_path, weights, log_format="json") as s, httpx.Client(base_url=s.url) as c:
        mine = c.post("/api/predict", json={"pixels": PIXELS}, headers={"X-Request-ID": "abc-123"})
        assert mine.headers["x-request-id"] == "abc-123"
        made = c.get("/healthz").headers["x-request-id"]
        assert len(made) == 32 and c.get("/healthz", headers={"X-Request-ID": "bad id\\x01"}).headers[
            "x-request-id"] != "bad id\\x01"
        deadline = time.monotonic() + 60
        while made not in (log := s.log()):  # lines are written by a logging thread: soon, not at once
            assert time.monotonic() < deadline, log
            time.sleep(0.05)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines, log
    request = next(line for line in lines if line.get("request_id") == "abc-123")
    assert request["method"] == "POST" and request["route"] == "/api/predict" and request["status"] == 200
    assert request["ms"] > 0 and request["level"] == "info" and "time" in request
    assert any(line.get("request_id") == made for line in lines)
    assert "pixels" not in log and "1.0, 1.0" not in log  # never a body
    assert any("Application startup complete" in line["message"] for line in lines)  # uvicorn's lines too


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    with serving(tmp_path, ROOT / "weights" / "digitpad.npz", metrics="false") as s:
        r = httpx.get(f"{s.url}/metrics")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
