"""What the reading endpoints share: their query and upload parameters, the image limits from the
settings, waiting for a client to hang up, preparing a drawing (and finding where in the image
its digit is), and the answer to each input as JSON bytes (built on the CPU thread, so the event
loop only sends them).

Boxes are in the pixels of the image as a browser shows it: upright by its EXIF orientation (as
``decode_image`` turns it) and at full resolution (though a large image is decoded reduced)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args

import numpy as np
import orjson
from fastapi import File, Query, Request
from numpy.typing import NDArray

from app.api.schemas import Drawing
from app.imaging.budget import Budget, Work
from app.imaging.decode import ImageLimits, decode_image, payload_bytes, upright_size
from app.imaging.preprocess import Source, fit_decoded, prepare_pixels
from app.observability.metrics import predicted
from app.serving.predictor import Predictor
from app.settings import Settings
from model.verdict import verdict

PreviewQuery = Annotated[bool, Query(description="include the 28×28 `preview` the network saw")]
ModelQuery = Annotated[str | None, Query(min_length=1, max_length=64,
                                         description="which served model answers (GET /api/models)")]

SourceQuery = Annotated[Source, Query(
    description=f"what the image is: {', '.join(f'`{v}`' for v in get_args(Source))}: `auto` decides (a photo or "
    "a scan: uneven paper round the edge), `photo` and `drawing` say; see docs/api.md#photos")]

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
    return found(body, limits, check)[0]


def found(body: Drawing, limits: ImageLimits,
          check: Callable[[], None] | None = None) -> tuple[NDArray[np.float32], list[int] | None]:
    """A drawing's 28×28 input, and for an image where its digit is (``read_image``)."""
    if body.image is not None:
        work = Work(limits.budget, check) if check else Work(limits.budget)
        return read_image(payload_bytes(body.image), limits, work, body.source)
    assert body.pixels is not None
    return prepare_pixels(body.pixels), None


def read_image(data: bytes, limits: ImageLimits, work: Work,
               source: Source = "auto") -> tuple[NDArray[np.float32], list[int]]:
    """Image file bytes → (28, 28) float32 as ``preprocess.prepare_image`` gives it (``source`` as
    ``ink_map`` takes it), and the box of the ink it was fitted from, in the sent image's upright
    pixels."""
    img = decode_image(data, limits)
    work.check()
    x, box = fit_decoded(img, work, source)
    return x, sent_box(box, img.size, upright_size(data, limits))


def sent_box(box: tuple[int, int, int, int], decoded: tuple[int, int], upright: tuple[int, int]) -> list[int]:
    """A box (x, y, width, height) in the decoded image's pixels → in the upright image's at full
    resolution (``upright``: its width and height), each side scaled on its own."""
    sx, sy = upright[0] / decoded[0], upright[1] / decoded[1]
    x, y, w, h = box
    left, top = round(x * sx), round(y * sy)
    return [left, top, max(1, round((x + w) * sx) - left), max(1, round((y + h) * sy) - top)]


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
