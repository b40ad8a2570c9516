"""Every actor, registered on import: ``dramatiq ytmaker.actors`` and ``periodiq ytmaker.actors``.

The broker is chosen from the environment (``YTMAKER_REDIS_URL``) before
any actor is declared, because Dramatiq binds actors to the global broker
when they are decorated.
"""

import dramatiq

from ytmaker.broker import build_broker
from ytmaker.config import Settings
from ytmaker.logs import configure_logging

configure_logging()
if dramatiq.broker.global_broker is None:
    dramatiq.set_broker(build_broker(Settings()))

from ytmaker.actors.assets import generate_audio, generate_avatars, generate_images, generate_segment_image  # noqa: E402
from ytmaker.actors.avatars import poll_avatar  # noqa: E402,F401
from ytmaker.actors.periodic import recover_stalled  # noqa: E402
from ytmaker.actors.render import generate_thumbnail, render_video  # noqa: E402
from ytmaker.actors.script import generate_script  # noqa: E402
from ytmaker.actors.upload import upload_to_youtube  # noqa: E402

STAGE_ACTORS = {
    "script": generate_script,
    "images": generate_images,
    "audio": generate_audio,
    "avatars": generate_avatars,
    "render": render_video,
    "thumbnail": generate_thumbnail,
    "upload": upload_to_youtube,
}

__all__ = ["STAGE_ACTORS", "generate_audio", "generate_avatars", "generate_images", "generate_script", "generate_segment_image",
           "generate_thumbnail", "recover_stalled", "render_video", "upload_to_youtube"]
