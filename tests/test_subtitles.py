"""Cues that read well: each limit of ytmaker.media.cues asserted on English and Chinese narration timed by espeak-ng."""

from __future__ import annotations

import itertools
import wave

import pytest

from ytmaker.keyphrases import word_starts
from ytmaker.media.cues import MAX_CUE_S, MIN_CUE_S
from ytmaker.media.subtitles import SubtitleStyle, build_cues, subtitle_font, to_srt
from ytmaker.providers.espeak import EspeakSpeech
from ytmaker.text import sentences

ENGLISH = ("Twenty years ago, electricity from solar panels cost more than almost any other source. Today it is often "
           "the cheapest power a country can build. What changed? Factories grew larger, silicon wafers became thinner, "
           "and cells turned more of the sunlight that hits them into electricity, because every time the world's total "
           "production of solar panels doubled, their price fell by about a fifth.")
CHINESE = ("竹子的营养很少，所以一只成年熊猫每天要花十几个小时进食，吃掉十几公斤竹子。吃饱以后，它们常常找一个舒服的地方睡觉，"
           "以节省体力。二零一六年，大熊猫的保护等级从濒危调整为易危，这是保护工作的一个好消息。")
CASES = {  # text, language, picture, characters per line, characters a second
    "en 16:9": (ENGLISH, "en", (1920, 1080), 42, 20),
    "en 9:16": (ENGLISH, "en", (1080, 1920), 42, 20),
    "zh 16:9": (CHINESE, "zh", (1920, 1080), 16, 9),
    "zh 9:16": (CHINESE, "zh", (1080, 1920), 14, 9),
}


@pytest.fixture(scope="module")
def narrations(tmp_path_factory):
    out = {}
    for language, text in (("en", ENGLISH), ("zh", CHINESE)):
        wav = tmp_path_factory.mktemp(language) / "n.wav"
        words = EspeakSpeech().synthesize(text, language=language, voice="", out=wav)
        with wave.open(str(wav)) as audio:
            out[language] = (words, audio.getnframes() / audio.getframerate())
    return out


@pytest.fixture(params=list(CASES))
def cued(request, narrations):
    text, language, size, per_line, rate = CASES[request.param]
    words, duration = narrations[language]
    style = SubtitleStyle(*size)
    cues = build_cues([(3.0, duration, text)], style, words=[words], font_file=subtitle_font(cjk=language == "zh"))
    return text, words, duration, cues, per_line, rate, language == "zh", request.param


def _evenly_timed(text: str, pace_s: float, size: tuple[int, int]) -> list:
    """``text``'s cues with its words timed ``pace_s`` a character apart, as a speech engine would time them."""
    words = [(m, pace_s * m) for m in [0] + [i + 1 for i, c in enumerate(text) if c == " "]]
    return build_cues([(0.0, pace_s * len(text), text)], SubtitleStyle(*size), words=[words])



def _evenly_timed_lines(text: str, pace_s: float, size: tuple[int, int]) -> list[str]:
    """The lines of ``_evenly_timed``'s cues, which hold the whole text in order."""
    lines = [line for cue in _evenly_timed(text, pace_s, size) for line in cue.lines]
    assert " ".join(lines) == text
    return lines

def _said(cue, cjk: bool) -> str:
    return ("" if cjk else " ").join(cue.lines)


def test_every_cue_holds_at_most_two_lines_within_the_line_length(cued):
    _, _, _, cues, per_line, _, _, _ = cued
    assert cues and all(1 <= len(c.lines) <= 2 for c in cues)
    assert max(len(line) for c in cues for line in c.lines) <= per_line


def test_cues_cover_the_narration_on_its_word_timings(cued):
    text, words, duration, cues, _, _, cjk, _ = cued
    assert "".join(_said(c, cjk).replace(" ", "") for c in cues) == text.replace(" ", "")  # every word, in order, once
    assert cues[0].start_s == 3.0 and cues[-1].end_s == pytest.approx(3.0 + duration, abs=0.001)
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(cues))
    heard = {round(3.0 + t, 3) for _, t in words}
    assert all(c.start_s in heard for c in cues)  # each cue starts when its first word is heard


def test_cues_last_long_enough_to_read_and_no_longer_than_seven_seconds(cued):
    _, _, _, cues, _, rate, cjk, _ = cued
    for cue in cues:
        seconds = cue.end_s - cue.start_s
        assert MIN_CUE_S <= seconds <= MAX_CUE_S, cue
        assert len(_said(cue, cjk).replace(" ", "") if cjk else _said(cue, cjk)) / seconds <= rate, cue


def test_no_cue_is_a_sentences_last_word_or_two_alone(cued):
    text, _, _, cues, _, _, cjk, _ = cued
    ends = {s.replace(" ", "") for s in sentences(text)}
    for cue in cues:
        said = _said(cue, cjk)
        small = len(said.replace(" ", "")) <= 2 if cjk else len(said.split()) <= 2
        if small:
            assert said.replace(" ", "") in ends, f"{said!r} is a sentence's tail on its own"  # a whole short sentence is fine


