"""The render as data: a spec, a pure function that builds its FFmpeg arguments, and a thin runner.

One FFmpeg process per video, no frames through Python, memory flat in the
video's length (measured: bench/render/README.md):

* the stills come in as one stream through a ``concat`` demuxer list, so
  FFmpeg decodes one picture at a time instead of holding every input open
  (forty image inputs took 2 GB);
* each still is scaled once, slightly larger than the frame, held for its
  segment's frames by ``fps`` (which repeats references, not pixels) and a
  ``crop`` moving with the frame number pans across it (ytmaker.media.motion):
  the motion costs nothing and x264 encodes the translation cheaply;
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

from ytmaker.media.avatar import AvatarLayout, avatar_list, box, overlay_chains, write_mask
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.motion import pan_exprs, scaled_size

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
#: x264 options beyond the preset, for every quality
X264_EXTRA: list[str] = []
FPS = 30
#: frames per entry of the stills' concat list (what bounds the render's memory: see concat_list)
CHUNK_FRAMES = 30
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
    avatar: Path | None = None  # a talking-head clip for this segment, shown picture-in-picture


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
    avatar_layout: AvatarLayout = AvatarLayout()

    @property
    def with_avatars(self) -> bool:
        """Avatars are overlaid when every segment has its clip (the stream of clips must stay in step)."""
        return all(s.avatar for s in self.segments)

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


def concat_list(images: list[Path], frames: list[int]) -> str:
    """An ``ffconcat`` list that feeds ``images`` as one stream, each for its number of frames.

    Each picture is listed once per ``CHUNK_FRAMES``: ``fps`` emits all the frames of an entry at
    once and the fades and subtitles copy each, so the entry's length bounds the frames in
    flight (a 6 s entry held 180 copied 1080p frames, 630 MB; 1 s holds 30). The last picture
    is listed once more: the concat demuxer gives the last entry no duration.
    """
    def quote(path: Path) -> str:
        return "'" + str(path.resolve()).replace("'", "'\\''") + "'"

    entries = []
    for image, count in zip(images, frames):
        for first in range(0, count, CHUNK_FRAMES):
            entries.append((image, min(CHUNK_FRAMES, count - first) / FPS))
    entries.append((images[-1], 1.0))
    return "ffconcat version 1.0\n" + "".join(f"file {quote(image)}\nduration {d:.6f}\n" for image, d in entries)


def list_path(spec: RenderSpec, kind: str = "stills") -> Path:
    """Where the render writes its helper files (``stills`` and ``avatars`` lists, the ``mask``): beside the output."""
    suffix = ".png" if kind == "mask" else ".ffconcat"
    return spec.output.with_name(f".{spec.output.name}.{kind}{suffix}")


def dips(boundaries: list[int], fade: int) -> list[str]:
    """A dip to black at each segment boundary (frame numbers): out over the pause, in as the narration starts.

    The fades sit on the one stream, each enabled only over its own frames (outside them a fade
    out would blacken the rest of the video); a split per segment and a concat made FFmpeg queue
    the next segments' frames (3 GB for a minute of 1080p).
    """
    if not fade:
        return []
    out = []
    for b in boundaries:
        out.append(f",fade=t=out:st={(b - fade) / FPS:.6f}:d={fade / FPS:.6f}:enable='between(n,{b - fade},{b - 1})'")
        out.append(f",fade=t=in:st={b / FPS:.6f}:d={fade / FPS:.6f}:enable='between(n,{b},{b + fade - 1})'")
    return out


def build_filtergraph(spec: RenderSpec, first_audio: int, music_input: int | None,
                      avatar_input: int | None = None, mask_input: int | None = None) -> str:
    """The ``-filter_complex`` text: stills from ``[0:v]``, narrations from input ``first_audio`` on."""
    width, height = spec.size
    plan = spec.timeline
    n, fade = len(spec.segments), plan.fade_frames
    starts = plan.frame_starts
    if spec.motion:
        # Scaled once per picture, slightly larger than the frame; the crop pans over it.
        scaled_w, scaled_h = scaled_size(width, height)
        pan = pan_exprs(starts, plan.frames)
        move = f",crop={width}:{height}:x='{pan['x']}':y='{pan['y']}'"
    else:
        (scaled_w, scaled_h), move = (width, height), ""
    video = (f"[0:v]scale={scaled_w}:{scaled_h}:force_original_aspect_ratio=increase:flags=bicubic,"
             f"crop={scaled_w}:{scaled_h},setsar=1,format=yuv420p,fps={FPS}{move}")
    chains = []
    if avatar_input is not None:
        chains += [video + "[base]", *overlay_chains("base", "framed", avatar_input, mask_input, spec.avatar_layout,
                                                      spec.size, FPS)]
        video = "[framed]null"
    video += "".join(dips(starts[1:], fade))
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
    avatar_input = mask_input = None
    if spec.with_avatars:
        avatar_input = 1 + len(spec.segments) + (1 if spec.music else 0)
        args += ["-f", "concat", "-safe", "0", "-i", str(list_path(spec, "avatars"))]
        if spec.avatar_layout.circle:
            mask_input = avatar_input + 1
            args += ["-loop", "1", "-framerate", str(FPS), "-i", str(list_path(spec, "mask"))]
    preset, crf = PRESETS[spec.quality]
    return args + [
        "-filter_complex", build_filtergraph(spec, 1, music_input, avatar_input, mask_input),
        "-map", "[vout]", "-map", "[aout]",
        "-t", f"{spec.duration_s:.3f}",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), *X264_EXTRA, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-r", str(FPS),
        "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", str(spec.output),
    ]


def write_list(spec: RenderSpec) -> list[Path]:
    """Write the helper files ``build_args`` refers to (the stills' list, the avatars' and the mask); the caller removes them."""
    plan = spec.timeline
    path = list_path(spec)
    path.write_text(concat_list([s.image for s in spec.segments], plan.frames), encoding="utf-8")
    written = [path]
    if spec.with_avatars:
        avatars = list_path(spec, "avatars")
        avatars.write_text(avatar_list([s.avatar for s in spec.segments], plan.frames, FPS), encoding="utf-8")
        written.append(avatars)
        if spec.avatar_layout.circle:
            written.append(write_mask(list_path(spec, "mask"), box(*spec.size)[0]))
    return written


def render(spec: RenderSpec, *, timeout_s: float | None = None, on_progress: Callable[[float], None] | None = None,
           should_cancel: Callable[[], bool] | None = None) -> None:
    """Render ``spec`` to ``spec.output`` (the caller writes to a temporary name and moves it)."""
    def report(seconds: float) -> None:
        if on_progress:
            on_progress(min(100.0, 100.0 * seconds / max(spec.duration_s, 0.001)))

    helpers = write_list(spec)
    try:
        run_ffmpeg(build_args(spec), timeout_s=timeout_s, on_progress=report, should_cancel=should_cancel)
    finally:
        for path in helpers:
            path.unlink(missing_ok=True)
