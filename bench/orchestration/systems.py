"""The four systems under test, each: start its workers, send a project, tell when projects finished.

- ``ytmaker``: the real pipeline (``ytmaker.actors``) with instant providers, on
  the private Redis and a PostgreSQL schema of its own, workers started from
  the Procfile's lines exactly as written there;
- ``celery-stages``: the seed's Celery design whose tasks are ytmaker's stage
  functions (bench/orchestration/celery_stages_app.py), prefork 2, same
  database, settings and completion record as ``ytmaker``; ``celery-stages-kept``
  the same with the prefork children never recycled (the seed recycles one after 50 tasks);
- ``celery``: the seed's design with no-op tasks (bench/orchestration/celery_app.py), prefork 2;
- ``dramatiq``: the bare 7-actor floor (bench/orchestration/dramatiq_app.py), 2 processes x 4 threads.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.orchestration.harness import BIN, ROOT, SQLCOUNT_DIR, Workers

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YTMAKER_", "dramatiq_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


class _DoneHash:
    """Celery and bare Dramatiq: the last task writes ``bench:done[project] = time.time()``."""

    redis_url: str

    def new_project(self, index: int) -> str:
        return str(uuid.uuid4())

    def done_times(self, ids: list[str]) -> dict[str, float]:
        import redis

        raw = redis.Redis.from_url(self.redis_url).hmget("bench:done", ids)
        return {pid: float(value) for pid, value in zip(ids, raw, strict=True) if value is not None}

    def done_count(self) -> int:
        import redis

        return redis.Redis.from_url(self.redis_url).hlen("bench:done")

    def db_counts(self) -> dict[str, int]:
        return {}


class CelerySystem(_DoneHash):
    name = "celery (seed design)"
    shape = "prefork 2, chain + group (chord)"

    def __init__(self, redis_url: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.workers = Workers()

    def start(self) -> None:
        env = base_env() | {"BENCH_CELERY_URL": self.redis_url}
        os.environ["BENCH_CELERY_URL"] = self.redis_url
        self.workers.start([str(BIN / "celery"), "-A", "bench.orchestration.celery_app", "worker", "--pool", "prefork",
                            "--concurrency", "2", "-Q", "scripts,assets,render,upload", "--loglevel", "WARNING",
                            "--without-gossip", "--without-mingle", "--without-heartbeat"],
                           env, self.log_dir / "celery.log")
        from bench.orchestration import celery_app

        self._send = celery_app.start_generation

    def send(self, project_id: str) -> None:
        self._send(project_id)

    def stop(self) -> None:
        self.workers.stop()


class DramatiqSystem(_DoneHash):
    name = "bare dramatiq (floor)"
    shape = "2 processes x 4 threads"

    def __init__(self, redis_url: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.workers = Workers()

    def start(self) -> None:
        # Same consumer wait as ytmaker's Procfile had before its wake-up broker: 100 ms.
        env = base_env() | {"BENCH_DRAMATIQ_URL": self.redis_url, "dramatiq_worker_timeout": "100"}
        os.environ["BENCH_DRAMATIQ_URL"] = self.redis_url
        self.workers.start([str(BIN / "dramatiq"), "bench.orchestration.dramatiq_app", "--processes", "2", "--threads", "4"],
                           env, self.log_dir / "dramatiq.log")
        from bench.orchestration import dramatiq_app

        self._send = dramatiq_app.start_generation

    def send(self, project_id: str) -> None:
        self._send(project_id)

    def stop(self) -> None:
        self.workers.stop()


def procfile_commands() -> dict[str, str]:
    """The Procfile's worker and scheduler lines (the ``web`` line serves the API: no part of a project's work)."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))
    commands.pop("web", None)
    return commands


