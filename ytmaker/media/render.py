"""The render as data: a spec, a pure function that builds its FFmpeg arguments, and a thin runner.

One FFmpeg process renders the video, after two cheap ones (the stills stored raw, the soundtrack mixed and
measured); no frames pass through Python, and memory is flat in the video's length (bench/render/README.md):

* the stills come in as one stream through a ``concat`` list read by a source
  filter (``concat_source``), so FFmpeg reads one picture at a time instead
  of holding every input open (forty image inputs took 2 GB); a pass before
  the render has scaled each once, slightly larger than the frame, and stored
  it raw (ytmaker.media.stills);
* ``fps`` holds each for its segment's frames (repeating references, not
  pixels) and a ``crop`` moving with the frame number pans across it
  (ytmaker.media.motion): the motion costs nothing and x264 encodes the
  translation cheaply;
* subtitles are pictures drawn once per cue, overlaid on the rows they cover
  (ytmaker.media.captions), and for word-by-word captions each word's lit
  picture over it (ytmaker.media.highlight), onto the frames that change only, the others repeated
  by reference (ytmaker.media.changes); the soundtrack's loudness is measured by an
  audio-only pass and set by a fixed gain (ytmaker.media.audio);
* segments crossfade over the pause that ends each one: a second source reads
  each next still a little early and is blended in, by rising steps, only
  over those frames (ytmaker.media.filters, with the sources' expressions). ``xfade`` was tried and dropped: it
  converts every frame to yuv444p, and chained over a long video it buffered
  (1.3 GB at forty segments);
* segment boundaries are rounded once, on the whole timeline, to frames for
  the video and to samples for the audio, so rounding never accumulates and
  picture and sound stay within half a frame;
* durations are cut with frame counts, ``atrim`` and ``-t`` rather than
  ``-shortest``, which made FFmpeg buffer frames (gigabytes at 1080p).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ytmaker.errors import MediaError
from ytmaker.media import captions as burn
from ytmaker.media import clips, highlight, stills
from ytmaker.media.audio import LOUDNESS_LUFS, SAMPLE_RATE, UNMEASURED, Level, master_chain, mix_and_measure
from ytmaker.media.avatar import AvatarLayout, avatar_list, box, overlay_chains, write_mask
from ytmaker.media.captions import Captions
from ytmaker.media.changes import caption_changes, select_changes
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.filters import concat_source, crossfade_chains, crossfade_commands, incoming_frames, incoming_starts
from ytmaker.media.motion import pan_exprs, pan_moves, scaled_size
from ytmaker.media.pacing import PAUSE_S, TAIL_S
from ytmaker.media.timeline import FPS, Timeline, crossfade_frames, segment_durations, timeline

__all__ = ["FPS", "LOUDNESS_LUFS", "PAUSE_S", "SAMPLE_RATE", "TAIL_S", "UNMEASURED", "Captions", "Level", "RenderSegment",
           "RenderSpec", "Timeline", "build_args", "build_filtergraph", "crossfade_frames", "render", "segment_durations", "timeline"]

#: (width, height) per format and quality
SIZES = {
    ("16:9", "final"): (1920, 1080),
    ("9:16", "final"): (1080, 1920),
    ("16:9", "draft"): (960, 540),
    ("9:16", "draft"): (540, 960),
    ("16:9", "tiny"): (64, 36),
    ("9:16", "tiny"): (36, 64),
}
#: x264 preset and CRF per quality. Moving pictures cost x264 twice what stills did; ``final`` uses ultrafast (about
#: 9 Mbit/s at 1080p30, YouTube's recommended upload rate) to keep a one-minute video's render at the CPU time the
#: still slideshow took with veryfast. ``draft`` (540p) renders a minute in about 4.5 CPU-s (bench/render/README.md).
PRESETS = {"final": ("ultrafast", 22), "draft": ("ultrafast", 28), "tiny": ("ultrafast", 35)}
#: x264 options beyond the preset, for every quality. ultrafast turns the 8x8 transform off, which
#: leaves the stream Constrained Baseline whatever ``-profile:v`` says; YouTube recommends High, and
#: the transform makes it so for ~10 % more encoder time (CABAC, the rest of High, would cost 40 %).
X264_EXTRA: list[str] = ["-x264-params", "8x8dct=1"]
#: AAC's "fast" coder: half the CPU of the default twoloop (0.4 against 0.8 CPU-s a minute); its
#: author found it to sound better than twoloop at high bitrates (FFmpeg c92cc2d5, fcb681ac)
AAC_EXTRA: list[str] = ["-aac_coder", "fast"]
#: one filter thread: its slices (a caption band, a word) are too small to share; a pool cost 0.25 CPU-s a minute waking
GRAPH_THREADS: list[str] = ["-filter_complex_threads", "1"]


@dataclass(frozen=True)
class RenderSegment:
    image: Path
    audio: Path
    duration_s: float  # how long the segment is shown (narration + pause)
    text: str = ""  # the narration, for subtitles
    narration_s: float | None = None  # how long the narration speaks, which the music ducks under (None: all the segment)
    avatar: Path | None = None  # a talking-head clip for this segment, shown picture-in-picture
    clip: Path | None = None  # a video clip shown instead of the still (H.264; ``image`` is its poster), muted
    clip_s: float | None = None  # the clip's length: looped when shorter than the segment, cut when longer
    #: clips played after ``clip``, each with its length (joined stock footage); the whole sequence loops or is cut
    more_clips: tuple[tuple[Path, float | None], ...] = ()

    @property
    def clip_parts(self) -> list[tuple[Path, float | None]]:
        """The clips the segment plays in turn; none for a still."""
        return [(self.clip, self.clip_s), *self.more_clips] if self.clip else []


@dataclass(frozen=True)
class RenderSpec:
    segments: list[RenderSegment]
    output: Path
    video_format: str = "16:9"
    quality: str = "final"
    motion: bool = True
    captions: Captions | None = None  # subtitles to burn in
    music: Path | None = None
    frame_size: tuple[int, int] | None = None  # overrides the format's size (tests, previews)
    avatar_layout: AvatarLayout = AvatarLayout()

    @property
    def with_avatars(self) -> bool:
        """Avatars are overlaid when every segment has its clip (the stream of clips must stay in step)."""
        return all(s.avatar for s in self.segments)

    @property
    def with_clips(self) -> bool:
        return any(s.clip for s in self.segments)

    @property
    def size(self) -> tuple[int, int]:
        return self.frame_size or SIZES[(self.video_format, self.quality)]

    @property
    def timeline(self) -> Timeline:
        return timeline([s.duration_s for s in self.segments])

    @property
    def duration_s(self) -> float:
        return self.timeline.duration_s


def helper_dir(spec: RenderSpec) -> Path:
    """The render's helper files (lists, raw stills, soundtrack, subtitle pictures) live in a hidden folder beside the output."""
    return spec.output.with_name(f".{spec.output.name}.render")


