"""Moving a project through its stages on our own records (not Dramatiq groups).

The stage-run row is the fan-in: a stage is enqueued by whoever inserts its
row first (the primary key refuses a second insert), and only when every
predecessor's row says done. So render is enqueued once however the asset
stages interleave or repeat, never after a failure, and a follow-up that
could not be sent is still on record as ``queued`` for the next re-drive.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dramatiq
import structlog
from sqlalchemy import select, update

from ytmaker.db.models import TERMINAL_PROJECT_STATUSES, Project, ProjectStatus, StageRun, StageStatus
from ytmaker.errors import InvalidInput, ProjectNotFound
from ytmaker.pipelines.graph import ACTOR, DEPENDS_ON, STAGES, ready
from ytmaker.runtime import Runtime

log = structlog.get_logger(__name__)
_TERMINAL = [str(s) for s in TERMINAL_PROJECT_STATUSES]


def check_project_id(project_id: str) -> str:
    """A canonical project id, or InvalidInput for anything that is not a UUID (paths included)."""
    try:
        return str(uuid.UUID(str(project_id)))
    except ValueError:
        raise InvalidInput(f"{str(project_id)[:80]!r} is not a project id (expected a UUID)") from None


def load_project(rt: Runtime, project_id: str) -> Project:
    project_id = check_project_id(project_id)
    with rt.db.single() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise ProjectNotFound(project_id)
        return project


def send(stage: str, project_id: str) -> None:
    import ytmaker.actors  # noqa: F401  (a service that only enqueues still needs the actors declared)

    dramatiq.get_broker().get_actor(ACTOR[stage]).send(project_id)


def set_status(rt: Runtime, project_id: str, status: ProjectStatus, **values) -> bool:
    """Move a live project to ``status``; a finished, failed or cancelled one is left alone."""
    with rt.db.session() as session:
        result = session.execute(
            update(Project).where(Project.id == project_id, Project.status.not_in(_TERMINAL))
            .values(status=status, updated_at=datetime.now(UTC), **values)
        )
        return result.rowcount == 1


def start_generation(project_id: str, rt: Runtime | None = None) -> str:
    """Start (or resume) a project's pipeline; returns the id to follow its progress with.

    Safe to call twice: stages already claimed are not enqueued again.
    """
    from ytmaker.runtime import get_runtime

    rt = rt or get_runtime()
    project = load_project(rt, project_id)
    rt.progress.update(project.id, status=project.status, message="queued")
    advance(rt, project.id)
    return project.id


def advance(rt: Runtime, project_id: str, *, resend_queued: bool = False,
            finish: tuple[str, StageStatus] | None = None) -> list[str]:
    """Claim and enqueue every stage that has become ready; complete the project when all are done.

    ``finish`` = (stage, status) first records that a running stage ended, in
    the same transaction (one round trip set per hand-over, not three).
    ``resend_queued`` also re-sends claimed stages that never started: a
    redelivered message of a finished stage uses it to repair a lost follow-up.
    Returns the stages sent.
    """
    return _hand_over(rt, project_id, finish, resend_queued)[1]


def _hand_over(rt: Runtime, project_id: str, finish, resend_queued: bool) -> tuple[bool, list[str]]:
    """The hand-over transaction, then its progress ticks and messages: (the finish was recorded, stages sent)."""
    finished, completed, to_send = _advance(rt, project_id, finish, resend_queued)
    if finish is not None and finished:
        stage, status = finish
        rt.progress.update(project_id, stage=stage, stage_progress=100,
                           message=f"{stage} {'skipped' if status == StageStatus.SKIPPED else 'done'}")
    if completed:
        rt.progress.update(project_id, status=ProjectStatus.COMPLETED, stage="upload", stage_progress=100, message="done")
    for stage in to_send:
        send(stage, project_id)
    return finished, to_send


def _advance(rt: Runtime, project_id: str, finish, resend_queued: bool) -> tuple[bool, bool, list[str]]:
    """The one transaction of a hand-over: (the finish was recorded, the project completed, stages to send)."""
    now = datetime.now(UTC)
    with rt.db.session() as session:
        db = session.connection()  # Core statements: the ORM's bulk-DML layer cost more CPU than the SQL itself
        # The project's row lock orders the hand-overs of one project: the asset stage finishing
        # second waits here and then sees the first one's finish, so render is never missed.
        status = db.scalar(select(Project.status).where(Project.id == project_id).with_for_update())
        finished = False
        if finish is not None and status is not None:
            stage, result = finish
            finished = db.execute(
                update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                       StageRun.status == StageStatus.RUNNING)
                .values(status=result, finished_at=now, error=None)
            ).rowcount == 1
        if status is None or status in _TERMINAL:
            return finished, False, []
        runs = dict(db.execute(select(StageRun.stage, StageRun.status).where(StageRun.project_id == project_id)).all())
        done = {stage for stage, s in runs.items() if StageStatus(s).done}
        if len(done) == len(STAGES):
            completed = db.execute(
                update(Project).where(Project.id == project_id, Project.status.not_in(_TERMINAL))
                .values(status=ProjectStatus.COMPLETED, error=None, failed_stage=None, updated_at=now)
            ).rowcount == 1
            return finished, completed, []
        to_send = [stage for stage in ready(done, set(runs)) if _insert_run(rt, db, project_id, stage, now)]
    if resend_queued:
        to_send += [stage for stage, s in runs.items() if s == StageStatus.QUEUED]
    return finished, False, to_send


def _insert_run(rt: Runtime, db, project_id: str, stage: str, now: datetime) -> bool:
    """Claim inside the caller's transaction: the insert that creates the row wins, a concurrent one does nothing."""
    if rt.db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    statement = (insert(StageRun).values(project_id=project_id, stage=stage, status=StageStatus.QUEUED, attempts=0,
                                         queued_at=now).on_conflict_do_nothing().returning(StageRun.stage))
    return db.execute(statement).scalar() is not None  # (rowcount is -1 here on psycopg)


