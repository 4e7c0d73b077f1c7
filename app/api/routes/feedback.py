"""Corrections from users: ``POST /api/feedback`` stores what the network saw and what the
drawing really is; ``GET /api/feedback/summary`` counts them.

Only the prepared 28×28 input is kept (as bytes), with the label, what the model had
answered, its version and the time: no image as sent, no address, no user agent. The input
is prepared exactly as /api/predict prepares one (a ``preview`` sent back as ``pixels`` stays
as it was), on the CPU pool; the database is reached only from the storage threads
(``app.storage.threads``), within ``DIGITPAD_DATABASE_TIMEOUT``. A ``model_version`` must be one
this process serves or has served, and the summary lists only those (and none)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from numpy.typing import NDArray

from app.api.answers import client_gone, image_limits, prepare
from app.api.body import BodyInPool
from app.api.deps import DatabaseDep, FeedbackLimiterDep, PoolDep, SettingsDep, StorageDep
from app.api.errors import ApiError, responses
from app.api.schemas import FeedbackRequest, FeedbackSaved, FeedbackSummary, Label
from app.imaging.decode import ImageLimits
from app.serving.executor import Job
from app.serving.models import SEEN_VERSIONS
from app.storage import feedback as store
from app.storage.tables import NOT_A_DIGIT

router = APIRouter(route_class=BodyInPool)


def _code(label: Label | None) -> int | None:
    return None if label is None else NOT_A_DIGIT if label == "not_a_digit" else int(label)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _served(version: str | None) -> None:
    if version is not None and version not in SEEN_VERSIONS:
        raise ApiError(422, "unknown_model_version", "model_version is not the version of a model this server "
                       "serves (GET /api/models); send the version the answer came with, or none.")


def prepared(job: Job, body: FeedbackRequest, limits: ImageLimits) -> NDArray[np.uint8]:
    x = prepare(body, limits, job.check)
    job.check()
    return np.round(x * 255).astype(np.uint8)


@router.post("/api/feedback", status_code=201, response_model=FeedbackSaved,
             responses=responses(400, 408, 413, 415, 422, 429, 503),
             summary="Correct an answer: what the drawing really is (stores only the 28×28 input)")
async def add_feedback(request: Request, body: FeedbackRequest, db: DatabaseDep, settings: SettingsDep,
                       pool: PoolDep, storage: StorageDep, limiter: FeedbackLimiterDep) -> JSONResponse:
    limiter.take(_client(request))
    _served(body.model_version)
    pixels = await pool.run(client_gone(request), prepared, body, image_limits(settings))
    row = await storage.run(db.write, store.add, pixels, _code(body.label) or 0, _code(body.predicted),
                            body.model_version)
    return JSONResponse({"id": row}, status_code=201)


@router.get("/api/feedback/summary", response_model=FeedbackSummary, responses=responses(503),
            summary="How many corrections per label, and how often each model version had it right")
async def feedback_summary(db: DatabaseDep, storage: StorageDep) -> JSONResponse:
    return JSONResponse(await storage.run(db.read, store.summary, set(SEEN_VERSIONS)))
