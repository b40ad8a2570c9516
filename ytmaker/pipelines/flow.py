"""Moving a project through its stages on our own records (not Dramatiq groups).

The stage-run row is the fan-in: a stage is enqueued by whoever inserts its
row first (the primary key refuses a second insert), and only when every
predecessor's row says done. So render is enqueued once however the asset
stages interleave or repeat, never after a failure, and a follow-up that
could not be sent is still on record as ``queued`` for the next re-drive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import structlog
from sqlalchemy import Connection, Executable, bindparam, insert, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from ytmaker.db.models import TERMINAL_PROJECT_STATUSES, Project, ProjectStatus, StageRun, StageStatus, new_id
from ytmaker.db.projects import load_project
from ytmaker.db.session import rowcount
from ytmaker.graph import STAGES, ready
from ytmaker.pipelines.dispatch import FIRST_GENERATION, send_stage
from ytmaker.runtime import Runtime, get_runtime

log = structlog.get_logger(__name__)
#: the statuses of a project that is over, as stored
TERMINAL = [str(s) for s in TERMINAL_PROJECT_STATUSES]


def set_status(rt: Runtime, project_id: str, status: ProjectStatus, **values: Any) -> bool:
    """Move a live project to ``status``; a finished, failed or cancelled one is left alone."""
    with rt.db.session() as session:
        result = session.execute(
            update(Project).where(Project.id == project_id, Project.status.not_in(TERMINAL))
            .values(status=status, updated_at=datetime.now(UTC), **values)
        )
        return rowcount(result) == 1


def start_generation(project_id: str, rt: Runtime | None = None) -> str:
    """Start (or resume) a project's pipeline; returns the id to follow its progress with.

    Safe to call twice: stages already claimed are not enqueued again.
    """
    rt = rt or get_runtime()
    project = load_project(rt, project_id)
    rt.progress.update(project.id, status=project.status, message="queued")
    advance(rt, project.id)
    return project.id


def store_new(rt: Runtime, project: Project, *, claim: bool) -> list[str]:
    """Store a new, validated project (``ytmaker.projects.create_project``); ``claim``: with its first stages' claims.

    Atomic: nobody knows the project before it is stored, so the claims need neither the row lock nor a read of
    its runs (``_advance``), and a started project never exists unclaimed. Returns the stages claimed, for
    ``send_new``.
    """
    now = datetime.now(UTC)
    project.id = project.id or new_id()
    project.created_at = project.updated_at = now  # Core writes the row: the ORM's defaults do not run
    row = {}
    for column in Project.__table__.columns:
        value = getattr(project, column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        row[column.key] = value
    first = ready(set(), set()) if claim else []
    if rt.db.is_sqlite:  # no INSERT inside WITH: one transaction of Core statements (the ORM's flush cost more)
        with rt.db.session() as session:
            db = session.connection()
            db.execute(insert(Project), row)
            for stage in first:
                db.execute(insert(StageRun), dict(project_id=project.id, stage=stage, status=StageStatus.QUEUED, attempts=0,
                                                  queued_at=now))
    else:  # one statement, atomic by itself: one round trip, no BEGIN or COMMIT (half the CPU of the transaction)
        with rt.db.single() as session:
            session.connection().execute(_insert_claiming(tuple(first)), row)
    return first


@cache
def _insert_claiming(stages: tuple[str, ...]) -> Executable:
    """PostgreSQL: INSERT a project (every column a parameter) and the runs of ``stages``, queued when it was created."""
    project = insert(Project).values({c.key: bindparam(c.key, type_=c.type) for c in Project.__table__.columns})
    if not stages:
        return project
    created = project.returning(Project.id, Project.created_at).cte("project")
    runs = [select(created.c.id, literal(stage), literal(str(StageStatus.QUEUED)), literal(0), created.c.created_at)
            for stage in stages]
    return insert(StageRun).from_select(["project_id", "stage", "status", "attempts", "queued_at"],
                                        runs[0] if len(runs) == 1 else union_all(*runs))


def send_new(rt: Runtime, project_id: str, stages: list[str]) -> None:
    """A new project's progress and its claimed stages' messages, as ``start_generation`` writes and sends them."""
    rt.progress.update(project_id, status=ProjectStatus.QUEUED, message="queued")
    for stage in stages:
        send_stage(rt, stage, project_id, generation=FIRST_GENERATION)  # no retry can have made another one yet


Finish = tuple[str, StageStatus] | None


def advance(rt: Runtime, project_id: str, *, resend_queued: bool = False, finish: Finish = None) -> list[str]:
    """Claim and enqueue every stage that has become ready; complete the project when all are done.

    ``finish`` = (stage, status) first records that a running stage ended, in
    the same transaction (one round trip set per hand-over, not three).
    ``resend_queued`` also re-sends claimed stages that never started: a
    redelivered message of a finished stage uses it to repair a lost follow-up.
    Returns the stages sent.
    """
    return _hand_over(rt, project_id, finish, resend_queued)[1]


def _hand_over(rt: Runtime, project_id: str, finish: Finish, resend_queued: bool) -> tuple[bool, list[str]]:
    """The hand-over transaction, then its progress ticks and messages: (the finish was recorded, stages sent)."""
    finished, completed, to_send = _advance(rt, project_id, finish, resend_queued)
    if finish is not None and finished:
        stage, status = finish
        rt.progress.update(project_id, stage=stage, stage_progress=100,
                           message=f"{stage} {'skipped' if status == StageStatus.SKIPPED else 'done'}")
    if completed:
        rt.progress.update(project_id, status=ProjectStatus.COMPLETED, stage=STAGES[-1], stage_progress=100, message="done")
    for stage in to_send:
        send_stage(rt, stage, project_id)
    return finished, to_send


def _advance(rt: Runtime, project_id: str, finish: Finish, resend_queued: bool) -> tuple[bool, bool, list[str]]:
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
            finished = rowcount(db.execute(
                update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                       StageRun.status == StageStatus.RUNNING)
                .values(status=result, finished_at=now, error=None)
            )) == 1
        if status is None or status in TERMINAL:
            return finished, False, []
        runs = dict(db.execute(select(StageRun.stage, StageRun.status).where(StageRun.project_id == project_id)).all())
        done = {stage for stage, s in runs.items() if StageStatus(s).done}
        if len(done) == len(STAGES):
            completed = rowcount(db.execute(
                update(Project).where(Project.id == project_id, Project.status.not_in(TERMINAL))
                .values(status=ProjectStatus.COMPLETED, error=None, failed_stage=None, updated_at=now)
            )) == 1
            return finished, completed, []
        to_send = [stage for stage in ready(done, set(runs)) if insert_run(rt, db, project_id, stage, now)]
    if resend_queued:
        to_send += [stage for stage, s in runs.items() if s == StageStatus.QUEUED]
    return finished, False, to_send


def insert_run(rt: Runtime, db: Connection, project_id: str, stage: str, now: datetime) -> bool:
    """Claim inside the caller's transaction: the insert that creates the row wins, a concurrent one does nothing.

    The caller holds the project's row lock already (``_advance``, the runner's ``_open``): the insert's foreign-key
    check takes a share lock on that row, so an insert made before the lock waited for a hand-over holding it while
    the hand-over waited for the insert's uncommitted row, a deadlock PostgreSQL broke by failing one of them."""
    dialect_insert = sqlite.insert if rt.db.is_sqlite else postgresql.insert
    statement = (dialect_insert(StageRun).values(project_id=project_id, stage=stage, status=StageStatus.QUEUED, attempts=0,
                                                 queued_at=now).on_conflict_do_nothing().returning(StageRun.stage))
    return db.execute(statement).scalar() is not None  # (rowcount is -1 here on psycopg)


