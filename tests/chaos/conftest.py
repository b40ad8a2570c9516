"""Chaos fixtures: a private Redis server, PostgreSQL, worker processes as the Procfile runs them, and an audit.

Every worker is ``dramatiq ytmaker.actors tests.chaos.faults`` in its own
process group, marked with ``CHAOS_MARK`` in its environment so that any
process it leaves behind (an FFmpeg outliving its worker) is found in /proc.
Each scenario writes its figures to ``$CHAOS_RESULTS_DIR/<scenario>.json``
before asserting, and ``scripts/reliability_report.py`` turns them into
docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import dramatiq
import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import _unavailable, fast_settings
from tests.helpers import wait_until
from ytmaker.broker import use_broker
from ytmaker.db.migrate import upgrade
from ytmaker.db.models import Asset, Project, Publication, Script, StageRun, Video
from ytmaker.runtime import build_runtime, set_runtime

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
QUEUE_GROUPS = {"scripts": ["scripts"], "assets": ["assets"], "render": ["render"], "upload": ["upload"]}

#: recovery knobs for scenarios that are not about the recovery target: the same mechanism, shorter waits
QUICK_RECOVERY = dict(stage_heartbeat_s=1, stage_lease_s=4, recovery_interval_s=1, worker_heartbeat_timeout_s=4)


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 10, preferred + 200)]:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for a private Redis")


class PrivateRedis:
    """A redis-server of this test alone (never the shared 6379), with no persistence: a restart loses everything."""

    def __init__(self, folder: Path, *, appendonly: bool = False) -> None:
        self.folder, self.port, self.process = folder, _free_port(6390), None
        self.appendonly = appendonly  # with an append-only file, a restart gets everything back

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.appendonly else "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        _unavailable("redis-server", FileNotFoundError("the chaos suite starts its own Redis and needs the binary"))
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Worker:
    def __init__(self, name: str, process: subprocess.Popen, log: Path) -> None:
        self.name, self.process, self.log, self.started = name, process, log, time.monotonic()

    def ready(self) -> bool:
        return "is ready for action" in self.log.read_text(errors="replace")

    def pids(self) -> set[int]:
        """The dramatiq master and its worker processes (they share the process group)."""
        return {pid for pid, _, pgid, _, _ in processes() if pgid == self.process.pid}


def processes():
    """(pid, ppid, pgid, environ, cmdline) of every live process we can read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            environ = (entry / "environ").read_bytes().decode(errors="replace")
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if stat[0] != "Z":
            yield int(entry.name), int(stat[1]), int(stat[2]), environ, cmdline


