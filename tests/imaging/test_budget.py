"""The imaging cost model: the costliest small drawings are refused (422 ``too_complex``) or
answered for a bounded multiple of a typical drawing's CPU time, work for a client that has gone
stops at the next check, and real drawings are never refused."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api.routes.predict import predict_one
from app.api.routes.read import read_number
from app.api.schemas import PredictRequest
from app.imaging.budget import Budget, Work
from app.imaging.decode import ImageLimits
from app.imaging.errors import TooComplex
from app.imaging.preprocess import prepare_image
from app.main import create_app
from app.serving.executor import Abandoned, Job
from app.serving.predictor import Predictor
from app.settings import Settings
from scripts.harness import costly
from scripts.harness.costly import least_cpu
from tests.paths import DATA, ROOT, SHIPPED

NUMBER, DIGIT = ROOT / "examples" / "number.png", ROOT / "examples" / "digit.png"
PROBES: dict[str, Callable[[], str]] = {
    "thin_lines": costly.thin_lines, "specks": costly.specks, "comb": costly.comb,
    "comb of 20 teeth": lambda: costly.comb(teeth=20), "checkerboard": costly.checkerboard,
    "mesh": costly.mesh, "rings": costly.rings, "rings far apart": lambda: costly.rings(step=96),
    "zigzag": costly.zigzag, "wide_pieces": costly.wide_pieces,
}
SLOW = PROBES["comb of 20 teeth"]  # answered, and among the costliest that are
RATIO = 20  # the most a probe may cost, in typical drawings' CPU time


def read(data: bytes, predictor: Predictor, job: Job | None = None) -> Callable[[], object]:
    return lambda: read_number(job or Job(), data, None, ImageLimits(), predictor, True)


def predict(body: str, predictor: Predictor) -> Callable[[], object]:
    request = PredictRequest.model_validate({"image": body})
    return lambda: predict_one(Job(), request, ImageLimits(), predictor, True)


@pytest.mark.parametrize("probe", PROBES)
def test_a_costly_drawing_costs_a_bounded_multiple_of_a_typical_read(predictor: Predictor, probe: str) -> None:
    typical, _ = least_cpu(read(NUMBER.read_bytes(), predictor))
    spent, ended = least_cpu(read(base64.b64decode(PROBES[probe]()), predictor), runs=2)
    assert ended in ("ok", "too_complex", "too_many_digits")
    assert spent <= RATIO * typical, f"{probe}: {spent * 1000:.0f} ms, typical {typical * 1000:.1f} ms"


@pytest.mark.parametrize("probe", PROBES)
def test_a_costly_drawing_costs_a_bounded_multiple_of_a_typical_prediction(predictor: Predictor,
                                                                           probe: str) -> None:
    """Beside a typical drawing on a large canvas: a probe's decoding is bounded by the image
    limits, not by this cost model."""
    typical, _ = least_cpu(predict(costly.png(canvas_drawing()), predictor))
    spent, ended = least_cpu(predict(PROBES[probe](), predictor), runs=2)
    assert ended in ("ok", "too_complex")
    assert spent <= RATIO * typical, f"{probe}: {spent * 1000:.0f} ms, typical {typical * 1000:.1f} ms"


def canvas_drawing() -> np.ndarray:
    """examples/digit.png's ink on a full-HD canvas, as a page in full screen sends it."""
    ink = 255 - np.asarray(Image.open(DIGIT).convert("L"))
    canvas = np.zeros((1080, 1920), np.uint8)
    h, w = ink.shape
    canvas[100:100 + h, 300:300 + w] = ink
    return canvas


@pytest.mark.parametrize("probe", ["specks", "comb", "mesh", "thin_lines"])
def test_the_probes_of_the_issue_are_refused_as_too_complex(predictor: Predictor, probe: str) -> None:
    with pytest.raises(TooComplex):
        read(base64.b64decode(PROBES[probe]()), predictor)()


def test_the_refusal_says_what_was_too_much(predictor: Predictor) -> None:
    with pytest.raises(TooComplex, match=r"The drawing has 262,144 separate specks"):
        read(base64.b64decode(costly.specks()), predictor)()


def test_a_job_told_to_stop_stops_soon(predictor: Predictor) -> None:
    """A drawing just under the budget that costs many typical reads, its job stopped from
    another thread 20 ms after it starts: ``Abandoned``, having spent well under the whole
    read's CPU time (CPU, not wall time: a busy machine only makes it stop sooner in CPU)."""
    data = base64.b64decode(SLOW())
    whole, ended = least_cpu(read(data, predictor), runs=1)
    assert ended == "ok"
    job = Job()
    timer = threading.Timer(0.02, job.stop)
    t = time.process_time()
    timer.start()
    with pytest.raises(Abandoned):
        read(data, predictor, job)()
    spent = time.process_time() - t
    timer.join()
    assert spent < 0.6 * whole, f"{spent * 1000:.0f} ms of {whole * 1000:.0f}"


def test_a_scaled_budget_refuses_what_the_default_answers(predictor: Predictor) -> None:
    tight = ImageLimits(budget=Budget().scaled(0.001))
    with pytest.raises(TooComplex):
        prepare_image(DIGIT.read_bytes(), tight)
    prepare_image(DIGIT.read_bytes(), ImageLimits())


def test_real_drawings_are_well_within_the_budget(predictor: Predictor) -> None:
    """The committed drawings (italic numbers) and the examples: every count under a fifth of
    its limit (the limits come from the drawn test sets: ``python -m scripts.bench.budget``)."""
    work = Work(Budget().scaled(1e6))
    for path in [NUMBER, DIGIT, *sorted(DATA.glob("*.png"))]:
        prepare_image(path.read_bytes(), ImageLimits(budget=work.budget), work)
        read(path.read_bytes(), predictor)()
    limits = Budget()
    for what, n in work.counts.items():
        assert n * 5 < getattr(limits, what), (what, n)


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(weights=SHIPPED))) as c:
        yield c


@pytest.mark.parametrize("path", ["/api/predict", "/api/read", "/api/explain"])
def test_the_api_answers_422_too_complex(api: TestClient, path: str) -> None:
    r = api.post(path, json={"image": costly.specks()})
    assert (r.status_code, r.json()["code"]) == (422, "too_complex")
    assert "specks" in r.json()["detail"]


def test_the_batch_names_the_input_that_is_too_complex(api: TestClient) -> None:
    digit = base64.b64encode(DIGIT.read_bytes()).decode()
    r = api.post("/api/predict/batch", json={"inputs": [{"image": digit}, {"image": costly.comb()}]})
    assert (r.status_code, r.json()["code"]) == (422, "too_complex")
    assert r.json()["detail"].startswith("inputs[1]: ")


def test_the_openapi_document_lists_too_complex(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    for path in ("/api/predict", "/api/read", "/api/explain", "/api/predict/batch"):
        assert "too_complex" in doc["paths"][path]["post"]["responses"]["422"]["description"]


def test_a_batch_shares_one_drawings_budget(api: TestClient) -> None:
    comb = costly.comb(side=360, teeth=20)  # answered alone; many of them outgrow one drawing's budget
    assert api.post("/api/predict/batch", json={"inputs": [{"image": comb}]}).status_code == 200
    r = api.post("/api/predict/batch", json={"inputs": [{"image": comb}] * 64})
    assert (r.status_code, r.json()["code"]) == (422, "too_complex")
    assert "The batch's drawings have, together" in r.json()["detail"]
    digit = base64.b64encode(DIGIT.read_bytes()).decode()
    assert api.post("/api/predict/batch", json={"inputs": [{"image": digit}] * 64}).status_code == 200
