"""The Prometheus metrics (the official ``prometheus-client``), scraped at ``GET /metrics``.

One process keeps its samples in memory and needs no folder. With several workers each process
writes its samples to files under ``PROMETHEUS_MULTIPROC_DIR``, a folder ``digitpad-serve``'s
supervisor makes for the run (``app.runtime.preflight``: under ``DIGITPAD_METRICS_DIR``, else the
system's temporary folder) before starting them and removes when it stops, and ``/metrics`` merges
them (``MultiProcessCollector``): whichever worker answers the scrape reports the whole server."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("digitpad_http_requests_total", "HTTP requests answered, by route and status",
                   ["method", "route", "status"])
LATENCY = Histogram("digitpad_http_request_duration_seconds", "Time from request to the end of its answer",
                    ["method", "route"], buckets=SECONDS)
IN_FLIGHT = Gauge("digitpad_http_requests_in_flight", "Requests being handled now", multiprocess_mode="livesum")
PREDICTIONS = Counter("digitpad_predictions_total", "Drawings read, by model, digit and verdict",
                      ["model", "digit", "verdict"])
REJECTED = Counter("digitpad_rejected_requests_total", "Requests refused with a 4xx or 5xx, by error code",
                   ["code"])
MODEL = Gauge("digitpad_model_info", "The models served (1) by name, version and whether default",
              ["name", "version", "default"], multiprocess_mode="max")

TRAINING_RUNS = Counter("digitpad_training_runs_total", "Live training runs: started, refused (every slot busy), "
                        "and each run's end once, by its reason (finished, time_limit, diverged, stopped, "
                        "disconnected, failed)", ["outcome"])
TRAINING_IN_PROGRESS = Gauge("digitpad_training_runs_in_progress", "Live training runs whose process is running, "
                             "counted when scraped", multiprocess_mode="livemostrecent")
# Gauges computed when scraped (the live training runs): each sets its gauge, then the scrape renders.
ON_SCRAPE: list[Callable[[], None]] = []


_PREDICTED: dict[tuple[str, int, str], Any] = {}


def predicted(model: str, digit: int, verdict: str) -> None:
    """Count one reading (the labelled counter looked up once per combination)."""
    child = _PREDICTED.get((model, digit, verdict))
    if child is None:
        child = _PREDICTED[model, digit, verdict] = PREDICTIONS.labels(model, str(digit), verdict)
    child.inc()


def multiprocess_mode() -> bool:
    """Whether this process is one of several workers: prometheus-client then keeps every sample
    in files under ``PROMETHEUS_MULTIPROC_DIR``, which the supervisor sets before it starts them
    (``app.runtime.supervisor``), and reads that same variable itself."""
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type."""
    for refresh in ON_SCRAPE:
        refresh()
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def served(models: dict[str, str], default: str, before: dict[str, str] | None = None) -> None:
    """Record which models (name → version) are served; after a reload, the old versions go to 0."""
    for name, version in (before or {}).items():
        if models.get(name) != version:
            MODEL.labels(name, version, str(name == default).lower()).set(0)
    for name, version in models.items():
        MODEL.labels(name, version, str(name == default).lower()).set(1)
