"""Dead letters: messages that failed for good, as Dramatiq's Redis broker keeps them.

Dramatiq keeps them in ``<namespace>:<queue>.XQ`` (a sorted set by time) and
``.XQ.msgs`` (the bodies) for 7 days. Requeueing one means resuming its
project (``retry_project``), because a failed project ignores stray messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dramatiq import Message

from ytmaker.errors import InvalidInput
from ytmaker.graph import queues
from ytmaker.pipelines.control import retry_project

NAMESPACE = "dramatiq"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    queue: str
    actor: str
    project_id: str | None
    failed_at: datetime


def list_dead(redis, namespace: str = NAMESPACE) -> list[DeadLetter]:
    """Every dead letter of ytmaker's queues, newest first."""
    letters = []
    for queue in queues():
        key = f"{namespace}:{queue}.XQ"
        entries = redis.zrange(key, 0, -1, withscores=True)
        if not entries:
            continue
        bodies = redis.hmget(f"{key}.msgs", [message_id for message_id, _ in entries])
        for (message_id, score), body in zip(entries, bodies):
            if body is None:
                continue
            message = Message.decode(body if isinstance(body, bytes) else body.encode())
            letters.append(DeadLetter(
                message_id=message_id.decode() if isinstance(message_id, bytes) else message_id, queue=queue, actor=message.actor_name,
                project_id=str(message.args[0]) if message.args else None,
                failed_at=datetime.fromtimestamp(score / 1000, UTC),
            ))
    return sorted(letters, key=lambda letter: letter.failed_at, reverse=True)


def requeue(rt, message_id: str, namespace: str = NAMESPACE) -> list[str]:
    """Take a dead letter out of its queue and resume its project; returns the stages sent."""
    if rt.redis is None:
        raise InvalidInput("dead letters are kept by Redis: set YTMAKER_REDIS_URL (embedded mode has none)")
    for letter in list_dead(rt.redis, namespace):
        if letter.message_id == message_id:
            key = f"{namespace}:{letter.queue}.XQ"
            rt.redis.zrem(key, message_id)
            rt.redis.hdel(f"{key}.msgs", message_id)
            if letter.project_id is None:
                return []
            return retry_project(rt, letter.project_id)
    raise InvalidInput(f"no dead letter with id {message_id!r}; see `ytmaker dlq list`")
