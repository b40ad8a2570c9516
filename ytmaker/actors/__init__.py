"""Every actor, registered on import: ``dramatiq ytmaker.actors`` (the scheduler has ``ytmaker.scheduler``).

This is an entry point: the worker's broker (``ytmaker.worker``) is built
from the environment before any actor is declared, because Dramatiq binds
actors to the global broker when they are decorated, and handed to the
runtime so that the stages send through it. The actors only call the stage
functions, which are imported when first run: a worker of one queue never
loads what the others need (the LLM SDK, Pillow, FFmpeg's bindings).
"""

import dramatiq

from ytmaker.config import Settings
from ytmaker.logs import configure_logging
from ytmaker.runtime import use_process_broker
from ytmaker.worker import build_worker_broker

configure_logging()
if dramatiq.broker.global_broker is None:
    dramatiq.set_broker(build_worker_broker(Settings()))
use_process_broker(dramatiq.get_broker())

from ytmaker import periodic  # noqa: E402
from ytmaker.actors import audio, avatars, images, render, script, thumbnail, upload  # noqa: E402

__all__ = ["audio", "avatars", "images", "periodic", "render", "script", "thumbnail", "upload"]