def list_path(spec: RenderSpec, kind: str = "stills") -> Path:
    """Where the render writes a helper file: the ``stills`` and ``avatars`` lists, the ``mask``, the ``crossfade``'s commands."""
    return helper_dir(spec) / (kind + {"mask": ".png", "crossfade": ".cmd"}.get(kind, ".ffconcat"))


def mix_path(spec: RenderSpec) -> Path:
    """Where the audio pass writes the soundtrack the render reads."""
    return helper_dir(spec) / "mix.wav"


def raw_stills(spec: RenderSpec) -> list[Path]:
    """Segment ``i``'s still as the pre-pass stores it (raw, scaled for the pan)."""
    order = {image: k for k, image in enumerate(stills.distinct([s.image for s in spec.segments]))}
    return [stills.raw_name(helper_dir(spec), order[s.image]) for s in spec.segments]


def still_size(spec: RenderSpec) -> tuple[int, int]:
    """The stills' size: slightly larger than the frame for the pan, the frame's without motion."""
    return scaled_size(*spec.size) if spec.motion else spec.size


def build_filtergraph(spec: RenderSpec, mix_input: int = 0, avatar_input: int | None = None,
                      mask_input: int | None = None, level: Level = UNMEASURED) -> str:
    """The ``-filter_complex`` text: the stills and subtitle pictures read by sources, the audio pass's mix from ``[mix_input:a]``."""
    width, height = spec.size
    plan = spec.timeline
    overlap = crossfade_frames(plan)
    starts = plan.frame_starts
    move = move_b = ""
    held = frozenset(i for i, s in enumerate(spec.segments) if s.clip)  # a clip's poster matches the clip's first frame
    pans: tuple[dict[str, str], dict[str, str]] | None = None
    if spec.motion:
        origins, spans = pan_moves(starts, plan.frames, overlap)
        still_w, still_h = still_size(spec)
        slack = (still_w - width, still_h - height)
        pans = (pan_exprs(starts, origins, spans, slack, held=held), pan_exprs(starts, origins, spans, slack, held=held, var="(n-1)"))
        move = f",crop={width}:{height}:x='{pans[0]['x']}':y='{pans[0]['y']}'"
        if overlap:
            pan_b = pan_exprs(incoming_starts(starts, overlap), origins[1:], spans[1:], slack, first=1, held=held)
            move_b = f",crop={width}:{height}:x='{pan_b['x']}':y='{pan_b['y']}'"
    video = f"{concat_source(list_path(spec))},fps={FPS}{move}"
    chains = []
    clip_segments = [s.clip is not None for s in spec.segments]
    if spec.with_clips:  # before the crossfade: a clip fades out like a still (ytmaker.media.clips)
        chains += clips.picture_chains(video, list_path(spec, "clips"), plan.frames, clip_segments, spec.size, still_size(spec), FPS)
        video = "[clipped]null"
    if overlap:
        chains += [video + "[outgoing]", *crossfade_chains(list_path(spec, "incoming"), list_path(spec, "crossfade"), starts, overlap,
                                                           FPS, outgoing="outgoing", out="faded", move_b=move_b)]
        video = "[faded]null"
    if avatar_input is not None:
        chains += [video + "[base]", *overlay_chains("base", "framed", avatar_input, mask_input, spec.avatar_layout,
                                                      spec.size, FPS)]
        video = "[framed]null"
    if spec.captions and spec.captions.cues:
        style = spec.captions.style(spec.size)
        source = concat_source(burn.list_name(helper_dir(spec)))
        lit = spec.captions.words
        selecting = avatar_input is None  # a talking head changes every frame
        if selecting:  # the captions go over the frames that change only (ytmaker.media.changes)
            video += "," + select_changes(plan, overlap, pans, clip_segments, caption_changes(spec.captions, spec.size, FPS))
        out = "captioned" if selecting else "vout"
        chains += [video + "[pictures]", *burn.overlay_chains("pictures", "banded" if lit else out, source,
                                                             burn.band_for(spec.captions, style))]
        if lit:
            chains += highlight.overlay_chains("banded", out, concat_source(highlight.list_name(helper_dir(spec))),
                                               spec.captions, style, FPS)
        if selecting:
            chains.append(f"[captioned]fps={FPS}[vout]")
    else:
        chains.append(video + "[vout]")
    chains.append(master_chain(mix_input, level))
    return ";\n".join(chains)


