"""What every stage shares: claiming its run, reporting progress, finishing and handing over."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from ytmaker import recovery
from ytmaker.db.models import Asset, Project, StageRun, StageStatus
from ytmaker.errors import Cancelled
from ytmaker.pipelines import flow
from ytmaker.pipelines.graph import STATUS
from ytmaker.runtime import Runtime
from ytmaker.stages import heartbeats

log = structlog.get_logger(__name__)


@dataclass
class StageContext:
    rt: Runtime
    project: Project
    stage: str
    started: float

    @property
    def project_id(self) -> str:
        return self.project.id

    def report(self, percent: float, message: str) -> None:
        """Stage progress (0-100) to the progress hash; never to the database."""
        self.rt.progress.update(self.project_id, stage=self.stage, stage_progress=max(0.0, min(100.0, percent)), message=message)

    def remaining_s(self) -> float:
        """Seconds left of the stage's time limit, for subprocess deadlines."""
        limit = self.rt.settings.policy(self.stage).time_limit_ms / 1000
        return max(1.0, limit - (time.monotonic() - self.started))

    def cancelled(self) -> bool:
        return flow.is_cancelled(self.rt, self.project_id)

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled("the project was cancelled")

    def workdir(self) -> Path:
        path = self.rt.project_dir(self.project_id)
        path.mkdir(parents=True, exist_ok=True)
        return path


Work = Callable[[StageContext], StageStatus]


def run_stage(rt: Runtime, stage: str, project_id: str, work: Work) -> StageStatus | None:
    """Run ``work`` as ``stage`` of the project, unless it is already done; then hand over.

    Returns the stage's final status, or None when the project is no longer live.
    """
    project, status, leased = _open(rt, project_id, stage)
    if project.status in flow._TERMINAL:
        log.info("stage_skipped_project_finished", project_id=project.id, stage=stage, status=project.status)
        return None
    if status is None:
        flow.claim(rt, project.id, stage)  # called directly (tests, re-drives): claim it here
        project, status, leased = _open(rt, project.id, stage)
    if status is not None and status.done:
        # Redelivered after success: claim what is still unclaimed, send nothing twice; but if its worker
        # died between sending the follow-ups and the ack, re-send the ones it never sent.
        flow.advance(rt, project.id)
        recovery.resend_lost_followers(rt, project.id, stage)
        return status
    if not leased:  # queued elsewhere, cancelled, or running under another worker's live lease
        log.info("stage_not_started", project_id=project.id, stage=stage, status=status)
        return None
    rt.progress.update(project.id, status=STATUS[stage], stage=stage, stage_progress=0, message=f"{stage} started")
    ctx = StageContext(rt=rt, project=project, stage=stage, started=time.monotonic())
    try:
        with heartbeats.beating(rt, project.id, stage):
            result = work(ctx)
    except BaseException as exc:
        _release(rt, project.id, stage, exc)
        raise
    if result == StageStatus.RUNNING:  # handed on (fan-out, polling): whoever finishes it advances
        return result
    # Finishes only the run still held (a cancel, or a take-over after a lost lease, is not overwritten).
    flow.advance(rt, project.id, finish=(stage, result))
    return result


def _open(rt: Runtime, project_id: str, stage: str) -> tuple[Project, StageStatus | None, bool]:
    """Load the project and try to take the stage's lease, in one transaction (one round trip each, no more).

    Returns the project, the run's status (None when the run has no row yet)
    and whether this caller took the lease (the project's status is then moved
    to the stage's). A run found ``running`` under another worker's live
    lease is not taken. A finished project is returned untouched.
    """
    from ytmaker.errors import ProjectNotFound

    project_id = flow.check_project_id(project_id)
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=rt.settings.stage_lease_s)
    with rt.db.session() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise ProjectNotFound(project_id)
        if project.status in flow._TERMINAL:
            return project, None, False
        db = session.connection()  # Core statements: the ORM's bulk-DML layer cost more CPU than the SQL itself
        started = db.execute(
            update(StageRun)
            .where(StageRun.project_id == project_id, StageRun.stage == stage,
                   or_(StageRun.status == StageStatus.QUEUED,
                       and_(StageRun.status == StageStatus.RUNNING, StageRun.heartbeat_at < stale)))
            .values(status=StageStatus.RUNNING, attempts=StageRun.attempts + 1, started_at=now, heartbeat_at=now)
        ).rowcount == 1
        if started:
            db.execute(update(Project).where(Project.id == project_id, Project.status.not_in(flow._TERMINAL))
                       .values(status=STATUS[stage], updated_at=now))
            return project, StageStatus.RUNNING, True
        status = db.scalar(select(StageRun.status).where(StageRun.project_id == project_id, StageRun.stage == stage))
    return project, (StageStatus(status) if status else None), False


def _release(rt: Runtime, project_id: str, stage: str, exc: BaseException) -> None:
    """Give the lease back after a failure, so the retry (or a direct call) can start the stage again."""
    from ytmaker.errors import classify

    try:
        with rt.db.session() as session:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                                   StageRun.status == StageStatus.RUNNING)
                            .values(status=StageStatus.QUEUED, error=str(classify(exc))[:2000]))
    except Exception as db_exc:  # noqa: BLE001 - the heartbeat stops, so the lease expires anyway
        log.warning("lease_not_released", project_id=project_id, stage=stage, error=type(db_exc).__name__)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temp_path(final: Path) -> Path:
    """A sibling name to write to before the atomic rename into ``final``.

    The temporary files of earlier attempts at ``final`` whose process is gone
    (a SIGKILLed worker cannot clean up after itself) are removed first.
    """
    sweep_temp(final)
    return final.with_name(f".{final.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp{final.suffix}")


def sweep_temp(final: Path) -> list[Path]:
    """Remove the temporary files (and their side files and folders) left for ``final`` by processes that no longer run."""
    pattern = re.compile(rf"^\.{{1,2}}{re.escape(final.stem)}\.(\d+)\.\d+\.tmp")
    removed = []
    try:
        candidates = list(final.parent.iterdir())
    except FileNotFoundError:
        return removed
    for path in candidates:
        match = pattern.match(path.name)
        if match and not _alive(int(match.group(1))):
            if path.is_dir() and not path.is_symlink():  # a render's helper folder (media.render.helper_dir)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def existing_assets(rt: Runtime, project_id: str, kind: str) -> dict[int, Asset]:
    """Assets already recorded whose files are still there, by segment index."""
    with rt.db.single() as session:
        assets = session.scalars(select(Asset).where(Asset.project_id == project_id, Asset.kind == kind)).all()
    present = {}
    for asset in assets:
        if rt.path(asset.path).exists():
            present[asset.segment_index] = asset
        else:  # the file went missing: forget it so it is made again
            with rt.db.single() as session:
                session.execute(Asset.__table__.delete().where(Asset.id == asset.id))
    return present


def record_asset(rt: Runtime, project_id: str, kind: str, index: int, path: Path, **extra) -> None:
    """Insert the asset row; a concurrent duplicate of the same segment is already there and wins."""
    row = Asset(project_id=project_id, kind=kind, segment_index=index, path=rt.relative(path), checksum=sha256(path), **extra)
    try:
        with rt.db.single() as session:  # one INSERT
            session.add(row)
    except IntegrityError:
        log.info("asset_already_recorded", project_id=project_id, kind=kind, index=index)
