"""Mixed-language narration through the real espeak-ng: language runs, each voiced in its language, joined into one WAV
whose word times point into the text as written."""

from __future__ import annotations

import wave
from itertools import pairwise
from pathlib import Path

import pytest

from ytmaker.config import Settings
from ytmaker.errors import MediaError
from ytmaker.media.cues import word_clock
from ytmaker.providers.espeak import EspeakSpeech
from ytmaker.providers.mixed_speech import MixedSpeech
from ytmaker.providers.registry import Providers
from ytmaker.spoken.runs import language_runs

MIXED = "Shenzhen 深圳 is a city in southern China. 它曾经是一个小渔村，now it is home to many tech companies."


class Recording:
    """The real espeak-ng provider, noting each call and how long the audio it wrote is."""

    def __init__(self, rewrite_rate: dict[str, int] | None = None) -> None:
        self.espeak = EspeakSpeech()
        self.calls: list[tuple[str, str, str, float]] = []  # text, language, voice, seconds
        self.answers: list = []  # the word times espeak-ng gave
        self.rewrite_rate = rewrite_rate or {}

    def synthesize(self, text: str, *, language: str, voice: str, out: Path):
        words = self.espeak.synthesize(text, language=language, voice=voice, out=out)
        with wave.open(str(out)) as wav:
            params, frames = wav.getparams(), wav.readframes(wav.getnframes())
        if language in self.rewrite_rate:  # the same samples, declared at another rate
            with wave.open(str(out), "wb") as wav:
                wav.setparams(params._replace(framerate=self.rewrite_rate[language]))
                wav.writeframes(frames)
        self.calls.append((text, language, voice, params.nframes / params.framerate))
        self.answers.append(words)
        return words


def seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def runs_of(text: str, language: str) -> list[tuple[str, str]]:
    return [(text[r.start:r.end].strip(), r.language) for r in language_runs(text, language)]


def test_a_mixed_text_is_cut_into_runs_of_each_language():
    assert runs_of(MIXED, "en") == [("Shenzhen", "en"), ("深圳", "zh"), ("is a city in southern China.", "en"),
                                    ("它曾经是一个小渔村，", "zh"), ("now it is home to many tech companies.", "en")]
    runs = language_runs(MIXED, "en")
    assert runs[0].start == 0 and runs[-1].end == len(MIXED) and all(a.end == b.start for a, b in pairwise(runs))


def test_a_word_or_two_of_english_stays_in_the_chinese_sentence_and_units_with_their_number():
    assert runs_of("AI芯片和iPhone 15都在这里制造，时速120km/h，投资$2 billion。", "zh") == [
        ("AI芯片和iPhone 15都在这里制造，时速120km/h，投资$2 billion。", "zh")]
    assert runs_of("深圳是一座城市，now it is home to many companies。", "zh") == [
        ("深圳是一座城市，", "zh"), ("now it is home to many companies。", "en")]
    assert runs_of("He was born in 2000年 in a small town.", "en")[1] == ("2000年", "zh")  # the year read in Chinese


def test_one_language_is_one_call_with_the_text_and_voice_unchanged(tmp_path):
    inner = Recording()
    text = "Bees swarm in spring. The queen leaves with half of the hive."
    words = MixedSpeech(inner).synthesize(text, language="en", voice="en-us", out=tmp_path / "a.wav")
    assert [c[:3] for c in inner.calls] == [(text, "en", "en-us")]
    assert words is inner.answers[0]  # espeak-ng's own answer, untouched
    assert not list(tmp_path.glob("*.run*"))


def test_a_mixed_text_is_voiced_run_by_run_into_one_wav_timed_on_the_written_words(tmp_path):
    inner = Recording()
    out = tmp_path / "mixed.wav"
    words = MixedSpeech(inner).synthesize(MIXED, language="en", voice="en-us", out=out)

    assert [(text.strip(), language, voice) for text, language, voice, _ in inner.calls] == [
        ("Shenzhen", "en", "en-us"), ("深圳", "zh", ""), ("is a city in southern China.", "en", "en-us"),
        ("它曾经是一个小渔村，", "zh", ""), ("now it is home to many tech companies.", "en", "en-us")]
    total = seconds(out)
    assert total == pytest.approx(sum(c[3] for c in inner.calls), abs=0.001) and total > max(c[3] for c in inner.calls)
    assert not list(tmp_path.glob("*.run*"))  # the runs' own files are gone

    offsets, times = [o for o, _ in words], [t for _, t in words]
    assert offsets == sorted(set(offsets)) and times == sorted(set(times)) and times[-1] < total
    timed = dict(words)
    shenzhen, city, fishing, now = (MIXED.index(w) for w in ("深圳", "city", "它曾经", "now"))
    assert {0, shenzhen, city, fishing, now} <= set(offsets)
    first_run = inner.calls[0][3]
    assert timed[shenzhen] == pytest.approx(first_run, abs=0.001)  # 深圳 starts when the Chinese run does
    assert timed[now] == pytest.approx(sum(c[3] for c in inner.calls[:4]), abs=0.001)
    assert word_clock(words, MIXED, total) is not None  # the subtitles take these timings


