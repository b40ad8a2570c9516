"""What a person asks of a project once it runs: cancel it, or retry it from the stage that did not finish."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from ytmaker.db.models import Project, ProjectStatus, StageRun, StageStatus
from ytmaker.db.projects import load_project
from ytmaker.errors import InvalidInput, ProjectNotFound
from ytmaker.graph import STAGES, stage, status_for
from ytmaker.pipelines.dispatch import new_generation
from ytmaker.pipelines.flow import advance, set_status
from ytmaker.runtime import Runtime


def cancel_key(project_id: str) -> str:
    return f"ytmaker:cancel:{project_id}"


def is_cancelled(rt: Runtime, project_id: str) -> bool:
    return rt.keys.exists(cancel_key(project_id))


def cancel_project(rt: Runtime, project_id: str) -> bool:
    """Cancel a live project: queued stages will not run and running ones stop (FFmpeg included)."""
    project = load_project(rt, project_id)
    rt.keys.set(cancel_key(project.id), "1", ttl_s=rt.settings.progress_ttl_s)
    if not set_status(rt, project.id, ProjectStatus.CANCELLED, error="cancelled by request"):
        return False
    with rt.db.session() as session:
        session.execute(
            update(StageRun).where(StageRun.project_id == project.id,
                                   StageRun.status.in_([StageStatus.QUEUED, StageStatus.RUNNING]))
            .values(status=StageStatus.CANCELLED, finished_at=datetime.now(UTC))
        )
    rt.progress.update(project.id, status=ProjectStatus.CANCELLED, message="cancelled")
    return True


def retry_project(rt: Runtime, project_id: str) -> list[str]:
    """Resume a failed or cancelled project at the stages that did not finish; finished ones are kept."""
    project = load_project(rt, project_id)
    if project.status == ProjectStatus.COMPLETED:
        raise InvalidInput(f"project {project.id} is already completed; nothing to retry")
    new_generation(rt, project.id)  # messages of earlier attempts, still queued or delayed, are stale from now on
    with rt.db.session() as session:
        runs = list(session.scalars(select(StageRun).where(StageRun.project_id == project.id)))
        done = {r.stage for r in runs if StageStatus(r.status).done}
        unfinished = [r for r in runs if r.stage not in done]
        for run in unfinished:
            if all(d in done for d in stage(run.stage).depends_on):
                run.status, run.error, run.queued_at = StageStatus.QUEUED, None, datetime.now(UTC)
            else:  # its inputs are being remade: it is claimed again when they are done
                session.delete(run)
        first = next((s for s in STAGES if s in {r.stage for r in unfinished}), None)
        row = session.get(Project, project.id)
        if row is None:  # deleted meanwhile
            raise ProjectNotFound(project.id)
        row.status = status_for(first)
        row.error = row.failed_stage = None
    rt.keys.delete(cancel_key(project.id))
    rt.progress.clear_error(project.id)
    rt.progress.update(project.id, status=status_for(first), message="retrying", force=True)
    return advance(rt, project.id, resend_queued=True)
