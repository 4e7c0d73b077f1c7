"""uvicorn's httptools protocol with a deadline and a size limit for the request headers, and one
write per response.

uvicorn closes idle keep-alive connections but waits for ever on a request whose
headers come a byte at a time, so a few thousand such connections (slow loris)
hold every file descriptor. Here the headers of each request must all arrive
within ``header_timeout`` seconds of its first byte (or of the connection opening);
otherwise the client gets a JSON 408 and the connection is closed. The body has its
own deadline in the app (``app.middleware.body``); this class only closes a
connection whose body is still trickling in a little after that (a request the app
answered without reading its body). Headers over ``MAX_HEADER_BYTES`` get a JSON 431,
however they are written: counted as the parser reads each one (all of them may come in one
write) and, for headers still incomplete, as bytes arrive. A request httptools cannot parse
gets a JSON 400 (uvicorn's own is plain text).

A response goes out in one write (``OneWritePerTurn``), not uvicorn's two.

Every connection is a file descriptor, and a process that runs out of them stops
accepting anyone. So the connections are capped a little under the open-file
limit; a connection that would pass the cap is accepted and, to make room, the
one that has waited longest for its headers is closed. Under a flood of slow
connections a real client still gets in, at the cost of the slowest one."""

from __future__ import annotations

import asyncio
import functools
import json
import resource
import time
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

BACKSTOP = 2.0  # seconds after the app's body deadline that the connection itself is closed
MAX_HEADER_BYTES = 64 * 1024  # request line and headers; httptools itself sets no limit
REQUEST_LINE = 16  # bytes of a request line besides its target: method, spaces, version, CRLF
RESERVED_FDS = 128  # descriptors kept for everything but connections (weights, logs, pipes, sockets)


@functools.cache  # read once, after digitpad-serve has raised the limit
def connection_cap() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(soft - RESERVED_FDS, 16) if soft != resource.RLIM_INFINITY else 1 << 20


class ServeConfig(Config):
    """uvicorn's configuration plus the two client deadlines and the headers that the protocol's
    own error responses carry (the app's security headers), carried to every worker."""

    def __init__(self, app: Any, *, header_timeout: float, body_timeout: float,
                 error_headers: list[tuple[bytes, bytes]], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout, self.body_timeout = header_timeout, body_timeout
        self.error_headers = error_headers


def _error_response(status: bytes, code: str, detail: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete JSON error response, written before any request reached the app."""
    body = json.dumps({"detail": detail, "code": code}).encode()
    head = [b"HTTP/1.1 " + status, b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(), b"connection: close"]
    head += [k + b": " + v for k, v in headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class OneWritePerTurn:
    """A transport whose writes in one turn of the event loop go out as one: uvicorn writes a
    response's status line and headers, then its body, which would be two system calls and two
    TCP segments for every small answer. Everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop, self._held = transport, loop, bytearray()

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held += data

    def _flush(self) -> None:
        if self._held and not self._transport.is_closing():
            self._transport.write(bytes(self._held))
        self._held.clear()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadersTooLarge(Exception):
    """Raised from a parser callback: stops httptools reading a request whose headers are too long."""


class TimedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: ServeConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout, self.body_timeout = config.header_timeout, config.body_timeout
        self.error_headers = config.error_headers
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0  # when this connection started waiting for headers
        self._header_bytes = 0  # received while waiting for them
        self._parsed_bytes = 0  # of the request line and headers the parser has read
        self._too_large = False
        self.cap = connection_cap()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerTurn(transport, self.loop))  # type: ignore[arg-type]
        self._arm_header_timer()
        if len(self.connections) > self.cap:
            self._make_room()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for its headers (perhaps this one)."""
        waiting = [c for c in self.connections
                   if isinstance(c, TimedHttpToolsProtocol) and c._header_timer is not None]
        if waiting:
            min(waiting, key=lambda c: c._waiting_since).transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._header_timer is not None
        super().data_received(data)
        if waiting and self._header_timer is not None:  # the headers are still not complete
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._headers_too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()
        self._parsed_bytes = REQUEST_LINE

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, n: int) -> None:
        self._parsed_bytes += n
        if self._parsed_bytes > MAX_HEADER_BYTES:
            self._too_large = True
            raise HeadersTooLarge  # httptools stops; uvicorn calls send_400_response, answered 431 below

    def on_headers_complete(self) -> None:
        self._cancel_timers()
        self._body_timer = self.loop.call_later(self.body_timeout + BACKSTOP, self._close)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_timers()
        super().on_message_complete()

    def _arm_header_timer(self) -> None:
        self._cancel_timers()
        self._waiting_since, self._header_bytes = time.monotonic(), 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse: JSON like every other error, not uvicorn's plain text."""
        if self._too_large:
            self._headers_too_large()
        else:
            self._refuse(b"400 Bad Request", "bad_request", "The request is not valid HTTP/1.1.")

    def _headers_too_large(self) -> None:
        self._refuse(b"431 Request Header Fields Too Large", "headers_too_large",
                     f"The request line and headers are longer than {MAX_HEADER_BYTES // 1024} KiB.")

    def _headers_too_slow(self) -> None:
        self._refuse(b"408 Request Timeout", "header_timeout",
                     f"The request headers did not arrive within {self.header_timeout:g} s.")

    def _refuse(self, status: bytes, code: str, detail: str) -> None:
        """Answer with a JSON error (unless an answer of ours is being written) and close."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_error_response(status, code, detail, self.error_headers))
        self.transport.close()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
