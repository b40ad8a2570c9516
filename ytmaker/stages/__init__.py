"""The stages as plain functions of (runtime, project id): testable without a broker.

Each one is idempotent: a repeated call finds its records and files and does
only what is missing.
"""

from ytmaker.stages.assets import generate_audio, generate_avatars, generate_images
from ytmaker.stages.render import render_video
from ytmaker.stages.script import generate_script
from ytmaker.stages.thumbnail import generate_thumbnail
from ytmaker.stages.upload import upload_to_youtube

STAGE_FUNCTIONS = {
    "script": generate_script,
    "images": generate_images,
    "audio": generate_audio,
    "avatars": generate_avatars,
    "render": render_video,
    "thumbnail": generate_thumbnail,
    "upload": upload_to_youtube,
}

__all__ = ["STAGE_FUNCTIONS", "generate_audio", "generate_avatars", "generate_images", "generate_script",
           "generate_thumbnail", "render_video", "upload_to_youtube"]