class Chaos:
    """A runtime in the test process plus a fleet of worker processes on the same Redis and database."""

    def __init__(self, tmp_path: Path, postgres_url: str, server: PrivateRedis) -> None:
        self.tmp, self.server, self.mark = tmp_path, server, uuid.uuid4().hex
        self.app = f"chaos_{self.mark[:12]}"
        self.database_url = f"{postgres_url}&application_name={self.app}"
        (tmp_path / "chaos").mkdir()
        (tmp_path / "logs").mkdir()
        self.settings_values: dict = dict(image_provider="instant", speech_provider="instant", render_quality="tiny")
        self.extra_env: dict[str, str] = {}
        self.workers: list[Worker] = []
        self.rt = None

    # -- setup -----------------------------------------------------------------

    def configure(self, env: dict[str, str] | None = None, **settings) -> Chaos:
        """Settings for both sides (the test's runtime and the workers) and fault variables for the workers."""
        self.settings_values.update(settings)
        self.extra_env.update(env or {})
        settings_obj = fast_settings(self.tmp, database_url=self.database_url, redis_url=self.server.url,
                                     **self.settings_values)
        if self.rt is None:
            self.rt = build_runtime(settings_obj)
            upgrade(self.rt.db)
            set_runtime(self.rt)
        else:
            for key, value in self.settings_values.items():
                setattr(self.rt.settings, key, value)
        return self

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YTMAKER_", "CHAOS_"))}
        s = self.rt.settings
        env.update(YTMAKER_REDIS_URL=self.server.url, YTMAKER_DATABASE_URL=self.database_url,
                   YTMAKER_DATA_DIR=str(s.data_dir), dramatiq_worker_timeout="100",
                   CHAOS_DIR=str(self.tmp / "chaos"), CHAOS_MARK=self.mark, IMAGEIO_FFMPEG_EXE=str(self._ffmpeg()))
        for key, value in self.settings_values.items():
            env[f"YTMAKER_{key.upper()}"] = str(value)
        for key in ("script", "assets", "render", "thumbnail", "upload"):
            env[f"YTMAKER_{key.upper()}_BACKOFF_MS"] = str(getattr(s, f"{key}_backoff_ms"))
        env.update(self.extra_env)
        return env

    def _ffmpeg(self) -> Path:
        import imageio_ffmpeg

        path = self.tmp / "chaos-ffmpeg"
        if not path.exists():
            path.write_text(f"#!/bin/sh\nCHAOS_REAL_FFMPEG={imageio_ffmpeg.get_ffmpeg_exe()} exec {sys.executable} "
                            f"{REPO / 'tests/chaos/ffmpeg_wrapper.py'} \"$@\"\n")
            path.chmod(0o755)
        return path

    # -- the fleet -------------------------------------------------------------

    def start(self, name: str = "all", queues: list[str] | None = None, threads: int = 4, wait: bool = True) -> Worker:
        log = self.tmp / "logs" / f"{name}-{len(self.workers)}.log"
        argv = [str(BIN / "dramatiq"), "ytmaker.actors", "tests.chaos.faults", "--processes", "1",
                "--threads", str(threads), "--worker-shutdown-timeout", "20000"]
        if queues:
            argv += ["--queues", *queues]
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, cwd=REPO, env=self.env(), start_new_session=True, stdout=out,
                                       stderr=subprocess.STDOUT)
        worker = Worker(name, process, log)
        self.workers.append(worker)
        if wait:
            self.wait_ready([worker])
        return worker

    def start_procfile(self, threads: int = 4) -> list[Worker]:
        """One worker per queue group, as the Procfile deploys them."""
        workers = [self.start(name, queues, threads=1 if name == "render" else threads, wait=False)
                   for name, queues in QUEUE_GROUPS.items()]
        self.wait_ready(workers)
        return workers

    def wait_ready(self, workers: list[Worker], timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(w.ready() for w in workers):
            dead = [w for w in workers if w.process.poll() is not None]
            if dead:
                raise RuntimeError(f"worker {dead[0].name} exited: {dead[0].log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not boot")
            time.sleep(0.1)

    def kill(self, worker: Worker, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(worker.process.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            worker.process.wait(30)

    def _live_pids(self) -> set[int]:
        return {pid for w in self.workers if w.process.poll() is None for pid in w.pids()}

    def marked(self) -> list[int]:
        """Processes carrying this test's mark that belong to no live worker."""
        live = self._live_pids()
        return [pid for pid, ppid, _, environ, _ in processes()
                if f"CHAOS_MARK={self.mark}" in environ and pid not in live and pid != os.getpid()]

    def ffmpeg_running(self) -> list[int]:
        """Render FFmpeg processes of this test (ours run with ``-progress pipe:1``)."""
        return [pid for pid, _, _, environ, cmdline in processes()
                if f"CHAOS_MARK={self.mark}" in environ and "ffmpeg" in cmdline and "-progress" in cmdline]

    def orphans(self, after_s: float = 2.0) -> int:
        """FFmpeg processes whose worker is gone, given ``after_s`` to exit by themselves."""
        def orphaned() -> list[int]:
            live = self._live_pids()
            return [pid for pid, ppid, _, environ, cmdline in processes()
                    if f"CHAOS_MARK={self.mark}" in environ and "ffmpeg" in cmdline and ppid not in live]

        deadline = time.monotonic() + after_s
        while orphaned() and time.monotonic() < deadline:
            time.sleep(0.1)
        return len(orphaned())

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                self.kill(worker, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill(worker, signal.SIGKILL)

    def cleanup(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                self.kill(worker, signal.SIGKILL)
        for pid in self.marked():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- following projects ----------------------------------------------------

    def wait_all(self, project_ids: list[str], timeout_s: float) -> dict[str, Project]:
        deadline = time.monotonic() + timeout_s
        while True:
            with self.rt.db.session() as session:
                rows = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(project_ids)))}
            if all(p.status in ("completed", "failed", "cancelled") for p in rows.values()) or time.monotonic() > deadline:
                return rows
            time.sleep(0.25)

    def running(self) -> set[str]:
        with self.rt.db.session() as session:
            return set(session.scalars(select(StageRun.stage).where(StageRun.status == "running")))

    def wait_until(self, condition, timeout_s: float, what: str):
        return wait_until(condition, timeout_s, what)

    def played(self, prefix: str) -> list[str]:
        """The once-only markers the workers' faults left in ``CHAOS_DIR`` (tests.chaos.faults), by name."""
        return sorted(p.name for p in (self.tmp / "chaos").glob(f"{prefix}*"))

    def calls_started(self, stage: str) -> int:
        """How many provider calls of ``stage`` the workers have started (tests.chaos.faults)."""
        calls = self.tmp / "chaos" / f"calls-{stage}"
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    def pending_messages(self, project_id: str) -> list[str]:
        """Actors of the project's messages that Redis still holds queued, delayed or unacknowledged (not dead)."""
        client = redis.Redis.from_url(self.server.url)
        try:
            pending = []
            for key in client.scan_iter("dramatiq:*.msgs"):
                if key.decode().endswith(".XQ.msgs"):
                    continue
                for raw in client.hvals(key):
                    message = dramatiq.Message.decode(raw)
                    if message.args and str(message.args[0]) == project_id:
                        pending.append(message.actor_name)
            return pending
        finally:
            client.close()

    def audit(self, project_ids: list[str]) -> dict:
        """Lost projects and duplicate records or publications, counted from the database and the upload target."""
        rt, lost, duplicates, problems = self.rt, 0, 0, []
        published = rt.data_dir / "published"
        with rt.db.session() as session:
            for project_id in project_ids:
                project = session.get(Project, project_id)
                if project.status != "completed":
                    lost += 1
                    problems.append(f"{project_id[:8]} {project.status}: {project.error}")
                    continue
                segments = len(session.get(Script, project_id).segments)
                for kind in ("image", "audio"):
                    n = session.scalar(select(func.count()).select_from(Asset)
                                       .where(Asset.project_id == project_id, Asset.kind == kind))
                    if n != segments:
                        duplicates += abs(n - segments)
                        problems.append(f"{project_id[:8]}: {n} {kind} rows for {segments} segments")
                for model in (Video, Publication):
                    n = session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id))
                    duplicates += n - 1
                folders = [f for f in published.glob(f"*-{project_id[:8]}") if (f / "metadata.json").exists()]
                if len(folders) != 1:
                    duplicates += max(0, len(folders) - 1)
                    lost += len(folders) == 0
                    problems.append(f"{project_id[:8]}: {len(folders)} completed uploads at the target")
        leftovers = list(published.glob(".staging-*")) if published.exists() else []
        temporary = [p for p in (rt.data_dir / "projects").rglob("*.tmp*")] if (rt.data_dir / "projects").exists() else []
        return dict(lost=lost, duplicates=duplicates, problems=problems,
                    leftovers=[str(p) for p in leftovers + temporary])

    def completed_after(self, project_ids: list[str], moment: datetime) -> list[float]:
        """Seconds from ``moment`` to each completed project's completion."""
        with self.rt.db.session() as session:
            times = session.scalars(select(Project.updated_at).where(Project.id.in_(project_ids),
                                                                     Project.status == "completed")).all()
        return [max(0.0, ((t if t.tzinfo else t.replace(tzinfo=UTC)) - moment).total_seconds()) for t in times]


