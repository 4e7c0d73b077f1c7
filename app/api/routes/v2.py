"""The Open Inference Protocol (KServe V2, as Triton and KServe speak it) beside the native API.

    GET  /v2                              the server: name, version, extensions
    GET  /v2/health/live, /v2/health/ready
    GET  /v2/models/{name}, /v2/models/{name}/ready
    POST /v2/models/{name}/infer          input "input": FP32 [N, 784] or [N, 28, 28], prepared pixels
                                          (white ink on black, in [0, 1]); outputs "probabilities" FP32
                                          [N, 10], "digit" INT32 [N], "verdict" BYTES [N]

Inputs come as JSON ``data`` (flat or nested) or, as Triton's clients send by default, as binary
tensor data after the JSON header (``Inference-Header-Content-Length``, ``binary_data_size``);
answers are always JSON, which every client reads. The whole request is worked on a CPU thread
(``infer_job``): parsing its JSON (nesting too deep for Python's parser is a 400) and its binary
data, checking the tensor, predicting. Errors are the protocol's ``{"error": "…"}``
with 400 for a bad request, 404 for an unknown model, 503 when not ready (``V2Error``, answered by
``app.api.errors``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from app.api.answers import client_gone, json_bytes
from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.errors import V2Error, responses
from app.runtime.shutdown import shutdown
from app.serving.executor import Job
from app.serving.models import Models, UnknownModel
from app.serving.predictor import Predictor
from model.verdict import verdict

router = APIRouter(prefix="/v2", tags=["Open Inference Protocol (V2)"])
SHAPES = "[N, 784] or [N, 28, 28]"
OUTPUTS = ("probabilities", "digit", "verdict")


class ErrorV2(BaseModel):
    error: str = Field(examples=["unknown model 'resnet'; this server has digitpad, blog, mlp"])


def _said(*pairs: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorV2, "description": words} for status, words in pairs}


UNKNOWN = (404, "the model is not served here")
NOT_READY = (503, "the server is not ready, or is shutting down")


def _model(models: Models, name: str) -> Predictor:
    try:
        return models.get(name)
    except UnknownModel:
        raise V2Error(404, f"unknown model {name[:64]!r}; this server has {', '.join(models.by_name)}") from None


@router.get("", summary="The server's metadata")
async def server_metadata(request: Request) -> dict[str, Any]:
    return {"name": "digitpad", "version": request.app.version, "extensions": []}


@router.get("/health/live", summary="The server is alive")
async def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready", summary="The server is ready for inference", responses=_said(NOT_READY))
async def ready(request: Request) -> JSONResponse:
    ok = getattr(request.app.state, "models", None) is not None and not shutdown.draining
    return JSONResponse({"ready": ok}, status_code=200 if ok else 503)


@router.get("/models/{name}", summary="A model's metadata: its input and outputs", responses=_said(UNKNOWN))
async def model_metadata(name: str, models: ModelsDep) -> JSONResponse:
    p = _model(models, name)
    return JSONResponse({
        "name": p.name, "versions": [p.version], "platform": "digitpad_numpy",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}],
        "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]},
                    {"name": "digit", "datatype": "INT32", "shape": [-1]},
                    {"name": "verdict", "datatype": "BYTES", "shape": [-1]}]})


@router.get("/models/{name}/ready", summary="The model is ready", responses=_said(UNKNOWN))
async def model_ready(name: str, models: ModelsDep) -> JSONResponse:
    p = _model(models, name)
    return JSONResponse({"name": p.name, "ready": not shutdown.draining})


def parse(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The request's JSON part, and the binary tensor data after it (if any)."""
    split = len(body)
    if header_length is not None:
        try:
            split = int(header_length)
        except ValueError:
            raise V2Error(400, "Inference-Header-Content-Length is not a number") from None
        if not 0 < split <= len(body):
            raise V2Error(400, "Inference-Header-Content-Length is outside the body")
    try:
        request = json.loads(body[:split])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise V2Error(400, "the request is not JSON (or its Inference-Header-Content-Length is wrong)") from None
    except RecursionError:
        raise V2Error(400, "the request's JSON is nested too deeply") from None
    return _object(request, "the request"), body[split:]


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise V2Error(400, f"{what} must be a JSON object")
    return value


