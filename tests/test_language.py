"""A text's language: detected from its scripts and common words, voiced by espeak-ng, published in the metadata."""

from __future__ import annotations

import json
import time
import wave

import pytest

from ytmaker.errors import InvalidInput
from ytmaker.language import detect_language
from ytmaker.providers import espeak
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.espeak import EspeakSpeech, check_language, find_voice, voiced_languages
from ytmaker.providers.folder import FolderPublisher

ENGLISH = "Solar panels turn sunlight into electricity. The cells in a panel are made of silicon, and they work best in the sun."
GERMAN = "Die Sonne ist der Stern, der der Erde am nächsten ist. Sie liefert die Energie für das Leben auf unserem Planeten."
SPANISH = "El sol es la estrella más cercana a la Tierra y es la fuente de energía para la vida en nuestro planeta."
FRENCH = "Le soleil est l'étoile la plus proche de la Terre et il fournit l'énergie nécessaire à la vie sur notre planète."
CHINESE = "大熊猫是中国特有的动物，主要生活在四川的山区。它们几乎只吃竹子，每天要花十几个小时进食。"
JAPANESE = "太陽は地球に最も近い恒星です。私たちの惑星の生命にエネルギーを与えています。"
KOREAN = "태양은 지구에서 가장 가까운 별입니다. 우리 행성의 생명에 에너지를 공급합니다."
RUSSIAN = "Солнце — это звезда, ближайшая к Земле. Оно даёт энергию для жизни на нашей планете, и это очень важно."
UKRAINIAN = "Сонце — це зірка, найближча до Землі. Воно дає енергію для життя на нашій планеті, і це дуже важливо."
KHMER = "ព្រះអាទិត្យគឺជាផ្កាយដែលនៅជិតផែនដីបំផុត។ វាផ្តល់ថាមពលដល់ជីវិតនៅលើភពផែនដីរបស់យើង។"


@pytest.mark.parametrize(("text", "language"), [
    (ENGLISH, "en"), (GERMAN, "de"), (SPANISH, "es"), (FRENCH, "fr"), (CHINESE, "zh"), (JAPANESE, "ja"),
    (KOREAN, "ko"), (RUSSIAN, "ru"), (UKRAINIAN, "uk"), (KHMER, "km"),
])
def test_the_language_is_told_from_the_text(text, language):
    assert detect_language(text) == language


def test_a_mixed_text_is_in_its_majority_language():
    # Chinese quoting English names stays Chinese: a character weighs a syllable, not a letter.
    assert detect_language("我们用pandas的DataFrame来处理数据，这个库非常方便，速度也很快。") == "zh"
    assert detect_language(ENGLISH * 3 + CHINESE) == "en"
    assert detect_language(GERMAN * 3 + SPANISH) == "de"
    assert detect_language(CHINESE * 3 + ENGLISH) == "zh"


def test_a_text_it_cannot_tell_is_undecided():
    assert detect_language("Xq zvrk plomb trin.") is None
    assert detect_language("12345 !!! ---") is None


@pytest.mark.parametrize("text", [ENGLISH, CHINESE, GERMAN])
def test_detecting_200_kb_takes_well_under_a_second(text):
    big = (text + "\n") * (200_000 // len((text + "\n").encode()) + 1)
    started = time.perf_counter()
    assert detect_language(big) == detect_language(text)
    assert time.perf_counter() - started < 1.0  # about 0.04 s here; generous for a loaded 2-core machine


def test_the_voiced_languages_come_from_espeak_ng_and_are_asked_once(monkeypatch):
    voiced_languages.cache_clear()
    asked = []
    real = espeak._Engine.languages
    monkeypatch.setattr(espeak._Engine, "languages", classmethod(lambda cls: asked.append(1) or real()))
    try:
        languages = voiced_languages()
        assert {"en", "en-us", "cmn", "de", "es", "ja"} <= set(languages)
        assert "km" not in languages
        voiced_languages()
        assert len(asked) == 1
    finally:
        voiced_languages.cache_clear()


@pytest.mark.parametrize(("language", "voice"), [
    ("en", "en-us"), ("en-GB", "en"), ("zh", "cmn"), ("zh-TW", "cmn"), ("de", "de"), ("es", "es"), ("pt-BR", "pt-br"),
    ("km", None), ("xx", None),
])
def test_the_voice_follows_the_language(language, voice):
    found = find_voice(language)
    assert (found.lower() if found else None) == voice


def test_a_language_espeak_cannot_voice_is_refused_with_the_list_of_those_it_can():
    check_language("de")
    with pytest.raises(InvalidInput, match=r"no voice for language 'km'.*\bcmn\b.*\bde\b.*\bes\b"):
        check_language("km")


def test_speech_is_made_with_the_languages_voice(tmp_path, monkeypatch):
    # Given the engine's synthesis watched,
    voices = []
    real = espeak._Engine.synthesize
    monkeypatch.setattr(espeak._Engine, "synthesize",
                        classmethod(lambda cls, text, voice, wpm: voices.append(voice) or real(text, voice, wpm)))
    speech = EspeakSpeech()

    # when German and Chinese are spoken with no voice named,
    speech.synthesize("Guten Tag, die Sonne scheint.", language="de", voice="", out=tmp_path / "de.wav")
    timings = speech.synthesize(CHINESE, language="zh", voice="", out=tmp_path / "zh.wav")

    # then each is said by its language's voice, and the Mandarin one says something.
    assert [v.lower() for v in voices] == ["de", "cmn"]
    with wave.open(str(tmp_path / "zh.wav")) as wav:
        assert wav.getnframes() / wav.getframerate() > 2.0
    assert len(timings) > 5


def test_the_published_metadata_carries_the_language(tmp_path):
    video = tmp_path / "video.mp4"
    video.write_bytes(b"not really a video")
    request = PublishRequest(project_id="0123456789abcdef", title="大熊猫", description="", tags=[], language="zh",
                             video=video, thumbnail=None)

    FolderPublisher(tmp_path / "published").publish(request)

    (folder,) = (tmp_path / "published").iterdir()
    assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["language"] == "zh"
