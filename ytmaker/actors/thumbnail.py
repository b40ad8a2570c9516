"""Actor of the thumbnail stage: decodes the id, runs ``ytmaker.stages.thumbnail.run``, returns (queue from the stage table)."""

import dramatiq

from ytmaker.graph import stage
from ytmaker.runtime import get_runtime
from ytmaker.stages import stage_function

ROW = stage("thumbnail")


@dramatiq.actor(actor_name=ROW.actor, queue_name=ROW.queue)
def generate_thumbnail(project_id: str) -> None:
    stage_function(ROW.name)(get_runtime(), project_id)
