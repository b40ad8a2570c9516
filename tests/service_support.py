"""What the service tests share: an embedded runtime on instant providers, a real uvicorn server in a thread,
and a small SSE reader that sees every line (comments included)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from tests.conftest import fast_settings
from tests.helpers import wait_until
from ytmaker.db.migrate import upgrade
from ytmaker.runtime import build_runtime, set_runtime

INSTANT = dict(image_provider="instant", speech_provider="instant", render_quality="tiny", renderer="instant")


@pytest.fixture
def service_rt(tmp_path, stub_broker):
    """An embedded runtime (SQLite, in-process progress, the stub broker) whose projects finish in a blink."""
    runtime = build_runtime(fast_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'api.db'}", api_heartbeat_s=0.2,
                                          **INSTANT), broker=stub_broker)
    upgrade(runtime.db)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port, in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, "uvicorn to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Event:
    name: str
    id: str | None
    data: dict
    comments: list[str] = field(default_factory=list)


def read_events(lines: Iterator[str], *, stop_after: int | None = None) -> Iterator[Event]:
    """Parse SSE lines into events (the comments seen since the last one ride along); ends with the stream."""
    name, event_id, data, comments = "message", None, [], []
    count = 0
    for line in lines:
        if line.startswith(":"):
            comments.append(line[1:].strip())
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield Event(name, event_id, json.loads("\n".join(data)), comments)
            count += 1
            name, event_id, data, comments = "message", None, [], []
            if stop_after is not None and count >= stop_after:
                return


def stream(client: httpx.Client, url: str, **headers: str):
    """An open SSE response (use as a context manager)."""
    return client.stream("GET", url, headers={"Accept": "text/event-stream", **headers}, timeout=httpx.Timeout(30.0))
