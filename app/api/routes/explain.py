"""``POST /api/explain``: the answer to a drawing, and why: the saliency map (the gradient of the
winning digit's logit with respect to each input pixel, by the network's own backward pass)
and what every layer produced (``model/explain.py``)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api import describe
from app.api.answers import client_gone, image_limits, json_bytes, predictions, prepare
from app.api.body import BodyInPool
from app.api.deps import ModelsDep, PoolDep, SettingsDep
from app.api.direct import Direct
from app.api.errors import responses
from app.api.schemas import ExplainRequest, Explanation
from app.imaging.decode import ImageLimits
from app.serving.executor import Job
from app.serving.models import Models
from app.serving.predictor import Predictor
from app.settings import Settings
from model.explain import explain as explain_drawing

router = APIRouter(route_class=BodyInPool)


def explain_one(job: Job, body: ExplainRequest, limits: ImageLimits, predictor: Predictor) -> bytes:
    x = prepare(body, limits, job.check)
    job.check()
    answer = predictions(predictor, x[None], preview=True)[0]
    e = explain_drawing(predictor.net, x)
    scale = float(np.abs(e.saliency).max())
    answer["saliency"] = np.round(e.saliency / (scale or 1.0), 3)
    answer["saliency_scale"] = scale
    answer["layers"] = [{"index": i, "type": kind, "values": describe.grid(describe.channels_first(out))}
                        for i, (kind, out) in enumerate(e.outputs) if kind not in describe.HIDDEN]
    return json_bytes(answer)


def answer_explain(job: Job, body: ExplainRequest, preview: bool, models: Models, settings: Settings) -> bytes:
    return explain_one(job, body, image_limits(settings), models.get(body.model))


DIRECT = [Direct("/api/explain", ExplainRequest, answer_explain, preview=False)]


@router.post("/api/explain", response_model=Explanation, responses=responses(400, 404, 408, 413, 415, 422, 503),
             summary="Read one digit and show why: saliency map and every layer's output")
async def explain(request: Request, body: ExplainRequest, models: ModelsDep, settings: SettingsDep,
                  pool: PoolDep) -> Response:
    answer = await pool.run(client_gone(request), answer_explain, body, True, models, settings)
    return Response(answer, media_type="application/json")
