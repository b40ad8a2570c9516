"""A lost PostgreSQL connection inside a stage is waited out where it happens: no retry spent, nothing twice.

The connection is dropped at the commit of the writes that matter (the
hand-over, an asset's row after its file was written, the publication's row
after the upload), both ways it can go: the commit is lost with the
connection, or it landed and only its answer was lost. Then a private
PostgreSQL server is stopped for real while a stage waits on it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping

import psycopg
import pytest
from sqlalchemy import event
from structlog.testing import capture_logs

from tests.chaos.servers import PrivatePostgres
from tests.conftest import _unavailable, fast_settings
from tests.helpers import SHORT_TEXT, attempts, counts, wait_until
from ytmaker.embedded import wait_for
from ytmaker.graph import STAGES
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = pytest.mark.postgres

ONCE = {stage: 1 for stage in STAGES}


@pytest.fixture
def database_url(postgres_url):
    return postgres_url


@pytest.fixture
def settings(tmp_path, database_url):
    return fast_settings(tmp_path, database_url=database_url, image_provider="instant", speech_provider="instant",
                         render_quality="tiny")


class DropAtCommit:
    """Terminates the backend of the connection that writes ``table``'s matching row, once, at its commit.

    ``landed``: the commit is sent first and only its answer is lost (the client sees the same error either way).
    """

    def __init__(self, url: str, statement: str, carries: dict, *, landed: bool) -> None:
        self.url, self.statement, self.carries, self.landed = url, statement, carries, landed
        self.fired = 0

    def install(self, db) -> None:
        for engine in (db.engine, db._single_engine):
            event.listen(engine, "before_cursor_execute", self.before_cursor_execute)
            event.listen(engine, "commit", self.commit)

    def before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired or not statement.startswith(self.statement) or not isinstance(parameters, Mapping):
            return
        if any(parameters.get(k) != v for k, v in self.carries.items()):
            return
        self.fired += 1
        raw = conn.connection.dbapi_connection
        if not raw.autocommit:
            conn.info["drop"] = True  # at this transaction's commit
            return
        if self.landed:  # a single statement commits by itself: send it, then lose the answer of the one that follows
            cursor.execute(statement, parameters)
        self._terminate(raw.info.backend_pid)

    def commit(self, conn):
        if not conn.info.pop("drop", False):
            return
        raw = conn.connection.dbapi_connection
        if self.landed:
            raw.execute("COMMIT")
            raw.execute("BEGIN")  # the driver's own COMMIT then goes out on the dead connection
        self._terminate(raw.info.backend_pid)

    def _terminate(self, pid: int) -> None:
        with psycopg.connect(self.url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0]


POINTS = {
    "hand-over": ("UPDATE stage_runs SET status", {"stage_1": "images", "status": "succeeded"}),
    "asset-row": ("INSERT INTO assets ", {"kind": "audio", "segment_index": 0}),
    "publication-row": ("UPDATE publications SET status", {"status": "published"}),
}


@pytest.mark.parametrize(("point", "landed"), [("hand-over", False), ("hand-over", True), ("asset-row", True),
                                               ("publication-row", False), ("publication-row", True)])
def test_a_connection_dropped_at_the_commit_is_waited_out_and_repeated_safely(rt, stub_worker, database_url,
                                                                              point, landed):
    # given: the connection that commits ``point``'s write will be terminated at its commit
    statement, carries = POINTS[point]
    drop = DropAtCommit(database_url, statement, carries, landed=landed)
    drop.install(rt.db)

    # when: a project runs through it
    project = create_project(rt, SHORT_TEXT)
    with capture_logs() as logs:
        final = wait_for(rt, start_generation(project.id, rt), timeout_s=60)

    # then: the stage waited for the database and repeated the step; no retry was spent, nothing was made twice
    assert drop.fired == 1
    assert final.status == "completed", final.error
    assert attempts(rt, project.id) == ONCE
    found = counts(rt, project.id)
    assert (found["images"], found["audio"], found["videos"], found["publications"]) == (1, 1, 1, 1)
    assert len(list((rt.data_dir / "published").glob(f"*-{project.id[:8]}"))) == 1
    assert [e["dependency"] for e in logs if e["event"] == "waiting_for_dependency"] == ["the database"]


@pytest.fixture
def private_postgres():
    if shutil.which("runuser") is None and os.geteuid() == 0:
        _unavailable("runuser", FileNotFoundError("initdb refuses root and runuser is missing"))
    try:
        server = PrivatePostgres()
    except FileNotFoundError as exc:
        _unavailable("initdb and pg_ctl", exc)
    server.start()
    try:
        yield server
    finally:
        server.remove()


class HeldImages:
    """The real images provider, held at its first call until the test lets it go."""

    def __init__(self, inner) -> None:
        self.inner, self.called, self.go = inner, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, *args, **kwargs):
        self.called.set()
        assert self.go.wait(60)
        return self.inner.generate(*args, **kwargs)


@pytest.mark.slow
def test_postgresql_stopped_while_a_stage_runs_is_waited_out_without_spending_a_retry(tmp_path, private_postgres,
                                                                                     stub_broker):
    # given: a project on a private PostgreSQL whose images stage is busy with its provider
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import build_runtime, set_runtime

    rt = build_runtime(fast_settings(tmp_path, database_url=private_postgres.url, image_provider="instant",
                                     speech_provider="instant", render_quality="tiny"), broker=stub_broker)
    upgrade(rt.db)
    set_runtime(rt)
    import dramatiq

    worker = dramatiq.Worker(stub_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        rt.providers.images = held = HeldImages(rt.providers.images)
        project = create_project(rt, SHORT_TEXT)
        start_generation(project.id, rt)
        assert held.called.wait(60)

        # when: PostgreSQL stops, the provider answers (the stage must record the image), and PostgreSQL comes back
        with capture_logs() as logs:
            private_postgres.stop()
            held.go.set()
            wait_until(lambda: rt.progress.get(project.id).get("message") == "waiting for the database", 30,
                       "the stage to say it waits for the database")
            private_postgres.start()
            final = wait_for(rt, project.id, timeout_s=60)

        # then: the project completed, every stage once; the waits said so once each, and the heartbeats warned once
        assert final.status == "completed", final.error
        assert attempts(rt, project.id) == ONCE
        assert counts(rt, project.id)["images"] == 1
        events = [e["event"] for e in logs]
        assert "dependency_recovered" in events
        assert events.count("heartbeat_failing") <= 1
    finally:
        worker.stop()
        set_runtime(None)
        rt.close()