def test_numbers_change_what_is_said_but_times_point_at_the_written_numbers(tmp_path):
    inner = Recording()
    text = "In 1999 the hive grew 3.5%. 2000年，GDP增长了3.5%。"
    words = MixedSpeech(inner).synthesize(text, language="en", voice="", out=tmp_path / "n.wav")

    said = [c[0] for c in inner.calls]
    assert said == ["In nineteen ninety-nine the hive grew three point five percent.", " 二零零零年，GDP增长了百分之三点五。"]
    offsets = [o for o, _ in words]
    assert offsets == sorted(set(offsets)) and offsets[-1] < len(text)
    assert {text.index("1999"), text.index("hive"), text.index("3.5%"), text.index("2000"), text.rindex("3.5%")} <= set(offsets)
    assert all(o == 0 or text[o - 1] in " ，" or not text[o - 1].isascii() or not text[o].isascii() for o in offsets)


def test_a_chinese_project_voices_its_english_clause_with_the_english_voice(tmp_path):
    inner = Recording()
    text = "深圳是一座城市。Now it is home to many companies."
    MixedSpeech(inner).synthesize(text, language="zh", voice="cmn", out=tmp_path / "z.wav")
    assert [(c[1], c[2]) for c in inner.calls] == [("zh", "cmn"), ("en", "")]


def test_runs_written_at_different_rates_are_refused(tmp_path):
    with pytest.raises(MediaError, match="different formats"):
        MixedSpeech(Recording(rewrite_rate={"zh": 16_000})).synthesize(MIXED, language="en", voice="", out=tmp_path / "r.wav")


def test_the_registry_wraps_the_configured_voice_but_not_the_instant_one(tmp_path):
    espeak = Providers(Settings(_env_file=None, speech_provider="espeak"), tmp_path).speech
    assert isinstance(espeak, MixedSpeech) and isinstance(espeak.inner, EspeakSpeech)
    assert not isinstance(Providers(Settings(_env_file=None, speech_provider="instant"), tmp_path).speech, MixedSpeech)


def test_the_subtitles_of_a_mixed_sentence_keep_both_scripts_drawable_and_numbers_whole(tmp_path):
    from ytmaker.media.captions import make_captions
    from ytmaker.media.cmap import character_map

    # English with a long Chinese clause (wider than a line: it must break between its characters), then Chinese
    # with an English name and a decimal (not a place to cut)
    english = ("Shenzhen 深圳 is a city in southern China. Its people say 深圳是一座年轻的城市，很多人从全国各地来到这里工作和生活 "
               "and they are proud of it.")
    chinese = "深圳的GDP去年增长了3.5%，比全国平均水平高出很多，很多年轻人从全国各地来到这里工作。"
    timings, lengths = [], []
    for number, text in enumerate((english, chinese)):
        out = tmp_path / f"{number}.wav"
        timings.append(MixedSpeech(EspeakSpeech()).synthesize(text, language="en" if number == 0 else "zh", voice="", out=out))
        lengths.append(seconds(out))
    captions = make_captions([english, chinese], [0.0, lengths[0]], lengths, (1920, 1080), tmp_path, timings)

    (tmp_path / "alone").mkdir()
    alone = make_captions([MIXED], [0.0], [6.0], (1920, 1080), tmp_path / "alone")
    glyphs = character_map(alone.font)
    assert all(char in glyphs for char in "深圳它曾经是一个小渔村") and "S" in glyphs  # mostly English, drawn in a CJK font
    lines = [line for cue in captions.cues for line in cue.lines]
    assert "".join("".join(line.split()) for line in lines) == "".join((english + chinese).split())  # both scripts kept
    for line in lines:
        assert not any("\u4e00" <= a <= "\u9fff" and b == " " and "\u4e00" <= c <= "\u9fff"
                       for a, b, c in zip(line, line[1:], line[2:], strict=False)), f"a space put between Chinese: {line}"
    widest = max(len(line.encode("utf-16-le")) // 2 + sum("\u4e00" <= c <= "\u9fff" for c in line) for line in lines)
    assert widest <= 48, f"a line too wide to fit (the Chinese clause was not cut): {lines}"  # 42 Latin = 21 CJK widths
    assert not any(line.endswith("3.") or line.startswith("5%") for line in lines), lines  # 3.5% stays whole