@pytest.fixture
def chaos(tmp_path, postgres_url, private_redis):
    previous = __import__("dramatiq").get_broker()
    world = Chaos(tmp_path, postgres_url, private_redis)
    world.configure()
    use_broker(world.rt.broker)  # the test process only sends: the workers are subprocesses
    try:
        yield world
    finally:
        try:
            world.stop_all()
        finally:
            world.cleanup()
            use_broker(previous)
            set_runtime(None)
            world.rt.close()
            _terminate_connections(world)


def _terminate_connections(world: Chaos) -> None:
    # Workers killed with SIGKILL leave their sessions to PostgreSQL's timeouts; the schema must drop now.
    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_URL

    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"),
                           {"a": world.app})
    engine.dispose()


def record(scenario: str, *, runs: int, passed: int, lost: int, duplicates: int, orphans: int,
           recovery_s: list[float], notes: str = "") -> None:
    """Write the scenario's figures for the report (when CHAOS_RESULTS_DIR names a folder)."""
    folder = os.environ.get("CHAOS_RESULTS_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    figures = dict(scenario=scenario, runs=runs, passed=passed, lost=lost, duplicates=duplicates, orphans=orphans,
                   recovery_median_s=round(statistics.median(recovery_s), 1) if recovery_s else None,
                   recovery_max_s=round(max(recovery_s), 1) if recovery_s else None, notes=notes,
                   at=datetime.now(UTC).isoformat(timespec="seconds"))
    (Path(folder) / f"{scenario}.json").write_text(json.dumps(figures, indent=2))
