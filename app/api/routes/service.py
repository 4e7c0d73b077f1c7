"""What is served and whether it is up: ``/api/model``, ``/healthz``, ``/readyz``.

The health checks are ``async`` and touch no thread: they answer from the event
loop while every CPU thread is busy."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import PredictorDep, ReadyDep
from app.api.errors import responses
from app.api.schemas import ModelInfo, Status

router = APIRouter()


@router.get("/api/model", response_model=ModelInfo, responses=responses(503),
            summary="The served model: architecture, version, training and test results")
async def model_info(predictor: PredictorDep) -> ModelInfo:
    meta, test = predictor.meta, predictor.meta.get("test") or {}
    return ModelInfo(
        name=predictor.name, version=predictor.version, description=meta.get("description"),
        preset=meta.get("preset"), n_params=predictor.net.n_params(), layers=meta["layers"],
        input=meta.get("input") or {}, temperature=meta["temperature"], training=meta.get("training") or {},
        history=meta.get("history") or [], train_accuracy=meta.get("train_accuracy"),
        test_accuracy=test.get("accuracy"), per_class_accuracy=test.get("per_class_accuracy"), test=test,
        data_sha256=meta.get("data_sha256") or {}, created=meta.get("created"),
        code_version=meta.get("code_version"), outputs=int(meta["layers"][-1].get("n_out", 10)),
        verdict={**(meta.get("verdict") or {}), **predictor.thresholds})


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses=responses(503),
            summary="The weights are loaded and the server is not shutting down")
async def readyz(predictor: ReadyDep) -> Status:
    return Status(status="ready")
