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
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

#: our language codes -> espeak-ng voice names
VOICES = {"en": "en-us", "zh": "cmn", "cmn": "cmn", "de": "de", "fr": "fr", "es": "es", "it": "it",
          "pt": "pt", "ja": "ja", "ru": "ru", "ar": "ar", "he": "he", "hi": "hi", "ko": "ko", "nl": "nl"}


class _Engine:
    _lock = threading.Lock()
    _lib = None
    _rate = 0
    _buffer: list[bytes] = []

    @classmethod
    def load(cls):
        if cls._lib is None:
            try:
                import espeakng_loader
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
    def _collect(cls, wav, count, _events) -> int:
        if count > 0:
            cls._buffer.append(ctypes.string_at(wav, count * 2))
        return 0

    @classmethod
    def synthesize(cls, text: str, voice: str, words_per_minute: int) -> tuple[bytes, int]:
        with cls._lock:
            lib = cls.load()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InvalidInput(f"espeak-ng has no voice {voice!r}; use a language code such as en or zh")
            lib.espeak_SetParameter(_RATE, words_per_minute, 0)
            cls._buffer = []
            data = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            return b"".join(cls._buffer), cls._rate


class EspeakSpeech:
    """Narration as a mono 16-bit WAV, voice chosen from the project's language or voice name."""

    def __init__(self, words_per_minute: int = 165) -> None:
        self.words_per_minute = words_per_minute

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> None:
        name = voice or VOICES.get(language.split("-")[0].lower(), language)
        pcm, rate = _Engine.synthesize(text, name, self.words_per_minute)
        if not pcm:
            raise InvalidInput(f"espeak-ng produced no audio for segment text {text[:40]!r}")
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm)
