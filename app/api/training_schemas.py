"""Request and response bodies of the live training routes (``app/api/routes/train.py``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.training import catalogue

NetworkName = Literal["tutorial", "mlp", "cnn"]
OptimizerName = Literal["gd", "momentum", "rmsprop", "adam"]
RunState = Literal["running", "paused", "stopped"]


class TrainRequest(BaseModel):
    """A live run. Every field may be left out: the defaults are the tutorial's setting. Numbers and
    booleans must be JSON's own (strict: no "0.1", no true for 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"network": "tutorial", "optimizer": "gd", "learning_rate": 0.1, "batch_size": 0, "steps": 500},
        {"network": "mlp", "optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "steps": 3000}]})

    network: NetworkName = Field("tutorial", description="tutorial (784-10-10), mlp (784-128-10) or cnn")
    optimizer: OptimizerName = Field("gd", description="gd (as the tutorial), momentum, rmsprop or adam")
    learning_rate: float = Field(0.1, gt=0, allow_inf_nan=False, description="α: any finite number over 0. "
                                 "A huge one (1e6) is allowed: the run diverges and stops, which is its lesson.")
    batch_size: int = Field(0, ge=0, le=catalogue.FULL_BATCH,
                            description=f"0: full batch (the same {catalogue.FULL_BATCH:,} training images every "
                            "step, as the tutorial); else images per mini-batch, drawn from all the training images")
    steps: int = Field(500, ge=1, description="steps to take, at most the server's limit (GET /api/train)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="the initial weights and the mini-batches' order: "
                      "the same seed and settings give the same run")
    paused: bool = Field(False, description="start paused, to step from the first step")


class NetworkInfo(BaseModel):
    name: NetworkName
    label: str
    description: str
    suggested: dict[str, Any] = Field(description="optimizer, learning_rate, batch_size and steps that make it "
                                      "learn well")


class OptimizerInfo(BaseModel):
    name: OptimizerName
    description: str


class TrainingData(BaseModel):
    source: Literal["mnist", "subset"] = Field(description="mnist: the server's MNIST folder (DIGITPAD_MNIST_DIR); "
                                               "subset: the MNIST subset shipped in the package")
    train: int = Field(description="training images mini-batches are drawn from")
    validation: int = Field(description="validation images the accuracy is measured on")
    full_batch: int = Field(description="training images of a full batch")


class TrainingLimits(BaseModel):
    max_steps: int
    max_seconds: float = Field(description="a run's whole life, pauses included")
    ttl_seconds: float = Field(description="how long a stopped run's network is kept")
    runs: int = Field(description="runs at once on this server")
    max_batch_size: int


class TrainingInfo(BaseModel):
    enabled: bool
    networks: list[NetworkInfo]
    optimizers: list[OptimizerInfo]
    defaults: dict[str, Any]
    limits: TrainingLimits
    data: TrainingData


class RunCreated(BaseModel):
    id: str = Field(description="the run's opaque id: the only way to reach it")
    events: str = Field(description="the run's Server-Sent Events stream")
    settings: dict[str, Any]
    data: TrainingData
    limits: TrainingLimits


class RunStatus(BaseModel):
    id: str
    state: RunState
    step: int
    loss: float | None = None
    val_accuracy: float | None = None
    reason: str | None = Field(None, description="why it stopped: finished, time_limit, diverged, stopped, "
                               "disconnected or failed")
    message: str | None = None
    settings: dict[str, Any]


class Control(BaseModel):
    state: RunState
    step: int


class Term(BaseModel):
    name: str = Field(examples=["dZ2"])
    equation: str = Field(examples=["dZ2 = A2 − Y"])
    shape: list[int] = Field(description="in the tutorial's layout: examples as columns", examples=[[10, 1]])
    values: list[list[float]] = Field(description="the numbers, rows of `shape`; for a term of more than 100 "
                                      "numbers, only the columns in `columns`")
    columns: list[int] | None = Field(None, description="for W1 and dW1: the columns `values` holds, the 8 "
                                      "pixels (0–783, row-major) of the image with the most ink")
    pictures: list[str] | None = Field(None, description="for W1 and dW1: each row's 784 numbers as a 28×28 "
                                       "picture (base64 uint8, 128 = 0, scaled by the row's largest magnitude)")
    min: float
    max: float


class Maths(BaseModel):
    image: int = Field(description="the training image's index")
    label: int
    pixels: str = Field(description="the image: 784 uint8, base64")
    learning_rate: float
    loss_before: float
    loss_after: float = Field(description="the loss on this image after one step of gradient descent on it alone")
    terms: list[Term]
