"""The recovery pass: one fleet-wide repair of lost work, every few seconds rather than every minute.

Two things can strand a project after a worker dies:

- its running stage (the database lease): :func:`ytmaker.pipelines.flow.redrive`
  sends a stage again once its heartbeat is older than ``stage_lease_s``;
- the messages it had fetched but not acked (Redis): Dramatiq puts them back
  only on a random 0.1 % of broker commands after its heartbeat timeout
  (#527). :func:`requeue_orphaned` runs that maintenance on every queue now.

Every worker process runs the pass in a background thread (see
``ytmaker.middleware.recovery``), and periodiq's minute job runs it too; a
Redis lock lets one of them through per interval, so a fleet of N workers
costs one pass, and the pass is safe to repeat anyway.

Busy workers must not look dead: a worker whose prefetch window is full
sends no broker command (hence no Dramatiq heartbeat) for as long as its
stages run, so :func:`stamp_presence` refreshes its heartbeat from the same
thread. That is what lets ``worker_heartbeat_timeout_s`` be seconds, not a minute.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select, update

from ytmaker.db.models import StageRun, StageStatus
from ytmaker.pipelines import flow
from ytmaker.pipelines.graph import DEPENDS_ON
from ytmaker.runtime import Runtime

log = structlog.get_logger(__name__)

#: held by whoever runs the pass, for about one interval
LOCK_KEY = "ytmaker:lock:recover_stalled"


def is_redis_broker(broker) -> bool:
    from dramatiq.brokers.redis import RedisBroker

    return isinstance(broker, RedisBroker)


def stamp_presence(broker) -> None:
    """Refresh this process's Dramatiq heartbeat, so its in-flight messages stay its own while it lives."""
    if is_redis_broker(broker):
        broker.client.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: int(time.time() * 1000)})


def requeue_orphaned(broker) -> None:
    """Put the unacked messages of workers silent past the heartbeat timeout back on their queues.

    This is Dramatiq's own maintenance (dispatch.lua, ``do_maintenance``),
    forced instead of left to chance: the ``qsize`` command with the
    maintenance flag set, once per declared queue (delay queues included).
    """
    if not is_redis_broker(broker):
        return
    dispatch = broker.scripts["dispatch"]
    for queue in sorted(broker.get_declared_queues() | broker.get_declared_delay_queues()):
        dispatch(keys=[broker.namespace], args=[
            "qsize", int(time.time() * 1000), queue, broker.broker_id, broker.heartbeat_timeout,
            broker.dead_message_ttl, 1, broker._max_unpack_size(),
        ])


def recover_once(rt: Runtime, broker=None, *, lock_ms: int) -> list[tuple[str, str]] | None:
    """Run the recovery pass unless another process ran it within ``lock_ms``; returns what it re-sent.

    None means the lock was held elsewhere and nothing was done.
    """
    if not rt.redis.set(LOCK_KEY, "1", nx=True, px=max(1, lock_ms)):
        return None
    if broker is not None:
        requeue_orphaned(broker)
    sent = flow.redrive(rt, older_than_s=rt.settings.redrive_after_s)
    if sent:
        log.warning("redriven", count=len(sent), stages=sent[:20])
    return sent


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
    followers = [s for s, deps in DEPENDS_ON.items() if stage in deps]
    cutoff = datetime.now(UTC) - timedelta(seconds=rt.settings.worker_heartbeat_timeout_s / 2)
    with rt.db.session() as session:
        lost = list(session.scalars(select(StageRun.stage).where(
            StageRun.project_id == project_id, StageRun.stage.in_(followers),
            StageRun.status == StageStatus.QUEUED, StageRun.queued_at < cutoff)))
        if lost:
            session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage.in_(lost))
                            .values(queued_at=datetime.now(UTC)))
    for follower in lost:
        flow.send(follower, project_id)
    if lost:
        log.warning("lost_follow_ups_resent", project_id=project_id, stage=stage, stages=lost)
    return lost
