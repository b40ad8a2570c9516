"""Stage 2, in parallel: images, narration audio and avatars, one asset per segment.

Each segment's asset is written to a temporary file, renamed into place and
then recorded, so a retry skips the segments that are done and never leaves
a half-written file behind a record.
"""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

from ytmaker.db.models import StageStatus
from ytmaker.errors import MediaError
from ytmaker.runtime import Runtime
from ytmaker.stages import avatars, image_parts
from ytmaker.stages.common import StageContext, existing_assets, record_asset, run_stage, temp_path
from ytmaker.stages.script import load_script


def generate_images(rt: Runtime, project_id: str) -> StageStatus | None:
    status = run_stage(rt, "images", project_id, _images)
    if status == StageStatus.RUNNING:  # fanned out: one message per missing image (image_parts)
        image_parts.send_parts(rt, project_id)
    return status


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
    missing = [i for i in range(len(script.segments)) if i not in done]
    if len(missing) > 1 and rt.settings.fans_out_images:
        # Left running: the segments' messages make the images and the last one finishes the stage.
        ctx.report(100 * (1 - len(missing) / len(script.segments)), f"images: {len(missing)} to make, in parallel")
        return StageStatus.RUNNING
    for done, index in enumerate(missing, start=len(script.segments) - len(missing) + 1):
        ctx.check_cancelled()
        image_parts.make_image(rt, project, script, index)
        ctx.report(100 * done / len(script.segments), f"image {done} of {len(script.segments)}")
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
            words = rt.providers.speech.synthesize(segment["narration"], language=project.language, voice=voice, out=tmp)
            duration_ms = wav_duration_ms(tmp)
            if words:  # beside the WAV, in place before it: subtitles start on the real words (stages.render)
                write_word_times(final, words)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        record_asset(rt, project.id, "audio", index, final, duration_ms=duration_ms)
        ctx.report(100 * (index + 1) / total, f"narration {index + 1} of {total}")
    return StageStatus.SUCCEEDED


def _avatars(ctx: StageContext) -> StageStatus:
    # Without a provider the stage is recorded as skipped rather than faked, and render goes on without one.
    return avatars.start_avatars(ctx)


def word_times_path(wav: Path) -> Path:
    return wav.with_suffix(".words.json")


def write_word_times(wav: Path, words: list[tuple[int, float]]) -> None:
    final = word_times_path(wav)
    tmp = temp_path(final)
    tmp.write_text(json.dumps([[offset, round(seconds, 3)] for offset, seconds in words]))
    os.replace(tmp, final)


def read_word_times(wav: Path) -> list[tuple[int, float]] | None:
    """The narration's word timings, if its speech engine gave them (None when absent or unreadable)."""
    try:
        return [(int(offset), float(seconds)) for offset, seconds in json.loads(word_times_path(wav).read_text())]
    except (OSError, ValueError, TypeError):
        return None


def wav_duration_ms(path) -> int:
    """Exact length of a PCM WAV from its header (the renderer times slides with it)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return round(1000 * wav.getnframes() / wav.getframerate())
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"speech provider wrote an unreadable WAV: {exc}") from exc