def claim(rt: Runtime, project_id: str, stage: str) -> bool:
    """Insert the stage's run row; True for the one caller that inserted it (the project's row locked first)."""
    with rt.db.session() as session:  # another worker that claimed it first sends the message
        db = session.connection()
        db.execute(select(Project.id).where(Project.id == project_id).with_for_update())
        return insert_run(rt, db, project_id, stage, datetime.now(UTC))


def fail_stage(rt: Runtime, project_id: str, stage: str, reason: str) -> None:
    """Record a stage's final failure and fail the project with a reason a person can act on."""
    now = datetime.now(UTC)
    with rt.db.session() as session:
        failed = rowcount(session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status.not_in([StageStatus.SUCCEEDED, StageStatus.SKIPPED]))
            .values(status=StageStatus.FAILED, error=reason, finished_at=now)
        )) == 1
        finished = not failed and session.scalar(select(StageRun.status).where(
            StageRun.project_id == project_id, StageRun.stage == stage)) in (StageStatus.SUCCEEDED, StageStatus.SKIPPED)
    if finished:  # the failure came after the run was recorded done (a shutdown in the hand-over's tail): nothing failed
        log.info("failure_after_finish_ignored", project_id=project_id, stage=stage, reason=reason)
        return
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
    # queued_at is when the retry is due: the re-drive leaves it alone until then, and re-sends it with the rest
    # of its delay if Redis loses the delayed message (recovery.resend_queued).
    due = datetime.now(UTC) + timedelta(milliseconds=delay_ms)
    with rt.db.session() as session:  # a run recorded finished meanwhile (a shutdown after the hand-over) stays so
        noted = rowcount(session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status.in_([StageStatus.QUEUED, StageStatus.RUNNING]))
            .values(status=StageStatus.QUEUED, error=f"attempt {attempt} failed: {reason}" if attempt else f"waiting: {reason}",
                    queued_at=due)
        )) == 1
    if noted:  # attempt 0: a wait (ytmaker.errors.WaitUntil), not a failure
        again = f"{delay_ms / 1000:.1f} s" if delay_ms < 120_000 else due.strftime("%Y-%m-%d %H:%M UTC")
        rt.progress.update(project_id, message=f"{stage}: attempt {attempt} failed ({reason}); retrying in {again}" if attempt
                           else f"{stage}: waiting ({reason}); going on at {again}")


def reopen_stages(rt: Runtime, project_id: str, stages: set[str], reason: str) -> None:
    """Mark finished stages as failed again because their output is gone, so a retry remakes it."""
    with rt.db.session() as session:
        session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage.in_(stages))
                        .values(status=StageStatus.FAILED, error=reason))
