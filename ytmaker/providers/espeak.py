"""Offline speech with espeak-ng, loaded from the ``espeakng-loader`` wheel (no system package).

libespeak-ng keeps global state and is not thread-safe, so one lock serialises
synthesis inside a process; it is fast (hundreds of times real time), so the
lock costs little next to the rest of a stage.
"""

from __future__ import annotations

import ctypes
import threading
import wave
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


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

#: our language codes -> espeak-ng voice names
VOICES = {"en": "en-us", "zh": "cmn", "cmn": "cmn", "de": "de", "fr": "fr", "es": "es", "it": "it",
          "pt": "pt", "ja": "ja", "ru": "ru", "ar": "ar", "he": "he", "hi": "hi", "ko": "ko", "nl": "nl"}


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


class EspeakSpeech:
    """Narration as a mono 16-bit WAV, voice chosen from the project's language or voice name.

    espeak-ng reports where each word starts in the audio; those timings are returned, so
    subtitles follow the real speech instead of sharing a segment's time by text length.
    """

    def __init__(self, words_per_minute: int = 165) -> None:
        self.words_per_minute = words_per_minute

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> list[tuple[int, float]]:
        name = voice or VOICES.get(language.split("-")[0].lower(), language)
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
