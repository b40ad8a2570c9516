"""Stage 2, in parallel: images, narration audio and avatars, one asset per segment.

Each segment's asset is written to a temporary file, renamed into place and
then recorded, so a retry skips the segments that are done and never leaves
a half-written file behind a record.
"""

from __future__ import annotations

import os
import wave

from ytmaker.db.models import StageStatus
from ytmaker.errors import MediaError
from ytmaker.media.render import SIZES
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.slides import headline
from ytmaker.runtime import Runtime
from ytmaker.stages import avatars
from ytmaker.stages.common import StageContext, existing_assets, record_asset, run_stage, temp_path
from ytmaker.stages.script import load_script


def generate_images(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "images", project_id, _images)


def generate_audio(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "audio", project_id, _audio)


def generate_avatars(rt: Runtime, project_id: str) -> StageStatus | None:
    status = run_stage(rt, "avatars", project_id, _avatars)
    if status == StageStatus.RUNNING:  # D-ID works on; delayed messages check back (stages.avatars)
        avatars.follow(rt, project_id)
    return status


def _images(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    script = load_script(rt, project.id)
    done = existing_assets(rt, project.id, "image")
    width, height = SIZES[(project.video_format, "final")]
    folder = ctx.workdir() / "images"
    folder.mkdir(exist_ok=True)
    total = len(script.segments)
    for index, segment in enumerate(script.segments):
        if index in done:
            continue
        ctx.check_cancelled()
        final = folder / f"{index:03d}.png"
        tmp = temp_path(final)
        request = ImageRequest(index=index, description=segment["image_description"],
                               caption=headline(segment["narration"]), topic=script.title,
                               width=width, height=height, aspect_ratio=project.video_format)
        try:
            warning = rt.providers.images.generate(request, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        record_asset(rt, project.id, "image", index, final, warning=warning)
        ctx.report(100 * (index + 1) / total, f"image {index + 1} of {total}")
    return StageStatus.SUCCEEDED


def _audio(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    script = load_script(rt, project.id)
    done = existing_assets(rt, project.id, "audio")
    folder = ctx.workdir() / "audio"
    folder.mkdir(exist_ok=True)
    total = len(script.segments)
    voice = project.voice or rt.settings.voice
    for index, segment in enumerate(script.segments):
        if index in done:
            continue
        ctx.check_cancelled()
        final = folder / f"{index:03d}.wav"
        tmp = temp_path(final)
        try:
            rt.providers.speech.synthesize(segment["narration"], language=project.language, voice=voice, out=tmp)
            duration_ms = wav_duration_ms(tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        record_asset(rt, project.id, "audio", index, final, duration_ms=duration_ms)
        ctx.report(100 * (index + 1) / total, f"narration {index + 1} of {total}")
    return StageStatus.SUCCEEDED


def _avatars(ctx: StageContext) -> StageStatus:
    # Without a provider the stage is recorded as skipped rather than faked, and render goes on without one.
    return avatars.start_avatars(ctx)


def wav_duration_ms(path) -> int:
    """Exact length of a PCM WAV from its header (the renderer times slides with it)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return round(1000 * wav.getnframes() / wav.getframerate())
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"speech provider wrote an unreadable WAV: {exc}") from exc
