"""Stage 4: a 1280x720 JPEG of the title over the picture that matches it best (and 1080x1920 for 9:16).

The picture is a segment's, chosen by how much of the title's keyphrases the
segment's narration and headline share (``rank_segments``); among segments
that tie, the most detailed still wins (ytmaker.media.thumbnail). Without the
stills, frames are taken from the middle of those segments in the video.
Under offline slides, the matching slide's background is taken without its words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ytmaker.db.models import StageStatus, Thumbnail, Video
from ytmaker.errors import PermanentError
from ytmaker.keyphrases import phrases
from ytmaker.media import instant
from ytmaker.media.render import FPS
from ytmaker.media.thumbnail import SIZE, VERTICAL_SIZE, make_thumbnail
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.slides import SlideImages
from ytmaker.runtime import Runtime
from ytmaker.stages import own_media
from ytmaker.stages.files import existing_assets, sha256, temp_path, video_timeline
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "thumbnail", project_id, _thumbnail)


def rank_segments(title: str, segments: Sequence[dict[str, Any]]) -> list[int]:
    """The indexes of the segments that share most of the title's keyphrases (every segment when none shares any).

    A segment scores one for each of the title's words found in its narration's or headline's phrases
    (ytmaker.keyphrases: normalised, singular) and one more for each of the title's whole phrases.
    """
    wanted = {p.key for p in phrases(title)}

    def shared(segment: dict[str, Any]) -> int:
        said = {p.key for p in phrases(segment["narration"]) + phrases(segment.get("headline") or "")}
        words = {w for key in said for w in key}
        return len({w for key in wanted for w in key} & words) + len(wanted & said)

    scores = [shared(segment) for segment in segments]
    best = max(scores, default=0)
    return [i for i, score in enumerate(scores) if score == best]


def slide_background(title: str, index: int, segment: dict[str, Any], video_format: str, folder: Path) -> Path:
    """An offline slide is words on a gradient: under the title its words showed through, blurred (the title card's
    being the title itself, twice). The thumbnail takes the matching slide's gradient and shapes without them."""
    width, height = VERTICAL_SIZE if video_format == "9:16" else SIZE
    request = ImageRequest(index=index, description=segment["image_description"], caption="", topic=title,
                           width=width, height=height, aspect_ratio=video_format)
    path = temp_path(folder / "thumbnail-background.png")  # its own name: a second delivery draws its own
    SlideImages.background(request)[0].save(path, format="PNG")
    return path


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
    matching = rank_segments(script.title, script.segments)
    images = existing_assets(rt, project.id, "image")
    stills = [rt.path(images[i].path) for i in matching if i in images] or [rt.path(images[i].path) for i in sorted(images)]
    background = None
    if stills and rt.settings.image_provider == "offline" and own_media.for_project(rt, project, script) is None:
        best = matching[0]
        background = slide_background(script.title, best, script.segments[best], project.video_format, ctx.workdir())
        stills = [background]
    times = None if stills else _middles(rt, project.id, len(script.segments), matching)
    outputs = [("thumbnail.jpg", SIZE)]
    if project.video_format == "9:16":
        outputs.append(("thumbnail_9x16.jpg", VERTICAL_SIZE))
    try:
        for name, size in reversed(outputs):  # the recorded one last: its presence means all are done
            final = ctx.workdir() / name
            tmp = temp_path(final)
            try:
                if rt.settings.renderer == "instant":  # benchmarks: no drawing (ytmaker.media.instant)
                    instant.thumbnail(stills, tmp)
                else:
                    make_thumbnail(rt.path(video.path), video.duration_ms / 1000, script.title, tmp, stills=stills,
                                   size=size, times=times, centred=background is not None)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
    finally:
        if background:
            background.unlink(missing_ok=True)
    with rt.db.session() as session:
        session.merge(Thumbnail(project_id=project.id, path=rt.relative(final), checksum=sha256(final)))
    return StageStatus.SUCCEEDED


def _middles(rt: Runtime, project_id: str, count: int, segments: list[int]) -> list[float] | None:
    """When the segments' narrations were recorded: the middle of each of ``segments`` in the video, in seconds."""
    plan = video_timeline(rt, project_id, count)
    if plan is None:
        return None
    return [plan.starts_s[i] + plan.frames[i] / FPS / 2 for i in segments[:4]]  # a frame each is decoded: a few at most
