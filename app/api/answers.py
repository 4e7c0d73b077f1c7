"""What the reading endpoints share: their query and upload parameters, the image limits from the
settings, waiting for a client to hang up, preparing a drawing, and the answer to each input as
JSON bytes (built on the CPU thread, so the event loop only sends them)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import File, Query, Request
from numpy.typing import NDArray

from app.api.schemas import Drawing
from app.imaging.budget import Budget, Work
from app.imaging.decode import ImageLimits, payload_bytes
from app.imaging.preprocess import prepare_image, prepare_pixels
from app.observability.metrics import predicted
from app.serving.predictor import Predictor
from app.settings import Settings
from model.verdict import verdict

PreviewQuery = Annotated[bool, Query(description="include the 28×28 `preview` the network saw")]
ModelQuery = Annotated[str | None, Query(min_length=1, max_length=64,
                                         description="which served model answers (GET /api/models)")]

UploadParam: Any = File(description="A PNG, JPEG, WebP or GIF image; not empty.", json_schema_extra={"minLength": 1})


def image_limits(settings: Settings) -> ImageLimits:
    return _image_limits(settings.max_side, settings.max_pixels, settings.max_work)


@functools.lru_cache(maxsize=16)
def _image_limits(max_side: int, max_pixels: int, max_work: float) -> ImageLimits:
    return ImageLimits(max_side=max_side, max_pixels=max_pixels, budget=Budget().scaled(max_work))


def client_gone(request: Request) -> Callable[[], Awaitable[None]]:
    """A coroutine function that returns when the client hangs up (the body is read by then)."""
    async def wait() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
    return wait


def prepare(body: Drawing, limits: ImageLimits, check: Callable[[], None] | None = None) -> NDArray[np.float32]:
    """A drawing's 28×28 input; ``check`` (a job's) is called between the costly stages."""
    if body.image is not None:
        work = Work(limits.budget, check) if check else Work(limits.budget)
        return prepare_image(payload_bytes(body.image), limits, work)
    assert body.pixels is not None
    return prepare_pixels(body.pixels)


def predictions(predictor: Predictor, X: NDArray[np.float32], preview: bool,
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
                                  "probabilities": p, "verdict": said,
                                  "alternatives": [{"digit": d, "probability": v} for d, v in alternatives],
                                  "not_a_digit_probability": float(q)}
        if preview:
            answer["preview"] = np.round(x.astype(np.float64), 4)
        answer["model"] = ref
        out.append(answer)
        predicted(predictor.name, answer["digit"], said)
    return out


def json_bytes(data: object) -> bytes:
    """``data`` as compact JSON; numpy arrays are written as nested lists of numbers."""
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
