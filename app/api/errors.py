"""Every error the API returns is JSON ``{"detail": "<words for a person>", "code": "<slug>"}``.

Handlers here cover our input errors, FastAPI's validation errors (summarised:
the input is never echoed back), Starlette's HTTP errors (400, 404, 405, 413 …),
back-pressure (503 ``overloaded``) and, as a last resort, unexpected exceptions
(500: a bug). No message quotes more than a short escaped excerpt of what the
client sent (``excerpt``). ``CODES`` lists every status and code; the OpenAPI
document is written from it, and tests/docs holds docs/api.md's errors table to it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.api.schemas import ErrorBody
from app.imaging.errors import InputError, excerpt
from app.observability.metrics import REJECTED
from app.serving.executor import Abandoned, Overloaded
from app.serving.models import UnknownModel
from app.settings import Settings
from app.storage.threads import Unavailable

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
              415: "unsupported_format", 422: "invalid_request", 429: "rate_limited", 503: "not_ready"}
MAX_SHOWN = 3  # validation problems listed in one detail

CODES: dict[int, dict[str, str]] = {
    400: {"bad_request": "not valid HTTP, or a body that is not UTF-8 JSON (or is nested too deeply), "
                         "or not readable multipart form data"},
    404: {"not_found": "no such path",
          "unknown_model": "the request names a model this server does not serve (see GET /api/models)",
          "training_off": "/api/train: live training is off on this server (DIGITPAD_TRAINING=off)",
          "unknown_run": "/api/train/{id}: no training run has this id, or it stopped longer ago than the "
                         "training TTL"},
    405: {"method_not_allowed": "the path exists, the method does not (see the Allow header)"},
    408: {"body_timeout": "the body did not arrive within the body timeout",
          "header_timeout": "the headers did not arrive within the header timeout (then the connection closes)"},
    409: {"run_running": "/api/train/{id}: the run is running; pause it before stepping or asking for its maths",
          "run_stopped": "/api/train/{id}: the run has stopped; it can no longer be paused, resumed or stepped",
          "run_starting": "/api/train/{id}: the run has no weights yet (its process is still starting)"},
    413: {"body_too_large": "the body is over the body limit, checked before it is read"},
    431: {"headers_too_large": "the request line and headers are over 64 KiB (then the connection closes)"},
    415: {"unsupported_format": "not a PNG, JPEG, WebP or GIF image"},
    422: {"invalid_request": "the JSON does not match the schema (the first problems are listed, never echoed), "
                             "or holds more arrays, objects and fields than a full batch needs",
          "invalid_image": "not readable as an image: bad base64, damaged or truncated file, empty file",
          "image_too_large": "the image header claims more than the side or pixel limit",
          "empty_image": "no ink found: blank, only specks, or prepared pixels all below the ink threshold",
          "invalid_pixels": "pixels of the wrong shape, NaN, infinite or outside [0, 1]",
          "batch_too_large": "more inputs, or more image pixels in all, than a batch may hold",
          "too_many_digits": "/api/read: more than 12 digits or pieces in the drawing",
          "too_complex": "the drawing would cost more work than its budget (too many specks, pieces, "
                         "enclosed spaces or cuts), refused before the work",
          "unknown_model_version": "/api/feedback: model_version is not the version of a model this server "
                                   "serves or has served since it started (GET /api/models)"},
    429: {"rate_limited": "/api/feedback: more corrections from one client than the rate limit allows "
                          "(retry after Retry-After seconds)"},
    503: {"not_ready": "the model is not loaded yet, or the server is shutting down",
          "storage_unavailable": "/api/feedback: the corrections database did not answer within the database "
                                 "timeout, every storage thread is waiting for it, or its file is missing",
          "overloaded": "every CPU thread is busy and the queue is full: retry after Retry-After seconds",
          "shutting_down": "the request could not finish before the server's shutdown deadline",
          "training_busy": "POST /api/train: every training slot is taken (retry after Retry-After seconds)"},
}


class ApiError(HTTPException):
    """An HTTP error with our own code slug."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.code = code


