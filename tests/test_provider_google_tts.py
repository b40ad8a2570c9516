"""GoogleSpeech against a fake text:synthesize endpoint: requests, splitting, joined WAV, errors."""

from __future__ import annotations

import struct
import wave

import httpx
import pytest

from tests.fakes.google_tts import LIMIT, MS_PER_BYTE, FakeTextToSpeech, error
from tests.fakes.server import Reply
from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.providers.google_tts import GoogleSpeech, split_text
from ytmaker.providers.retrying import QuickRetry
from ytmaker.stages.audio import wav_duration_ms

KEY = "AIzaFAKE-tts-key-0123456789abc"
RATE = 16000


@pytest.fixture
def fake():
    with FakeTextToSpeech(KEY) as server:
        yield server


def speech(fake, *, timeout_s=5.0, **kwargs) -> GoogleSpeech:
    kwargs.setdefault("retry", QuickRetry(attempts=3, first_wait_s=0.01, max_wait_s=2))
    return GoogleSpeech(api_key=kwargs.pop("api_key", KEY), client=httpx.Client(base_url=fake.url, timeout=timeout_s),
                        sample_rate=RATE, **kwargs)


def samples(path) -> list[int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        raw = wav.readframes(wav.getnframes())
    return [value for (value,) in struct.iter_unpack("<h", raw)]


def test_a_segment_is_one_linear16_request_with_the_projects_voice(fake, tmp_path):
    out = tmp_path / "000.wav"
    text = "Honeybees talk by dancing."

    speech(fake).synthesize(text, language="en", voice="en-GB-Neural2-B", out=out)

    [call] = fake.syntheses()
    assert call.headers["x-goog-api-key"] == KEY and "key" not in call.query
    assert call.json() == {"input": {"text": text}, "voice": {"languageCode": "en-GB", "name": "en-GB-Neural2-B"},
                           "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": RATE}}
    assert set(samples(out)) == {1}
    assert wav_duration_ms(out) == MS_PER_BYTE * len(text)


@pytest.mark.parametrize("language, voice, expected", [
    ("de", "", {"languageCode": "de-DE"}),
    ("en", "en-us", {"languageCode": "en-US"}),  # an espeak voice is not sent to Google
    ("zh", "", {"languageCode": "cmn-CN"}),
    ("pt-pt", "", {"languageCode": "pt-PT"}),
])
def test_the_language_alone_picks_the_default_voice(fake, tmp_path, language, voice, expected):
    speech(fake).synthesize("Hallo Welt.", language=language, voice=voice, out=tmp_path / "a.wav")

    assert fake.syntheses()[0].json()["voice"] == expected


def test_the_key_can_travel_as_a_query_parameter(fake, tmp_path):
    speech(fake, key_in="query").synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    [call] = fake.syntheses()
    assert call.query["key"] == KEY and "x-goog-api-key" not in call.headers


