"""A tiny threaded HTTP server on 127.0.0.1, port 0, for the YouTube, D-ID and OAuth fakes.

Each fake implements ``handle(request) -> Reply | None``; None drops the
connection without an answer (after reading as much of the body as the fake
chose to), which is how an upload "cut off mid-chunk" looks on the wire.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Request:
    """One request; the body is read on demand, so a fake may stop half-way through it."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.length = int(self.headers.get("content-length") or 0)
        self._rfile = handler.rfile
        self._body: bytes | None = None

    def read(self, limit: int | None = None) -> bytes:
        """The body (or only its first ``limit`` bytes, leaving the rest unread)."""
        if self._body is None:
            self._body = self._rfile.read(self.length if limit is None else min(limit, self.length)) if self.length else b""
        return self._body

    @property
    def body(self) -> bytes:
        return self.read()

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def json(cls, status: int, payload, **headers) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})


class LoopbackServer:
    """Start with ``with Fake() as fake:``; ``fake.url`` is the base URL."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None

    def handle(self, request: Request) -> Reply | None:
        raise AssertionError(f"{type(self).__name__} has no route for {request.method} {request.path}")

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                request = Request(self)
                reply = fake.handle(request)
                if reply is None:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                request.read()  # drain what the fake did not read, keeping the connection usable
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True).start()
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
