"""Corrections from users: ``POST /api/feedback``, its summary, the rate limit, and the storage
underneath on a real SQLite file and a real PostgreSQL server (``scripts/harness/postgres.py``)."""

from __future__ import annotations

import base64
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from app.api.ratelimit import RateLimited, RateLimiter
from app.main import create_app
from app.serving.reload import reload_models
from app.settings import Settings
from app.storage import feedback as store
from app.storage.database import StorageError, connect, open_database
from app.storage.tables import feedback as feedback_table
from model.mnist import read_idx
from scripts import feedback as feedback_cli
from scripts.harness.postgres import postgres_server
from tests.app_fixtures import app_weights
from tests.drawing import drawing


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/feedback.db"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = connect(url)
    with engine.begin() as c:  # empty again for the next test: no tables, no migration record
        c.execute(text("DROP TABLE IF EXISTS feedback, alembic_version"))
    engine.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


def digit(value: int = 1) -> np.ndarray:
    x = np.zeros((28, 28), np.uint8)
    x[4:24, 13:15] = 255 if value else 0
    x[0, 0] = value
    return x


# ----- storage ------------------------------------------------------------------------------

def test_migrations_build_the_schema_the_code_expects_from_empty(db: Engine) -> None:
    with db.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"
    columns = {c["name"]: c for c in inspect(db).get_columns("feedback")}
    assert set(columns) == {c.name for c in feedback_table.columns}
    assert set(columns) == {"id", "created_at", "pixels", "label", "predicted", "model_version"}  # nothing else kept
    assert columns["predicted"]["nullable"] and not columns["label"]["nullable"]
    open_database(str(db.url.render_as_string(hide_password=False))).dispose()  # again: nothing to do, no error


