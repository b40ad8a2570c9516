"""What every stage shares: claiming its run, reporting progress, finishing and handing over."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import Asset, Project, StageRun, StageStatus
from ytmaker.errors import Cancelled
from ytmaker.pipelines import flow
from ytmaker.pipelines.graph import STATUS
from ytmaker.runtime import Runtime

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
    project = flow.load_project(rt, project_id)
    if project.status in flow._TERMINAL:
        log.info("stage_skipped_project_finished", project_id=project.id, stage=stage, status=project.status)
        return None
    now = datetime.now(UTC)
    status: StageStatus | None = None
    with rt.db.session() as session:
        run = session.get(StageRun, (project.id, stage))
        if run is None:  # called directly (tests, re-drives): claim it here
            run = StageRun(project_id=project.id, stage=stage, status=StageStatus.QUEUED)
            session.add(run)
        if StageStatus(run.status).done:
            status = StageStatus(run.status)
        elif run.status == StageStatus.CANCELLED:
            return None
        else:
            run.status, run.attempts, run.started_at, run.heartbeat_at = StageStatus.RUNNING, (run.attempts or 0) + 1, now, now
    if status is not None:
        # Redelivered after success: repair a follow-up that may have been lost, do nothing else.
        flow.advance(rt, project.id, resend_queued=True)
        return status
    flow.set_status(rt, project.id, STATUS[stage])
    rt.progress.update(project.id, status=STATUS[stage], stage=stage, stage_progress=0, message=f"{stage} started")
    ctx = StageContext(rt=rt, project=project, stage=stage, started=time.monotonic())
    result = work(ctx)
    with rt.db.session() as session:
        session.execute(
            update(StageRun).where(StageRun.project_id == project.id, StageRun.stage == stage)
            .values(status=result, finished_at=datetime.now(UTC), error=None)
        )
    ctx.report(100, f"{stage} {'skipped' if result == StageStatus.SKIPPED else 'done'}")
    flow.advance(rt, project.id)
    return result


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temp_path(final: Path) -> Path:
    """A sibling name to write to before the atomic rename into ``final``."""
    return final.with_name(f".{final.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp{final.suffix}")


def existing_assets(rt: Runtime, project_id: str, kind: str) -> dict[int, Asset]:
    """Assets already recorded whose files are still there, by segment index."""
    with rt.db.session() as session:
        assets = session.scalars(select(Asset).where(Asset.project_id == project_id, Asset.kind == kind)).all()
    present = {}
    for asset in assets:
        if rt.path(asset.path).exists():
            present[asset.segment_index] = asset
        else:  # the file went missing: forget it so it is made again
            with rt.db.session() as session:
                session.execute(Asset.__table__.delete().where(Asset.id == asset.id))
    return present


def record_asset(rt: Runtime, project_id: str, kind: str, index: int, path: Path, **extra) -> None:
    """Insert the asset row; a concurrent duplicate of the same segment is already there and wins."""
    try:
        with rt.db.session() as session:
            session.add(Asset(project_id=project_id, kind=kind, segment_index=index, path=rt.relative(path),
                              checksum=sha256(path), **extra))
    except IntegrityError:
        log.info("asset_already_recorded", project_id=project_id, kind=kind, index=index)
