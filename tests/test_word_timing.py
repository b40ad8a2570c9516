"""Subtitles timed on the words espeak-ng reports, checked against where the speech really is in the audio."""

from __future__ import annotations

import re
import struct
import wave
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from ytmaker import stages
from ytmaker.db.migrate import upgrade
from ytmaker.media.subtitles import SubtitleStyle, build_cues
from ytmaker.projects import create_project
from ytmaker.providers.espeak import EspeakSpeech
from ytmaker.runtime import build_runtime, set_runtime
from ytmaker.stages.audio import read_word_times

# Numbers are said as many more words than their characters suggest: sharing time by length goes wrong.
TEXT = "In 1987, 2004 and 2019 the hive grew. Bees swarm."
STYLE = SubtitleStyle(1920, 1080)


def _silences(path: Path, min_s: float = 0.08) -> list[tuple[float, float]]:
    """Runs of near-silence in a mono 16-bit WAV, in seconds."""
    with wave.open(str(path)) as wav:
        rate, count = wav.getframerate(), wav.getnframes()
        samples = struct.unpack(f"<{count}h", wav.readframes(count))
    step = rate // 100
    quiet = [max(map(abs, samples[i:i + step])) < 300 for i in range(0, count - step, step)]
    runs, start = [], None
    for k, q in enumerate(quiet + [False]):
        if q and start is None:
            start = k
        elif not q and start is not None:
            if (k - start) / 100 >= min_s:
                runs.append((start / 100, k / 100))
            start = None
    return runs


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    out = tmp_path_factory.mktemp("speech") / "narration.wav"
    words = EspeakSpeech().synthesize(TEXT, language="en", voice="", out=out)
    with wave.open(str(out)) as wav:
        duration = wav.getnframes() / wav.getframerate()
    return out, words, duration


def test_espeak_reports_where_each_word_starts(spoken):
    _, words, duration = spoken
    offsets, times = [o for o, _ in words], [t for _, t in words]
    assert offsets[0] == 0 and offsets == sorted(set(offsets))
    assert times == sorted(times) and 0 <= times[-1] < duration
    assert TEXT[offsets[-1]:].startswith("swarm")
    starts = {m.start() for m in re.finditer(r"\w+", TEXT)}
    assert starts <= set(offsets)  # every word, numbers included (said as several, each reported)


def test_the_second_sentence_cue_starts_when_it_is_heard(spoken):
    path, words, duration = spoken
    second = TEXT.index("Bees")
    heard = max(end for start, end in _silences(path) if end <= dict(words)[second] + 0.05)  # the pause before "Bees"

    timed = build_cues([(10.0, duration, TEXT)], STYLE, words=[words])
    by_length = build_cues([(10.0, duration, TEXT)], STYLE)

    assert [c.lines for c in timed] == [c.lines for c in by_length] and len(timed) == 2
    assert timed[0].start_s == 10.0 and timed[-1].end_s == pytest.approx(10.0 + duration, abs=0.001)
    assert abs(timed[1].start_s - (10.0 + heard)) < 0.06  # on the audio, within two frames
    assert abs(by_length[1].start_s - (10.0 + heard)) > 0.3  # what sharing by length would have shown


def test_timings_that_do_not_fit_the_text_fall_back_to_lengths():
    by_length = build_cues([(0.0, 4.0, TEXT)], STYLE)
    crossed = build_cues([(0.0, 4.0, TEXT)], STYLE, words=[[(0, 0.0), (TEXT.index("Bees"), 0.0)]])
    assert crossed == by_length


def test_the_pipeline_keeps_espeak_timings_beside_the_narration_and_times_the_subtitles_on_them(tmp_path, stub_broker):
    rt = build_runtime(fast_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'y.db'}", render_quality="tiny"))
    upgrade(rt.db)
    set_runtime(rt)
    try:
        project = create_project(rt, TEXT + " " + TEXT)
        for name in ("script", "images", "audio", "avatars", "render"):
            stages.stage_function(name)(rt, project.id)
        wavs = sorted((rt.project_dir(project.id) / "audio").glob("*.wav"))
        words = read_word_times(wavs[0])
        srt = (rt.project_dir(project.id) / "subtitles.srt").read_text()
    finally:
        set_runtime(None)
        rt.close()
    assert words and words[0] == (0, 0.0)
    cues = [(text, _seconds(start)) for start, text in
            re.findall(r"(\d\d:\d\d:\d\d,\d{3}) --> [^\n]+\n(.+?)(?:\n\n|$)", srt, flags=re.S)]
    bees = next(start for text, start in cues if text.startswith("Bees"))  # the first segment's second sentence
    assert bees == pytest.approx(dict(words)[TEXT.index("Bees")], abs=0.002)


def _seconds(clock: str) -> float:
    h, m, rest = clock.split(":")
    s, ms = rest.split(",")
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
