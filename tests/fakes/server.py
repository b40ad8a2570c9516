"""A small threaded HTTP server on loopback, the base of every API fake.

Each fake subclasses :class:`FakeServer` and implements ``respond(request)``,
returning a :class:`Reply`, or None to drop the connection without an answer
(after reading as much of the body as it chose to: an upload "cut off
mid-chunk" on the wire). Every request is recorded in ``received``. Faults
queued with :meth:`FakeServer.fail` are answered first, one per request, in
order, so a test reads "the first call gets a 429, the second succeeds".
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Request:
    """One request as the fake saw it; the body is read on demand, so a fake may stop half-way through it."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.at = time.monotonic()  # arrival, for rate-limit tests
        parts = urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.length = int(self.headers.get("content-length") or 0)
        self._rfile = handler.rfile
        self._body: bytes | None = None

    def read(self, limit: int | None = None) -> bytes:
        """The body, or only its first ``limit`` bytes (the first call decides; the rest is never read)."""
        if self._body is None:
            self._body = self._rfile.read(self.length if limit is None else min(limit, self.length)) if self.length else b""
        return self._body

    @property
    def body(self) -> bytes:
        return self.read()

    def json(self):
        return json.loads(self.body)

    def parts(self) -> list[EmailMessage]:
        """The parts of a multipart body (form-data or related)."""
        content_type = self.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        return list(message.iter_parts())

    def form(self) -> dict[str, str]:
        """The fields of a multipart/form-data body (text fields only)."""
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            raise AssertionError(f"not multipart/form-data: {content_type!r}")
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
                for part in self.parts()}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (a slow server, past the client's timeout)

    @classmethod
    def json(cls, status: int, payload, **headers) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})


class FakeServer:
    """Start with ``with Fake() as fake:``; ``fake.url`` is its base URL."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # for the fake's state too: requests arrive on several threads
        self.received: list[Request] = []  # on arrival; a body is whole once answered (a dropped one keeps what was read)
        self._faults: deque[Reply] = deque()
        self._httpd: ThreadingHTTPServer | None = None

    def fail(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, one each, before normal service."""
        with self.lock:
            self._faults.extend(replies)

    def respond(self, request: Request) -> Reply | None:
        raise NotImplementedError(f"{type(self).__name__} has no route for {request.method} {request.path}")

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                request = Request(self)
                with fake.lock:
                    fake.received.append(request)
                    reply = fake._faults.popleft() if fake._faults else None
                if reply is None:
                    reply = fake.respond(request)
                if reply is None:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                request.read()  # the body, if the fake did not read it, so the connection serves the next request
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True  # not joined on stop: a deliberately slow reply must not hold up the test's end
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         name=type(self).__name__, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
