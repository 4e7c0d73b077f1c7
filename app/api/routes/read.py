"""Reading a number: ``POST /api/read`` and ``/api/read/file``. The same bodies as /api/predict;
the drawing is cut into digits (``app.imaging.segment``), each read as /api/predict reads one,
except that a digit of a number read with little confidence is read again, steadied (``steadied``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response
from numpy.typing import NDArray
from PIL import Image

from app.api.answers import (
    ModelQuery,
    PreviewQuery,
    SourceQuery,
    UploadParam,
    client_gone,
    image_limits,
    json_bytes,
    predictions,
    sent_box,
)
from app.api.body import BodyInPool
from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.direct import Direct
from app.api.errors import responses
from app.api.schemas import PredictRequest, ReadResponse
from app.imaging.budget import Work
from app.imaging.decode import ImageLimits, decode_image, payload_bytes, upright_size
from app.imaging.preprocess import Source, ink_map, nudges, prepare_pixels
from app.imaging.segment import segment
from app.serving.executor import Job
from app.serving.models import Models
from app.serving.predictor import Predictor
from app.settings import Settings
from model.verdict import in_a_number

router = APIRouter(route_class=BodyInPool)
ERRORS = responses(400, 404, 408, 413, 415, 422, 503)
UNSURE = 0.75  # a digit of a number read with less confidence than this is read again, steadied


Rescale = Callable[[tuple[int, int, int, int]], list[int]]  # a box in the decoded image → in the sent one


def number_ink(body_image: bytes | None, pixels: Any, limits: ImageLimits,
               source: Source = "auto") -> tuple[Image.Image, tuple[int, int], Rescale]:
    """The drawing's ink ("L"), where that ink sits in the decoded image, and what turns a box of
    the decoded image into one of the sent image's upright pixels (``sent_box``: large images are
    decoded reduced)."""
    if body_image is None:
        x = prepare_pixels(pixels)
        return Image.fromarray(np.round(x * 255).astype(np.uint8)), (0, 0), lambda box: list(box)
    img = decode_image(body_image, limits)
    ink, box = ink_map(img, source)
    upright = upright_size(body_image, limits)
    return ink, (box[0], box[1]), lambda box: sent_box(box, img.size, upright)


def steadied(predictor: Predictor, X: NDArray[np.float32], P: NDArray[np.float64],
             none: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The readings (P, none) of a number's digits X, those read with a confidence under
    ``UNSURE`` read again as the mean over themselves and six nudged copies (``nudges``), when
    most of the seven copies read as that mean does: a digit that is a coin flip between two (a
    thin 8 or a 0, at 0.56) is settled by how it reads a pixel to either side and a little larger
    or smaller, rather than by one exact placement. Where the copies split (an italic 8 read as
    an 8 by four and as a 0, more confidently, by three), the digit keeps its own reading."""
    unsure = np.flatnonzero(P.max(axis=1) * (1.0 - none) < UNSURE)
    if len(unsure) == 0:
        return P, none
    P, none = P.copy(), none.copy()
    Pn, nn = predictor.predict(np.concatenate([nudges(X[i]) for i in unsure]))
    Pn, nn = Pn.reshape(len(unsure), -1, P.shape[1]), nn.reshape(len(unsure), -1)
    for k, i in enumerate(unsure):
        votes = np.bincount(Pn[k].argmax(axis=1), minlength=P.shape[1])
        mean = Pn[k].mean(axis=0)
        if votes[mean.argmax()] * 2 > len(Pn[k]):  # most of the copies agree with their mean
            P[i], none[i] = mean, nn[k].mean()
    return P, none


def read_number(job: Job, data: bytes | None, pixels: Any, limits: ImageLimits, predictor: Predictor,
                preview: bool, source: Source = "auto") -> bytes:
    ink, (ox, oy), sent = number_ink(data, pixels, limits, source)
    job.check()
    readings: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []  # the candidates', kept

    def confidence(X: NDArray[np.float32]) -> NDArray[np.float64]:
        P, none = predictor.predict(X)
        readings.append((P, none))
        return P.max(axis=1) * (1.0 - none)

    found = segment(ink, confidence, Work(limits.budget, job.check))
    job.check()
    X = np.stack([piece.x for piece in found])
    if len(readings) == 1:  # segment reads every candidate in one batch: each digit names its row
        rows = [piece.row for piece in found]
        P, none = readings[0][0][rows], readings[0][1][rows]
    else:
        P, none = predictor.predict(X)
    if len(found) > 1:  # a lone digit reads as /api/predict reads it
        job.check()
        P, none = steadied(predictor, X, P, none)
    answers = predictions(predictor, X, preview, in_a_number(predictor.thresholds), (P, none))
    digits = []
    for piece, answer in zip(found, answers, strict=True):
        del answer["model"]  # once for the whole number, below
        x, y, w, h = piece.box
        answer["box"] = sent((x + ox, y + oy, w, h))
        digits.append(answer)
    text = "".join("?" if d["verdict"] == "not_a_digit" else str(d["digit"]) for d in digits)
    return json_bytes({"text": text, "digits": digits, "model": {"name": predictor.name, "version": predictor.version}})


def answer_read(job: Job, body: PredictRequest, preview: bool, models: Models, settings: Settings) -> bytes:
    predictor = models.get(body.model)
    data = payload_bytes(body.image) if body.image is not None else None
    return read_number(job, data, body.pixels, image_limits(settings), predictor, preview, body.source)


DIRECT = [Direct("/api/read", PredictRequest, answer_read)]


@router.post("/api/read", response_model=ReadResponse, responses=ERRORS,
             summary="Read a number: the digits of a drawing, left to right")
async def read(request: Request, body: PredictRequest, models: ModelsDep, settings: SettingsDep,
               pool: PoolDep, preview: PreviewQuery = True) -> Response:
    answer = await pool.run(client_gone(request), answer_read, body, preview, models, settings)
    return Response(answer, media_type="application/json")


@router.post("/api/read/file", response_model=ReadResponse, responses=ERRORS,
             summary="Read a number from an uploaded image file (curl -F file=@number.png)")
async def read_file(request: Request, file: Annotated[UploadFile, UploadParam], models: ModelsDep,
                    settings: SettingsDep, pool: PoolDep, preview: PreviewQuery = True,
                    model: ModelQuery = None, source: SourceQuery = "auto") -> Response:
    predictor = models.get(model)
    data = await file.read()
    answer = await pool.run(client_gone(request), read_number, data, None, image_limits(settings), predictor, preview,
                            source)
    return Response(answer, media_type="application/json")
