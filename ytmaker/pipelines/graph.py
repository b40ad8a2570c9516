"""The pipeline as data: stages, what each waits for, its queue, actor and project status.

    script ─┬─ images  ─┐
            ├─ audio   ─┼─ render ── thumbnail ── upload
            └─ avatars ─┘
"""

from __future__ import annotations

from ytmaker.db.models import ProjectStatus

STAGES = ("script", "images", "audio", "avatars", "render", "thumbnail", "upload")

DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "script": (),
    "images": ("script",),
    "audio": ("script",),
    "avatars": ("script",),
    "render": ("images", "audio", "avatars"),
    "thumbnail": ("render",),
    "upload": ("thumbnail",),
}

ACTOR = {
    "script": "generate_script",
    "images": "generate_images",
    "audio": "generate_audio",
    "avatars": "generate_avatars",
    "render": "render_video",
    "thumbnail": "generate_thumbnail",
    "upload": "upload_to_youtube",
}

QUEUE = {
    "script": "scripts",
    "images": "assets",
    "audio": "assets",
    "avatars": "assets",
    "render": "render",
    "thumbnail": "render",
    "upload": "upload",
}

STATUS = {
    "script": ProjectStatus.SCRIPT_GENERATING,
    "images": ProjectStatus.ASSETS_GENERATING,
    "audio": ProjectStatus.ASSETS_GENERATING,
    "avatars": ProjectStatus.ASSETS_GENERATING,
    "render": ProjectStatus.RENDERING,
    "thumbnail": ProjectStatus.THUMBNAIL_GENERATING,
    "upload": ProjectStatus.UPLOADING,
}


def ready(done: set[str], claimed: set[str]) -> list[str]:
    """Stages whose predecessors are all done and that nobody has claimed yet, in pipeline order."""
    return [s for s in STAGES if s not in claimed and all(d in done for d in DEPENDS_ON[s])]


def successors(stage: str) -> list[str]:
    return [s for s in STAGES if stage in DEPENDS_ON[s]]
