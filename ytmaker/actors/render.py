"""Actors of stages 3 and 4 (queue ``render``: few threads, FFmpeg uses the cores)."""

import dramatiq

from ytmaker import stages
from ytmaker.runtime import get_runtime


@dramatiq.actor(queue_name="render", stage="render")
def render_video(project_id: str) -> None:
    stages.render_video(get_runtime(), project_id)


@dramatiq.actor(queue_name="render", stage="thumbnail")
def generate_thumbnail(project_id: str) -> None:
    stages.generate_thumbnail(get_runtime(), project_id)
