"""The HTTP metrics' route label (``app.middleware.observe``): FastAPI's routes by their template,
the static files under their mount's path and ``/openapi.json`` under its own, never the path
asked for; a path no route or mount takes is ``unmatched``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY


def requests(method: str, route: str, status: int) -> float:
    """``digitpad_http_requests_total`` for these labels (the registry is the process's: compare)."""
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("digitpad_http_requests_total", labels) or 0.0


@pytest.mark.parametrize(("method", "path", "route", "status"), [
    ("GET", "/static/app.js", "/static", 200),
    ("GET", "/static/style.css", "/static", 200),
    ("HEAD", "/static/pad.js", "/static", 200),
    ("GET", "/static/no-such-file.js", "/static", 404),  # the mount answered it: still one label
    ("GET", "/openapi.json", "/openapi.json", 200),
    ("GET", "/docs", "/docs", 200),
    ("HEAD", "/healthz", "/healthz", 200),  # HEAD is answered as GET, and counted under its route
    ("GET", "/no/such/path", "unmatched", 404),
    ("GET", "/staticfile.js", "unmatched", 404),  # not under the mount
])
def test_each_request_is_counted_under_a_bounded_route(client: TestClient, method: str, path: str, route: str,
                                                       status: int) -> None:
    before = requests(method, route, status)
    assert client.request(method, path).status_code == status
    assert requests(method, route, status) == before + 1


def test_no_raw_path_becomes_a_label(client: TestClient) -> None:
    for i in range(5):
        client.get(f"/static/missing-{i}.js")
        client.get(f"/nothing-{i}")
    routes = {s.labels["route"] for m in REGISTRY.collect() if m.name == "digitpad_http_requests" for s in m.samples}
    assert not any("missing-" in r or "nothing-" in r for r in routes), routes
    assert {"/static", "unmatched"} <= routes
