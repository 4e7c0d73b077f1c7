"""Honest answers: the verdict contract through the API, the thresholds' round trip through the
weights file, and how ``model.verdict`` chooses them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.layers import Dense
from model.network import Network
from model.verdict import choose_thresholds, split, verdict
from model.weights import load, save

THRESHOLDS = {"reject": 0.5, "sure": 0.9, "alternative": 0.1, "validation": {"digits_rejected": 0.003}}
REGIONS = {"none": slice(0, 100), "three": slice(100, 200), "one or seven": slice(200, 300)}


def region(name: str) -> list[float]:
    pixels = np.zeros(784)
    pixels[REGIONS[name]] = 1.0
    return pixels.tolist()


@pytest.fixture
def honest_weights(tmp_path: Path) -> Path:
    """784 → 11 wired by hand: ink in one band says "not a digit", in another "3", in a third
    "1 or 7" in equal measure."""
    dense = Dense(784, 11)
    W = np.zeros((11, 784), dtype=np.float32)
    W[10, REGIONS["none"]] = 0.5
    W[3, REGIONS["three"]] = 0.5
    W[[1, 7], REGIONS["one or seven"]] = 0.5
    dense.params["W"][...] = W
    dense.params["b"][...] = 0.0
    path = tmp_path / "honest.npz"
    save(path, Network([dense]), {"name": "honest-test", "verdict": THRESHOLDS})
    return path


@pytest.fixture
def honest(honest_weights: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(weights=honest_weights))) as c:
        yield c


def test_not_a_digit(honest: TestClient) -> None:
    body = honest.post("/api/predict", json={"pixels": region("none")}).json()
    assert body["verdict"] == "not_a_digit" and body["alternatives"] == []
    assert body["not_a_digit_probability"] > 0.99
    assert abs(sum(body["probabilities"]) - 1) < 1e-9 and body["digit"] == int(np.argmax(body["probabilities"]))


def test_a_confident_digit(honest: TestClient) -> None:
    body = honest.post("/api/predict", json={"pixels": region("three")}).json()
    assert (body["verdict"], body["digit"], body["alternatives"]) == ("digit", 3, [])
    assert body["confidence"] > 0.99 and body["not_a_digit_probability"] < 0.01


def test_unsure_names_the_alternatives(honest: TestClient) -> None:
    body = honest.post("/api/predict", json={"pixels": region("one or seven"), }).json()
    assert body["verdict"] == "unsure"
    assert sorted(a["digit"] for a in body["alternatives"]) == [1, 7]
    assert all(abs(a["probability"] - 0.5) < 0.01 for a in body["alternatives"])


def test_batch_and_file_answers_carry_the_verdict(honest: TestClient) -> None:
    results = honest.post("/api/predict/batch", json={"inputs": [{"pixels": region(n)} for n in REGIONS]}).json()
    assert [r["verdict"] for r in results["results"]] == ["not_a_digit", "digit", "unsure"]


def test_thresholds_round_trip_and_are_reported(honest_weights: Path, honest: TestClient) -> None:
    _, meta = load(honest_weights)
    assert meta["verdict"] == THRESHOLDS
    info = honest.get("/api/model").json()
    assert info["outputs"] == 11
    assert info["verdict"]["reject"] == 0.5 and info["verdict"]["sure"] == 0.9
    assert info["verdict"]["validation"] == {"digits_rejected": 0.003}


def test_a_ten_output_network_never_rejects(client: TestClient) -> None:
    body = client.post("/api/predict", json={"pixels": region("three")}).json()
    assert body["verdict"] in ("digit", "unsure") and body["not_a_digit_probability"] == 0.0
    assert client.get("/api/model").json()["outputs"] == 10


def test_split_renormalises_the_digits() -> None:
    P = np.array([[0.1, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8]])
    digits, none = split(P)
    np.testing.assert_allclose(digits[0, :2], [0.5, 0.5])
    assert none[0] == pytest.approx(0.8)
    assert verdict(digits[0], 0.8, {"reject": 0.5, "sure": 0.9})[0] == "not_a_digit"


def test_choose_thresholds_meets_its_own_operating_point() -> None:
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.integers(0, 10, 2000), np.full(500, 10)])
    P = np.full((2500, 11), 0.01)
    P[np.arange(2500), y] = 0.9
    P[rng.choice(2000, 40, replace=False), 10] = 0.3  # a few digits look a little like non-digits
    P /= P.sum(axis=1, keepdims=True)
    chosen = choose_thresholds(P, y)
    point = chosen["validation"]
    assert point["digits_rejected"] <= 0.003 + 1e-9 and point["non_digits_rejected"] == 1.0
    assert point["confident_accuracy"] == 1.0 and 0.05 <= chosen["reject"] <= 0.95


def test_a_piece_of_a_number_needs_stronger_evidence_to_be_no_digit() -> None:
    from model.verdict import IN_A_NUMBER_REJECT, in_a_number
    loose = in_a_number({"reject": 0.5, "sure": 0.9})
    assert loose == {"reject": IN_A_NUMBER_REJECT, "sure": 0.9}
    assert in_a_number({"reject": 0.99, "sure": 0.9})["reject"] == 0.99  # never lowered
    p = np.full(10, 0.1)
    assert verdict(p, 0.8, {"reject": 0.5, "sure": 0.9})[0] == "not_a_digit"
    assert verdict(p, 0.8, loose)[0] != "not_a_digit"
