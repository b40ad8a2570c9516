"""The recovery pass: one fleet-wide repair of lost work, every few seconds rather than every minute.

Two things can strand a project after a worker dies:

- its running stage (the database lease): :func:`redrive` sends a stage
  again once its heartbeat is older than ``stage_lease_s``;
- the messages it had fetched but not acked (Redis): Dramatiq puts them back
  only on a random 0.1 % of broker commands after its heartbeat timeout
  (#527); :func:`recover_once` forces that maintenance on every queue.

Every worker process runs the pass on its ticker (``ytmaker.worker``), and
periodiq's minute job runs it too; a lock lets one of them through per
interval, so a fleet of N workers costs one pass, and the pass is safe to
repeat anyway. Busy workers must not look dead: the same ticker stamps the
worker's presence, which is what lets ``worker_heartbeat_timeout_s`` be
seconds, not a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select, update

from ytmaker.db.models import Project, StageRun, StageStatus
from ytmaker.db.session import rowcount
from ytmaker.graph import stage as stage_row
from ytmaker.graph import successors
from ytmaker.outages import OUTAGE_KEY, connection_lost, outage_grace_s
from ytmaker.pipelines.dispatch import send, send_stage
from ytmaker.pipelines.flow import TERMINAL, advance, fail_stage
from ytmaker.runtime import Runtime
from ytmaker.wakeup import WakeupRedisBroker

log = structlog.get_logger(__name__)

#: held by whoever runs the pass, for about one interval
LOCK_KEY = "ytmaker:lock:recover_stalled"


def recover_once(rt: Runtime, *, lock_ms: int) -> list[tuple[str, str]] | None:
    """Run the recovery pass unless another process ran it within ``lock_ms``; returns what it re-sent.

    None means the lock was held elsewhere and nothing was done.
    """
    if not rt.keys.set(LOCK_KEY, "1", ttl_s=max(1, lock_ms) / 1000, only_if_absent=True):
        return None
    if isinstance(rt.broker, WakeupRedisBroker):
        rt.broker.requeue_dead_workers_messages()
    try:
        sent = redrive(rt, older_than_s=rt.settings.redrive_after_s)
    except Exception as exc:
        if connection_lost(exc) == "the database":  # heartbeats are silenced too: no take-overs until they resume
            rt.keys.set(OUTAGE_KEY, "1", ttl_s=outage_grace_s(rt))
        raise
    if sent:
        log.warning("redriven", count=len(sent), stages=sent[:20])
    return sent


def resend_queued(rt: Runtime) -> list[tuple[str, str]]:
    """Redis came back without its data: send every queued stage of every live project again at once.

    A stage waiting for a delayed retry (its ``queued_at`` is when the retry
    is due) is sent with the rest of its delay. Running stages go on: their
    workers hand over when they finish, and a dead one's lease lapses as usual.
    """
    now = datetime.now(UTC)
    with rt.db.session() as session:
        queued = session.execute(
            select(StageRun.project_id, StageRun.stage, StageRun.queued_at).join(Project, Project.id == StageRun.project_id)
            .where(Project.status.not_in(TERMINAL), StageRun.status == StageStatus.QUEUED)).all()
    for project_id, stage, queued_at in queued:
        delay_ms = int((_aware(queued_at) - now).total_seconds() * 1000)
        send(rt, stage_row(stage).actor, project_id, delay_ms=delay_ms if delay_ms > 0 else None)
    log.warning("redis_data_lost_stages_resent", count=len(queued), stages=[(p, s) for p, s, _ in queued][:20])
    return [(p, s) for p, s, _ in queued]


def resend_lost_followers(rt: Runtime, project_id: str, stage: str) -> list[str]:
    """Re-send the follow-ups of a finished ``stage`` that were claimed but never started.

    Called when a finished stage's message comes back: its worker died
    between sending the follow-ups and the ack, maybe before sending all of
    them. Such a redelivery comes at least two thirds of a worker heartbeat
    timeout after the stage finished (the dead worker's last presence stamp
    plus the timeout), while an ordinary duplicate arrives at once; so only
    follow-ups queued longer than half that timeout are sent again (a
    duplicate of one still waiting finds the lease taken and is dropped).
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=rt.settings.worker_heartbeat_timeout_s / 2)
    with rt.db.session() as session:
        lost = list(session.scalars(select(StageRun.stage).where(
            StageRun.project_id == project_id, StageRun.stage.in_(successors(stage)),
            StageRun.status == StageStatus.QUEUED, StageRun.queued_at < cutoff)))
        if lost:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage.in_(lost))
                            .values(queued_at=datetime.now(UTC)))
    for follower in lost:
        send_stage(rt, follower, project_id)
    if lost:
        log.warning("lost_follow_ups_resent", project_id=project_id, stage=stage, stages=lost)
    return lost


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
    queued: list[tuple[str, str]]
    live = Project.status.not_in(TERMINAL)
    with rt.db.session() as session:
        queued = [(p, s) for p, s in session.execute(
            select(StageRun.project_id, StageRun.stage).join(Project, Project.id == StageRun.project_id)
            .where(live, StageRun.status == StageStatus.QUEUED, StageRun.queued_at < now - timedelta(seconds=older_than_s))
        )]
        running = session.execute(
            select(StageRun.project_id, StageRun.stage, StageRun.started_at, StageRun.heartbeat_at)
            .join(Project, Project.id == StageRun.project_id).where(live, StageRun.status == StageStatus.RUNNING)
        ).all()
        idle = session.scalars(select(Project.id).where(live, Project.updated_at < now - timedelta(seconds=older_than_s))).all()
    lease_cutoff = now - timedelta(seconds=rt.settings.stage_lease_s)
    # Just after a database outage every heartbeat looks stale: their workers beat again within an interval.
    outage = bool(running) and rt.keys.exists(OUTAGE_KEY)
    for project_id, stage, started_at, heartbeat_at in running:
        limit = timedelta(milliseconds=rt.settings.policy(stage).time_limit_ms) + timedelta(seconds=rt.settings.stage_lease_s)
        if _aware(heartbeat_at) < lease_cutoff and not outage:
            if _requeue_silent(rt, project_id, stage, heartbeat_at):
                queued.append((project_id, stage))
        elif _aware(started_at) < now - limit:
            fail_stage(rt, project_id, stage, f"still running {limit} after it started, past its time limit; "
                       "the worker may be stuck: restart it, then `ytmaker retry`")
    for project_id, stage in queued:
        with rt.db.session() as session:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage)
                            .values(queued_at=datetime.now(UTC)))
        send_stage(rt, stage, project_id)
        sent.append((project_id, stage))
    for project_id in idle:
        sent += [(project_id, stage) for stage in advance(rt, project_id)]
    return sent


def _aware(moment: datetime | None) -> datetime:
    # SQLite hands datetimes back without their zone; all of ours are UTC. (Never None for a running stage.)
    moment = moment or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _requeue_silent(rt: Runtime, project_id: str, stage: str, heartbeat_at: datetime | None) -> bool:
    """Put a stage whose worker went silent back in the queue (only if nobody beat meanwhile)."""
    with rt.db.session() as session:
        result = session.execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status == StageStatus.RUNNING, StageRun.heartbeat_at == heartbeat_at)
            .values(status=StageStatus.QUEUED, error="its worker stopped responding; sent again")
        )
        return rowcount(result) == 1
