"""Sending work: one message by actor name, through the runtime's broker.

Nothing here imports the actors: their names and queues come from the stage
table (``ytmaker.graph``), so a service that only enqueues needs neither the
actor modules nor what they import, and stages, image parts and avatar polls
are all sent the same way.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import dramatiq

from ytmaker.graph import queue_of_actor, stage

if TYPE_CHECKING:
    from ytmaker.runtime import Runtime


#: message option: the project's generation when the message was sent (``retry`` starts a new one)
GENERATION_OPTION = "ytmaker_generation"
FIRST_GENERATION = "0"


def generation_key(project_id: str) -> str:
    return f"ytmaker:generation:{project_id}"


def current_generation(rt: Runtime, project_id: str) -> str:
    """The project's generation: ``0`` until its first ``retry``, then a new value per retry.

    Kept with the messages (in Redis, or in the process when embedded): when Redis
    loses it, it loses the messages it would have told apart too.
    """
    return rt.keys.get(generation_key(project_id)) or FIRST_GENERATION


def new_generation(rt: Runtime, project_id: str) -> str:
    """Start a new generation: messages sent before it are stale for the project's re-opened stages."""
    generation = uuid.uuid4().hex[:12]
    rt.keys.set(generation_key(project_id), generation, ttl_s=rt.settings.progress_ttl_s)
    return generation


def send(rt: Runtime, actor_name: str, *args: Any, delay_ms: int | None = None,
         generation: str | None = None) -> dramatiq.Message:
    """Enqueue ``actor_name(*args)`` on its queue (after ``delay_ms``), stamped with the project's generation
    (``generation``: the caller knows it, e.g. a project just created; no lookup)."""
    if args and generation is None:
        generation = current_generation(rt, str(args[0]))
    options: dict[str, Any] = {GENERATION_OPTION: generation} if args else {}
    message: dramatiq.Message = dramatiq.Message(queue_name=queue_of_actor(actor_name), actor_name=actor_name,
                                                 args=args, kwargs={}, options=options)
    return rt.broker.enqueue(message, delay=delay_ms)


def send_stage(rt: Runtime, name: str, project_id: str, generation: str | None = None) -> None:
    send(rt, stage(name).actor, project_id, generation=generation)
