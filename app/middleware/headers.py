"""``Headers``: one set of security headers on every response, HEAD wherever GET works,
and redirects that never name the host the client claimed to be talking to.

- HTML gets the page's Content-Security-Policy (only our own files, no inline
  script, no framing); the API docs pages (Swagger UI and ReDoc, vendored in
  static/vendor) get one that also takes scripts from this server only, plus the
  inline styles ReDoc writes; everything else gets ``default-src 'none'``.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: no-referrer`` everywhere.
- A HEAD request is answered as the GET would be, without the body.
- An absolute ``Location`` (Starlette builds them from the Host header) becomes
  the path alone, which browsers resolve against the address they used."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# Swagger UI and ReDoc are served from static/vendor: scripts from this server only. ReDoc styles
# itself with <style> elements it writes (styled-components), and both draw icons as data: images.
DOCS_CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"no-referrer")]


class Headers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # in place, so the route FastAPI finds is in the scope the outer middleware sees
            scope["method"] = "GET"
        docs = scope["path"].startswith(DOCS_PATHS)

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _secure(list(message.get("headers", [])), docs)}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, secured)
        finally:
            if head:
                scope["method"] = "HEAD"


def _secure(headers: list[tuple[bytes, bytes]], docs: bool) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
    csp = (DOCS_CSP if docs else PAGE_CSP) if html else API_CSP
    out = [(k, _relative(v) if k.lower() == b"location" else v) for k, v in headers]
    out += [(k, v) for k, v in COMMON if k not in names]
    if b"content-security-policy" not in names:
        out.append((b"content-security-policy", csp.encode()))
    return out


def _relative(location: bytes) -> bytes:
    """``http://any.host/static/`` → ``/static/``: never send a client back to a host it named."""
    url = urlsplit(location.decode("latin-1"))
    if not (url.scheme or url.netloc):
        return location
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    return path.encode("latin-1")
