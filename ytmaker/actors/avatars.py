"""Actors of the avatars stage: the stage, and its check-back poll of D-ID (``ytmaker.stages.avatars``)."""

import dramatiq

from ytmaker.graph import stage
from ytmaker.runtime import get_runtime
from ytmaker.stages import stage_function

ROW = stage("avatars")


@dramatiq.actor(actor_name=ROW.actor, queue_name=ROW.queue)
def generate_avatars(project_id: str) -> None:
    stage_function(ROW.name)(get_runtime(), project_id)


@dramatiq.actor(actor_name=ROW.parts[0], queue_name=ROW.queue)
def poll_avatar(project_id: str, chain: str, attempt: int, started: float) -> None:
    from ytmaker.stages import avatars  # imported by the worker that runs it

    avatars.poll(get_runtime(), project_id, chain, attempt, started)
