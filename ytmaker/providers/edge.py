"""Narration with Microsoft Edge's neural voices through the ``edge-tts`` package (no key).

Each segment's text goes over edge-tts's WebSocket (the library splits it under
the service's 4,096-byte request size and opens one connection a piece); the
MP3 it streams back is decoded to WAV by FFmpeg, and its WordBoundary events
become the word timings the subtitles and word captions start on
(``WordTimes``: each word's character offset in the text, and when it is said).

Failures, mapped here::

    connection refused or dropped, a read timeout,
    a handshake answered 429/5xx, a garbled stream     -> ProviderUnavailable
    a handshake answered 401/403 (the library's token
    is no longer accepted)                              -> CredentialsRejected: upgrade edge-tts
    a voice edge-tts cannot name                        -> InvalidInput
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from pathlib import Path

import aiohttp
import edge_tts
from edge_tts import communicate as edge_communicate
from edge_tts import exceptions as edge_errors

from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.providers.base import WordTimes
from ytmaker.providers.http import parse_retry_after
from ytmaker.providers.retrying import QuickRetry

#: A neural voice per language (the first part of the project's language code) when none is chosen.
DEFAULT_VOICES = {
    "en": "en-US-AriaNeural", "zh": "zh-CN-XiaoxiaoNeural", "ja": "ja-JP-NanamiNeural", "ko": "ko-KR-SunHiNeural",
    "es": "es-ES-ElviraNeural", "fr": "fr-FR-DeniseNeural", "de": "de-DE-KatjaNeural", "it": "it-IT-ElsaNeural",
    "pt": "pt-BR-FranciscaNeural", "ru": "ru-RU-SvetlanaNeural", "hi": "hi-IN-SwaraNeural", "ar": "ar-SA-ZariyahNeural",
    "nl": "nl-NL-ColetteNeural", "pl": "pl-PL-ZofiaNeural", "tr": "tr-TR-EmelNeural", "vi": "vi-VN-HoaiMyNeural",
}
#: What an Edge voice's short name looks like (``en-US-AriaNeural``); anything else (an espeak voice) is not one.
VOICE_NAME = re.compile(r"^[a-z]{2,3}-[A-Za-z0-9]{2,4}(-[A-Za-z]+)?-[A-Za-z0-9]+Neural$")
#: The service's endpoint as edge-tts builds it; ``endpoint=`` replaces the part before the query.
SERVICE_URL = edge_communicate.WSS_URL
SAMPLE_RATE = 24_000  # the service's audio-24khz-48kbitrate-mono-mp3
TICKS_PER_S = 10_000_000
_endpoint_lock = threading.Lock()


def voice_for(language: str, voice: str = "") -> str:
    """The Edge voice to speak ``language`` with: ``voice`` when it names one, else the language's default."""
    if voice and VOICE_NAME.match(voice):
        return voice
    base = (language or "en").replace("_", "-").split("-")[0].lower()
    if base == "cmn":
        base = "zh"
    chosen = DEFAULT_VOICES.get(base)
    if chosen is None:
        raise InvalidInput(f"no default Edge voice for language {language!r}; choose one with --voice "
                           "(`edge-tts --list-voices` lists them, e.g. en-GB-SoniaNeural)")
    return chosen


def word_offsets(text: str, words: list[tuple[str, float]]) -> WordTimes:
    """Each boundary's word found in ``text`` in order: (character offset, seconds); words not found are skipped."""
    times: WordTimes = []
    cursor = 0
    for word, seconds in words:
        at = text.find(word, cursor) if word else -1
        if at < 0:
            continue
        times.append((at, seconds))
        cursor = at + len(word)
    return times


class EdgeSpeech:
    """A :class:`~ytmaker.providers.base.SpeechProvider` on Edge's read-aloud service."""

    def __init__(self, *, rate: str = "+0%", pitch: str = "+0Hz", timeout_s: float = 60.0,
                 endpoint: str | None = None, retry: QuickRetry | None = None) -> None:
        self.retry = retry or QuickRetry()
        self.rate = rate
        self.pitch = pitch
        self.timeout_s = timeout_s
        # edge-tts reads its URL from a module constant: one endpoint per process (a relay, or the tests' fake)
        with _endpoint_lock:
            edge_communicate.WSS_URL = (SERVICE_URL.replace(SERVICE_URL.split("?")[0], endpoint.rstrip("/"), 1)
                                        if endpoint else SERVICE_URL)

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> WordTimes:
        chosen = voice_for(language, voice)
        mp3 = out.with_name(out.name + ".mp3")
        try:
            words = self.retry(lambda: _in_own_loop(self._stream(text, chosen, mp3)), what="edge_tts.stream")
            run_ffmpeg(["-i", str(mp3), "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", str(out)],
                       timeout_s=self.timeout_s)
        finally:
            mp3.unlink(missing_ok=True)
        return word_offsets(text, words)

    async def _stream(self, text: str, voice: str, mp3: Path) -> list[tuple[str, float]]:
        try:
            speaker = edge_tts.Communicate(text, voice, rate=self.rate, pitch=self.pitch, boundary="WordBoundary",
                                           connect_timeout=int(max(1, self.timeout_s)),
                                           receive_timeout=int(max(1, self.timeout_s)))
        except ValueError as exc:
            raise InvalidInput(f"edge-tts refused the voice or settings: {exc}") from exc
        words: list[tuple[str, float]] = []
        try:
            with mp3.open("wb") as audio:
                chunks = speaker.stream()
                while True:  # the library waits on a silent socket for ever: each chunk has until the timeout
                    try:
                        chunk = await asyncio.wait_for(anext(chunks), self.timeout_s)
                    except StopAsyncIteration:
                        break
                    if chunk["type"] == "audio":
                        audio.write(chunk["data"])
                    elif chunk["type"] == "WordBoundary":
                        words.append((chunk.get("text", ""), chunk.get("offset", 0) / TICKS_PER_S))
        except aiohttp.ClientResponseError as exc:  # the handshake answered with an HTTP error
            raise _refused(exc) from exc
        except TimeoutError as exc:
            raise ProviderUnavailable(f"Edge TTS timed out: nothing for {self.timeout_s:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ProviderUnavailable(f"the connection to Edge TTS was lost or refused ({type(exc).__name__})") from exc
        except (edge_errors.EdgeTTSException, ValueError, KeyError) as exc:  # a garbled stream, no audio
            raise ProviderUnavailable(f"Edge TTS sent an unusable answer ({type(exc).__name__}: {str(exc)[:200]})") from exc
        return words


def _refused(exc: aiohttp.ClientResponseError) -> Exception:
    status = exc.status
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(exc.headers.get("Retry-After")) if exc.headers else None
        return ProviderUnavailable(f"Edge TTS refused the connection (HTTP {status})", retry_after=retry_after)
    if status in (401, 403):
        return CredentialsRejected(f"Edge TTS refused the connection (HTTP {status}): the edge-tts package's token is "
                                   "no longer accepted; upgrade it (pip install -U edge-tts)")
    return InvalidInput(f"Edge TTS refused the request (HTTP {status})")


def _in_own_loop(work):
    """Run a coroutine to its end from sync code, in a fresh thread when this one already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()
