"""Stage 3: one FFmpeg process composes slides and narration into an H.264/AAC MP4."""

from __future__ import annotations

import os

from ytmaker.db.models import Asset, StageStatus, Video
from ytmaker.errors import PermanentError
from ytmaker.media import render as media
from ytmaker.media.probe import probe
from ytmaker.pipelines import flow
from ytmaker.runtime import Runtime
from ytmaker.stages.common import StageContext, existing_assets, run_stage, sha256, temp_path
from ytmaker.stages.script import load_script


def render_video(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "render", project_id, _render)


def _render(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    with rt.db.session() as session:
        video = session.get(Video, project.id)
    if video is not None and rt.path(video.path).exists():
        return StageStatus.SUCCEEDED
    script = load_script(rt, project.id)
    images = existing_assets(rt, project.id, "image")
    audio = existing_assets(rt, project.id, "audio")
    count = len(script.segments)
    missing = [f"{kind} {i}" for kind, found in (("image", images), ("audio", audio)) for i in range(count) if i not in found]
    if missing:
        flow.reopen_stages(rt, project.id, {"images" if m.startswith("image") else "audio" for m in missing}, "files missing")
        raise PermanentError(f"assets missing at render time: {', '.join(missing[:5])}; run `ytmaker retry` to remake them")
    _verify(rt, [images[i] for i in range(count)] + [audio[i] for i in range(count)])
    durations = media.segment_durations([audio[i].duration_ms / 1000 for i in range(count)])
    final = ctx.workdir() / "video.mp4"
    tmp = temp_path(final)
    spec = media.RenderSpec(
        segments=[media.RenderSegment(rt.path(images[i].path), rt.path(audio[i].path), durations[i]) for i in range(count)],
        output=tmp,
        video_format=project.video_format,
        quality=rt.settings.render_quality,
    )
    ctx.report(0, f"rendering {spec.duration_s:.1f} s of video")
    try:
        media.render(spec, timeout_s=ctx.remaining_s(), should_cancel=ctx.cancelled,
                     on_progress=lambda p: ctx.report(p, f"rendering: {p:.0f}%"))
        info = probe(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    with rt.db.session() as session:
        row = session.get(Video, project.id) or Video(project_id=project.id)
        row.path, row.checksum, row.duration_ms = rt.relative(final), sha256(final), round(info.duration_s * 1000)
        session.merge(row)
    return StageStatus.SUCCEEDED


def _verify(rt: Runtime, assets: list[Asset]) -> None:
    """Refuse to render from a file that changed since it was made (truncated, overwritten)."""
    for asset in assets:
        if sha256(rt.path(asset.path)) != asset.checksum:
            with rt.db.session() as session:
                session.execute(Asset.__table__.delete().where(Asset.id == asset.id))
            flow.reopen_stages(rt, asset.project_id, {"images" if asset.kind == "image" else "audio"}, "file changed on disk")
            raise PermanentError(f"{asset.kind} {asset.segment_index} was changed on disk after it was made; "
                                 "run `ytmaker retry` to remake it")
