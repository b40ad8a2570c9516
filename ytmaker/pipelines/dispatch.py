"""Sending work: one message by actor name, through the runtime's broker.

Nothing here imports the actors: their names and queues come from the stage
table (``ytmaker.graph``), so a service that only enqueues needs neither the
actor modules nor what they import, and stages, image parts and avatar polls
are all sent the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dramatiq

from ytmaker.graph import queue_of_actor, stage

if TYPE_CHECKING:
    from ytmaker.runtime import Runtime


def send(rt: Runtime, actor_name: str, *args: Any, delay_ms: int | None = None) -> dramatiq.Message:
    """Enqueue ``actor_name(*args)`` on its queue (after ``delay_ms``)."""
    message: dramatiq.Message = dramatiq.Message(queue_name=queue_of_actor(actor_name), actor_name=actor_name,
                                                 args=args, kwargs={}, options={})
    return rt.broker.enqueue(message, delay=delay_ms)


def send_stage(rt: Runtime, name: str, project_id: str) -> None:
    send(rt, stage(name).actor, project_id)
