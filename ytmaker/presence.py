"""Whether a live worker consumes the queues a project waits on: no worker is an outage too.

Every worker stamps, with its presence (``ytmaker.wakeup``), the queues it
consumes; a stamp older than ``worker_heartbeat_timeout_s`` is a worker that
is gone. ``make --wait``, ``watch``, ``status`` and ``doctor`` use this to
say, within seconds, that nothing will happen until a worker is started,
and how to start one.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from ytmaker.db.models import StageRun, StageStatus
from ytmaker.graph import STAGES, stage
from ytmaker.wakeup import consumers_key

NAMESPACE = "dramatiq"


def live_consumers(redis: Any, queue: str, timeout_s: float, namespace: str = NAMESPACE) -> int:
    """How many workers stamped themselves as consumers of ``queue`` within ``timeout_s``."""
    since = int((time.time() - timeout_s) * 1000)
    return int(redis.zcount(consumers_key(namespace, queue), since, "+inf"))


def unattended(redis: Any, queues: list[str], timeout_s: float) -> list[str]:
    """The ``queues`` no live worker consumes."""
    return [queue for queue in queues if live_consumers(redis, queue, timeout_s) == 0]


def waited_on(rt: Any, project_id: str) -> list[str]:
    """The queues of the project's stages that are queued or running (the first stage's before any is claimed)."""
    with rt.db.single() as session:
        runs = dict(session.execute(select(StageRun.stage, StageRun.status).where(StageRun.project_id == project_id)).all())
    pending = [name for name, status in runs.items() if status in (StageStatus.QUEUED, StageStatus.RUNNING)]
    if not runs:
        pending = [STAGES[0]]
    return sorted({stage(name).queue for name in pending})


def missing_workers(rt: Any, project_id: str) -> list[str]:
    """The queues this project waits on that no live worker consumes (none in embedded mode, or if Redis is away)."""
    if rt.redis is None:
        return []
    try:
        return unattended(rt.redis, waited_on(rt, project_id), rt.settings.worker_heartbeat_timeout_s)
    except Exception:  # noqa: BLE001 - Redis or the database is down: that is said elsewhere
        return []


def advice(queues: list[str]) -> str:
    """What to tell a person about ``queues`` having no worker."""
    names = " ".join(queues)
    plural = "s" if len(queues) > 1 else ""
    return (f"no live worker consumes the {names} queue{plural}: nothing moves until one starts; "
            f"start the Procfile's workers with `ytmaker up`, or one for these with "
            f"`ytmaker up -- dramatiq ytmaker.actors --queues {names}`")
