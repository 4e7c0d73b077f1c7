"""The HTTP API. Each route: validate → preprocess → predict → respond."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, File, UploadFile
from numpy.typing import NDArray

from app.decode import ImageLimits, payload_bytes
from app.errors import ApiError, responses
from app.input_errors import InputError
from app.predictor import Predictor, get_predictor, get_settings
from app.preprocess import prepare_image, prepare_pixels
from app.schemas import BatchRequest, BatchResponse, ModelInfo, ModelRef, Prediction, PredictRequest, Status
from app.settings import Settings

router = APIRouter()
PredictorDep = Annotated[Predictor, Depends(get_predictor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _limits(settings: Settings) -> ImageLimits:
    return ImageLimits(max_side=settings.max_side, max_pixels=settings.max_pixels)


def _prepare(body: PredictRequest, limits: ImageLimits) -> NDArray[np.float32]:
    if body.image is not None:
        return prepare_image(payload_bytes(body.image), limits)
    assert body.pixels is not None
    return prepare_pixels(body.pixels)


def _answer(predictor: Predictor, X: NDArray[np.float32]) -> list[Prediction]:
    P = predictor.predict(X)
    ref = ModelRef(name=predictor.name, version=predictor.version)
    return [Prediction(digit=int(p.argmax()), confidence=float(p.max()), probabilities=p.tolist(),
                       preview=np.round(x.astype(np.float64), 4).tolist(), model=ref)
            for x, p in zip(X, P, strict=True)]


@router.post("/api/predict", response_model=Prediction, responses=responses(413, 415, 422, 503),
             summary="Read one digit from an image or prepared pixels")
def predict(body: PredictRequest, predictor: PredictorDep, settings: SettingsDep) -> Prediction:
    x = _prepare(body, _limits(settings))
    return _answer(predictor, x[None])[0]


@router.post("/api/predict/file", response_model=Prediction, responses=responses(413, 415, 422, 503),
             summary="Read one digit from an uploaded image file (curl -F file=@digit.png)")
def predict_file(file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image.")],
                 predictor: PredictorDep, settings: SettingsDep) -> Prediction:
    x = prepare_image(file.file.read(), _limits(settings))
    return _answer(predictor, x[None])[0]


@router.post("/api/predict/batch", response_model=BatchResponse, responses=responses(413, 415, 422, 503),
             summary="Read many digits at once; all must be readable")
def predict_batch(body: BatchRequest, predictor: PredictorDep, settings: SettingsDep) -> BatchResponse:
    if len(body.inputs) > settings.max_batch:
        raise ApiError(422, "batch_too_large",
                       f"A batch holds at most {settings.max_batch} inputs; got {len(body.inputs)}.")
    limits, xs = _limits(settings), []
    for i, item in enumerate(body.inputs):
        try:
            xs.append(_prepare(item, limits))
        except InputError as e:
            raise type(e)(f"inputs[{i}]: {e}") from None
    if not xs:
        return BatchResponse(results=[])
    return BatchResponse(results=_answer(predictor, np.stack(xs)))


@router.get("/api/model", response_model=ModelInfo, responses=responses(503),
            summary="The served model: architecture, version, training and test results")
def model_info(predictor: PredictorDep) -> ModelInfo:
    meta, test = predictor.meta, predictor.meta.get("test") or {}
    return ModelInfo(
        name=predictor.name, version=predictor.version, description=meta.get("description"),
        preset=meta.get("preset"), n_params=predictor.net.n_params(), layers=meta["layers"],
        input=meta.get("input") or {}, temperature=meta["temperature"], training=meta.get("training") or {},
        history=meta.get("history") or [], train_accuracy=meta.get("train_accuracy"),
        test_accuracy=test.get("accuracy"), per_class_accuracy=test.get("per_class_accuracy"), test=test,
        data_sha256=meta.get("data_sha256") or {}, created=meta.get("created"),
        code_version=meta.get("code_version"))


@router.get("/healthz", response_model=Status, summary="The process is alive")
def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses=responses(503),
            summary="The weights are loaded and predictions can be served")
def readyz(predictor: PredictorDep) -> Status:
    return Status(status="ready")
