"""Offline speech with espeak-ng, loaded from the ``espeakng-loader`` wheel (no system package).

The voice follows the project's language (``find_voice``), chosen among the languages the
loaded espeak-ng declares (``espeak_ListVoices``, asked once), so a language it cannot voice is
refused when the project is created (``check_language``), not after the script is written.

libespeak-ng keeps global state and is not thread-safe, so one lock serialises
synthesis inside a process; it is fast (hundreds of times real time), so the
lock costs little next to the rest of a stage.
"""

from __future__ import annotations

import ctypes
import threading
import wave
from functools import lru_cache
from pathlib import Path

from ytmaker.errors import InvalidInput, PermanentError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h): what the synthesis callback gets with each block of samples."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


class _Voice(ctypes.Structure):
    """espeak_VOICE (speak_lib.h); ``languages`` is a run of <priority byte><name>\\0 ended by a zero byte."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

#: language codes whose espeak-ng language is not the code itself (en: espeak-ng's "en" is British; zh: Mandarin)
VOICES = {"en": "en-us", "zh": "cmn"}


class _Engine:
    _lock = threading.Lock()
    _lib = None
    _rate = 0
    _buffer: list[bytes] = []
    _words: list[tuple[int, float]] = []

    @classmethod
    def load(cls):
        if cls._lib is None:
            try:
                import espeakng_loader  # type: ignore[import-untyped]
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise PermanentError("espeak-ng is not installed: pip install espeakng-loader") from exc
            lib = ctypes.cdll.LoadLibrary(str(espeakng_loader.get_library_path()))
            data_parent = str(Path(espeakng_loader.get_data_path()).parent).encode()
            lib.espeak_Initialize.restype = ctypes.c_int
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent, 0)
            if rate <= 0:
                raise PermanentError("espeak-ng failed to initialise; reinstall espeakng-loader")
            cls._callback = _CALLBACK(cls._collect)  # keep a reference: ctypes won't
            lib.espeak_SetSynthCallback(cls._callback)
            cls._lib, cls._rate = lib, rate
        return cls._lib

    @classmethod
    def _collect(cls, wav, count, events) -> int:
        if count > 0:
            cls._buffer.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events and events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:  # text_position counts characters from 1; audio_position is in ms
                cls._words.append((event.text_position - 1, event.audio_position / 1000))
            i += 1
        return 0

    @classmethod
    def synthesize(cls, text: str, voice: str, words_per_minute: int) -> tuple[bytes, int, list[tuple[int, float]]]:
        with cls._lock:
            lib = cls.load()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InvalidInput(f"espeak-ng has no voice {voice!r}; use a language code such as en or zh")
            lib.espeak_SetParameter(_RATE, words_per_minute, 0)
            cls._buffer, cls._words = [], []
            data = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            return b"".join(cls._buffer), cls._rate, cls._words

    @classmethod
    def languages(cls) -> dict[str, str]:
        """Each language code a voice declares (lower case) -> that voice's file name, the preferred voice first."""
        with cls._lock:
            lib = cls.load()
            lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
            voices = lib.espeak_ListVoices(None)
            found: list[tuple[int, str, str]] = []
            i = 0
            while voices[i]:
                voice = voices[i].contents
                file = (voice.identifier or b"").decode("ascii", "replace").rsplit("/", 1)[-1]
                at = voice.languages
                while at and (priority := ctypes.string_at(at, 1)[0]) != 0:
                    name = ctypes.string_at(at + 1)
                    found.append((priority, name.decode("ascii", "replace").lower(), file))
                    at += len(name) + 2
                i += 1
            by_language: dict[str, str] = {}
            for _, language, file in sorted(found):  # a lower number is a stronger claim on the language
                by_language.setdefault(language, file)
            return by_language


@lru_cache(maxsize=1)
def voiced_languages() -> dict[str, str]:
    """The language codes espeak-ng has a voice for, each with its voice (asked once per process)."""
    return _Engine.languages()


def find_voice(language: str) -> str | None:
    """The espeak-ng voice of a language code: ours (en: en-us, zh: cmn), the code's own (en-gb), its base's; None if none."""
    voices = voiced_languages()
    code = language.strip().lower()
    base = code.split("-")[0]
    for candidate in (VOICES.get(code), code, VOICES.get(base), base):
        if candidate and candidate in voices:
            return voices[candidate]
    return None


def check_language(language: str) -> None:
    """InvalidInput, listing the languages espeak-ng voices, when it has no voice for ``language``."""
    if find_voice(language) is None:
        known = ", ".join(sorted(voiced_languages()))
        raise InvalidInput(f"espeak-ng has no voice for language {language!r}; it voices: {known}. Give --language one "
                           "of these, or use a speech provider that speaks it (YTMAKER_SPEECH_PROVIDER=google)")


class EspeakSpeech:
    """Narration as a mono 16-bit WAV, voice chosen from the project's language or voice name.

    espeak-ng reports where each word starts in the audio; those timings are returned, so
    subtitles follow the real speech instead of sharing a segment's time by text length.
    """

    def __init__(self, words_per_minute: int = 165) -> None:
        self.words_per_minute = words_per_minute

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> list[tuple[int, float]]:
        name = voice or find_voice(language) or language
        pcm, rate, words = _Engine.synthesize(text, name, self.words_per_minute)
        if not pcm:
            raise InvalidInput(f"espeak-ng produced no audio for segment text {text[:40]!r}")
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm)
        # A word can be reported twice (CJK); keep the first of each, in order.
        timings: list[tuple[int, float]] = []
        for offset, seconds in words:
            if not timings or offset > timings[-1][0]:
                timings.append((offset, max(seconds, timings[-1][1] if timings else 0.0)))
        return timings
