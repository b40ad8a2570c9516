"""Instant providers for orchestration benchmarks: tiny but valid media, made without delay.

They let the stages' own code (records, files, checksums, progress) run at full
speed, so a benchmark measures ytmaker's overhead rather than speech or drawing.
"""

from __future__ import annotations

import math
import struct
import time
import wave
import zlib
from pathlib import Path

from ytmaker.providers.base import ImageRequest


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


class InstantImages:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s  # stands in for a remote provider's latency (the image fan-out benchmark)

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        if self.delay_s:
            time.sleep(self.delay_s)
        shade = (40 * request.index) % 200
        out.write_bytes(_png(64, 36 if request.width >= request.height else 114, (shade, 60, 120)))
        return None


class InstantSpeech:
    """A tenth of a second of a quiet tone per segment (pure digital silence would give loudness filters nothing to measure)."""

    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> None:
        samples = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 16000))) for i in range(1600))
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            wav.writeframes(samples)
