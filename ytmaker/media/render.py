"""The render as data: a spec, a pure function that builds its FFmpeg arguments, and a thin runner.

One FFmpeg process per video, no frames through Python, memory flat in the
video's length (measured: bench/render/README.md):

* the stills come in as one stream through a ``concat`` demuxer list, so
  FFmpeg decodes one picture at a time instead of holding every input open
  (forty image inputs took 2 GB);
* each still is scaled once and ``zoompan`` makes the segment's frames from
  that one picture (its ``d`` and moves are expressions of the picture's
  number): a slow Ken Burns move, sampled at sub-pixel positions;
* the ``segment`` filter cuts the stream per picture, each piece gets its
  short fade out and in, and ``concat`` joins them: every frame passes at most
  two fades. ``xfade`` crossfades were tried and dropped: it converts every
  frame to yuv444p, and chained over a long video it buffered (1.3 GB at forty
  segments);
* segment boundaries are rounded once, on the whole timeline, to frames for
  the video and to samples for the audio, so rounding never accumulates and
  picture and sound stay within half a frame;
* durations are cut with frame counts, ``atrim`` and ``-t`` rather than
  ``-shortest``, which made FFmpeg buffer frames (gigabytes at 1080p).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.motion import zoompan_exprs

#: (width, height) per format and quality
SIZES = {
    ("16:9", "final"): (1920, 1080),
    ("9:16", "final"): (1080, 1920),
    ("16:9", "draft"): (960, 540),
    ("9:16", "draft"): (540, 960),
    ("16:9", "tiny"): (64, 36),
    ("9:16", "tiny"): (36, 64),
}
#: x264 preset and CRF per quality. Moving pictures cost x264 twice what stills did; ``final`` uses
#: ultrafast (about 9 Mbit/s at 1080p30, YouTube's recommended upload rate) to keep a one-minute
#: video's render at the CPU time the still slideshow took with veryfast.
PRESETS = {"final": ("ultrafast", 22), "draft": ("ultrafast", 28), "tiny": ("ultrafast", 35)}
FPS = 30
SAMPLE_RATE = 48000
#: silence after each segment's narration, and after the last one
PAUSE_S = 0.4
TAIL_S = 0.8
#: the dip between segments: the picture fades out over the pause and in as the narration starts
FADE_S = 0.2
#: YouTube's reference loudness, and the music's level under the narration
LOUDNESS_LUFS = -14
MUSIC_GAIN = 0.3
MUSIC_FADE_IN_S = 1.5
MUSIC_FADE_OUT_S = 2.5


@dataclass(frozen=True)
class RenderSegment:
    image: Path
    audio: Path
    duration_s: float  # how long the segment is shown (narration + pause)
    text: str = ""  # the narration, for subtitles


@dataclass(frozen=True)
class RenderSpec:
    segments: list[RenderSegment]
    output: Path
    video_format: str = "16:9"
    quality: str = "final"
    motion: bool = True
    subtitles: Path | None = None  # an ASS script to burn in
    fonts_dir: Path | None = None
    music: Path | None = None
    frame_size: tuple[int, int] | None = None  # overrides the format's size (tests, previews)

    @property
    def size(self) -> tuple[int, int]:
        return self.frame_size or SIZES[(self.video_format, self.quality)]

    @property
    def timeline(self) -> Timeline:
        return timeline([s.duration_s for s in self.segments])

    @property
    def duration_s(self) -> float:
        return self.timeline.duration_s


@dataclass(frozen=True)
class Timeline:
    """Segment boundaries in frames and samples, rounded once on the whole video."""

    starts_s: list[float]
    frames: list[int]
    samples: list[int]
    fade_frames: int

    @property
    def duration_s(self) -> float:
        return round(sum(self.frames) / FPS, 3)

    @property
    def frame_starts(self) -> list[int]:
        return [sum(self.frames[:i]) for i in range(len(self.frames))]


def segment_durations(narration_s: list[float]) -> list[float]:
    """Each segment lasts its narration plus a pause; the last one a longer tail."""
    return [round(d + (TAIL_S if i == len(narration_s) - 1 else PAUSE_S), 3) for i, d in enumerate(narration_s)]


def timeline(durations_s: list[float]) -> Timeline:
    """Frame and sample counts per segment; the sound ends with the last frame."""
    bounds = [0.0]
    for duration in durations_s:
        bounds.append(bounds[-1] + duration)
    frame_bounds = [round(b * FPS) for b in bounds]
    frame_bounds[-1] = max(frame_bounds[-1], len(durations_s))
    frames = [max(1, b - a) for a, b in zip(frame_bounds, frame_bounds[1:])]
    sample_bounds = [round(f * SAMPLE_RATE / FPS) for f in [sum(frames[:i]) for i in range(len(frames) + 1)]]
    samples = [b - a for a, b in zip(sample_bounds, sample_bounds[1:])]
    fade = min([round(FADE_S * FPS)] + [f // 3 for f in frames]) if len(frames) > 1 else 0
    starts = [round(sum(frames[:i]) / FPS, 3) for i in range(len(frames))]
    return Timeline(starts_s=starts, frames=frames, samples=samples, fade_frames=fade)


def _option(value: str) -> str:
    """Escape a file name for a filter option inside a filtergraph (two levels: option, then graph)."""
    level1 = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join("\\" + c if c in "\\'[],;" else c for c in level1)


def concat_list(images: list[Path]) -> str:
    """An ``ffconcat`` list that feeds ``images`` as one stream, one frame each."""
    def quote(path: Path) -> str:
        return "'" + str(path.resolve()).replace("'", "'\\''") + "'"

    return "ffconcat version 1.0\n" + "".join(f"file {quote(image)}\nduration 1\n" for image in images)


def list_path(spec: RenderSpec) -> Path:
    """Where the render writes its concat list of stills: beside the output."""
    return spec.output.with_name(f".{spec.output.name}.ffconcat")


def build_filtergraph(spec: RenderSpec, first_audio: int, music_input: int | None) -> str:
    """The ``-filter_complex`` text: stills from ``[0:v]``, narrations from input ``first_audio`` on."""
    width, height = spec.size
    plan = spec.timeline
    n, fade = len(spec.segments), plan.fade_frames
    duration = "+".join(f"eq(in,{i})*{frames}" for i, frames in enumerate(plan.frames))
    exprs = zoompan_exprs("in") if spec.motion else {"zoom": "1", "x": "0", "y": "0"}
    starts = plan.frame_starts
    split = f",segment=frames={'|'.join(map(str, starts[1:]))}" if n > 1 else ""
    chains = [
        f"[0:v]scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
        f"crop={width}:{height},setsar=1,format=yuv420p,"
        f"zoompan=zoom='{exprs['zoom']}':x='{exprs['x']}':y='{exprs['y']}':d='{duration}':s={width}x{height}:fps={FPS}"
        + split + "".join(f"[p{i}]" for i in range(n))
    ]
    for i, frames in enumerate(plan.frames):
        # A short dip between segments: out over the pause, in as the next narration starts.
        fades = ["setpts=PTS-STARTPTS"]
        if i and fade:
            fades.append(f"fade=t=in:start_frame=0:nb_frames={fade}")
        if i < n - 1 and fade:
            fades.append(f"fade=t=out:start_frame={frames - fade}:nb_frames={fade}")
        chains.append(f"[p{i}]{','.join(fades)}[q{i}]")
    video = "".join(f"[q{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0"
    if spec.subtitles:
        fonts = f":fontsdir={_option(str(spec.fonts_dir))}" if spec.fonts_dir else ""
        video += f",ass=filename={_option(str(spec.subtitles))}{fonts}"
    chains.append(video + "[vout]")

    for i, samples in enumerate(plan.samples):
        chains.append(f"[{first_audio + i}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                      f"apad=whole_len={samples},atrim=end_sample={samples},asetpts=PTS-STARTPTS[a{i}]")
    chains.append("".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1[narration]")
    mix = "narration"
    if music_input is not None:
        total = sum(plan.samples)
        fade_in = min(MUSIC_FADE_IN_S, plan.duration_s / 2)
        fade_out = min(MUSIC_FADE_OUT_S, plan.duration_s / 2)
        chains += [
            f"[{music_input}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"atrim=end_sample={total},asetpts=PTS-STARTPTS,volume={MUSIC_GAIN},"
            f"afade=t=in:d={fade_in:.3f},afade=t=out:st={plan.duration_s - fade_out:.3f}:d={fade_out:.3f}[music]",
            "[narration]asplit=2[voice][key]",
            "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked]",
            "[voice][ducked]amix=inputs=2:duration=first:normalize=0[mix]",
        ]
        mix = "mix"
    chains.append(f"[{mix}]loudnorm=I={LOUDNESS_LUFS}:TP=-1.5:LRA=11,aresample={SAMPLE_RATE}[aout]")
    return ";\n".join(chains)


def build_args(spec: RenderSpec) -> list[str]:
    """FFmpeg's argument list for ``spec`` (without the executable); the stills' concat list is at ``list_path``."""
    args = ["-f", "concat", "-safe", "0", "-i", str(list_path(spec))]
    for segment in spec.segments:
        args += ["-i", str(segment.audio)]
    music_input = None
    if spec.music:
        music_input = 1 + len(spec.segments)
        args += ["-stream_loop", "-1", "-i", str(spec.music)]
    preset, crf = PRESETS[spec.quality]
    return args + [
        "-filter_complex", build_filtergraph(spec, 1, music_input),
        "-map", "[vout]", "-map", "[aout]",
        "-t", f"{spec.duration_s:.3f}",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-r", str(FPS),
        "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", str(spec.output),
    ]


def write_list(spec: RenderSpec) -> Path:
    """Write the concat list ``build_args`` refers to; the caller removes it."""
    path = list_path(spec)
    path.write_text(concat_list([s.image for s in spec.segments]), encoding="utf-8")
    return path


def render(spec: RenderSpec, *, timeout_s: float | None = None, on_progress: Callable[[float], None] | None = None,
           should_cancel: Callable[[], bool] | None = None) -> None:
    """Render ``spec`` to ``spec.output`` (the caller writes to a temporary name and moves it)."""
    def report(seconds: float) -> None:
        if on_progress:
            on_progress(min(100.0, 100.0 * seconds / max(spec.duration_s, 0.001)))

    stills = write_list(spec)
    try:
        run_ffmpeg(build_args(spec), timeout_s=timeout_s, on_progress=report, should_cancel=should_cancel)
    finally:
        stills.unlink(missing_ok=True)
