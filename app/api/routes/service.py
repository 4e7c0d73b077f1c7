"""What is served and whether it is up: ``/api/model``, ``/api/models``, ``/healthz``, ``/readyz``.

The health checks are ``async`` and touch no thread: they answer from the event
loop while every CPU thread is busy. A model's description is written once, on a CPU thread,
and sent as the bytes kept (``describe.info_json``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api import describe
from app.api.answers import client_gone
from app.api.deps import ModelsDep, PoolDep, PredictorDep, ReadyDep
from app.api.errors import responses
from app.api.schemas import ModelInfo, ModelList, Status
from app.serving.executor import CpuPool
from app.serving.predictor import Predictor

router = APIRouter()


async def _description(request: Request, pool: CpuPool, p: Predictor) -> Response:
    answer = describe.described(p) or await pool.run(client_gone(request), describe.info_json, p)
    return Response(answer, media_type="application/json")


@router.get("/api/model", response_model=ModelInfo, responses=responses(503),
            summary="The default model: architecture, version, training and test results")
async def model_info(request: Request, predictor: PredictorDep, pool: PoolDep) -> Response:
    return await _description(request, pool, predictor)


@router.get("/api/models", response_model=ModelList, responses=responses(503),
            summary="Every model this server serves; requests choose one with \"model\"")
async def models_list(models: ModelsDep) -> ModelList:
    return ModelList.model_validate({"models": [describe.summary(p, name == models.default)
                                                for name, p in models.by_name.items()]})


@router.get("/api/models/{name}", response_model=ModelInfo, responses=responses(404, 503),
            summary="One served model: architecture, version, training and test results, first filters")
async def one_model(request: Request, name: str, models: ModelsDep, pool: PoolDep) -> Response:
    return await _description(request, pool, models.get(name))


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses=responses(503),
            summary="The weights are loaded and the server is not shutting down")
async def readyz(predictor: ReadyDep) -> Status:
    return Status(status="ready")
