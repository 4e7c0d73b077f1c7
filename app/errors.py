"""Every error the API returns is JSON ``{"detail": "<words for a person>", "code": "<slug>"}``.

Handlers here cover our input errors, FastAPI's validation errors (summarised:
the input is never echoed back), Starlette's HTTP errors (404, 405, 413 …) and,
as a last resort, unexpected exceptions (500: a bug)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.input_errors import InputError

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
              415: "unsupported_format", 422: "invalid_request", 503: "not_ready"}
MAX_SHOWN = 3  # validation problems listed in one detail


class ErrorBody(BaseModel):
    detail: str = Field(examples=["The drawing is empty: draw a digit."])
    code: str = Field(examples=["empty_image"])


class ApiError(HTTPException):
    """An HTTP error with our own code slug."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.code = code


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large", f"The request body is larger than {_size(limit)}.",
                         headers={"Connection": "close"})


class NotReady(ApiError):
    def __init__(self) -> None:
        super().__init__(503, "not_ready", "The model is not loaded yet; try again in a moment.",
                         headers={"Retry-After": "1"})


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses an endpoint can return."""
    words = {413: "Request body too large", 415: "Unsupported image format",
             422: "Empty, invalid or too large input", 503: "Model not loaded yet"}
    return {s: {"model": ErrorBody, "description": words.get(s, "Error")} for s in statuses}


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n} bytes"


def _summary(errors: list[Any]) -> str:
    parts = []
    for err in errors[:MAX_SHOWN]:
        if err.get("type") == "json_invalid":
            return "The request body is not valid JSON."
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request body"
        msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}"[:200])
    more = len(errors) - MAX_SHOWN
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return error_response(exc.status, exc.code, str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", _summary(list(exc.errors())))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status, headers = exc.status_code, dict(exc.headers or {})
    if isinstance(exc, ApiError):
        return error_response(status, exc.code, str(exc.detail), headers)
    if status == 404:
        detail = f"There is nothing at {request.url.path}."
    elif status == 405:
        allowed = headers.get("Allow") or headers.get("allow")
        detail = f"{request.method} is not allowed here" + (f"; use {allowed}." if allowed else ".")
    else:
        detail = str(exc.detail)
    return error_response(status, HTTP_CODES.get(status, f"http_{status}"), detail, headers)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "internal_error", "Something went wrong on the server; this is a bug.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
