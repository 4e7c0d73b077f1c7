"""Log formats: readable text by default, one JSON object a line with ``DIGITPAD_LOG_FORMAT=json``
(for log collectors), and ``auto``: text when the log goes to a terminal (``docker run -it``), JSON
when it goes anywhere else (a file, a pipe, a log collector). The container runs with ``auto``.
``log_config`` is handed to uvicorn, so its own lines (start-up, reloads, errors) take the same
format as the request lines."""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import logging.handlers
import sys
import threading
import time
from typing import Any, TextIO


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {"time": when, "level": record.levelname.lower(), "logger": record.name,
                                "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False)


class Batched(logging.handlers.MemoryHandler):
    """The request lines, written in batches: whenever 256 have gathered, a warning comes, or
    ``EVERY`` seconds have passed (a timer thread). One write for many lines instead of one per
    request, so the log costs the server less under load; a line may wait up to
    ``EVERY`` seconds, and what is buffered is written when the process exits."""

    EVERY = 0.25

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(capacity=256, flushLevel=logging.WARNING, target=target, flushOnClose=True)
        self._timer: threading.Thread | None = None
        atexit.register(self.close)

    def emit(self, record: logging.LogRecord) -> None:
        # The timer starts with the first line, in the process that writes it: the supervisor, which
        # writes none, then forks its workers with no thread of its own running.
        if self._timer is None:
            self._timer = threading.Thread(target=self._tick, name="digitpad-log-flush", daemon=True)
            self._timer.start()
        super().emit(record)

    def _tick(self) -> None:
        while True:
            time.sleep(self.EVERY)
            self.flush()


def lean() -> None:
    """Leave out of every log record what no line here prints (Python's logging docs, "Optimization"):
    the caller's file and line (a walk up the stack on every call), thread and process names."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def resolved(fmt: str, stream: TextIO | None = None) -> str:
    """``text`` or ``json``: ``auto`` is text when ``stream`` (stderr, where the log goes) is a terminal."""
    if fmt != "auto":
        return fmt
    stream = stream or sys.stderr
    return "text" if stream.isatty() else "json"


def log_config(fmt: str) -> dict[str, Any]:
    """The logging configuration for uvicorn and digitpad's own loggers, in format ``fmt`` (text,
    json or auto), written to stderr."""
    formatter: dict[str, Any] = ({"()": "app.observability.logs.JsonFormatter"} if resolved(fmt) == "json" else
                                 {"format": "%(levelname)s: %(message)s"})
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return {"version": 1, "disable_existing_loggers": False, "formatters": {"main": formatter},
            "handlers": {"stderr": handler,
                         "requests": {"class": "app.observability.logs.Batched", "target": "stderr"}},
            "loggers": {"uvicorn": quiet, "uvicorn.error": {"level": "INFO"}, "uvicorn.access": quiet,
                        "digitpad": {**quiet, "handlers": ["requests"]}}}