class V2Error(Exception):
    """An error of the Open Inference Protocol's endpoints: answered as that protocol says,
    ``{"error": "<message>"}``, not in this API's own shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large", f"The request body is larger than {_size(limit)}.",
                         headers={"Connection": "close"})


class NotReady(ApiError):
    def __init__(self, why: str = "The model is not loaded yet; try again in a moment.") -> None:
        super().__init__(503, "not_ready", why, headers={"Retry-After": "1"})


def describe(settings: Settings) -> str:
    """The API's introduction, above the endpoints in /docs and /redoc: what it is, and where its
    limits and its errors are described (``sections``), kept short so that the endpoints come first."""
    return ("Draw a digit; a neural network written from scratch in numpy reads it.\n\n"
            "Errors are JSON `{\"detail\", \"code\"}`; each endpoint's responses list its codes. The server's "
            "[limits](/redoc#tag/Limits) and [every error code](/redoc#tag/Errors), with when each is returned, "
            "have pages of their own in ReDoc.")


def sections(settings: Settings) -> list[dict[str, Any]]:
    """The limits (from the settings) and every error, as sections of their own: tags without
    endpoints (``x-traitTag``), which ReDoc shows as pages of its menu and Swagger UI leaves out."""
    mib = settings.max_body_bytes / (1 << 20)
    uploads = settings.max_upload_bytes / (1 << 20)
    limits = [f"request bodies up to {mib:g} MiB, file uploads up to {uploads:g} MiB",
              f"images up to {settings.max_side} px a side and "
              f"{settings.max_pixels / 1e6:g} megapixels (checked on the header, before decoding)",
              f"batches of up to {settings.max_batch} inputs and {settings.max_batch_pixels / 1e6:g} megapixels",
              f"{settings.header_timeout:g} s to send the headers, {settings.body_timeout:g} s to send the body",
              f"{settings.cpu_threads} requests worked on at once per worker, and others waiting up to "
              f"{settings.max_wait:g} s ({settings.max_queue} at most); beyond that 503 `overloaded` at once"]
    # A list, not a table: a table's three columns do not fit a phone once no code is cut in two
    rows = [f"- **{status}** `{code}`: {meaning}" for status, codes in CODES.items() for code, meaning in codes.items()]
    errors = ["Every error is JSON `{\"detail\": \"<what is wrong>\", \"code\": \"<slug>\"}`; the codes are "
              "stable. A 500 is a bug.", "", *rows]
    return [{"name": "Limits", "x-traitTag": True, "description": "Set by `DIGITPAD_*` settings; this server's:\n\n"
             + "\n".join(f"- {limit}" for limit in limits)},
            {"name": "Errors", "x-traitTag": True, "description": "\n".join(errors)}]


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    REJECTED.labels(code).inc()
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses an endpoint can return, each
    description listing its codes."""
    def words(status: int) -> str:
        return "; ".join(f"`{code}`: {meaning}" for code, meaning in CODES[status].items())
    return {s: {"model": ErrorBody, "description": words(s)} for s in statuses}


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n} bytes"


def _union_tag(part: object) -> bool:
    """pydantic names the branch of a union it tried (``list[float]``); the client needs the path."""
    return isinstance(part, str) and ("[" in part or "-" in part or part in ("none", "str", "int", "float", "bool"))


def _loc_part(part: object) -> str:
    """A field name or index as is; anything else the client invented, as a short excerpt."""
    text = str(part)
    return text if isinstance(part, int) or (text.isidentifier() and len(text) <= 40) else excerpt(text, 40)


def summary(errors: list[Any]) -> str:
    """Pydantic's errors in a sentence: the first few, where they are, never what was sent."""
    parts = []
    for err in errors[:MAX_SHOWN]:
        if err.get("type") == "json_invalid":
            return "The request body is not valid JSON."
        where = list(err.get("loc", ()))
        query = where[:1] == ["query"]  # a query parameter, named as the URL writes it: ?errors
        loc = ".".join(_loc_part(p) for p in (where[1:] if query else where) if p != "body" and not _union_tag(p))
        loc = f"?{loc}" if query else loc or "request body"
        msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg[:200]}")
    more = len(errors) - MAX_SHOWN
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return error_response(exc.status, exc.code, str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", summary(list(exc.errors())))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status, headers = exc.status_code, dict(exc.headers or {})
    if isinstance(exc, ApiError):
        return error_response(status, exc.code, str(exc.detail), headers)
    if status == 400:
        detail = "The request body could not be read: send UTF-8 JSON, or multipart form data to /api/predict/file."
        if exc.detail and exc.detail != "Bad Request":  # what the form parser found (an upload is one file)
            detail += f" {str(exc.detail)[:120]}"
    elif status == 404:
        detail = f"There is nothing at {excerpt(request.url.path)}."
    elif status == 405:
        allowed = headers.get("Allow") or headers.get("allow")
        detail = f"{excerpt(request.method, 16)} is not allowed here" + (f"; use {allowed}." if allowed else ".")
    else:
        detail = excerpt(str(exc.detail), 200)
    return error_response(status, HTTP_CODES.get(status, f"http_{status}"), detail, headers)


async def _overloaded(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "overloaded", "The server is busy; try again in a moment.", {"Retry-After": "1"})


async def _storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "storage_unavailable", str(exc), {"Retry-After": "5"})


async def _abandoned(request: Request, exc: Exception) -> JSONResponse:
    # The client has gone (or the server is stopping); nobody reads this. 499 as nginx logs it.
    return error_response(499, "client_closed_request", "The client closed the connection.")


async def _unknown_model(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownModel)
    return error_response(404, "unknown_model", f"There is no model {excerpt(exc.name, 40)}; this server has "
                          f"{', '.join(exc.known)} (GET /api/models).")


async def _v2_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, V2Error)
    REJECTED.labels(f"v2_{exc.status}").inc()
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "internal_error", "Something went wrong on the server; this is a bug.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Overloaded, _overloaded)
    app.add_exception_handler(Abandoned, _abandoned)
    app.add_exception_handler(Unavailable, _storage_unavailable)
    app.add_exception_handler(UnknownModel, _unknown_model)
    app.add_exception_handler(V2Error, _v2_error)
    app.add_exception_handler(Exception, _server_error)
