"""Google Cloud Text-to-Speech: ``POST /v1/text:synthesize``, LINEAR16, one WAV per segment.

A request takes at most 5,000 bytes of text, so a narration is split on
sentence boundaries (then clauses, words, characters for a sentence that is
itself too long), each piece synthesized, and the pieces' PCM joined into one
WAV. LINEAR16 answers carry a WAV header, read with :mod:`wave`. Errors:

    400 API_KEY_INVALID, 401, 403      -> CredentialsRejected
    400 (bad voice, language, text)    -> InvalidInput
    429, 5xx                           -> ProviderUnavailable(retry_after)
    timeouts, connection errors        -> ProviderUnavailable

(the generic part in :mod:`ytmaker.providers.http`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import wave
from pathlib import Path

import httpx

from ytmaker import text as t
from ytmaker.errors import CredentialsRejected, InvalidInput, MediaError, ProviderUnavailable
from ytmaker.providers.http import ErrorBody, Service, google_body, request
from ytmaker.providers.retrying import QuickRetry

PATH = "/v1/text:synthesize"
#: The API's fixed limit on input bytes per request.
MAX_INPUT_BYTES = 5000
DEFAULT_SAMPLE_RATE = 24_000
#: Region used when a project gives only a language ("en" -> "en-US").
DEFAULT_REGIONS = {
    "en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "it": "it-IT", "pt": "pt-BR", "nl": "nl-NL",
    "ja": "ja-JP", "ko": "ko-KR", "zh": "cmn-CN", "cmn": "cmn-CN", "ru": "ru-RU", "pl": "pl-PL", "tr": "tr-TR",
    "hi": "hi-IN", "ar": "ar-XA", "sv": "sv-SE", "da": "da-DK", "nb": "nb-NO", "fi": "fi-FI", "uk": "uk-UA",
}
_GOOGLE_VOICE = re.compile(r"^([a-z]{2,3}-[A-Z]{2})-[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")
_CLAUSE = re.compile(r"(?<=[,;:，、；：])\s*")

SERVICE = Service("Google Text-to-Speech", read=google_body,
                  credentials="check YTMAKER_GOOGLE_TTS_API_KEY and that the Text-to-Speech API is enabled for its project")


class GoogleSpeech:
    """A :class:`~ytmaker.providers.base.SpeechProvider` on Cloud Text-to-Speech."""

    def __init__(self, *, api_key: str, client: httpx.Client, sample_rate: int = DEFAULT_SAMPLE_RATE,
                 max_bytes: int = MAX_INPUT_BYTES, key_in: str = "header", retry: QuickRetry | None = None) -> None:
        if key_in not in ("header", "query"):
            raise ValueError("key_in is 'header' or 'query'")
        self._api_key = api_key
        self.client = client
        self.sample_rate = sample_rate
        self.max_bytes = min(max_bytes, MAX_INPUT_BYTES)
        self.key_in = key_in
        self.retry = retry or QuickRetry()

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> None:
        pieces = split_text(text, self.max_bytes)
        if not pieces:
            raise InvalidInput("this segment has no text to narrate")
        selection = voice_selection(language, voice)
        params: tuple[int, int, int] | None = None
        frames: list[bytes] = []
        for piece in pieces:
            body = {"input": {"text": piece}, "voice": selection,
                    "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": self.sample_rate}}
            audio = self.retry(functools.partial(self._post, body), what="google_tts.synthesize")
            piece_params, piece_frames = self._pcm(audio)
            if params is not None and piece_params != params:
                raise MediaError(f"Google TTS answered pieces in different formats ({params} then {piece_params})")
            params = piece_params
            frames.append(piece_frames)
        assert params is not None  # pieces is not empty
        channels, width, rate = params
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(channels)
            wav.setsampwidth(width)
            wav.setframerate(rate)
            wav.writeframes(b"".join(frames))

    def _post(self, body: dict) -> bytes:
        headers, params = ({"x-goog-api-key": self._api_key}, None) if self.key_in == "header" else ({}, {"key": self._api_key})
        response = request(self.client, SERVICE, "POST", PATH, what="synthesis", special=_special, json=body,
                           headers=headers, params=params)
        try:
            return base64.b64decode(response.json()["audioContent"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ProviderUnavailable("Google Text-to-Speech sent an answer without readable audio") from exc

    def _pcm(self, audio: bytes) -> tuple[tuple[int, int, int], bytes]:
        """((channels, sample width, rate), frames) of a LINEAR16 answer, with or without its WAV header."""
        if not audio.startswith(b"RIFF"):  # headerless PCM: the format we asked for
            return (1, 2, self.sample_rate), audio
        try:
            with wave.open(io.BytesIO(audio), "rb") as wav:
                return (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()), wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise ProviderUnavailable(f"Google Text-to-Speech sent an unreadable WAV: {exc}") from exc


def voice_selection(language: str, voice: str) -> dict[str, str]:
    """The request's ``voice``: a Google voice name (which implies its language) or the language alone.

    Voices of other engines (an espeak ``en-us``) are ignored rather than sent.
    """
    match = _GOOGLE_VOICE.match(voice or "")
    if match:
        return {"languageCode": match.group(1), "name": voice}
    code = (language or "en").strip()
    if "-" in code:
        base, _, region = code.partition("-")
        return {"languageCode": f"{base.lower()}-{region.upper()}"}
    return {"languageCode": DEFAULT_REGIONS.get(code.lower(), code.lower())}


def split_text(text: str, max_bytes: int = MAX_INPUT_BYTES) -> list[str]:
    """``text`` in pieces of at most ``max_bytes`` UTF-8 bytes, cut between sentences where possible."""
    pieces: list[str] = []
    current = ""
    for sentence in t.sentences(text):
        for part in _fit(sentence, max_bytes):
            candidate = f"{current}{_joiner(part)}{part}" if current else part
            if len(candidate.encode()) <= max_bytes:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _joiner(part: str) -> str:
    return "" if t.is_cjk(part) else " "


def _fit(sentence: str, max_bytes: int) -> list[str]:
    """A too-long sentence cut at clauses, then words, then characters."""
    if len(sentence.encode()) <= max_bytes:
        return [sentence]
    for pattern in (_CLAUSE, re.compile(r"\s+")):
        parts = [p for p in pattern.split(sentence) if p]
        if len(parts) > 1:
            out: list[str] = []
            for chunk in _pack(parts, max_bytes):
                out += _fit(chunk, max_bytes)
            return out
    out, current = [], ""
    for char in sentence:
        if len((current + char).encode()) > max_bytes:
            out.append(current)
            current = char
        else:
            current += char
    return out + ([current] if current else [])


def _pack(parts: list[str], max_bytes: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{_joiner(part)}{part}" if current else part
        if current and len(candidate.encode()) > max_bytes:
            chunks.append(current)
            current = part
        else:
            current = candidate
    return chunks + ([current] if current else [])


def _special(response: httpx.Response, body: ErrorBody) -> Exception | None:
    if "API_KEY_INVALID" in body.reasons:  # a 400, not a 401
        return CredentialsRejected(f"Google Text-to-Speech refused the key ({body}); {SERVICE.credentials}")
    return None
