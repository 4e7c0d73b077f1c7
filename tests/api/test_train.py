"""The live training routes' answers that need no run: what GET /api/train describes, every bad
request (422), training turned off and unknown ids (404). Runs themselves are tested on a real
server in tests/server/test_training.py."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.training.runs import compact

DRAWING = {"pixels": [[0.0] * 28] * 14 + [[1.0] * 28] * 14}
RUN_ROUTES = [("GET", ""), ("GET", "/events"), ("POST", "/pause"), ("POST", "/resume"), ("POST", "/step"),
              ("DELETE", ""), ("GET", "/maths"), ("POST", "/predict"), ("GET", "/weights.npz")]


@pytest.fixture
def off(weights_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(weights=weights_path, training=False))) as c:
        yield c


def test_get_describes_networks_defaults_limits_and_data(client: TestClient) -> None:
    info = client.get("/api/train").json()
    assert [n["name"] for n in info["networks"]] == ["tutorial", "mlp", "cnn"]
    assert [o["name"] for o in info["optimizers"]] == ["gd", "momentum", "rmsprop", "adam"]
    assert info["defaults"] == {"network": "tutorial", "optimizer": "gd", "learning_rate": 0.1, "batch_size": 0,
                                "steps": 500, "seed": 0, "paused": False}
    assert info["limits"] == {"max_steps": 5000, "max_seconds": 120.0, "ttl_seconds": 1800.0, "runs": 1,
                              "max_batch_size": 6000}
    assert info["data"] == {"source": "subset", "train": 20000, "validation": 2000, "full_batch": 6000}
    assert info["networks"][1]["suggested"]["optimizer"] == "adam"


def test_an_mnist_folder_is_the_source_when_it_has_the_files(weights_path: Path, tmp_path: Path) -> None:
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(b"")
    with TestClient(create_app(Settings(weights=weights_path, mnist_dir=tmp_path))) as c:
        assert c.get("/api/train").json()["data"]["source"] == "mnist"
    with TestClient(create_app(Settings(weights=weights_path, mnist_dir=tmp_path / "none"))) as c:
        assert c.get("/api/train").json()["data"]["source"] == "subset"


@pytest.mark.parametrize("body,where", [
    ({"network": "resnet"}, "network"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"steps": 0}, "steps"),
    ({"steps": 5001}, "steps"),
    ({"batch_size": -1}, "batch_size"),
    ({"batch_size": 6001}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"seed": -1}, "seed"),
    ({"seed": False}, "seed"),
    ({"steps": "500"}, "steps"),
    ({"paused": "yes"}, "paused"),
    ({"epochs": 3}, "epochs"),
])
def test_bad_parameters_are_422_naming_the_field(client: TestClient, body: dict[str, object], where: str) -> None:
    r = client.post("/api/train", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request" and where in r.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"learning_rate": NaN}', b'{"learning_rate": Infinity}',
                                 b'{"learning_rate": 1e999}', b'[1, 2]', b'{"steps": '])
def test_nan_infinite_or_unreadable_bodies_are_422(client: TestClient, raw: bytes) -> None:
    r = client.post("/api/train", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"


def test_the_step_limit_is_the_servers(weights_path: Path) -> None:
    with TestClient(create_app(Settings(weights=weights_path, training_max_steps=50))) as c:
        r = c.post("/api/train", json={"steps": 51})
        assert r.status_code == 422 and "at most 50" in r.json()["detail"]
        assert c.get("/api/train").json()["limits"]["max_steps"] == 50


def test_off_answers_404_training_off_everywhere(off: TestClient) -> None:
    assert off.get("/api/train").json()["code"] == "training_off"
    assert off.post("/api/train", json={}).status_code == 404
    for method, tail in RUN_ROUTES:
        r = off.request(method, f"/api/train/AAAAAAAAAAAAAAAA{tail}")
        assert (r.status_code, r.json()["code"]) == (404, "training_off"), (method, tail)


@pytest.mark.parametrize("run_id", ["AAAAAAAAAAAAAAAA", "short", "%2e%2e%2fsettings", "A" * 300])
def test_unknown_ids_are_404_unknown_run(client: TestClient, run_id: str) -> None:
    for method, tail in RUN_ROUTES:
        r = client.request(method, f"/api/train/{run_id}{tail}", json=DRAWING if tail == "/predict" else None)
        assert r.status_code == 404, (method, tail, r.text)
        assert r.json()["code"] in ("unknown_run", "not_found")
    assert client.get(f"/api/train/{run_id}").json()["code"] in ("unknown_run", "not_found")


def test_a_stopped_run_is_forgotten_after_the_ttl(weights_path: Path) -> None:
    with TestClient(create_app(Settings(weights=weights_path, training_ttl=0.5))) as c:
        run_id = c.post("/api/train", json={"steps": 1}).json()["id"]
        deadline = time.monotonic() + 60
        while (r := c.get(f"/api/train/{run_id}")).status_code == 200:
            assert time.monotonic() < deadline, r.json()
            time.sleep(0.1)
        assert r.json()["code"] == "unknown_run"


def sse(client: TestClient, run_id: str) -> list[tuple[int, str]]:
    """A run's events stream to its end: (id, type) of each message."""
    out, number = [], 0
    with client.stream("GET", f"/api/train/{run_id}/events") as r:
        for line in r.iter_lines():
            if line.startswith("id: "):
                number = int(line[4:])
            elif line.startswith("event: "):
                out.append((number, line[7:]))
    return out


def test_a_compacted_log_keeps_every_event_but_old_pictures_and_their_numbers(client: TestClient) -> None:
    run_id = client.post("/api/train", json={"steps": 40, "learning_rate": 0.5}).json()["id"]
    events = sse(client, run_id)
    assert events[-1][1] == "stopped" and [n for n, _ in events] == list(range(1, len(events) + 1))
    training = client.app.state.training  # type: ignore[attr-defined]
    compact(training.find(run_id))
    again = sse(client, run_id)
    assert [e for e in events if e[1] != "weights"] == [e for e in again if e[1] != "weights"]
    assert [e for e in again if e[1] == "weights"] == [e for e in events if e[1] == "weights"][-1:]


def test_a_training_folder_removed_under_the_server_is_made_again(client: TestClient) -> None:
    training = client.app.state.training  # type: ignore[attr-defined]
    shutil.rmtree(training.root)  # as a cleaner of old temporary files would
    r = client.post("/api/train", json={"steps": 1})
    assert r.status_code == 201, r.text
    assert client.delete(f"/api/train/{r.json()['id']}").status_code == 204
