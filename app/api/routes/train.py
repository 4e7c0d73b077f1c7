"""Live training: ``/api/train`` and a run's routes (``/api/train/{id}/…``).

A run is a process and a folder (``app.training``), so any worker answers any of these: it reads
the run's files, appends a command, or tails its events. File work here is a few small reads and
writes, done on the event loop; starting a process goes to a thread, the network's work (answers,
the tutorial's maths) to the CPU pool."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.api.answers import PreviewQuery, client_gone, image_limits, json_bytes
from app.api.body import BodyInPool
from app.api.deps import PoolDep, SettingsDep
from app.api.errors import ApiError, responses
from app.api.routes.predict import predict_one
from app.api.schemas import Prediction, PredictRequest
from app.api.training_schemas import (
    Control,
    Maths,
    RunCreated,
    RunStatus,
    TrainingInfo,
    TrainRequest,
)
from app.serving.executor import Job
from app.training import catalogue, trained
from app.training.runs import Busy, Run, Training, UnknownRun
from app.training.stream import delivered, events

router = APIRouter(route_class=BodyInPool, tags=["training"])
CONTROL_WAIT = 2.0  # s a pause, resume or step waits for the run to say it has taken it


async def get_training(request: Request) -> Training:
    training: Training | None = getattr(request.app.state, "training", None)
    if training is None:
        raise ApiError(404, "training_off", "Live training is off on this server (DIGITPAD_TRAINING=off).")
    return training


TrainingDep = Annotated[Training, Depends(get_training)]


def found(training: Training, run_id: str) -> Run:
    try:
        return training.find(run_id)
    except UnknownRun:
        minutes = training.settings.training_ttl / 60
        raise ApiError(404, "unknown_run", f"There is no training run with this id (a stopped run is kept "
                       f"{minutes:g} minutes).") from None


def status(run: Run) -> dict[str, Any]:
    state = run.state()
    return {"id": run.id, "settings": run.spec()["settings"], **state}


@router.get("/api/train", response_model=TrainingInfo, responses=responses(404),
            summary="What a live training run may be: networks, optimizers, defaults, limits, data")
async def train_info(training: TrainingDep) -> dict[str, Any]:
    await asyncio.to_thread(training.sweep)
    return {"enabled": True, "networks": [{"name": k, **v} for k, v in catalogue.NETWORKS.items()],
            "optimizers": [{"name": k, "description": v} for k, v in catalogue.OPTIMIZERS.items()],
            "defaults": catalogue.DEFAULTS, "limits": training.limits(), "data": training.data()}


@router.post("/api/train", status_code=201, response_model=RunCreated, responses=responses(404, 422, 503),
             summary="Start a live training run; watch it at its events stream")
async def start(body: TrainRequest, training: TrainingDep) -> dict[str, Any]:
    limit = training.settings.training_max_steps
    if body.steps > limit:
        raise ApiError(422, "invalid_request", f"steps: at most {limit} on this server; got {body.steps}.")
    try:
        run = await asyncio.to_thread(training.start, body.model_dump())
    except Busy as e:
        raise ApiError(503, "training_busy", f"All {training.settings.training_runs} training slots are busy; "
                       f"try again in {e.retry_after} s.", headers={"Retry-After": str(e.retry_after)}) from None
    return {"id": run.id, "events": f"/api/train/{run.id}/events", "settings": body.model_dump(),
            "data": training.data(), "limits": training.limits()}


@router.get("/api/train/{run_id}", response_model=RunStatus, responses=responses(404),
            summary="A run's state: running, paused or stopped, its step, and why it stopped")
async def run_status(run_id: str, training: TrainingDep) -> dict[str, Any]:
    return status(found(training, run_id))


@router.get("/api/train/{run_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **responses(404)},
            summary="The run's progress as Server-Sent Events; closing the stream stops the run")
async def run_events(request: Request, run_id: str, training: TrainingDep) -> Response:
    run = found(training, run_id)
    last = request.headers.get("last-event-id", "")
    after = int(last) if last.isdigit() and len(last) < 10 else 0
    if after and delivered(run, after):
        return Response(status_code=204)  # all seen and the run has stopped: EventSource stops reconnecting
    return StreamingResponse(events(run, after), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def control(run: Run, word: str) -> dict[str, Any]:
    """Append ``word`` for the run's process and wait (a moment) until it has taken it."""
    state = run.state()
    if state["state"] == "stopped":
        raise ApiError(409, "run_stopped", f"The run has stopped ({state.get('reason')}): start another.")
    if word == "step" and state["state"] == "running":
        raise ApiError(409, "run_running", "The run is running: pause it before stepping.")
    before = state["step"]
    run.command(word)
    deadline = time.monotonic() + CONTROL_WAIT
    while time.monotonic() < deadline and not taken(word, before, state):
        await asyncio.sleep(0.01)
        state = run.state()
    return {"state": state["state"], "step": state["step"]}


