"""Live training on a real ``digitpad-serve`` with two workers: runs streamed over SSE (httpx), paused,
stepped, resumed, deleted; slots full (503); a run that diverges; a stream that closes; a run whose
process is killed; the trained network answering drawings and downloaded; predictions answered
while a run trains; the training folder removed at shutdown. Any worker may answer any request, so
each test crosses workers.

No timing asserts: waits are polls bounded by a deadline, and the figures are the benchmark's
(``python -m scripts.bench.training``)."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from model import livedata
from model.live import RunConfig, train_offline
from model.weights import load
from scripts.harness.server import Served, descendants, serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # real servers with two workers, and real training runs

DRAWING = {"pixels": [[0.0] * 28] * 10 + [[0.0] * 12 + [1.0] * 4 + [0.0] * 12] * 10 + [[0.0] * 28] * 8}
Event = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights: Path) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("log"), weights, workers=2, training_max_seconds=60) as s:
        yield s


@pytest.fixture
def api(server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def parse(lines: Iterator[str]) -> Iterator[Event]:
    """Server-Sent Events as (type, data), from the stream's lines."""
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])


class Watch:
    """A run's events stream read on a thread of its own, until ``stopped`` (or ``close``)."""

    def __init__(self, url: str, run_id: str) -> None:
        self.events: list[Event] = []
        self.stopped = threading.Event()
        self.client = httpx.Client(base_url=url, timeout=60)
        self.thread = threading.Thread(target=self.read, args=(run_id,), daemon=True)
        self.thread.start()

    def read(self, run_id: str) -> None:
        try:
            with self.client.stream("GET", f"/api/train/{run_id}/events") as r:
                for event in parse(r.iter_lines()):
                    self.events.append(event)
                    if event[0] == "stopped":
                        break
        except httpx.HTTPError:
            pass  # closed by the test
        finally:
            self.stopped.set()

    def wait(self, found: Callable[[list[Event]], bool], timeout: float = 60) -> list[Event]:
        deadline = time.monotonic() + timeout
        while not found(self.events):
            assert (time.monotonic() < deadline and not self.stopped.is_set()) or found(self.events), self.events[-3:]
            time.sleep(0.02)
        return self.events

    def end(self, timeout: float = 90) -> dict[str, Any]:
        assert self.stopped.wait(timeout), "the stream did not end"
        kind, data = self.events[-1]
        assert kind == "stopped", self.events[-3:]
        return data

    def close(self) -> None:
        self.client.close()
        self.thread.join(10)


def start(api: httpx.Client, **settings: Any) -> str:
    r = api.post("/api/train", json=settings)
    assert r.status_code == 201, r.text
    run_id: str = r.json()["id"]
    return run_id