def build_args(spec: RenderSpec, level: Level = UNMEASURED) -> list[str]:
    """FFmpeg's argument list for ``spec`` (without the executable), the soundtrack set to ``level``.

    The helper files it names (``write_list``) and the raw stills (``convert_args``) must exist when it runs.
    """
    args = ["-i", str(mix_path(spec))]
    next_input = 1
    avatar_input = mask_input = None
    if spec.with_avatars:
        avatar_input, next_input = next_input, next_input + 1
        args += ["-f", "concat", "-safe", "0", "-i", str(list_path(spec, "avatars"))]
        if spec.avatar_layout.circle:
            mask_input, next_input = next_input, next_input + 1
            args += ["-loop", "1", "-framerate", str(FPS), "-i", str(list_path(spec, "mask"))]
    preset, crf = PRESETS[spec.quality]
    graph = build_filtergraph(spec, 0, avatar_input, mask_input, level)
    return args + [
        *GRAPH_THREADS, "-filter_complex", graph,
        "-map", "[vout]", "-map", "[aout]",
        "-t", f"{spec.duration_s:.3f}",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), *X264_EXTRA, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-r", str(FPS),
        "-c:a", "aac", *AAC_EXTRA, "-b:a", "160k", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", str(spec.output),
    ]


def convert_args(spec: RenderSpec) -> list[str]:
    """The pre-pass storing each distinct still raw at ``still_size`` (its list is written by ``write_list``)."""
    images = stills.distinct([s.image for s in spec.segments])
    return stills.convert_args(images, still_size(spec), helper_dir(spec), FPS)


