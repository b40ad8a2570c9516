"""Stage 4: a 1280x720 JPEG from the video's most detailed picture plus the title (and 1080x1920 for 9:16)."""

from __future__ import annotations

import os

from ytmaker.db.models import StageStatus, Thumbnail, Video
from ytmaker.errors import PermanentError
from ytmaker.media import instant
from ytmaker.media.thumbnail import VERTICAL_SIZE, make_thumbnail
from ytmaker.runtime import Runtime
from ytmaker.stages.files import existing_assets, sha256, temp_path
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "thumbnail", project_id, _thumbnail)


def _thumbnail(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    with rt.db.single() as session:  # reads
        existing = session.get(Thumbnail, project.id)
        video = session.get(Video, project.id)
    if existing is not None and rt.path(existing.path).exists():
        return StageStatus.SUCCEEDED
    if video is None or not rt.path(video.path).exists():
        raise PermanentError("the rendered video is missing; run `ytmaker retry` to render it again")
    script = load_script(rt, project.id)
    images = existing_assets(rt, project.id, "image")
    stills = [rt.path(images[i].path) for i in sorted(images)] or None
    outputs = [("thumbnail.jpg", (1280, 720))]
    if project.video_format == "9:16":
        outputs.append(("thumbnail_9x16.jpg", VERTICAL_SIZE))
    for name, size in reversed(outputs):  # the recorded one last: its presence means all are done
        final = ctx.workdir() / name
        tmp = temp_path(final)
        try:
            if rt.settings.renderer == "instant":  # benchmarks: no drawing (ytmaker.media.instant)
                instant.thumbnail(stills, tmp)
            else:
                make_thumbnail(rt.path(video.path), video.duration_ms / 1000, script.title, tmp, stills=stills, size=size)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
    with rt.db.session() as session:
        session.merge(Thumbnail(project_id=project.id, path=rt.relative(final), checksum=sha256(final)))
    return StageStatus.SUCCEEDED
