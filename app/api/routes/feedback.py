"""Corrections from users: ``POST /api/feedback`` stores what the network saw and what the
drawing really is; ``GET /api/feedback/summary`` counts them.

Only the prepared 28×28 input is kept (as bytes), with the label, what the model had
answered, its version and the time: no image as sent, no address, no user agent. The input
is prepared exactly as /api/predict prepares one (a ``preview`` sent back as ``pixels`` stays
as it was), on the CPU pool, and written to the database there too."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.api.answers import client_gone, image_limits, prepare
from app.api.body import BodyInPool
from app.api.deps import DatabaseDep, FeedbackLimiterDep, PoolDep, SettingsDep
from app.api.errors import ApiError, responses
from app.api.schemas import FeedbackRequest, FeedbackSaved, FeedbackSummary, Label
from app.imaging.decode import ImageLimits
from app.serving.executor import Job
from app.storage import feedback as store
from app.storage.tables import NOT_A_DIGIT

router = APIRouter(route_class=BodyInPool)


class StorageUnavailable(ApiError):
    def __init__(self) -> None:
        super().__init__(503, "storage_unavailable", "The corrections database cannot be reached; "
                         "nothing was saved. Try again in a moment.", headers={"Retry-After": "5"})


def _code(label: Label | None) -> int | None:
    return None if label is None else NOT_A_DIGIT if label == "not_a_digit" else int(label)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def save(job: Job, body: FeedbackRequest, limits: ImageLimits, db: Engine) -> int:
    x = prepare(body, limits)
    job.check()
    pixels = np.round(x * 255).astype(np.uint8)
    try:
        return store.add(db, pixels, _code(body.label) or 0, _code(body.predicted), body.model_version)
    except SQLAlchemyError:
        raise StorageUnavailable() from None


@router.post("/api/feedback", status_code=201, response_model=FeedbackSaved,
             responses=responses(400, 408, 413, 415, 422, 429, 503),
             summary="Correct an answer: what the drawing really is (stores only the 28×28 input)")
async def add_feedback(request: Request, body: FeedbackRequest, db: DatabaseDep, settings: SettingsDep,
                       pool: PoolDep, limiter: FeedbackLimiterDep) -> JSONResponse:
    limiter.take(_client(request))
    row = await pool.run(client_gone(request), save, body, image_limits(settings), db)
    return JSONResponse({"id": row}, status_code=201)


def _summary(job: Job, db: Engine) -> dict[str, object]:
    try:
        return store.summary(db)
    except SQLAlchemyError:
        raise StorageUnavailable() from None


@router.get("/api/feedback/summary", response_model=FeedbackSummary, responses=responses(503),
            summary="How many corrections per label, and how often each model version had it right")
async def feedback_summary(request: Request, db: DatabaseDep, pool: PoolDep) -> JSONResponse:
    return JSONResponse(await pool.run(client_gone(request), _summary, db))
