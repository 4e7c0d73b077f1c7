"""The server's settings: one object, read once from ``DIGITPAD_*`` environment variables.

Nothing else in the app reads a ``DIGITPAD_*`` variable; ``create_app`` builds a ``Settings()``
unless it is handed one (tests hand it one pointing at their own weights file). The one other
variable the app looks at is prometheus-client's own ``PROMETHEUS_MULTIPROC_DIR``, which the
worker supervisor sets for its workers to a folder it makes under ``metrics_dir``
(``app.runtime.preflight``): plumbing between processes, not a setting. The API's
descriptions are read from these fields, and a test keeps docs/api.md's settings table in step
with them. A value that does not parse is said in one line per setting, never as
pydantic's traceback (``read_settings``)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic.functional_validators import BeforeValidator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

APP_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """``static`` or ``weights``: inside the installed package (``pip install .`` puts them
    in ``app/``), else beside ``app/`` in a source checkout."""
    installed = APP_DIR / name
    return installed if installed.is_dir() else APP_DIR.parent / name


def _cores() -> int:
    """The cores this process may use: those it may run on, or fewer if its cgroup (a container's
    CPU limit) gives it less time than that."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def _workers(value: object) -> object:
    """``DIGITPAD_WORKERS=auto`` → one per core."""
    return _cores() if isinstance(value, str) and value.strip().lower() == "auto" else value