def until_stopped(api: httpx.Client, run_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (state := api.get(f"/api/train/{run_id}").json())["state"] != "stopped":
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    return state


def test_a_streamed_run_ends_as_the_offline_run_with_its_seed(server: Served, api: httpx.Client) -> None:
    settings: dict[str, Any] = {"network": "mlp", "optimizer": "adam", "learning_rate": 0.002, "batch_size": 32,
                                "steps": 300, "seed": 5}
    run_id = start(api, **settings)
    watch = Watch(server.url, run_id)
    stopped = watch.end()
    offline = train_offline(RunConfig(**settings), livedata.load("subset"))
    assert stopped["reason"] == "finished" and stopped["step"] == 300
    assert stopped["val_accuracy"] == offline.validate()[1] > 0.8
    kinds = [k for k, _ in watch.events]
    assert kinds[:3] == ["started", "weights", "grid"] and kinds.count("stopped") == 1
    steps = [d["step"] for k, d in watch.events if k == "progress"]
    assert steps[0] == 1 and steps[-1] == 300 and steps == sorted(set(steps))
    started = watch.events[0][1]
    assert len(started["grid"]["images"]) == 16 and started["data"]["source"] == "subset"
    assert np.array(stopped["confusion"]).sum() == 2000
    net, meta = load(_download(api, run_id, server))
    for (_, trained, _), expected in zip(net.parameters(), offline.params, strict=True):
        np.testing.assert_array_equal(trained, expected)  # the very same network, from any worker
    assert meta["step"] == 300
    watch.close()
    assert api.delete(f"/api/train/{run_id}").status_code == 204


def _download(api: httpx.Client, run_id: str, server: Served) -> Path:
    r = api.get(f"/api/train/{run_id}/weights.npz")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    path = server.log_path.parent / f"{run_id}.npz"
    path.write_bytes(r.content)
    return path


def test_pause_step_maths_predict_resume_and_delete(server: Served, api: httpx.Client) -> None:
    run_id = start(api, paused=True, steps=5000)
    watch = Watch(server.url, run_id)
    watch.wait(lambda events: any(k == "paused" for k, _ in events))
    assert api.post(f"/api/train/{run_id}/step").json() == {"state": "paused", "step": 1}
    assert api.post(f"/api/train/{run_id}/step").json() == {"state": "paused", "step": 2}
    events = watch.wait(lambda events: any(k == "progress" and d["step"] == 2 for k, d in events)
                        and any(k == "weights" and d["step"] == 2 for k, d in events))
    assert [d["step"] for k, d in events if k == "weights"][-1] == 2  # each step sends its weights

    maths = api.get(f"/api/train/{run_id}/maths", params={"image": 3}).json()
    names = [t["name"] for t in maths["terms"]]
    assert names == ["Z1", "A1", "Z2", "A2", "Y", "dZ2", "dW2", "db2", "dZ1", "dW1", "db1", "W1", "b1", "W2", "b2"]
    terms = {t["name"]: t for t in maths["terms"]}
    assert terms["Z1"]["shape"] == [10, 1] and terms["dW1"]["shape"] == [10, 784]
    assert len(terms["dW1"]["pictures"]) == 10
    pixels = np.frombuffer(base64.b64decode(maths["pixels"]), np.uint8)
    columns = terms["dW1"]["columns"]
    assert len(columns) == 8 and pixels[columns].min() >= np.sort(pixels)[-8]  # the most inked pixels
    assert np.array(terms["dW1"]["values"]).shape == (10, 8)
    assert terms["Y"]["values"][maths["label"]] == [1.0] and maths["loss_after"] < maths["loss_before"]
    assert api.get(f"/api/train/{run_id}/maths", params={"image": 10**9}).status_code == 422

    answer = api.post(f"/api/train/{run_id}/predict", json=DRAWING).json()
    assert answer["model"]["name"] == "trained" and 0 <= answer["digit"] <= 9

    assert api.post(f"/api/train/{run_id}/resume").json()["state"] == "running"
    r = api.post(f"/api/train/{run_id}/step")
    assert (r.status_code, r.json()["code"]) == (409, "run_running")
    assert api.get(f"/api/train/{run_id}/maths").json()["code"] == "run_running"
    paused = api.post(f"/api/train/{run_id}/pause").json()
    assert paused["state"] == "paused" and paused["step"] > 2
    assert api.delete(f"/api/train/{run_id}").status_code == 204
    assert watch.end()["reason"] == "stopped"
    assert api.get(f"/api/train/{run_id}").json()["code"] == "unknown_run"
    watch.close()


def test_all_slots_busy_is_503_with_retry_after(api: httpx.Client) -> None:
    run_id = start(api, paused=True)
    r = api.post("/api/train", json={})
    assert (r.status_code, r.json()["code"]) == (503, "training_busy")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert api.delete(f"/api/train/{run_id}").status_code == 204
    again = start(api, paused=True)  # the slot is free again
    assert api.delete(f"/api/train/{again}").status_code == 204


def test_a_huge_learning_rate_diverges_and_says_so(server: Served, api: httpx.Client) -> None:
    run_id = start(api, learning_rate=1e6)
    watch = Watch(server.url, run_id)
    stopped = watch.end()
    assert stopped["reason"] == "diverged" and "too large" in stopped["message"]
    assert api.get(f"/api/train/{run_id}").json()["reason"] == "diverged"
    assert api.post(f"/api/train/{run_id}/predict", json=DRAWING).status_code == 200  # the last finite weights
    assert api.post(f"/api/train/{run_id}/resume").json()["code"] == "run_stopped"
    watch.close()


def test_closing_the_stream_stops_the_run(server: Served, api: httpx.Client) -> None:
    run_id = start(api, steps=5000)
    with api.stream("GET", f"/api/train/{run_id}/events") as r:
        next(event for event in parse(r.iter_lines()) if event[0] == "progress")
    state = until_stopped(api, run_id)
    assert state["reason"] == "disconnected" and state["step"] < 5000


def test_predictions_keep_their_answers_while_a_run_trains(server: Served, api: httpx.Client) -> None:
    idle = api.post("/api/predict", json=DRAWING).json()
    run_id = start(api, network="cnn", optimizer="adam", learning_rate=0.001, batch_size=64, steps=5000)
    watch = Watch(server.url, run_id)
    watch.wait(lambda events: any(k == "progress" for k, _ in events))
    for _ in range(40):
        r = api.post("/api/predict", json=DRAWING)
        assert r.status_code == 200
        assert r.json()["probabilities"] == idle["probabilities"]
    assert api.get(f"/api/train/{run_id}").json()["state"] == "running"  # it trained all along
    assert api.delete(f"/api/train/{run_id}").status_code == 204
    watch.close()


def test_a_killed_run_is_said_to_have_failed_and_frees_its_slot(server: Served, api: httpx.Client) -> None:
    run_id = start(api, paused=True)
    watch = Watch(server.url, run_id)
    watch.wait(lambda events: any(k == "paused" for k, _ in events))
    [process] = [pid for pid in descendants(server.proc.pid) if run_id in Path(f"/proc/{pid}/cmdline").read_text()]
    os.kill(process, signal.SIGKILL)
    assert watch.end()["reason"] == "failed"
    assert api.get(f"/api/train/{run_id}").json()["reason"] == "failed"
    again = start(api, paused=True)
    assert api.delete(f"/api/train/{again}").status_code == 204
    watch.close()


def test_metrics_count_runs(api: httpx.Client) -> None:
    text = api.get("/metrics").text
    counts = {line.split("outcome=")[1].split("}")[0].strip('"'): float(line.split()[-1])
              for line in text.splitlines() if line.startswith("digitpad_training_runs_total{")}
    assert counts["started"] >= 4 and counts["refused"] >= 1 and counts["finished"] >= 1
    assert counts["diverged"] >= 1 and counts["disconnected"] >= 1 and counts["failed"] >= 1
    assert "digitpad_training_runs_in_progress 0.0" in text


def test_a_stopping_server_ends_its_streams_and_takes_the_training_folder(tmp_path: Path, weights: Path) -> None:
    with serving(tmp_path, weights, workers=1) as s, httpx.Client(base_url=s.url, timeout=30) as c:
        run_id = start(c, steps=5000)
        watch = Watch(s.url, run_id)
        watch.wait(lambda events: any(k == "progress" for k, _ in events))
        process = next(pid for pid in descendants(s.proc.pid) if run_id in Path(f"/proc/{pid}/cmdline").read_text())
        folder = Path(Path(f"/proc/{process}/cmdline").read_text().split("\0")[-2]).parent.parent
        assert (folder / "slots").is_dir()
        assert s.stop() == 0
        stopped = watch.end()
        watch.close()
    assert stopped["reason"] == "stopped" and "shutting down" in stopped["message"]
    assert not folder.exists() and not Path(f"/proc/{process}").exists()
