"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer the event streams): a body-size limit, security headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: the page's policy: scripts, styles and media from this server only; no inline script, no framing
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: /docs and /redoc are FastAPI's pages: their script and styles come from a CDN, their start-up script inline
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            "frame-ancestors 'none'")
DOCS = ("/docs", "/redoc")
#: scope key: the send handed to the outermost of these middlewares. They touch a response's start only and pass its
#: body messages through unchanged, so an event stream sends its body there, past a coroutine per middleware and message
BODY_SEND = "ytmaker.body_send"


@contextmanager
def _body_send(scope: Any, send: Any) -> Iterator[None]:
    """``scope[BODY_SEND]`` for the request, set by the outermost middleware and taken out when the request is done:
    left in, it is a reference cycle (the server's send -> its request -> the scope), so each request's objects
    outlived it until a full garbage collection, whose pause grew with them (430 ms after a minute of 100 polls/s)."""
    if BODY_SEND in scope:
        yield
        return
    scope[BODY_SEND] = send
    try:
        yield
    finally:
        del scope[BODY_SEND]


class BodyTooLarge(Exception):
    pass


async def _refuse(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse a request body over its limit with 413 before anything parses it (declared length or bytes read):
    ``max_bytes`` for JSON and the rest, ``max_upload_bytes`` for file uploads (documents, a person's images and clips),
    which Starlette spools to disk instead of holding in memory."""

    def __init__(self, app: Any, *, max_bytes: int, max_upload_bytes: int | None = None) -> None:
        self.app, self.max_bytes, self.max_upload_bytes = app, max_bytes, max_upload_bytes or max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with _body_send(scope, send):
            await self._limited(scope, receive, send)

    async def _limited(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.max_upload_bytes if upload else self.max_bytes
        setting = "YTMAKER_API_MAX_UPLOAD_BYTES" if upload else "YTMAKER_API_MAX_BODY_BYTES"
        reason = f"the request body is larger than {limit:,} bytes ({setting})"
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, 413, reason)
            return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, 413, reason)


class SecurityHeaders:
    """CSP, no sniffing, no referrer, no framing, on every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with _body_send(scope, send):
            await self._with_headers(scope, receive, send)

    async def _with_headers(self, scope: Any, receive: Any, send: Any) -> None:
        csp = (DOCS_CSP if scope["path"].startswith(DOCS) else CSP).encode()

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