def _threads(data: object) -> object:
    """Without ``DIGITPAD_CPU_THREADS``: the cores shared among the workers, at least one each."""
    if isinstance(data, dict) and data.get("cpu_threads") is None:
        workers = _workers(data.get("workers", _cores()))
        if isinstance(workers, int | str) and str(workers).strip().isdigit() and int(workers) > 0:
            data = {**data, "cpu_threads": max(1, _cores() // int(workers))}
    return data


def _origins(value: object) -> object:
    """``DIGITPAD_CORS_ORIGINS=https://a.example,https://b.example`` → a list."""
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


DEFAULT_WEIGHTS = _bundled("weights") / "digitpad.npz"
# Defaults that a bare value would not explain, in words (digitpad-serve --help, docs/api.md).
DEFAULTS_IN_WORDS = {
    "models": "the packaged models when DIGITPAD_WEIGHTS is the packaged default, else that one file",
    "max_pixels": "8294400, a 3840×2160 canvas",
    "cpu_threads": "the cores shared among the workers, at least one each",
    "workers": "one per core",
    "metrics_dir": "the system's temporary folder",
    "mnist_dir": "the shipped subset: 20,000 training and 2,000 validation images of MNIST",
}


class Settings(BaseSettings):
    """``DIGITPAD_WEIGHTS=/path/to.npz``, ``DIGITPAD_MAX_BODY_BYTES=…`` and so on."""

    model_config = SettingsConfigDict(env_prefix="DIGITPAD_", frozen=True)

    weights: Path = Field(default=DEFAULT_WEIGHTS, description="the .npz weights file to serve (the default model)")
    models: str | None = Field(default=None, description="the models to serve: a folder of .npz files, or a "
                               "comma-separated list of them")
    static_dir: Path = Field(default=_bundled("static"), description="the drawing page's files")
    # Input limits: chosen from real canvases, not from what Pillow can take (docs/operations.md)
    max_body_bytes: int = Field(default=1 << 20, gt=0, description="largest request body, checked before parsing (413)")
    max_upload_bytes: int = Field(default=16 << 20, gt=0, description="largest file upload (/api/predict/file, "
                                  "/api/read/file: a phone's full-size photo), checked before parsing (413)")
    max_side: int = Field(default=4096, gt=0, description="largest image width or height, checked before decoding")
    max_pixels: int = Field(default=8_294_400, gt=0,
                            description="largest image area, checked before decoding")
    max_batch: int = Field(default=64, gt=0, description="most inputs in one /api/predict/batch request")
    max_batch_pixels: int = Field(default=8_294_400, gt=0,
                                  description="most image pixels, summed over a batch, checked before decoding")
    max_work: float = Field(default=1.0, gt=0, description="scales every limit of the drawing's cost model "
                            "(ink runs, pieces, holes, cuts, candidate digits; docs/imaging.md): over one is "
                            "422 too_complex, refused before the work")
    # Work and back-pressure, per worker process
    cpu_threads: int = Field(default_factory=_cores, gt=0,
                             description="decodes and predictions run at once, per worker")
    max_wait: float = Field(default=1.0, gt=0, description="seconds a request may expect to wait for a CPU thread; "
                            "one that would wait longer gets 503 overloaded at once")
    max_queue: int = Field(default=256, ge=0, description="requests waiting for a CPU thread, per worker, before "
                           "the next gets 503 overloaded however short the wait")
    # Slow clients
    header_timeout: float = Field(default=10.0, gt=0, description="seconds a client has to send its request headers")
    body_timeout: float = Field(default=30.0, gt=0, description="seconds a client has to send its request body")
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(_origins)] = Field(
        default_factory=list, description="origins allowed to call the API from a browser (comma-separated)")
    # Corrections from users (POST /api/feedback)
    database_url: str = Field(default="sqlite:///data/digitpad.db",
                              description="where corrections are kept: sqlite:///relative/or/absolute/path.db "
                              "(the folder is created) or postgresql://user:password@host:port/database")
    database_timeout: float = Field(default=4.0, gt=0, le=60,
                                    description="seconds a correction or the summary may wait for the database "
                                    "(connecting, a free connection, the statement, SQLite's lock, and the whole "
                                    "request) before 503 storage_unavailable")
    feedback_per_minute: int = Field(default=30, gt=0,
                                     description="corrections one client (IP address) may send a minute, per worker "
                                     "(then 429 rate_limited)")
    # Live training from /explore (POST /api/train; docs/architecture.md: a run is a process and a folder)
    training: bool = Field(default=True, description="live training from the explorer: off answers every "
                           "/api/train route with 404 training_off")
    training_runs: int = Field(default=1, ge=1, le=64, description="training runs at once per server (all workers); "
                               "one more gets 503 training_busy")
    training_max_steps: int = Field(default=5000, ge=1, description="most steps a training run may ask for")
    training_max_seconds: float = Field(default=120.0, gt=0, description="seconds a training run may last, pauses "
                                        "included; then it stops with reason time_limit")
    training_ttl: float = Field(default=1800.0, gt=0, description="seconds a stopped training run's network is kept "
                                "(for predictions and its .npz) before it is removed")
    mnist_dir: Path | None = Field(default=None, description="a folder with MNIST's training files for live training "
                                   "(as digitpad-train's --data); without it, the subset shipped in the package")
    # digitpad-serve
    host: str = Field(default="127.0.0.1", description="address digitpad-serve listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="port digitpad-serve listens on")
    workers: Annotated[int, BeforeValidator(_workers)] = Field(
        default_factory=_cores, ge=1, description="worker processes for digitpad-serve")
    access_log: bool = Field(default=True, description="log one line per request: method, route, status, "
                             "duration, request id; never a body")
    log_format: Literal["text", "json", "auto"] = Field(
        default="text", description="log lines as readable text, as one JSON object each (for log collectors), or "
        "auto: text when the log goes to a terminal, else JSON (the container's choice)")
    metrics: bool = Field(default=True, description="count requests, latencies, predictions and errors for "
                          "GET /metrics (Prometheus)")
    metrics_dir: Path | None = Field(default=None, description="with several workers, where their metrics files go: "
                                     "a folder made in it for each run and removed on exit (one worker keeps its "
                                     "metrics in memory)")
    graceful_timeout: float = Field(default=8.0, ge=1, description="seconds to finish in-flight requests on SIGTERM")

    @model_validator(mode="before")
    @classmethod
    def _default_threads(cls, data: object) -> object:
        return _threads(data)


S = TypeVar("S", bound=BaseSettings)


class SettingsProblem(Exception):
    """Some ``DIGITPAD_*`` variables do not parse; ``lines`` says which and why, one line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def read_settings(cls: type[S]) -> S:
    """``cls()`` read from the environment, or SettingsProblem with one line per variable that does
    not parse, naming it, its value and what is wrong (``DIGITPAD_PORT='abc': not a whole number``):
    what the commands print instead of pydantic's report."""
    try:
        return cls()
    except SettingsError as e:  # a value pydantic-settings could not even decode
        raise SettingsProblem([str(e)]) from None
    except ValidationError as e:
        raise SettingsProblem([f"DIGITPAD_{str(d['loc'][0]).upper() if d['loc'] else '*'}={d['input']!r}: {_plain(d)}"
                               for d in e.errors(include_url=False)]) from None


def _plain(e: ErrorDetails) -> str:
    """pydantic's message for one value, in the words of someone setting a variable."""
    ctx = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in e.get("ctx", {}).items()}
    words = {"int_parsing": "not a whole number", "int_from_float": "not a whole number",
             "float_parsing": "not a number", "bool_parsing": "not true or false",
             "greater_than": f"must be more than {ctx.get('gt')}",
             "greater_than_equal": f"must be at least {ctx.get('ge')}",
             "less_than_equal": f"must be at most {ctx.get('le')}",
             "literal_error": f"must be one of {ctx.get('expected')}"}
    return words.get(e["type"], e["msg"][:1].lower() + e["msg"][1:])
