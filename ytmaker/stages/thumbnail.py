"""Stage 4: a 1280x720 JPEG from the video's most detailed frame plus the title."""

from __future__ import annotations

import os

from ytmaker.db.models import StageStatus, Thumbnail, Video
from ytmaker.errors import PermanentError
from ytmaker.media.thumbnail import make_thumbnail
from ytmaker.runtime import Runtime
from ytmaker.stages.common import StageContext, run_stage, sha256, temp_path
from ytmaker.stages.script import load_script


def generate_thumbnail(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "thumbnail", project_id, _thumbnail)


def _thumbnail(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    with rt.db.session() as session:
        existing = session.get(Thumbnail, project.id)
        video = session.get(Video, project.id)
    if existing is not None and rt.path(existing.path).exists():
        return StageStatus.SUCCEEDED
    if video is None or not rt.path(video.path).exists():
        raise PermanentError("the rendered video is missing; run `ytmaker retry` to render it again")
    script = load_script(rt, project.id)
    final = ctx.workdir() / "thumbnail.jpg"
    tmp = temp_path(final)
    try:
        make_thumbnail(rt.path(video.path), video.duration_ms / 1000, script.title, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    with rt.db.session() as session:
        session.merge(Thumbnail(project_id=project.id, path=rt.relative(final), checksum=sha256(final)))
    return StageStatus.SUCCEEDED