def test_cues_end_at_punctuation_where_the_sentence_allows(cued):
    _, _, _, cues, _, _, cjk, case = cued
    enders = set("。，、！？；：") if cjk else set(".,?!;:")
    at_punctuation = sum(1 for c in cues if c.lines[-1][-1] in enders)
    narrow = case == "en 9:16"  # English on the narrow picture: its clauses outgrow a cue
    assert at_punctuation >= (len(cues) // 2 if narrow else len(cues) - 1)


def test_two_lines_are_balanced():
    style = SubtitleStyle(1920, 1080)
    cue = build_cues([(0.0, 4.5, "Factories grew larger, and silicon wafers became thinner every single year.")], style)
    assert len(cue) == 1 and len(cue[0].lines) == 2
    top, bottom = (len(line) for line in cue[0].lines)
    assert abs(top - bottom) <= 14


def test_the_english_tail_no_longer_stands_alone():
    text = ("Twenty years ago, electricity from solar panels cost more than almost any other source. "
            "Today it is often the cheapest power a country can build.")
    cues = _evenly_timed(text, 0.066, (1920, 1080))
    assert not any(" ".join(c.lines) == "almost any other source." for c in cues)


def test_a_noun_phrase_stays_whole_in_a_cue_and_on_a_line():
    text = "Espresso machines, instant powder and pour-over kettles each changed how we make it."
    cues = _evenly_timed(text, 0.07, (1920, 1080))
    lines = [line for cue in cues for line in cue.lines]
    assert len(cues) == 2 and " ".join(lines) == text
    assert not any(line.endswith("pour-over") or line.endswith("instant") for line in lines)


def test_no_line_ends_on_an_article_or_between_an_adjective_and_its_noun_on_9_16():
    text = ("Brazil became the largest producer of the crop. Monks in Yemen were brewing the roasted beans "
            "to stay awake during night prayers.")
    lines = _evenly_timed_lines(text, 0.065, (1080, 1920))
    assert not [line for line in lines if line.split()[-1] in ("the", "a", "roasted")]


def test_srt_follows_the_burned_cues(cued):
    _, _, _, cues, _, _, _, _ = cued
    srt = to_srt(cues)
    assert srt.count(" --> ") == len(cues) and all("\n".join(c.lines) in srt for c in cues)


def test_chinese_lines_break_between_a_readers_words_and_a_fragment_joins_its_sentence(tmp_path):
    text = ("沿着这条路，中国的丝绸、茶叶和瓷器被运往波斯和罗马，而葡萄、核桃和玻璃则从西方传入中原。"
            "今天，“一带一路”倡议让这条古老的道路重新受到关注。")
    words = EspeakSpeech().synthesize(text, language="zh", voice="", out=tmp_path / "n.wav")
    with wave.open(str(tmp_path / "n.wav")) as audio:
        duration = audio.getnframes() / audio.getframerate()
    cues = build_cues([(0.0, duration, text)], SubtitleStyle(1080, 1920), words=[words], font_file=subtitle_font(cjk=True))
    lines = [line for cue in cues for line in cue.lines]
    assert "".join(lines) == text
    ends = list(itertools.accumulate(len(line) for line in lines))[:-1]
    assert set(ends) <= word_starts(text), [line for line, end in zip(lines, ends) if end not in word_starts(text)]  # not 这|条
    said = ["".join(cue.lines) for cue in cues]
    assert not [s for s, c in zip(said, cues) if c.end_s - c.start_s < 1.5 and s not in sentences(text)]  # not 而葡萄、
    uneven = [c.lines for c in cues if len(c.lines) == 2 and min(map(len, c.lines)) < 0.4 * max(map(len, c.lines))]
    assert not uneven  # not "而葡萄、 / 核桃和玻璃则从西方传入中原。"


def test_no_cue_ends_at_an_abbreviations_full_stop():
    text = ("Coffee futures in New York hit $4.30 per lb. in Feb. 2025, up 70% from a year earlier. "
            "Vietnam, the No. 1 robusta grower, lost a fifth of its crop. Analysts at J.P. Morgan expect prices to ease.")
    cues = _evenly_timed(text, 0.066, (1920, 1080))
    said = [" ".join(c.lines) for c in cues]
    assert " ".join(said) == text
    # "per lb. | in Feb." may be cut before its preposition, like any phrase; not as if "lb." ended a sentence
    assert not [s for s in said if s.endswith(("Feb.", "No.", "J.P."))], said


def test_a_name_and_such_as_stay_on_one_line_on_9_16():
    text = ("The Good Roads Movement in the United States was founded by bicycle clubs in 1880. "
            "Today cities such as Copenhagen and Amsterdam move more people by bike than by car.")
    lines = _evenly_timed_lines(text, 0.066, (1080, 1920))
    assert any("Good Roads Movement" in line for line in lines)
    assert not [line for line in lines if line.endswith(" such")]
