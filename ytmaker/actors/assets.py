"""Actors of stage 2, run in parallel (queue ``assets``)."""

import dramatiq

from ytmaker import stages
from ytmaker.runtime import get_runtime
from ytmaker.stages import image_parts


@dramatiq.actor(queue_name="assets", stage="images")
def generate_images(project_id: str) -> None:
    stages.generate_images(get_runtime(), project_id)


@dramatiq.actor(queue_name="assets", stage="audio")
def generate_audio(project_id: str) -> None:
    stages.generate_audio(get_runtime(), project_id)


@dramatiq.actor(queue_name="assets", stage="avatars")
def generate_avatars(project_id: str) -> None:
    stages.generate_avatars(get_runtime(), project_id)


@dramatiq.actor(queue_name="assets", stage="images", part=True)
def generate_segment_image(project_id: str, index: int) -> None:
    """One segment's image of a fanned-out images stage (``ytmaker.stages.image_parts``)."""
    image_parts.make_part(get_runtime(), project_id, index)
