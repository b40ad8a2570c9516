"""Actor of stage 1 (queue ``scripts``)."""

import dramatiq

from ytmaker import stages
from ytmaker.runtime import get_runtime


@dramatiq.actor(queue_name="scripts", stage="script")
def generate_script(project_id: str) -> None:
    stages.generate_script(get_runtime(), project_id)