def claim(rt: Runtime, project_id: str, stage: str) -> bool:
    """Insert the stage's run row; True for the one caller that inserted it."""
    with rt.db.session() as session:  # another worker that claimed it first sends the message
        return _insert_run(rt, session.connection(), project_id, stage, datetime.now(UTC))


def fail_stage(rt: Runtime, project_id: str, stage: str, reason: str) -> None:
    """Record a stage's final failure and fail the project with a reason a person can act on."""
    now = datetime.now(UTC)
    with rt.db.session() as session:
        session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status.not_in([StageStatus.SUCCEEDED, StageStatus.SKIPPED]))
            .values(status=StageStatus.FAILED, error=reason, finished_at=now)
        )
    message = f"{stage} failed: {reason}"
    if set_status(rt, project_id, ProjectStatus.FAILED, error=message, failed_stage=stage):
        rt.progress.update(project_id, status=ProjectStatus.FAILED, error=message, message=message)
    log.warning("stage_failed", project_id=project_id, stage=stage, reason=reason)


def finish_stage(rt: Runtime, project_id: str, stage: str, status: StageStatus = StageStatus.SUCCEEDED) -> bool:
    """Record that a running stage finished outside its actor (a provider that works for minutes) and hand over.

    Only a run still ``running`` is finished, so a cancelled or failed stage stays so. Returns whether it was.
    """
    return _hand_over(rt, project_id, (stage, status), False)[0]


def note_retry(rt: Runtime, project_id: str, stage: str, reason: str, delay_ms: int, attempt: int,
               requeue: bool = True) -> None:
    """Record that a stage (or, without ``requeue``, one part of it) failed transiently and runs again after ``delay_ms``."""
    if not requeue:
        rt.progress.update(project_id, message=f"{stage}: a part failed ({reason}); retrying in {delay_ms / 1000:.1f} s")
        return
    with rt.db.session() as session:
        session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage)
            .values(status=StageStatus.QUEUED, error=f"attempt {attempt} failed: {reason}", queued_at=datetime.now(UTC))
        )
    rt.progress.update(project_id, message=f"{stage}: attempt {attempt} failed ({reason}); retrying in {delay_ms / 1000:.1f} s")


def retry_project(rt: Runtime, project_id: str) -> list[str]:
    """Resume a failed or cancelled project at the stages that did not finish; finished ones are kept."""
    project = load_project(rt, project_id)
    if project.status == ProjectStatus.COMPLETED:
        raise InvalidInput(f"project {project.id} is already completed; nothing to retry")
    with rt.db.session() as session:
        runs = list(session.scalars(select(StageRun).where(StageRun.project_id == project.id)))
        done = {r.stage for r in runs if StageStatus(r.status).done}
        unfinished = [r for r in runs if r.stage not in done]
        for run in unfinished:
            if all(d in done for d in DEPENDS_ON[run.stage]):
                run.status, run.error, run.queued_at = StageStatus.QUEUED, None, datetime.now(UTC)
            else:  # its inputs are being remade: it is claimed again when they are done
                session.delete(run)
        first = next((s for s in STAGES if s in {r.stage for r in unfinished}), None)
        db_project = session.get(Project, project.id)
        db_project.status = _status_for(first)
        db_project.error = db_project.failed_stage = None
    rt.redis.delete(cancel_key(project.id))
    rt.progress.clear_error(project.id)
    rt.progress.update(project.id, status=_status_for(first), message="retrying", force=True)
    return advance(rt, project.id, resend_queued=True)


