"""What is served and whether it is up: ``/api/model``, ``/api/models``, ``/healthz``, ``/readyz``.

The health checks are ``async`` and touch no thread: they answer from the event
loop while every CPU thread is busy."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import describe
from app.api.deps import ModelsDep, PredictorDep, ReadyDep
from app.api.errors import responses
from app.api.schemas import ModelInfo, ModelList, Status

router = APIRouter()


@router.get("/api/model", response_model=ModelInfo, responses=responses(503),
            summary="The default model: architecture, version, training and test results")
async def model_info(predictor: PredictorDep) -> ModelInfo:
    return ModelInfo.model_validate(describe.info(predictor))


@router.get("/api/models", response_model=ModelList, responses=responses(503),
            summary="Every model this server serves; requests choose one with \"model\"")
async def models_list(models: ModelsDep) -> ModelList:
    return ModelList.model_validate({"models": [describe.summary(p, name == models.default)
                                                for name, p in models.by_name.items()]})


@router.get("/api/models/{name}", response_model=ModelInfo, responses=responses(404, 503),
            summary="One served model: architecture, version, training and test results, first filters")
async def one_model(name: str, models: ModelsDep) -> ModelInfo:
    return ModelInfo.model_validate(describe.info(models.get(name)))


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses=responses(503),
            summary="The weights are loaded and the server is not shutting down")
async def readyz(predictor: ReadyDep) -> Status:
    return Status(status="ready")