def test_a_long_narration_is_split_between_sentences_and_joined_into_one_wav(fake, tmp_path):
    sentences = [f"Sentence {i} tells how foragers share the way to flowers with their sisters." for i in range(160)]
    text = " ".join(sentences)
    assert len(text.encode()) > 2 * LIMIT
    out = tmp_path / "long.wav"

    speech(fake).synthesize(text, language="en", voice="", out=out)

    sent = [call.json()["input"]["text"] for call in fake.syntheses()]
    assert len(sent) == 3
    assert all(len(piece.encode()) <= LIMIT for piece in sent)
    assert all(piece.endswith("sisters.") for piece in sent)  # cut between sentences
    assert " ".join(sent) == text
    values = samples(out)
    sizes = [RATE * MS_PER_BYTE * len(piece.encode()) // 1000 for piece in sent]
    assert values == [1] * sizes[0] + [2] * sizes[1] + [3] * sizes[2]  # in order, nothing lost


def test_chinese_text_is_split_by_bytes_not_characters():
    text = "蜜蜂用舞蹈交流。" * 400  # 3 bytes a character: 9,600 bytes in 3,200 characters

    pieces = split_text(text)

    assert len(pieces) == 2
    assert all(len(p.encode()) <= LIMIT and p.endswith("。") for p in pieces)
    assert "".join(pieces) == text


def test_one_sentence_longer_than_the_limit_is_cut_at_clauses_then_words():
    clauses = ", ".join(f"clause {i} of a very long sentence about bees" for i in range(200)) + "."
    words = " ".join(["pollen"] * 1500)

    for sentence in (clauses, words):
        pieces = split_text(sentence)
        assert len(pieces) > 1
        assert all(len(p.encode()) <= LIMIT for p in pieces)
        assert " ".join(pieces).split() == sentence.split()


@pytest.mark.parametrize("reply, expected", [
    (error(403, "PERMISSION_DENIED", "Cloud Text-to-Speech API has not been used in project 1"), CredentialsRejected),
    (error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), CredentialsRejected),
    (error(400, "INVALID_ARGUMENT", "Voice 'xx' does not exist."), InvalidInput),
])
def test_refusals_are_permanent(fake, tmp_path, reply, expected):
    fake.fail(reply)

    with pytest.raises(expected) as info:
        speech(fake).synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    assert len(fake.syntheses()) == 1
    assert KEY not in str(info.value)


def test_a_wrong_key_names_the_setting_but_not_the_key(fake, tmp_path):
    with pytest.raises(CredentialsRejected) as info:
        speech(fake, api_key="AIza-wrong-999999").synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    assert "YTMAKER_GOOGLE_TTS_API_KEY" in str(info.value) and "AIza-wrong-999999" not in str(info.value)


def test_a_429_with_a_long_retry_after_goes_to_the_stage_retries(fake, tmp_path):
    fake.fail(error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", **{"Retry-After": "30"}))

    with pytest.raises(ProviderUnavailable) as info:
        speech(fake).synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    assert info.value.retry_after == 30
    assert len(fake.syntheses()) == 1


def test_server_errors_and_short_throttles_are_retried_in_the_call(fake, tmp_path):
    fake.fail(error(503, "UNAVAILABLE", "The service is currently unavailable."),
              error(429, "RESOURCE_EXHAUSTED", "slow down", **{"Retry-After": "0"}))
    out = tmp_path / "a.wav"

    speech(fake).synthesize("Hello.", language="en", voice="", out=out)

    assert len(fake.syntheses()) == 3
    assert set(samples(out)) == {1}


def test_persistent_server_errors_are_transient_after_three_attempts(fake, tmp_path):
    fake.fail(*[error(500, "INTERNAL", "Internal error encountered.")] * 3)

    with pytest.raises(ProviderUnavailable):
        speech(fake).synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    assert len(fake.syntheses()) == 3


def test_a_slow_answer_past_the_timeout_is_transient(fake, tmp_path):
    fake.fail(Reply(delay_s=1.0))

    with pytest.raises(ProviderUnavailable, match="timed out"):
        speech(fake, timeout_s=0.2, retry=QuickRetry(attempts=1)).synthesize(
            "Hello.", language="en", voice="", out=tmp_path / "a.wav")


def test_an_answer_without_audio_is_transient(fake, tmp_path):
    fake.fail(Reply.json(200, {"audioContent": "%%% not base64 %%%"}))

    with pytest.raises(ProviderUnavailable, match="audio"):
        speech(fake, retry=QuickRetry(attempts=1)).synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")


def test_a_malformed_json_answer_is_retried_in_the_call(fake, tmp_path):
    fake.fail(Reply(200, b'{"audioContent": "UklGR', {"Content-Type": "application/json"}))

    speech(fake).synthesize("Hello.", language="en", voice="", out=tmp_path / "a.wav")

    assert len(fake.syntheses()) == 2 and (tmp_path / "a.wav").read_bytes()[:4] == b"RIFF"


def test_an_empty_segment_is_refused_without_a_request(fake, tmp_path):
    with pytest.raises(InvalidInput):
        speech(fake).synthesize("   ", language="en", voice="", out=tmp_path / "a.wav")

    assert fake.syntheses() == []
