"""The PostgreSQL fault a chaos worker plays: the connection of a chosen write terminated just before it is sent.

``CHAOS_PG_DROP`` names points of :data:`POINTS`, comma-separated. The first
time a project reaches a point, the backend of the connection about to send
that statement is terminated with ``pg_terminate_backend`` from a session of
its own, which waits until the backend is gone; the statement then fails on
the dead connection exactly as it does when PostgreSQL restarts or a proxy
drops it. Each point plays once per project (the marker
``pg-drop-<point>-<project id>`` in ``CHAOS_DIR`` records it), and only that
one connection is dropped: the stage that owns the write fails exactly once,
whatever the machine's load, and no other stage loses an attempt to it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: point -> (how its statement starts, parameters it carries)
POINTS: dict[str, tuple[str, dict]] = {
    # between two segments: segment 0's row is recorded, segment 1's file is in place and its row is being written
    "image-1": ("INSERT INTO assets ", {"kind": "image", "segment_index": 1}),
    "audio-1": ("INSERT INTO assets ", {"kind": "audio", "segment_index": 1}),
    # the render's record of its video, after FFmpeg wrote the file
    "video": ("INSERT INTO videos ", {}),
}

#: how long pg_terminate_backend waits for the backend to exit (ms)
TERMINATE_WAIT_MS = 10_000


def install(once) -> None:
    """Listen to every engine's statements if ``CHAOS_PG_DROP`` names points; ``once(marker)`` is faults.once."""
    points = [p.strip() for p in os.environ.get("CHAOS_PG_DROP", "").split(",") if p.strip()]
    unknown = set(points) - POINTS.keys()
    if unknown:
        raise ValueError(f"CHAOS_PG_DROP names unknown points {sorted(unknown)}; known: {sorted(POINTS)}")
    if not points:
        return

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if executemany or not isinstance(parameters, Mapping):
            return
        for point in points:
            start, carries = POINTS[point]
            if statement.startswith(start) and all(parameters.get(k) == v for k, v in carries.items()) \
                    and once(f"pg-drop-{point}-{parameters['project_id']}"):
                _terminate(conn.connection.dbapi_connection.info.backend_pid, point)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)


def _terminate(pid: int, point: str) -> None:
    import psycopg

    url = os.environ["YTMAKER_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, application_name="chaos-pg-drop", autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(%s, %s)", [pid, TERMINATE_WAIT_MS]).fetchone()[0]
    if not ended:
        raise RuntimeError(f"chaos: backend {pid} was not terminated at {point}")
    print(f"chaos: terminated backend {pid} before the {point} write", file=sys.stderr, flush=True)
