"""Predicting one digit: ``POST /api/predict``, ``/api/predict/file`` and ``/api/predict/batch``.
Each: validate → (on a CPU thread) decode, preprocess, predict, write the JSON → respond.

The CPU work runs in the bounded pool (``app.serving.executor``), never on the
event loop, and ends with the answer's JSON bytes: the route returns them as
they are, so FastAPI neither re-validates what this code just built against
the response model (which stays, for the OpenAPI document) nor serialises it
on the event loop. A batch checks the pixels of all its images on their
headers before decoding any, and stops between images if its client hangs up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from app.api.answers import (
    ModelQuery,
    PreviewQuery,
    UploadParam,
    client_gone,
    image_limits,
    json_bytes,
    predictions,
    prepare,
)
from app.api.body import BodyInPool
from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.direct import Direct
from app.api.errors import ApiError, responses
from app.api.schemas import BatchRequest, BatchResponse, Drawing, Prediction, PredictRequest
from app.imaging.budget import Work
from app.imaging.decode import ImageLimits, image_pixels, payload_bytes
from app.imaging.errors import InputError
from app.imaging.preprocess import prepare_image
from app.serving.executor import Job
from app.serving.models import Models
from app.serving.predictor import Predictor
from app.settings import Settings

router = APIRouter(route_class=BodyInPool)
ERRORS = responses(400, 404, 408, 413, 415, 422, 503)


def predict_one(job: Job, body: PredictRequest, limits: ImageLimits, predictor: Predictor, preview: bool) -> bytes:
    x = prepare(body, limits, job.check)
    job.check()
    return json_bytes(predictions(predictor, x[None], preview)[0])


def predict_upload(job: Job, data: bytes, limits: ImageLimits, predictor: Predictor, preview: bool) -> bytes:
    x = prepare_image(data, limits, Work(limits.budget, job.check))
    job.check()
    return json_bytes(predictions(predictor, x[None], preview)[0])


@contextmanager
def _item(i: int) -> Iterator[None]:
    """Name the batch item an input error is about."""
    try:
        yield
    except InputError as e:
        raise type(e)(f"inputs[{i}]: {e}") from None


def predict_many(job: Job, inputs: list[Drawing], settings: Settings, predictor: Predictor,
               preview: bool) -> bytes:
    limits, images = image_limits(settings), {}
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
                       f"a batch may hold {settings.max_batch_pixels / 1e6:.1f} in all.")
    xs, work = [], Work(limits.budget, job.check)  # the batch's drawings share one drawing's budget
    for i, item in enumerate(inputs):
        job.check()
        with _item(i):
            if i in images:
                xs.append(prepare_image(images[i], limits, work))
                work = work.after()
            else:
                xs.append(prepare(item, limits))
    return json_bytes({"results": predictions(predictor, np.stack(xs), preview) if xs else []})


def answer_one(job: Job, body: PredictRequest, preview: bool, models: Models, settings: Settings) -> bytes:
    return predict_one(job, body, image_limits(settings), models.get(body.model), preview)


def answer_batch(job: Job, body: BatchRequest, preview: bool, models: Models, settings: Settings) -> bytes:
    predictor = models.get(body.model)
    if len(body.inputs) > settings.max_batch:
        raise ApiError(422, "batch_too_large",
                       f"A batch holds at most {settings.max_batch} inputs; got {len(body.inputs)}.")
    return predict_many(job, body.inputs, settings, predictor, preview)


DIRECT = [Direct("/api/predict", PredictRequest, answer_one, light=lambda body: body.pixels is not None),
          Direct("/api/predict/batch", BatchRequest, answer_batch)]


@router.post("/api/predict", response_model=Prediction, responses=ERRORS,
             summary="Read one digit from an image or prepared pixels")
async def predict(request: Request, body: PredictRequest, models: ModelsDep, settings: SettingsDep,
                  pool: PoolDep, preview: PreviewQuery = True) -> Response:
    answer = await pool.run(client_gone(request), answer_one, body, preview, models, settings)
    return Response(answer, media_type="application/json")


@router.post("/api/predict/file", response_model=Prediction, responses=ERRORS,
             summary="Read one digit from an uploaded image file (curl -F file=@digit.png)")
async def predict_file(request: Request, file: Annotated[UploadFile, UploadParam], models: ModelsDep,
                       settings: SettingsDep, pool: PoolDep, preview: PreviewQuery = True,
                       model: ModelQuery = None) -> Response:
    predictor = models.get(model)
    data = await file.read()  # already spooled by the form parser, within the body limit
    answer = await pool.run(client_gone(request), predict_upload, data, image_limits(settings), predictor, preview)
    return Response(answer, media_type="application/json")


@router.post("/api/predict/batch", response_model=BatchResponse, responses=ERRORS,
             summary="Read many digits at once; all must be readable")
async def predict_batch(request: Request, body: BatchRequest, models: ModelsDep, settings: SettingsDep,
                        pool: PoolDep, preview: PreviewQuery = True) -> Response:
    answer = await pool.run(client_gone(request), answer_batch, body, preview, models, settings)
    return Response(answer, media_type="application/json")
