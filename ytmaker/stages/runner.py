"""Running a stage: take its lease, report progress, then finish and hand over (or give the lease back).

Every stage module's ``run(rt, project_id)`` is ``run_stage`` over the
stage's own work function; the work returns the stage's status, or
``RUNNING`` when it handed the rest on to other messages (image parts,
avatar polls), whose last one finishes the stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import and_, or_, select, update

from ytmaker import recovery
from ytmaker.db.models import Project, ProjectStatus, StageRun, StageStatus
from ytmaker.db.projects import check_project_id
from ytmaker.db.session import rowcount
from ytmaker.errors import Cancelled, ProjectNotFound, classify
from ytmaker.graph import stage as stage_row
from ytmaker.pipelines import flow
from ytmaker.pipelines.control import is_cancelled
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
        return is_cancelled(self.rt, self.project_id)

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
    if ProjectStatus(project.status).terminal:
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
    rt.progress.update(project.id, status=stage_row(stage).status, stage=stage, stage_progress=0, message=f"{stage} started")
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
    project_id = check_project_id(project_id)
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=rt.settings.stage_lease_s)
    with rt.db.session() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise ProjectNotFound(project_id)
        if ProjectStatus(project.status).terminal:
            return project, None, False
        db = session.connection()  # Core statements: the ORM's bulk-DML layer cost more CPU than the SQL itself
        started = rowcount(db.execute(
            update(StageRun)
            .where(StageRun.project_id == project_id, StageRun.stage == stage,
                   or_(StageRun.status == StageStatus.QUEUED,
                       and_(StageRun.status == StageStatus.RUNNING, StageRun.heartbeat_at < stale)))
            .values(status=StageStatus.RUNNING, attempts=StageRun.attempts + 1, started_at=now, heartbeat_at=now)
        )) == 1
        if started:
            db.execute(update(Project).where(Project.id == project_id, Project.status.not_in(flow.TERMINAL))
                       .values(status=stage_row(stage).status, updated_at=now))
            return project, StageStatus.RUNNING, True
        status = db.scalar(select(StageRun.status).where(StageRun.project_id == project_id, StageRun.stage == stage))
    return project, (StageStatus(status) if status else None), False


def _release(rt: Runtime, project_id: str, stage: str, exc: BaseException) -> None:
    """Give the lease back after a failure, so the retry (or a direct call) can start the stage again."""
    try:
        with rt.db.session() as session:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                                   StageRun.status == StageStatus.RUNNING)
                            .values(status=StageStatus.QUEUED, error=str(classify(exc))[:2000]))
    except Exception as db_exc:  # noqa: BLE001 - the heartbeat stops, so the lease expires anyway
        log.warning("lease_not_released", project_id=project_id, stage=stage, error=type(db_exc).__name__)
