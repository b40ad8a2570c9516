"""Speech for text as written: numbers said as people say them, each language in its own voice.

:class:`MixedSpeech` wraps whatever speech provider is configured (the registry applies
it). It cuts a narration into language runs (:mod:`ytmaker.spoken.runs`), rewrites each
run's numbers for its language (:mod:`ytmaker.spoken.numbers`), has the wrapped provider
voice each run (the project's voice for runs in the project's language, the language's
default voice for the others), joins the runs' audio into one WAV and returns word times
whose offsets point into the narration as written, which is what subtitles show.

A narration in one language is one call, as before the wrapper: with no number to
rewrite, the wrapped provider's answer is returned untouched.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from ytmaker.errors import MediaError
from ytmaker.providers.base import SpeechProvider, WordTimes
from ytmaker.spoken.numbers import normalise
from ytmaker.spoken.offsets import Spoken
from ytmaker.spoken.runs import language_runs

Format = tuple[int, int, int]  # channels, sample width, frame rate


class MixedSpeech:
    """A :class:`~ytmaker.providers.base.SpeechProvider` over ``inner``, voicing each language run with its language."""

    def __init__(self, inner: SpeechProvider) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        # the wrapped provider's own attributes (its HTTP client, which the runtime closes and tests look at)
        return getattr(self.inner, name)

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> WordTimes | None:
        runs = language_runs(text, language)
        if len(runs) == 1:
            run = runs[0]
            spoken = normalise(text, run.language)
            words = self.inner.synthesize(spoken.text, language=run.language,
                                          voice=voice if run.language == language else "", out=out)
            return words if not words or not spoken.starts else written_times(words, spoken, 0, 0.0)
        fmt: Format | None = None
        frames: list[bytes] = []
        times: WordTimes = []
        timed, elapsed = True, 0.0
        for k, run in enumerate(runs):
            spoken = normalise(text[run.start:run.end], run.language)
            part = out.with_name(f"{out.name}.run{k}.wav")
            try:
                words = self.inner.synthesize(spoken.text, language=run.language,
                                              voice=voice if run.language == language else "", out=part)
                part_fmt, part_frames = _read(part)
            finally:
                part.unlink(missing_ok=True)
            if fmt is not None and part_fmt != fmt:
                raise MediaError(f"the speech provider wrote {language!r} and {run.language!r} runs in different formats "
                                 f"({fmt} and {part_fmt}: channels, sample width, rate); they cannot be joined")
            fmt = part_fmt
            frames.append(part_frames)
            timed = timed and bool(words)
            if timed and words:
                times += written_times(words, spoken, run.start, elapsed, after=times[-1] if times else None)
            elapsed += len(part_frames) / (part_fmt[0] * part_fmt[1] * part_fmt[2])
        assert fmt is not None  # a text has at least one run
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(fmt[0])
            wav.setsampwidth(fmt[1])
            wav.setframerate(fmt[2])
            wav.writeframes(b"".join(frames))
        return times if timed else None  # a run without word times: subtitles share time by length, as without runs


def written_times(words: WordTimes, spoken: Spoken, start: int, elapsed: float,
                  after: tuple[int, float] | None = None) -> WordTimes:
    """Word times of a run's spoken text as offsets in the written narration (the run starts at ``start`` and
    ``elapsed`` seconds in). Words said for one written word ("1999": nineteen ninety-nine) keep the first one's
    time; offsets and times only increase, as the subtitles' word clock requires."""
    out: WordTimes = []
    last_offset, last_s = after if after else (-1, -1.0)
    for offset, seconds in words:
        written, at = start + spoken.original(offset), elapsed + seconds
        if written > last_offset and at > last_s:
            out.append((written, at))
            last_offset, last_s = written, at
    return out


def _read(path: Path) -> tuple[Format, bytes]:
    try:
        with wave.open(str(path), "rb") as wav:
            return (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()), wav.readframes(wav.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise MediaError(f"the speech provider wrote an unreadable WAV for a language run: {exc}") from exc
