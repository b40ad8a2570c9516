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
from dramatiq.middleware import CurrentMessage
from sqlalchemy import and_, or_, select, update

from ytmaker import recovery
from ytmaker.db.models import Project, ProjectStatus, StageRun, StageStatus
from ytmaker.db.projects import check_project_id
from ytmaker.db.session import rowcount
from ytmaker.errors import Cancelled, ProjectNotFound, classify
from ytmaker.graph import stage as stage_row
from ytmaker.outages import outlast
from ytmaker.pipelines import flow
from ytmaker.pipelines.control import is_cancelled
from ytmaker.pipelines.dispatch import GENERATION_OPTION, current_generation
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
    """Run ``work`` as ``stage`` of the project, unless it is already done or not ready yet; then hand over.

    Returns the stage's final status, or None when the project is no longer
    live or the message was dropped (not ready, stale, or the stage runs elsewhere).
    """
    # A lost connection to the database or Redis is waited out here, within the stage's time limit, and the
    # step repeated (each one is safe to repeat): it costs no retry and no provider backoff (ytmaker.outages).
    deadline = time.monotonic() + rt.settings.policy(stage).time_limit_ms / 1000
    if outlast(rt, lambda: _stale_message(rt, project_id), deadline=deadline, project_id=project_id):
        log.info("stage_message_dropped", project_id=project_id, stage=stage, reason="sent before the project's last retry")
        return None
    opened = outlast(rt, lambda: _open(rt, project_id, stage), deadline=deadline, project_id=project_id)
    project, status = opened.project, opened.status
    if ProjectStatus(project.status).terminal:
        log.info("stage_skipped_project_finished", project_id=project.id, stage=stage, status=project.status)
        return None
    if not opened.ready:  # early (a stale retry, a requeued dead letter, an operator): the hand-over sends it when ready
        log.info("stage_message_dropped", project_id=project.id, stage=stage, reason="its predecessors are not all done")
        return None
    if status is not None and status.done:
        # Redelivered after success: claim what is still unclaimed, send nothing twice; but if its worker
        # died between sending the follow-ups and the ack, re-send the ones it never sent.
        outlast(rt, lambda: (flow.advance(rt, project.id), recovery.resend_lost_followers(rt, project.id, stage)),
                deadline=deadline, project_id=project.id)
        return status
    if not opened.leased:  # queued elsewhere, cancelled, or running under another worker's live lease
        log.info("stage_not_started", project_id=project.id, stage=stage, status=status)
        return None
    rt.progress.update(project.id, status=stage_row(stage).status, stage=stage, stage_progress=0, message=f"{stage} started")
    ctx = StageContext(rt=rt, project=project, stage=stage, started=time.monotonic())
    try:
        with heartbeats.beating(rt, project.id, stage):
            result = outlast(rt, lambda: work(ctx), deadline=deadline, project_id=project.id)
    except BaseException as exc:
        _release(rt, project.id, stage, exc)
        raise
    if result == StageStatus.RUNNING:  # handed on (fan-out, polling): whoever finishes it advances
        return result
    # Finishes only the run still held (a cancel, or a take-over after a lost lease, is not overwritten).
    # Repeated after a lost connection, the commit may have landed: the follow-ups it claimed are then sent again
    # (a duplicate message finds its stage taken and is dropped).
    outlast(rt, lambda: flow.advance(rt, project.id, finish=(stage, result)), deadline=deadline, project_id=project.id,
            again=lambda: flow.advance(rt, project.id, finish=(stage, result), resend_queued=True))
    return result


def _stale_message(rt: Runtime, project_id: str) -> bool:
    """Whether the message being processed was sent before the project's last ``retry`` (its stage was re-opened)."""
    message = CurrentMessage.get_current_message()
    sent = message.options.get(GENERATION_OPTION) if message is not None else None
    return sent is not None and sent != current_generation(rt, project_id)


@dataclass
class _Opened:
    project: Project
    status: StageStatus | None  # None: the run has no row
    leased: bool  # this caller took the lease
    ready: bool  # every predecessor is done


def _open(rt: Runtime, project_id: str, stage: str) -> _Opened:
    """Load the project and try to take the stage's lease, in one transaction.

    A stage whose predecessors are not all done is not touched (not ready).
    A ready stage with no row yet is claimed here (called directly: tests,
    an operator). Taking the lease moves the project's status to the
    stage's. A run found ``running`` under another worker's live lease is
    not taken. A finished project is returned untouched.
    """
    project_id = check_project_id(project_id)
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=rt.settings.stage_lease_s)
    with rt.db.session() as session:
        # the project's row first, as a hand-over takes it (flow.insert_run): this transaction may insert a run
        project = session.get(Project, project_id, with_for_update={"key_share": True})
        if project is None:
            raise ProjectNotFound(project_id)
        if ProjectStatus(project.status).terminal:
            return _Opened(project, None, False, True)
        db = session.connection()  # Core statements: the ORM's bulk-DML layer cost more CPU than the SQL itself
        runs = {name: StageStatus(value) for name, value in
                db.execute(select(StageRun.stage, StageRun.status).where(StageRun.project_id == project_id))}
        status = runs.get(stage)
        if not all(d in runs and runs[d].done for d in stage_row(stage).depends_on):
            return _Opened(project, status, False, False)
        if status is None:
            flow.insert_run(rt, db, project_id, stage, now)
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
            return _Opened(project, StageStatus.RUNNING, True, True)
        if status is None:  # inserted meanwhile by a hand-over, and already taken
            found = db.scalar(select(StageRun.status).where(StageRun.project_id == project_id, StageRun.stage == stage))
            status = StageStatus(found) if found else None
    return _Opened(project, status, False, True)


def _release(rt: Runtime, project_id: str, stage: str, exc: BaseException) -> None:
    """Give the lease back after a failure, so the retry (or a direct call) can start the stage again."""
    try:
        with rt.db.session() as session:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                                   StageRun.status == StageStatus.RUNNING)
                            .values(status=StageStatus.QUEUED, error=str(classify(exc))[:2000]))
    except Exception as db_exc:  # noqa: BLE001 - the heartbeat stops, so the lease expires anyway
        log.warning("lease_not_released", project_id=project_id, stage=stage, error=type(db_exc).__name__)