def test_add_summary_load_and_purge(db: Engine) -> None:
    ids = [store.add(db, digit(i), i % 3, 1, "aaa") for i in range(5)]
    ids.append(store.add(db, digit(9), 10, None, None))
    assert ids == sorted(ids) and len(set(ids)) == 6
    s = store.summary(db)
    assert s["total"] == 6 and s["labels"]["0"] == 2 and s["labels"]["1"] == 2 and s["labels"]["not_a_digit"] == 1
    assert s["labels"]["7"] == 0 and len(s["labels"]) == 11
    by_version = {m["version"]: m for m in s["models"]}
    assert by_version["aaa"] == {"version": "aaa", "corrections": 5, "agreed": 2, "agreement": 0.4}
    assert by_version[None]["corrections"] == 1 and by_version[None]["agreed"] == 0
    images, labels = store.load(db)
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images[3], digit(3)) and labels.tolist() == [0, 1, 2, 0, 1, 10]
    assert store.purge(db, dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == 0
    assert store.purge(db, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 6
    assert store.count(db) == 0


def test_concurrent_writers_lose_nothing(db_url: str) -> None:
    """16 writers, each with its own engine (as separate workers are), 500 rows each."""
    open_database(db_url).dispose()
    engines = [connect(db_url) for _ in range(16)]
    errors: list[BaseException] = []

    def write(engine: Engine, k: int) -> None:
        try:
            for i in range(500):
                store.add(engine, digit(k), (k + i) % 11, None, f"w{k}")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(e, k)) for k, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and not any(t.is_alive() for t in threads)
    assert store.count(engines[0]) == 8000
    assert {m["version"]: m["corrections"] for m in store.summary(engines[0])["models"]} == {
        f"w{k}": 500 for k in range(16)}
    for e in engines:
        e.dispose()


def test_a_bad_database_url_says_so_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        connect("nonsense")
    with pytest.raises(StorageError, match="only sqlite"):
        connect("mysql://localhost/x")
    with pytest.raises(StorageError, match="database") as e:
        open_database("postgresql://nobody@127.0.0.1:1/none")
    assert "\n" not in str(e.value)


# ----- the CLI ---------------------------------------------------------------------------------

def test_export_round_trips_through_the_idx_reader(db: Engine, db_url: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert feedback_cli.main(["--database", db_url, "export", str(tmp_path / "none")]) == 1  # nothing yet
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, (7, 28, 28)).astype(np.uint8)
    for i, x in enumerate(stored):
        store.add(db, x, [3, 10][i % 2], None, "v")
    assert feedback_cli.main(["--database", db_url, "export", str(tmp_path / "out")]) == 0
    images = read_idx(tmp_path / "out" / feedback_cli.IMAGES)
    labels = read_idx(tmp_path / "out" / feedback_cli.LABELS)
    assert np.array_equal(images, stored) and labels.tolist() == [3, 10, 3, 10, 3, 10, 3]
    capsys.readouterr()
    assert feedback_cli.main(["--database", db_url, "stats"]) == 0
    assert '"total": 7' in capsys.readouterr().out
    assert feedback_cli.main(["--database", db_url, "purge", "--before", "2000-01-01"]) == 0
    assert store.count(db) == 7
    assert feedback_cli.main(["--database", db_url, "purge", "--before", "2999-01-01"]) == 0
    assert store.count(db) == 0
    with pytest.raises(SystemExit):
        feedback_cli.main(["--database", db_url, "purge", "--before", "yesterday"])


# ----- the API ---------------------------------------------------------------------------------

@pytest.fixture
def api(tmp_path: Path, weights_path: Path) -> Iterator[tuple[TestClient, Engine]]:
    url = f"sqlite:///{tmp_path}/api.db"
    with TestClient(create_app(Settings(weights=weights_path, database_url=url, feedback_per_minute=5))) as c:
        engine = connect(url)
        yield c, engine
        engine.dispose()


def served_version(client: TestClient) -> str:
    version: str = client.get("/api/model").json()["version"]
    return version


def seven_png() -> str:
    return "data:image/png;base64," + base64.b64encode(drawing()).decode()


def test_feedback_stores_only_what_the_network_saw(api: tuple[TestClient, Engine]) -> None:
    client, engine = api
    image = seven_png()
    preview = client.post("/api/predict", json={"image": image}).json()["preview"]
    version = served_version(client)
    r = client.post("/api/feedback", json={"image": image, "label": 7, "predicted": 1, "model_version": version})
    assert r.status_code == 201 and set(r.json()) == {"id"} and isinstance(r.json()["id"], int)
    r2 = client.post("/api/feedback", json={"pixels": preview, "label": "not_a_digit", "predicted": None})
    assert r2.status_code == 201 and r2.json()["id"] > r.json()["id"]
    images, labels = store.load(engine)
    expected = np.round(np.array(preview) * 255).astype(np.uint8)
    assert np.abs(images[0].astype(int) - expected).max() <= 1  # the prepared input, as /api/predict sees it
    assert np.array_equal(images[1], expected) and labels.tolist() == [7, 10]
    with engine.connect() as c:
        row = c.execute(text("SELECT * FROM feedback ORDER BY id")).mappings().first()
    assert row is not None and len(row["pixels"]) == 784 and row["model_version"] == version
    assert row["predicted"] == 1 and row["created_at"] is not None


@pytest.mark.parametrize("body", [
    {"pixels": [0.5] * 784, "label": 10},
    {"pixels": [0.5] * 784, "label": "7"},
    {"pixels": [0.5] * 784, "label": True},
    {"pixels": [0.5] * 784},
    {"pixels": [0.5] * 784, "label": 3, "predicted": 12},
    {"pixels": [0.5] * 784, "label": 3, "model_version": "x" * 65},
    {"pixels": [0.5] * 784, "label": 3, "model_version": "a b"},
    {"pixels": [0.5] * 784, "image": "abc", "label": 3},
    {"label": 3},
    {"pixels": [0.5] * 784, "label": 3, "ip": "1.2.3.4"},
])
def test_feedback_validation(api: tuple[TestClient, Engine], body: dict[str, object]) -> None:
    client, engine = api
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request", r.json()
    assert store.count(engine) == 0


def test_feedback_input_errors_are_the_predict_ones(api: tuple[TestClient, Engine]) -> None:
    client, engine = api
    assert client.post("/api/feedback", json={"pixels": [0.0] * 784, "label": 1}).json()["code"] == "empty_image"
    assert client.post("/api/feedback", json={"pixels": [2.0] * 784, "label": 1}).json()["code"] == "invalid_pixels"
    assert client.post("/api/feedback", json={"image": "bm90IGFuIGltYWdl", "label": 1}).json()["code"] in (
        "invalid_image", "unsupported_format")
    assert store.count(engine) == 0


def test_feedback_rate_limit(api: tuple[TestClient, Engine]) -> None:
    client, engine = api
    body = {"pixels": (digit() / 255).tolist(), "label": 1}
    codes = [client.post("/api/feedback", json=body).status_code for _ in range(7)]
    assert codes == [201] * 5 + [429] * 2
    r = client.post("/api/feedback", json=body)
    assert r.json()["code"] == "rate_limited" and 1 <= int(r.headers["Retry-After"]) <= 12
    assert store.count(engine) == 5
    assert client.post("/api/predict", json={"pixels": body["pixels"]}).status_code == 200  # only feedback is limited


def test_rate_limiter_is_per_client_and_refills() -> None:
    limiter = RateLimiter(per_minute=2)
    limiter.take("a", now=0.0)
    limiter.take("a", now=0.0)
    with pytest.raises(RateLimited) as e:
        limiter.take("a", now=1.0)
    assert e.value.headers == {"Retry-After": "29"}
    limiter.take("b", now=1.0)  # another client has its own bucket
    limiter.take("a", now=31.0)  # half a minute later: one more


def test_summary_counts_and_agreement(api: tuple[TestClient, Engine], weights_path: Path) -> None:
    client, engine = api
    px = (digit() / 255).tolist()
    first = served_version(client)
    app_weights(weights_path, seed=1)  # a new version of the same model, then SIGHUP's reload
    reload_models(client.app)  # type: ignore[arg-type]
    second = served_version(client)
    assert second != first
    for label, predicted, version in [(1, 1, first), (7, 1, first), (7, 7, second), ("not_a_digit", 4, second)]:
        assert client.post("/api/feedback", json={"pixels": px, "label": label, "predicted": predicted,
                                                  "model_version": version}).status_code == 201
    store.add(engine, digit(), 3, 3, "made-up")  # stored before versions were checked, or by another server
    s = client.get("/api/feedback/summary").json()
    assert s["total"] == 5 and s["labels"]["7"] == 2 and s["labels"]["not_a_digit"] == 1 and s["labels"]["1"] == 1
    assert s["models"] == sorted([{"version": first, "corrections": 2, "agreed": 1, "agreement": 0.5},
                                  {"version": second, "corrections": 2, "agreed": 1, "agreement": 0.5}],
                                 key=lambda m: str(m["version"]))


@pytest.mark.parametrize("version", ["abc123", "3f9a0c1d2b7e", "user.name-at-example.com", "0" * 64])
def test_feedback_names_only_a_served_model_version(api: tuple[TestClient, Engine], version: str) -> None:
    client, engine = api
    r = client.post("/api/feedback", json={"pixels": (digit() / 255).tolist(), "label": 1, "model_version": version})
    assert r.status_code == 422 and r.json()["code"] == "unknown_model_version", r.json()
    assert version not in r.json()["detail"]  # never echoed
    assert store.count(engine) == 0
    assert client.get("/api/feedback/summary").json()["models"] == []


def test_summary_lists_no_version_of_another_process(api: tuple[TestClient, Engine]) -> None:
    """Rows whose version this process has never served stay in the database, out of the summary;
    rows without a version are listed (as null)."""
    client, engine = api
    for k in range(20):
        store.add(engine, digit(), k % 11, None, f"v{k}")
    store.add(engine, digit(), 4, 4, None)
    s = client.get("/api/feedback/summary").json()
    assert s["total"] == 21 and s["models"] == [{"version": None, "corrections": 1, "agreed": 1, "agreement": 1.0}]
    assert store.count(engine) == 21


def test_feedback_when_the_database_is_gone_is_a_json_503(api: tuple[TestClient, Engine], tmp_path: Path) -> None:
    client, engine = api
    with engine.begin() as c:
        c.execute(text("DROP TABLE feedback"))
    r = client.post("/api/feedback", json={"pixels": (digit() / 255).tolist(), "label": 1})
    assert r.status_code == 503 and r.json()["code"] == "storage_unavailable" and "Retry-After" in r.headers
    assert client.get("/api/feedback/summary").json()["code"] == "storage_unavailable"


def test_a_locked_database_is_a_503_within_the_timeout_and_saves_nothing(tmp_path: Path, weights_path: Path) -> None:
    """Another process holds SQLite's write lock: the correction waits at most the database
    timeout, answers 503, and is not written once the lock is free."""
    url = f"sqlite:///{tmp_path}/locked.db"
    body = {"pixels": (digit() / 255).tolist(), "label": 1}
    with TestClient(create_app(Settings(weights=weights_path, database_url=url, database_timeout=0.5))) as client:
        assert client.post("/api/feedback", json=body).status_code == 201
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            t = time.monotonic()
            answers = [client.post("/api/feedback", json=body) for _ in range(3)]
            waited = (time.monotonic() - t) / 3
            assert client.post("/api/predict", json={"pixels": body["pixels"]}).status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert all(r.status_code == 503 and r.json()["code"] == "storage_unavailable" for r in answers)
        assert waited < 0.5 * 4, waited  # the timeout, not SQLite's own 30 s
        assert client.post("/api/feedback", json=body).status_code == 201
        time.sleep(0.5)  # the writes that waited for the lock have ended, rolled back
        assert client.get("/api/feedback/summary").json()["total"] == 2
