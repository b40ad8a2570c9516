"""Actors of the images stage: the stage, and one segment's image when it fans out (``ytmaker.stages.images``)."""

import dramatiq

from ytmaker.graph import stage
from ytmaker.runtime import get_runtime
from ytmaker.stages import stage_function

ROW = stage("images")


@dramatiq.actor(actor_name=ROW.actor, queue_name=ROW.queue)
def generate_images(project_id: str) -> None:
    stage_function(ROW.name)(get_runtime(), project_id)


@dramatiq.actor(actor_name=ROW.parts[0], queue_name=ROW.queue)
def generate_segment_image(project_id: str, index: int) -> None:
    from ytmaker.stages import images  # imported by the worker that runs it: other queues never load Pillow

    images.make_part(get_runtime(), project_id, index)
