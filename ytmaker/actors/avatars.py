"""The avatars stage's check-back actor (queue ``assets``): one short look at D-ID per message."""

import dramatiq

from ytmaker.runtime import get_runtime
from ytmaker.stages import avatars


@dramatiq.actor(queue_name="assets", stage="avatars")
def poll_avatar(project_id: str, chain: str, attempt: int, started: float) -> None:
    avatars.poll(get_runtime(), project_id, chain, attempt, started)
