"""The render as data: a spec, a pure function that builds its FFmpeg graph, and a thin runner.

One FFmpeg process per video, no frames through Python. Each slide is read
once (``-framerate 1``), scaled and converted to yuv420p, and only then
duplicated to 30 fps, so the costly conversion is not repeated per frame;
durations are cut with ``trim``/``-t`` rather than ``-shortest``, which
made FFmpeg buffer frames (gigabytes at 1080p).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from ytmaker.media.ffmpeg import run_ffmpeg

#: (width, height) per format and quality
SIZES = {
    ("16:9", "final"): (1920, 1080),
    ("9:16", "final"): (1080, 1920),
    ("16:9", "draft"): (960, 540),
    ("9:16", "draft"): (540, 960),
    ("16:9", "tiny"): (64, 36),
    ("9:16", "tiny"): (36, 64),
}
PRESETS = {"final": ("veryfast", 21), "draft": ("ultrafast", 28), "tiny": ("ultrafast", 35)}
FPS = 30
#: silence after each segment's narration, and after the last one
PAUSE_S = 0.4
TAIL_S = 0.8


@dataclass(frozen=True)
class RenderSegment:
    image: Path
    audio: Path
    duration_s: float  # how long the segment is shown (narration + pause)


@dataclass(frozen=True)
class RenderSpec:
    segments: list[RenderSegment]
    output: Path
    video_format: str = "16:9"
    quality: str = "final"

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[(self.video_format, self.quality)]

    @property
    def duration_s(self) -> float:
        return round(sum(s.duration_s for s in self.segments), 3)


def segment_durations(narration_s: list[float]) -> list[float]:
    """Each segment lasts its narration plus a pause; the last one a longer tail."""
    return [round(d + (TAIL_S if i == len(narration_s) - 1 else PAUSE_S), 3) for i, d in enumerate(narration_s)]


def build_graph(spec: RenderSpec):
    """The FFmpeg graph for ``spec`` (typed-ffmpeg), pure: no files are touched."""
    width, height = spec.size
    parts = []
    for segment in spec.segments:
        still = ffmpeg.input(str(segment.image), t=segment.duration_s + 1, extra_options={"loop": 1, "framerate": 1})
        video = (
            still.video.scale(w=str(width), h=str(height), force_original_aspect_ratio="decrease")
            .pad(width=str(width), height=str(height), x="(ow-iw)/2", y="(oh-ih)/2", color="black")
            .setsar(sar="1")
            .format(pix_fmts="yuv420p")
            .fps(fps=str(FPS))
            .trim(duration=segment.duration_s)
            .setpts(expr="PTS-STARTPTS")
        )
        audio = (
            ffmpeg.input(str(segment.audio)).audio
            .aresample(sample_rate=48000)
            .apad(whole_dur=str(segment.duration_s))
            .atrim(duration=segment.duration_s)
            .asetpts(expr="PTS-STARTPTS")
        )
        parts += [video, audio]
    joined = ffmpeg.filters.concat(*parts, n=len(spec.segments), v=1, a=1)
    preset, crf = PRESETS[spec.quality]
    return ffmpeg.output(
        joined.video(0),
        joined.audio(0),
        filename=str(spec.output),
        t=spec.duration_s,
        vcodec="libx264",
        acodec="aac",
        pix_fmt="yuv420p",
        r=FPS,
        ar=48000,
        ac=2,
        f="mp4",
        extra_options={"preset": preset, "crf": crf, "profile:v": "high", "b:a": "160k", "movflags": "+faststart"},
    )


def build_args(spec: RenderSpec) -> list[str]:
    """FFmpeg's argument list for ``spec`` (without the executable)."""
    args = build_graph(spec).compile(auto_fix=True)
    return args[1:] if args and args[0] == "ffmpeg" else args


def render(spec: RenderSpec, *, timeout_s: float | None = None, on_progress: Callable[[float], None] | None = None,
           should_cancel: Callable[[], bool] | None = None) -> None:
    """Render ``spec`` to ``spec.output`` (the caller writes to a temporary name and moves it)."""
    def report(seconds: float) -> None:
        if on_progress:
            on_progress(min(100.0, 100.0 * seconds / max(spec.duration_s, 0.001)))

    run_ffmpeg(build_args(spec), timeout_s=timeout_s, on_progress=report, should_cancel=should_cancel)
