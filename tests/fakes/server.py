"""A small threaded HTTP server on loopback that records requests and plays scripted faults.

Each API's fake subclasses :class:`FakeServer` and implements ``respond``.
Faults queued with :meth:`FakeServer.fail` are answered first, one per request,
in order, so a test reads "the first call gets a 429, the second succeeds".
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One request as the fake saw it on the wire."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float = field(default_factory=time.monotonic)  # arrival, for rate-limit tests

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The fields of a multipart/form-data body (text fields only)."""
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            raise AssertionError(f"not multipart/form-data: {content_type!r}")
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        fields = {}
        for part in message.iter_parts():
            fields[part.get_param("name", header="content-disposition")] = part.get_payload(decode=True).decode()
        return fields


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
    """Base fake: start with ``with Fake() as fake:``; ``fake.url`` is its base URL."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._faults: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------

    def fail(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, one each, before normal service."""
        with self._lock:
            self._faults.extend(replies)

    def respond(self, request: Received) -> Reply:
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Received(self.command, parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.received.append(request)
                    reply = fake._faults.popleft() if fake._faults else None
                if reply is None:
                    reply = fake.respond(request)
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

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a deliberately slow reply must not hold up the test's end
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
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
