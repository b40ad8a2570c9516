"""Reading a media file's streams and duration with ``ffmpeg -i`` (the pip-only FFmpeg has no ffprobe)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ytmaker.errors import MediaError
from ytmaker.media.ffmpeg import query_ffmpeg

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+.*?: (Video|Audio): (\w+)(.*)")
_PROFILE = re.compile(r"^ \(([^)]+)\)")
_SIZE = re.compile(r"(\d{2,5})x(\d{2,5})")
_RATE = re.compile(r"(\d+) Hz")
_FPS = re.compile(r"([\d.]+) fps")


@dataclass
class MediaInfo:
    duration_s: float
    video_codec: str | None = None
    video_profile: str | None = None  # "High", "Constrained Baseline", ...
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    streams: list[str] = field(default_factory=list)


def probe(path: Path) -> MediaInfo:
    """Streams and duration of ``path``; MediaError when FFmpeg cannot read it."""
    text = query_ffmpeg(["-i", str(path)], check=False).stderr  # without an output FFmpeg exits 1 after describing the input
    match = _DURATION.search(text)
    if not match:
        raise MediaError(f"cannot read media file {path.name}: {text.strip().splitlines()[-1] if text.strip() else 'no output'}")
    hours, minutes, seconds = match.groups()
    info = MediaInfo(duration_s=int(hours) * 3600 + int(minutes) * 60 + float(seconds))
    for kind, codec, rest in _STREAM.findall(text):
        info.streams.append(kind.lower())
        if kind == "Video" and info.video_codec is None:
            info.video_codec = codec
            profile = _PROFILE.match(rest)
            info.video_profile = profile.group(1) if profile else None
            size = _SIZE.search(rest)
            if size:
                info.width, info.height = int(size.group(1)), int(size.group(2))
            fps = _FPS.search(rest)
            info.fps = float(fps.group(1)) if fps else None
        elif kind == "Audio" and info.audio_codec is None:
            info.audio_codec = codec
            rate = _RATE.search(rest)
            info.sample_rate = int(rate.group(1)) if rate else None
    return info