def reopen_stages(rt: Runtime, project_id: str, stages: set[str], reason: str) -> None:
    """Mark finished stages as failed again because their output is gone, so a retry remakes it."""
    with rt.db.session() as session:
        session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage.in_(stages))
                        .values(status=StageStatus.FAILED, error=reason))


def _status_for(stage: str | None) -> ProjectStatus:
    from ytmaker.pipelines.graph import STATUS

    return STATUS[stage] if stage else ProjectStatus.QUEUED


def cancel_key(project_id: str) -> str:
    return f"ytmaker:cancel:{project_id}"


def is_cancelled(rt: Runtime, project_id: str) -> bool:
    return bool(rt.redis.exists(cancel_key(project_id)))


def cancel_project(rt: Runtime, project_id: str) -> bool:
    """Cancel a live project: queued stages will not run and running ones stop (FFmpeg included)."""
    project = load_project(rt, project_id)
    rt.redis.set(cancel_key(project.id), "1", ex=rt.settings.progress_ttl_s)
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


def redrive(rt: Runtime, *, older_than_s: float) -> list[tuple[str, str]]:
    """Repair what messages alone cannot: run periodically (``recover_stalled``).

    - a stage claimed but not started for ``older_than_s`` is sent again
      (its follow-up message was lost between stages, #545, or Redis lost it);
    - a running stage whose heartbeat stopped for the lease (its worker was
      killed) is sent again, without waiting for Dramatiq's redelivery (#527);
    - a live project with nothing in flight is advanced;
    - a stage still running past its time limit fails the project.
    Safe to repeat: every stage is idempotent. Returns (project id, stage) pairs sent.
    """
    now = datetime.now(UTC)
    sent: list[tuple[str, str]] = []
    live = Project.status.not_in(_TERMINAL)
    with rt.db.session() as session:
        queued = session.execute(
            select(StageRun.project_id, StageRun.stage).join(Project, Project.id == StageRun.project_id)
            .where(live, StageRun.status == StageStatus.QUEUED, StageRun.queued_at < now - timedelta(seconds=older_than_s))
        ).all()
        running = session.execute(
            select(StageRun.project_id, StageRun.stage, StageRun.started_at, StageRun.heartbeat_at)
            .join(Project, Project.id == StageRun.project_id).where(live, StageRun.status == StageStatus.RUNNING)
        ).all()
        idle = session.scalars(select(Project.id).where(live, Project.updated_at < now - timedelta(seconds=older_than_s))).all()
    lease_cutoff = now - timedelta(seconds=rt.settings.stage_lease_s)
    for project_id, stage, started_at, heartbeat_at in running:
        limit = timedelta(milliseconds=rt.settings.policy(stage).time_limit_ms) + timedelta(seconds=rt.settings.stage_lease_s)
        if _aware(heartbeat_at) < lease_cutoff:
            if _requeue_silent(rt, project_id, stage, heartbeat_at):
                queued.append((project_id, stage))
        elif _aware(started_at) < now - limit:
            fail_stage(rt, project_id, stage, f"still running {limit} after it started, past its time limit; "
                       "the worker may be stuck: restart it, then `ytmaker retry`")
    for project_id, stage in queued:
        with rt.db.session() as session:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage)
                            .values(queued_at=datetime.now(UTC)))
        send(stage, project_id)
        sent.append((project_id, stage))
    for project_id in idle:
        sent += [(project_id, stage) for stage in advance(rt, project_id)]
    return sent


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; all of ours are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _requeue_silent(rt: Runtime, project_id: str, stage: str, heartbeat_at: datetime) -> bool:
    """Put a stage whose worker went silent back in the queue (only if nobody beat meanwhile)."""
    with rt.db.session() as session:
        result = session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status == StageStatus.RUNNING, StageRun.heartbeat_at == heartbeat_at)
            .values(status=StageStatus.QUEUED, error="its worker stopped responding; sent again")
        )
        return result.rowcount == 1