def taken(word: str, before: int, state: dict[str, Any]) -> bool:
    if state["state"] == "stopped":
        return True
    return {"pause": state["state"] == "paused", "resume": state["state"] == "running",
            "step": state["step"] > before}[word]


@router.post("/api/train/{run_id}/pause", response_model=Control, responses=responses(404, 409),
             summary="Pause the run (its weights are kept and can answer drawings)")
async def pause(run_id: str, training: TrainingDep) -> dict[str, Any]:
    return await control(found(training, run_id), "pause")


@router.post("/api/train/{run_id}/resume", response_model=Control, responses=responses(404, 409),
             summary="Resume a paused run")
async def resume(run_id: str, training: TrainingDep) -> dict[str, Any]:
    return await control(found(training, run_id), "resume")


@router.post("/api/train/{run_id}/step", response_model=Control, responses=responses(404, 409),
             summary="Take one step of a paused run")
async def step(run_id: str, training: TrainingDep) -> dict[str, Any]:
    return await control(found(training, run_id), "step")


@router.delete("/api/train/{run_id}", status_code=204, responses=responses(404),
               summary="Stop the run and forget it")
async def delete(run_id: str, training: TrainingDep) -> Response:
    run = found(training, run_id)
    await asyncio.to_thread(training.forget, run)
    return Response(status_code=204)


def trained_predictor(run: Run) -> Any:
    try:
        return trained.predictor(run)
    except trained.NotTrainedYet:
        raise ApiError(409, "run_starting", "The run has no weights yet: it is still starting.") from None


def answer_maths(job: Job, run: Run, image: int) -> bytes:
    X, y = trained.training_images(run)
    if image >= len(y):
        raise ApiError(422, "invalid_request", f"image: the training images are numbered 0 to {len(y) - 1}.")
    trained_predictor(run)
    return json_bytes(trained.maths(run, image, X[image], int(y[image])))


@router.get("/api/train/{run_id}/maths", response_model=Maths, responses=responses(404, 409, 422),
            summary="One step of the tutorial's equations on one training image, with the run's weights "
                    "(784-10-10 only; paused or stopped)")
async def maths(request: Request, run_id: str, training: TrainingDep, pool: PoolDep,
                image: Annotated[int, Query(ge=0, description="the training image's index")] = 0) -> Response:
    run = found(training, run_id)
    if run.spec()["settings"]["network"] != "tutorial":
        raise ApiError(422, "invalid_request", "The step's maths is shown for the tutorial's 784-10-10 only.")
    if run.state()["state"] == "running":
        raise ApiError(409, "run_running", "The run is running: pause it to see a step's maths.")
    answer = await pool.run(client_gone(request), answer_maths, run, image)
    return Response(answer, media_type="application/json")


def answer_drawing(job: Job, run: Run, body: PredictRequest, preview: bool, settings: Any) -> bytes:
    return predict_one(job, body, image_limits(settings), trained_predictor(run), preview)


@router.post("/api/train/{run_id}/predict", response_model=Prediction, responses=responses(404, 409, 413, 422, 503),
             summary="Read a drawing with the run's latest network (the body of /api/predict; its model is ignored)")
async def predict(request: Request, run_id: str, body: PredictRequest, training: TrainingDep, pool: PoolDep,
                  settings: SettingsDep, preview: PreviewQuery = True) -> Response:
    run = found(training, run_id)
    answer = await pool.run(client_gone(request), answer_drawing, run, body, preview, settings)
    return Response(answer, media_type="application/json")


@router.get("/api/train/{run_id}/weights.npz", responses={200: {"content": {"application/octet-stream": {}}},
                                                          **responses(404, 409)},
            summary="The run's latest network as a weights file (python -m scripts.evaluate scores it)")
async def weights_file(run_id: str, training: TrainingDep) -> Response:
    run = found(training, run_id)
    try:
        data = (run.dir / "weights.npz").read_bytes()
    except FileNotFoundError:
        raise ApiError(409, "run_starting", "The run has no weights yet: it is still starting.") from None
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="trained-{run.id}.npz"'})