def write_list(spec: RenderSpec) -> list[Path]:
    """Write the helper files the passes refer to (lists, mask, subtitle pictures) into ``helper_dir``.

    The caller removes the folder (``render`` does, with what the passes wrote there).
    """
    plan = spec.timeline
    directory = helper_dir(spec)
    directory.mkdir(exist_ok=True)
    pictures = stills.list_name(directory)
    pictures.write_text(stills.pictures_list(stills.distinct([s.image for s in spec.segments])), encoding="utf-8")
    path = list_path(spec)
    names = [Path(p.name) for p in raw_stills(spec)]
    path.write_text(stills.concat_list(names, plan.frames, FPS), encoding="utf-8")
    written = [pictures, path]
    if overlap := crossfade_frames(plan):  # the incoming stream, each still from its crossfade on, and its weights
        incoming, commands = list_path(spec, "incoming"), list_path(spec, "crossfade")
        incoming.write_text(stills.concat_list(names[1:], incoming_frames(plan.frame_starts, plan.frames, overlap), FPS), encoding="utf-8")
        commands.write_text(crossfade_commands(plan.frame_starts, overlap, FPS), encoding="utf-8")
        written += [incoming, commands]
    if spec.with_clips:
        links = clips.link_clips([clip for s in spec.segments for clip, _ in s.clip_parts], directory)
        entries = [[(Path(links[clip].name), length) for clip, length in s.clip_parts] for s in spec.segments]
        written += [*links.values(), list_path(spec, "clips")]
        list_path(spec, "clips").write_text(clips.clips_list(entries, plan.frames, FPS), encoding="utf-8")
    if spec.with_avatars:
        avatars = list_path(spec, "avatars")
        avatars.write_text(avatar_list([s.avatar for s in spec.segments if s.avatar], plan.frames, FPS), encoding="utf-8")
        written.append(avatars)
        if spec.avatar_layout.circle:
            written.append(write_mask(list_path(spec, "mask"), box(*spec.size)[0]))
    if spec.captions and spec.captions.cues:
        style = spec.captions.style(spec.size)
        drawings = burn.draw_cues(spec.captions, style)
        written += burn.write_captions(spec.captions, style, directory, sum(plan.frames), FPS, drawings)
        if spec.captions.words:
            written += highlight.write_words(spec.captions, style, directory, sum(plan.frames), FPS, drawings)
    return written


def render(spec: RenderSpec, *, timeout_s: float | None = None, on_progress: Callable[[float], None] | None = None,
           should_cancel: Callable[[], bool] | None = None) -> None:
    """Render ``spec`` to ``spec.output`` (the caller writes to a temporary name and moves it).

    Three FFmpeg runs, each under what is left of ``timeout_s``: the stills stored raw, the
    soundtrack mixed and measured (audio only), then the render.
    """
    deadline = time.monotonic() + timeout_s if timeout_s else None
    written: dict[str, str] = {}  # FFmpeg's last progress report

    def remaining() -> float | None:
        return max(0.001, deadline - time.monotonic()) if deadline else None

    def report(seconds: float) -> None:
        if on_progress:
            on_progress(min(100.0, 100.0 * seconds / max(spec.duration_s, 0.001)))

    try:
        write_list(spec)
        run_ffmpeg(convert_args(spec), timeout_s=remaining(), should_cancel=should_cancel)
        level = mix_and_measure([s.audio for s in spec.segments], spec.timeline.samples, spec.music, mix_path(spec),
                               spoken_s=[s.narration_s for s in spec.segments], timeout_s=remaining(), should_cancel=should_cancel)
        log = run_ffmpeg(build_args(spec, level), timeout_s=remaining(), on_progress=report, should_cancel=should_cancel,
                         on_fields=written.update)
    finally:
        shutil.rmtree(helper_dir(spec), ignore_errors=True)
    frames, expected = written.get("frame", ""), sum(spec.timeline.frames)
    if frames.isdigit() and int(frames) < expected - 1:  # a source ended early: the sound went on over no picture
        raise MediaError(clips.shortfall(frames, expected, log, [c for s in spec.segments for c, _ in s.clip_parts]),
                         stderr=log[-4000:])
