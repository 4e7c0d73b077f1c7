"""The reading endpoints. Each: validate → (on a CPU thread) decode, preprocess, predict, write
the JSON → respond.

The CPU work runs in the bounded pool (``app.serving.executor``), never on the
event loop, and ends with the answer's JSON bytes: the route returns them as
they are, so FastAPI neither re-validates what this code just built against
the response model (which stays, for the OpenAPI document) nor serialises it
on the event loop. A batch checks the pixels of all its images on their
headers before decoding any, and stops between images if its client hangs up."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from numpy.typing import NDArray

from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.errors import ApiError, responses
from app.api.schemas import BatchRequest, BatchResponse, Drawing, Prediction, PredictRequest
from app.imaging.decode import ImageLimits, image_pixels, payload_bytes
from app.imaging.errors import InputError
from app.imaging.preprocess import prepare_image, prepare_pixels
from app.observability.metrics import predicted
from app.serving.executor import Job
from app.serving.predictor import Predictor
from app.settings import Settings
from model.verdict import verdict

router = APIRouter()
ERRORS = responses(400, 404, 408, 413, 415, 422, 503)
PreviewQuery = Annotated[bool, Query(description="include the 28×28 `preview` the network saw")]
ModelQuery = Annotated[str | None, Query(min_length=1, max_length=64,
                                         description="which served model answers (GET /api/models)")]


def _limits(settings: Settings) -> ImageLimits:
    return ImageLimits(max_side=settings.max_side, max_pixels=settings.max_pixels)


def _gone(request: Request) -> Callable[[], Awaitable[None]]:
    """A coroutine function that returns when the client hangs up (the body is read by then)."""
    async def wait() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
    return wait


def _prepare(body: Drawing, limits: ImageLimits) -> NDArray[np.float32]:
    if body.image is not None:
        return prepare_image(payload_bytes(body.image), limits)
    assert body.pixels is not None
    return prepare_pixels(body.pixels)


def _answer(predictor: Predictor, X: NDArray[np.float32], preview: bool,
            thresholds: dict[str, float] | None = None,
            readings: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None) -> list[dict[str, Any]]:
    """The ``Prediction`` of each input, as plain data (verdicts by the model's thresholds,
    unless others are given; ``predictor.predict(X)``, unless its ``readings`` are given)."""
    P, none = predictor.predict(X) if readings is None else readings
    ref = {"name": predictor.name, "version": predictor.version}
    thresholds = thresholds or predictor.thresholds
    out: list[dict[str, Any]] = []
    for x, p, q in zip(X, P, none, strict=True):
        said, alternatives = verdict(p, float(q), thresholds)
        answer: dict[str, Any] = {"digit": int(p.argmax()), "confidence": float(p.max()),
                                  "probabilities": p.tolist(), "verdict": said,
                                  "alternatives": [{"digit": d, "probability": v} for d, v in alternatives],
                                  "not_a_digit_probability": float(q)}
        if preview:
            answer["preview"] = np.round(x.astype(np.float64), 4).tolist()
        answer["model"] = ref
        out.append(answer)
        predicted(predictor.name, answer["digit"], said)
    return out


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def read_one(job: Job, body: PredictRequest, limits: ImageLimits, predictor: Predictor, preview: bool) -> bytes:
    x = _prepare(body, limits)
    job.check()
    return _json(_answer(predictor, x[None], preview)[0])


def read_file(job: Job, data: bytes, limits: ImageLimits, predictor: Predictor, preview: bool) -> bytes:
    x = prepare_image(data, limits)
    job.check()
    return _json(_answer(predictor, x[None], preview)[0])


@contextmanager
def _item(i: int) -> Iterator[None]:
    """Name the batch item an input error is about."""
    try:
        yield
    except InputError as e:
        raise type(e)(f"inputs[{i}]: {e}") from None


def read_batch(job: Job, inputs: list[Drawing], settings: Settings, predictor: Predictor,
               preview: bool) -> bytes:
    limits, images = _limits(settings), {}
    for i, item in enumerate(inputs):  # first the headers: the whole batch's pixels, before decoding any
        if item.image is not None:
            with _item(i):
                images[i] = payload_bytes(item.image)
    total = 0
    for i, data in images.items():
        with _item(i):
            total += image_pixels(data, limits)
    if total > settings.max_batch_pixels:
        raise ApiError(422, "batch_too_large", f"The batch's images hold {total / 1e6:.1f} megapixels; "
                       f"a batch may hold {settings.max_batch_pixels / 1e6:g} in all.")
    xs = []
    for i, item in enumerate(inputs):
        job.check()
        with _item(i):
            xs.append(prepare_image(images[i], limits) if i in images else _prepare(item, limits))
    return _json({"results": _answer(predictor, np.stack(xs), preview) if xs else []})


@router.post("/api/predict", response_model=Prediction, responses=ERRORS,
             summary="Read one digit from an image or prepared pixels")
async def predict(request: Request, body: PredictRequest, models: ModelsDep, settings: SettingsDep,
                  pool: PoolDep, preview: PreviewQuery = True) -> Response:
    answer = await pool.run(_gone(request), read_one, body, _limits(settings), models.get(body.model), preview)
    return Response(answer, media_type="application/json")


UploadParam: Any = File(description="A PNG, JPEG, WebP or GIF image; not empty.", json_schema_extra={"minLength": 1})


@router.post("/api/predict/file", response_model=Prediction, responses=ERRORS,
             summary="Read one digit from an uploaded image file (curl -F file=@digit.png)")
async def predict_file(request: Request, file: Annotated[UploadFile, UploadParam], models: ModelsDep,
                       settings: SettingsDep, pool: PoolDep, preview: PreviewQuery = True,
                       model: ModelQuery = None) -> Response:
    predictor = models.get(model)
    data = await file.read()  # already spooled by the form parser, within the body limit
    answer = await pool.run(_gone(request), read_file, data, _limits(settings), predictor, preview)
    return Response(answer, media_type="application/json")


@router.post("/api/predict/batch", response_model=BatchResponse, responses=ERRORS,
             summary="Read many digits at once; all must be readable")
async def predict_batch(request: Request, body: BatchRequest, models: ModelsDep, settings: SettingsDep,
                        pool: PoolDep, preview: PreviewQuery = True) -> Response:
    predictor = models.get(body.model)
    if len(body.inputs) > settings.max_batch:
        raise ApiError(422, "batch_too_large",
                       f"A batch holds at most {settings.max_batch} inputs; got {len(body.inputs)}.")
    answer = await pool.run(_gone(request), read_batch, body.inputs, settings, predictor, preview)
    return Response(answer, media_type="application/json")
