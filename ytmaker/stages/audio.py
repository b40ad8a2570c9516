"""Stage 2b: the narration, one WAV per segment, with the word timings the subtitles start on.

Each WAV is written to a temporary file, renamed into place and then
recorded, so a retry skips the segments that are done.
"""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

from ytmaker.db.models import StageStatus
from ytmaker.errors import MediaError
from ytmaker.runtime import Runtime
from ytmaker.stages.files import existing_assets, record_asset, temp_path
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "audio", project_id, _audio)


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


def wav_duration_ms(path: Path) -> int:
    """Exact length of a PCM WAV from its header (the renderer times slides with it)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return round(1000 * wav.getnframes() / wav.getframerate())
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"speech provider wrote an unreadable WAV: {exc}") from exc