def tensor(request: dict[str, Any], binary: bytes, max_batch: int) -> NDArray[np.float32]:
    """The "input" tensor as (N, 784) float32, checked."""
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise V2Error(400, "give exactly one input, named \"input\"")
    spec = inputs[0]
    if spec.get("name") != "input":
        raise V2Error(400, f"unknown input {str(spec.get('name'))[:40]!r}: the input is named \"input\"")
    if spec.get("datatype") != "FP32":
        raise V2Error(400, f"input datatype must be FP32, not {str(spec.get('datatype'))[:16]!r}")
    shape = spec.get("shape")
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
            and (shape[1:] == [784] or shape[1:] == [28, 28]) and shape[0] >= 1):
        raise V2Error(400, f"input shape must be {SHAPES} with N ≥ 1, not {str(shape)[:60]}")
    if shape[0] > max_batch:
        raise V2Error(400, f"at most {max_batch} inputs at once, not {str(shape[0])[:20]}")
    n = shape[0] * 784
    size = _object(spec.get("parameters") or {}, "the input's parameters").get("binary_data_size")
    if size is not None:
        if size != 4 * n or len(binary) != size:
            raise V2Error(400, f"binary_data_size must be {4 * n} bytes for shape {shape}, and be all the binary data")
        X = np.frombuffer(binary, dtype="<f4").astype(np.float32)
    else:
        try:
            X = np.asarray(spec.get("data"), dtype=np.float32).reshape(-1)
        except (TypeError, ValueError, OverflowError, RecursionError):
            raise V2Error(400, "input data must be numbers") from None
        if X.size != n:
            raise V2Error(400, f"input data holds {X.size} numbers; shape {shape} needs {n}")
    if not np.isfinite(X).all() or X.min() < 0 or X.max() > 1:
        raise V2Error(400, "input values must be finite and in [0, 1] (prepared pixels, white ink on black)")
    return X.reshape(shape[0], 784)


def wanted_outputs(request: dict[str, Any]) -> list[str]:
    """The outputs the request names (none: all of them)."""
    outputs = request.get("outputs") or []
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        raise V2Error(400, "outputs must be a list of objects, each with a \"name\"")
    unknown = [o.get("name") for o in outputs if o.get("name") not in OUTPUTS]
    if unknown:
        raise V2Error(400, f"unknown output {str(unknown[0])[:40]!r}: {', '.join(OUTPUTS)}")
    return [o["name"] for o in outputs]


def infer_job(job: Job, body: bytes, header_length: str | None, max_batch: int, p: Predictor) -> bytes:
    """The whole request on a CPU thread: parse and check it, predict, write the answer."""
    request, binary = parse(body, header_length)
    X = tensor(request, binary, max_batch)
    wanted = wanted_outputs(request)
    job.check()
    P, none = p.predict(X.reshape(-1, 28, 28))
    thresholds = p.thresholds
    verdicts = [verdict(row, float(q), thresholds)[0] for row, q in zip(P, none, strict=True)]
    n = len(X)
    outputs = {
        "probabilities": {"name": "probabilities", "datatype": "FP32", "shape": [n, 10],
                          "data": P.astype(np.float32).ravel().tolist()},
        "digit": {"name": "digit", "datatype": "INT32", "shape": [n], "data": P.argmax(axis=1).tolist()},
        "verdict": {"name": "verdict", "datatype": "BYTES", "shape": [n], "data": verdicts},
    }
    answer: dict[str, Any] = {"model_name": p.name, "model_version": p.version,
                              "outputs": [outputs[w] for w in wanted] if wanted else list(outputs.values())}
    if isinstance(request.get("id"), str):
        answer["id"] = request["id"]
    return json_bytes(answer)


@router.post("/models/{name}/infer", summary="Infer: FP32 input \"input\" [N, 784] → \"probabilities\" [N, 10]",
             responses={**_said((400, "the request breaks the protocol or the input's shape, type or range"),
                                UNKNOWN, NOT_READY), **responses(408, 413)},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["inputs"], "properties": {"inputs": {"type": "array"}}}}}}})
async def infer(name: str, request: Request, models: ModelsDep, settings: SettingsDep, pool: PoolDep) -> Response:
    p = _model(models, name)
    if shutdown.draining:
        raise V2Error(503, "the server is shutting down")
    body, header_length = await request.body(), request.headers.get("inference-header-content-length")
    answer = await pool.run(client_gone(request), infer_job, body, header_length, settings.max_batch, p)
    return Response(answer, media_type="application/json")