class YtmakerSystem:
    name = "ytmaker"
    shape = "Procfile: scripts+upload 1x8, assets 1x8, render 1x2, scheduler"

    def __init__(self, redis_url: str, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.extra_env = extra_env or {}
        self.workers = Workers()
        self.schema = f"bench_{uuid.uuid4().hex[:8]}"
        self.sql_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-sql-"))
        self.data_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-data-"))
        self._sent_counts = {"statements": 0, "commits": 0, "rollbacks": 0, "checkouts": 0}
        self._counting = False

    def env(self) -> dict[str, str]:
        return dict(
            YTMAKER_REDIS_URL=self.redis_url,
            YTMAKER_DATABASE_URL=f"{POSTGRES}?options=-csearch_path%3D{self.schema}",
            YTMAKER_DATA_DIR=str(self.data_dir),
            YTMAKER_IMAGE_PROVIDER="instant",
            YTMAKER_SPEECH_PROVIDER="instant",
            YTMAKER_RENDER_QUALITY="tiny",
            YTMAKER_RENDERER="instant",
        ) | self.extra_env

    def start(self) -> None:
        self._start(self._worker_env())

    def _worker_env(self) -> dict[str, str]:
        """The schema made and migrated; the workers' environment, with the SQL counters on."""
        import subprocess

        from sqlalchemy import create_engine, text

        self.admin = create_engine(POSTGRES)
        with self.admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {self.schema}"))
        env = base_env() | self.env()
        os.environ.update(self.env())
        subprocess.run([str(BIN / "ytmaker"), "db", "upgrade"], env=env, check=True, capture_output=True)
        return env | {"PYTHONPATH": f"{SQLCOUNT_DIR}{os.pathsep}{ROOT}", "BENCH_SQL_COUNT_DIR": str(self.sql_dir)}

    def _start(self, worker_env: dict[str, str]) -> None:
        for name, command in procfile_commands().items():
            self.workers.start(["sh", "-c", f"exec {command}"], worker_env, self.log_dir / f"ytmaker-{name}.log")
        self._build_runtime(broker=None)

    def _build_runtime(self, broker) -> None:
        from ytmaker.config import Settings
        from ytmaker.runtime import build_runtime, set_runtime

        self.rt = build_runtime(Settings(_env_file=None), broker=broker)
        set_runtime(self.rt)
        self._count_own_sql(self.rt.db.engine)

    def _count_own_sql(self, engine) -> None:
        # The bench process enqueues (start_generation reads the project and claims the first stage):
        # that SQL is part of a project's cost; the bench's own polling is not, so only sends are counted.
        from sqlalchemy import event

        def bump(name):
            def listener(*_args, **_kwargs):
                if self._counting:
                    self._sent_counts[name] += 1
            return listener

        event.listen(engine, "before_cursor_execute", bump("statements"))
        event.listen(engine, "commit", bump("commits"))
        event.listen(engine, "rollback", bump("rollbacks"))
        event.listen(engine.pool, "checkout", bump("checkouts"))

    def new_project(self, index: int) -> str:
        from ytmaker.projects import create_project

        return create_project(self.rt, f"Project {index} is about bees. Bees dance to show where the flowers are.").id

    def send(self, project_id: str) -> None:
        from ytmaker.pipelines import start_generation

        self._counting = True
        try:
            start_generation(project_id, self.rt)
        finally:
            self._counting = False

    def _finished(self, ids: list[str]):
        from sqlalchemy import select

        from ytmaker.db.models import Project

        with self.rt.db.session() as session:
            rows = session.execute(select(Project.id, Project.status, Project.updated_at, Project.error)
                                   .where(Project.id.in_(ids), Project.status.in_(("completed", "failed", "cancelled")))).all()
        failed = [(pid, error) for pid, status, _, error in rows if status != "completed"]
        if failed:
            raise RuntimeError(f"{len(failed)} ytmaker projects failed, e.g. {failed[0]}")
        return rows

    def done_times(self, ids: list[str]) -> dict[str, float]:
        return {pid: updated_at.timestamp() for pid, _, updated_at, _ in self._finished(ids)}

    def done_count_of(self, ids: list[str]) -> int:
        return len(self._finished(ids))

    def db_counts(self) -> dict[str, int]:
        from bench.orchestration.harness import sql_counts

        workers = sql_counts(self.sql_dir)
        return {k: workers.get(k, 0) + self._sent_counts[k] for k in self._sent_counts}

    def stop(self) -> None:
        import shutil

        from sqlalchemy import text

        self.workers.stop()
        self.rt.close()
        with self.admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
        self.admin.dispose()
        shutil.rmtree(self.sql_dir, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)


class CeleryStagesSystem(YtmakerSystem):
    """The seed's Celery design on ytmaker's own stage functions: same database, settings and projects as ``ytmaker``.

    Sent by ytmaker's ``start_generation`` (its script message dropped) and then
    the seed's chain; complete when the upload stage's hand-over marks the
    project ``completed``, read from the database as for ``ytmaker``.
    """

    name = "celery on ytmaker stages"
    shape = "prefork 2, chain + group (chord), tasks = ytmaker.stages functions"
    #: BENCH_CELERY_MAX_TASKS_PER_CHILD for the workers; None keeps the seed's 50
    max_tasks_per_child: str | None = None

    def _start(self, worker_env: dict[str, str]) -> None:
        from ytmaker.graph import queues

        worker_env = worker_env | {"BENCH_CELERY_URL": self.redis_url}
        if self.max_tasks_per_child is not None:
            worker_env["BENCH_CELERY_MAX_TASKS_PER_CHILD"] = self.max_tasks_per_child
        os.environ["BENCH_CELERY_URL"] = self.redis_url
        self.workers.start([str(BIN / "celery"), "-A", "bench.orchestration.celery_stages_app", "worker", "--pool", "prefork",
                            "--concurrency", "2", "-Q", ",".join(queues()), "--loglevel", "WARNING",
                            "--without-gossip", "--without-mingle", "--without-heartbeat"],
                           worker_env, self.log_dir / "celery-stages.log")
        from bench.orchestration import celery_stages_app

        self._start_chain = celery_stages_app.start_generation
        self._build_runtime(broker=celery_stages_app.dropping_broker())

    def send(self, project_id: str) -> None:
        self._counting = True
        try:
            self._start_chain(project_id, self.rt)
        finally:
            self._counting = False


class CeleryStagesKeptSystem(CeleryStagesSystem):
    """As ``celery-stages`` but the prefork children are never recycled: what the seed's
    ``worker_max_tasks_per_child=50`` costs (a new runtime, cold caches, every ~7 projects)."""

    name = "celery on ytmaker stages, children kept"
    max_tasks_per_child = "0"


def wait_done(system, ids: list[str], timeout_s: float, interval_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    count = system.done_count_of if hasattr(system, "done_count_of") else (lambda _ids: len(system.done_times(_ids)))
    while count(ids) < len(ids):
        if not system.workers.alive():
            raise RuntimeError(f"{system.name}: a worker process exited; see its log in {system.log_dir}")
        if time.monotonic() > deadline:
            left = len(ids) - count(ids)
            raise TimeoutError(f"{system.name}: {left} of {len(ids)} projects unfinished after {timeout_s:.0f} s")
        time.sleep(interval_s)
