"""EdgeSpeech through the real ``edge-tts`` package, against a fake read-aloud WebSocket with real MP3 audio."""

from __future__ import annotations

import json
import wave
from itertools import pairwise
from pathlib import Path

import pytest

from tests.fakes.edge import WORD_S, FakeEdge, words_of
from ytmaker.config import Settings
from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.providers.edge import EdgeSpeech, voice_for, word_offsets
from ytmaker.providers.registry import Providers
from ytmaker.providers.retrying import QuickRetry
from ytmaker.stages.audio import read_word_times, write_word_times

TEXT = "Honeybees talk by dancing. The angle of the dance points to the food!"


@pytest.fixture
def fake():
    with FakeEdge() as server:
        yield server


def speech(fake, **kwargs) -> EdgeSpeech:
    kwargs.setdefault("retry", QuickRetry(attempts=2, first_wait_s=0.01, max_wait_s=1))
    kwargs.setdefault("timeout_s", 5)
    return EdgeSpeech(endpoint=fake.url, **kwargs)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getframerate() == 24_000
        return wav.getnframes() / wav.getframerate()


def test_english_gets_a_neural_voice_real_audio_and_each_words_timing(fake, tmp_path):
    out = tmp_path / "000.wav"
    words = speech(fake, rate="+15%", pitch="-5Hz").synthesize(TEXT, language="en", voice="", out=out)

    spoken = words_of(TEXT)
    assert [TEXT[offset:offset + len(w)] for (offset, _), w in zip(words, spoken)] == spoken
    assert [round(s, 2) for _, s in words] == [round(0.1 + n * WORD_S, 2) for n in range(len(spoken))]
    assert abs(wav_seconds(out) - (0.2 + WORD_S * len(spoken))) < 0.1  # the fake's MP3, decoded
    [ssml] = fake.ssml()
    assert "(en-US, AriaNeural)" in ssml and "rate='+15%'" in ssml and "pitch='-5Hz'" in ssml
    [connection] = fake.connections
    assert set(connection["query"]) >= {"TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version"}
    assert '"wordBoundaryEnabled":"true"' in connection["frames"][0]
    write_word_times(out, words)  # what the audio stage does: the file subtitles read
    assert read_word_times(out) == [(o, round(s, 3)) for o, s in words]


def test_chinese_gets_a_chinese_voice_and_its_words_are_placed_in_the_text(fake, tmp_path):
    text = "蜜蜂用舞蹈交流。舞蹈的角度指向食物。"
    words = speech(fake).synthesize(text, language="zh", voice="", out=tmp_path / "zh.wav")

    assert "(zh-CN, XiaoxiaoNeural)" in fake.ssml()[0]
    assert [text[o:o + len(w)] for (o, _), w in zip(words, words_of(text))] == words_of(text)
    assert len(words) == len(words_of(text))
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in pairwise(words))


def test_a_chosen_voice_is_used_and_an_espeak_voice_name_falls_back_to_the_languages():
    assert voice_for("en", "en-GB-SoniaNeural") == "en-GB-SoniaNeural"
    assert voice_for("en-us", "en-us") == "en-US-AriaNeural"
    assert voice_for("cmn", "") == "zh-CN-XiaoxiaoNeural"
    with pytest.raises(InvalidInput, match="--voice"):
        voice_for("tlh", "")
    assert word_offsets("a b a", [("a", 0.0), ("zz", 0.1), ("a", 0.2)]) == [(0, 0.0), (4, 0.2)]


def test_a_long_text_is_split_under_the_request_size_and_the_timings_carry_on(fake, tmp_path):
    # long words: over 4 kB in few words (the fake speaks a quarter second a word)
    text = " ".join(f"Extraordinarily{n} communicative honeybees choreographically instructing neighbouring foragers."
                    for n in range(50))
    assert len(text.encode()) > 4096
    out = tmp_path / "long.wav"
    words = speech(fake).synthesize(text, language="en", voice="en-GB-SoniaNeural", out=out)

    assert len(fake.connections) == 2  # one connection a piece, each under 4,096 bytes of SSML text
    assert all(len(s.split("<prosody", 1)[1].encode()) < 4096 + 200 for s in fake.ssml())
    assert len(words) == len(words_of(text))
    assert all(b[1] > a[1] for a, b in pairwise(words))  # the second piece's times follow the first's audio
    assert words[-1][1] < wav_seconds(out) <= words[-1][1] + 1.0


@pytest.mark.parametrize("fault", [("status", 503), "drop", "garble"], ids=["503", "dropped", "garbled"])
def test_a_refused_dropped_or_garbled_answer_is_retried_then_transient(fake, tmp_path, fault):
    fake.fail(fault)
    assert speech(fake).synthesize(TEXT, language="en", voice="", out=tmp_path / "a.wav")
    fake.fail(fault, fault)
    with pytest.raises(ProviderUnavailable):
        speech(fake).synthesize(TEXT, language="en", voice="", out=tmp_path / "b.wav")
    assert not (tmp_path / "b.wav.mp3").exists()


def test_429_is_transient_and_403_says_to_upgrade_edge_tts(fake, tmp_path):
    fake.fail(("status", 429), ("status", 429))
    with pytest.raises(ProviderUnavailable, match="429") as caught:
        speech(fake).synthesize(TEXT, language="en", voice="", out=tmp_path / "a.wav")
    assert caught.value.retry_after == 0
    fake.fail(("status", 403), ("status", 403))  # the library adjusts its clock once on a 403, then gives up
    with pytest.raises(CredentialsRejected, match="upgrade"):
        speech(fake).synthesize(TEXT, language="en", voice="", out=tmp_path / "b.wav")


def test_a_hang_and_a_closed_port_are_transient(fake, tmp_path):
    fake.fail("hang")
    with pytest.raises(ProviderUnavailable, match="timed out"):
        speech(fake, timeout_s=1, retry=QuickRetry(attempts=1)).synthesize(TEXT, language="en", voice="", out=tmp_path / "a.wav")
    url = fake.url
    fake.__exit__(None, None, None)
    with pytest.raises(ProviderUnavailable, match="lost or refused"):
        EdgeSpeech(endpoint=url, retry=QuickRetry(attempts=1)).synthesize(TEXT, language="en", voice="", out=tmp_path / "b.wav")
    fake.__enter__()


def test_the_registry_builds_it_from_settings(fake, tmp_path):
    settings = Settings(_env_file=None, speech_provider="edge", edge_url=fake.url, edge_rate="-10%", edge_pitch="+2Hz")
    words = Providers(settings, tmp_path).speech.synthesize(TEXT, language="en", voice="", out=tmp_path / "r.wav")
    assert words and "rate='-10%'" in fake.ssml()[0] and "pitch='+2Hz'" in fake.ssml()[0]
    assert json.loads(json.dumps(words))  # plain numbers, as the word-timing file holds them
