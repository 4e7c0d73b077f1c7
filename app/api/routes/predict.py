"""Predicting one digit: ``POST /api/predict``, ``/api/predict/file`` and ``/api/predict/batch``.
Each: validate → (on a CPU thread) decode, preprocess, predict, write the JSON → respond.

The CPU work runs in the bounded pool (``app.serving.executor``), never on the
event loop, and ends with the answer's JSON bytes: the route returns them as
they are, so FastAPI neither re-validates what this code just built against
the response model (which stays, for the OpenAPI document) nor serialises it
on the event loop. A batch checks the pixels of all its images on their
headers before decoding any, and stops between images if its client hangs up.
An input a batch cannot read fails the whole batch, or with ``?errors=inline`` is
answered in its place by the error ``/api/predict`` would give it; the batch's own
limits (inputs, pixels in all, body size) refuse the whole batch either way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response

from app.api.answers import (
    ModelQuery,
    PreviewQuery,
    SourceQuery,
    UploadParam,
    client_gone,
    found,
    image_limits,
    json_bytes,
    predictions,
    read_image,
)
from app.api.body import BodyInPool
from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.direct import Direct
from app.api.errors import ApiError, responses
from app.api.schemas import BatchRequest, BatchResponse, Drawing, Prediction, PredictRequest
from app.imaging.budget import Work
from app.imaging.decode import ImageLimits, image_pixels, payload_bytes
from app.imaging.errors import InputError
from app.imaging.preprocess import Source
from app.serving.executor import Job
from app.serving.models import Models
from app.serving.predictor import Predictor
from app.settings import Settings

router = APIRouter(route_class=BodyInPool)
ERRORS = responses(400, 404, 408, 413, 415, 422, 503)
ErrorsQuery = Annotated[Literal["fail", "inline"], Query(
    description="`fail`: an input that cannot be read fails the whole batch (422, or 415 for an unsupported "
    "format), naming it. `inline`: the batch is answered (200) and that input's place in `results` holds "
    "`{\"error\": {\"detail\", \"code\"}}`, what /api/predict would answer for it alone. Either way, a batch over "
    "its limits (inputs, image pixels in all, body size) or whose JSON does not match the schema is refused whole.")]


def predict_one(job: Job, body: PredictRequest, limits: ImageLimits, predictor: Predictor, preview: bool) -> bytes:
    x, box = found(body, limits, job.check)
    job.check()
    return json_bytes(boxed(predictions(predictor, x[None], preview)[0], box))


def predict_upload(job: Job, data: bytes, limits: ImageLimits, predictor: Predictor, preview: bool,
                   source: Source = "auto") -> bytes:
    x, box = read_image(data, limits, Work(limits.budget, job.check), source)
    job.check()
    return json_bytes(boxed(predictions(predictor, x[None], preview)[0], box))


def boxed(answer: dict[str, Any], box: list[int] | None) -> dict[str, Any]:
    """An answer with where its digit was found (an image's), before ``model``."""
    if box is None:
        return answer
    model = answer.pop("model")
    answer["box"], answer["model"] = box, model
    return answer


class ItemErrors:
    """What becomes of a batch input's error: raised, naming the input (the whole batch fails), or,
    with ``inline``, kept to be answered in the input's place (``failed``)."""

    def __init__(self, inline: bool) -> None:
        self.inline, self.failed = inline, dict[int, InputError]()

    @contextmanager
    def of(self, i: int) -> Iterator[None]:
        try:
            yield
        except InputError as e:
            if not self.inline:
                raise type(e)(f"inputs[{i}]: {e}") from None
            self.failed[i] = e


def batch_images(inputs: list[Drawing], limits: ImageLimits, max_pixels: int, errors: ItemErrors) -> dict[int, bytes]:
    """The batch's images' bytes by index, once their headers show that all their pixels fit in
    ``max_pixels`` (else the whole batch is refused, before any is decoded)."""
    images, total = {}, 0
    for i, item in enumerate(inputs):
        if item.image is not None:
            with errors.of(i):
                data = payload_bytes(item.image)
                total += image_pixels(data, limits)
                images[i] = data
    if total > max_pixels:
        raise ApiError(422, "batch_too_large", f"The batch's images hold {total / 1e6:.1f} megapixels; "
                       f"a batch may hold {max_pixels / 1e6:.1f} in all.")
    return images


def predict_many(job: Job, inputs: list[Drawing], settings: Settings, predictor: Predictor,
                 preview: bool, inline: bool = False) -> bytes:
    """The batch's answers in order; an input that cannot be read fails the whole batch or, with
    ``inline``, is answered by its error in its place."""
    limits, errors = image_limits(settings), ItemErrors(inline)
    images = batch_images(inputs, limits, settings.max_batch_pixels, errors)
    work = Work(limits.budget, job.check)  # the batch's drawings share one drawing's budget
    xs, boxes, read = [], [], []
    for i, item in enumerate(inputs):
        job.check()
        if i in errors.failed:
            continue
        with errors.of(i):
            x, box = read_image(images[i], limits, work, item.source) if i in images else found(item, limits)
            xs.append(x)
            boxes.append(box)
            read.append(i)
        work = work.after()
    answered = predictions(predictor, np.stack(xs), preview) if xs else []
    answers = {i: boxed(a, box) for i, a, box in zip(read, answered, boxes, strict=True)}
    return json_bytes({"results": [answers[i] if i in answers else _inline(errors.failed[i])
                                   for i in range(len(inputs))]})


def _inline(error: InputError) -> dict[str, Any]:
    return {"error": {"detail": str(error), "code": error.code}}


def answer_one(job: Job, body: PredictRequest, preview: bool, models: Models, settings: Settings) -> bytes:
    return predict_one(job, body, image_limits(settings), models.get(body.model), preview)


def answer_batch(job: Job, body: BatchRequest, preview: bool, models: Models, settings: Settings,
                 errors: str = "fail") -> bytes:
    predictor = models.get(body.model)
    if len(body.inputs) > settings.max_batch:
        raise ApiError(422, "batch_too_large",
                       f"A batch holds at most {settings.max_batch} inputs; got {len(body.inputs)}.")
    return predict_many(job, body.inputs, settings, predictor, preview, inline=errors == "inline")


DIRECT = [Direct("/api/predict", PredictRequest, answer_one, light=lambda body: body.pixels is not None),
          Direct("/api/predict/batch", BatchRequest, answer_batch, options=(("errors", "fail"),))]


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
                       model: ModelQuery = None, source: SourceQuery = "auto") -> Response:
    predictor = models.get(model)
    data = await file.read()  # already spooled by the form parser, within the body limit
    answer = await pool.run(client_gone(request), predict_upload, data, image_limits(settings), predictor, preview,
                            source)
    return Response(answer, media_type="application/json")


@router.post("/api/predict/batch", response_model=BatchResponse, responses=ERRORS,
             summary="Read many digits at once, in order (?errors=inline: an error in place of each unreadable one)")
async def predict_batch(request: Request, body: BatchRequest, models: ModelsDep, settings: SettingsDep,
                        pool: PoolDep, preview: PreviewQuery = True, errors: ErrorsQuery = "fail") -> Response:
    answer = await pool.run(client_gone(request), answer_batch, body, preview, models, settings, errors)
    return Response(answer, media_type="application/json")
