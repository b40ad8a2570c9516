"""Video clips as segment pictures (stock footage, a person's own clips): one more stream, read one frame at a time.

The segments' clips reach the render as one stream: an ``ffconcat`` list read
by a ``movie`` source inside the graph (ytmaker.media.filters.concat_source),
so only one decoder is open however many clips there are, and the graph pulls
one frame at a time. Each clip segment's entries play its clips in turn, each
from its start (joined stock clips: a hard cut from one to the next), the
sequence looped (its entries repeated) when it is shorter than the segment and
cut at the segment's end when longer; a still segment's entry holds a frame of the first
clip for the segment's length (the overlay is off there, so what it shows does
not matter: it only keeps the stream's timestamps on the video's timeline).
The clips' own sound is never mapped: the stream is video only (muted under the
narration).

The stream is scaled to cover the frame and cropped (a clip of another size or
orientation fills the frame, like a still), then overlaid, enabled on the clip
segments' frames only, onto the stills stream before the crossfade, so a clip
fades out into the next segment like a still does; the next segment fades in
on its still (for a clip, its poster: the clip's first frame). The overlay
takes the clips' latest frame at each output frame, so a 25 or 60 fps clip
needs no ``fps`` filter (nothing is converted twice). Scaling comes first:
the clips stream's frames change size from clip to clip, which ``scale``
handles and later filters do not.

The concat demuxer in a ``movie`` source only opens bare names beside the
list (its safe mode; ytmaker.media.stills.quote), so the clips are linked into
the render's helper folder as ``clip0000.mp4`` and so on. It also assumes
every file shares one time base (it offsets each file in the file's own ticks,
then reads them in the first file's: a 60 fps clip after a 25 fps one started
late and played slow), and one codec. So each clip is taken in once through
``normalize_args``: its video stream only, H.264 (copied when it is, converted
when not), in MP4 with the ``TIMESCALE`` every clip shares.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from ytmaker.media.filters import concat_source
from ytmaker.media.stills import quote

#: the MP4 time base every clip is remuxed to: whole ticks for 24, 25, 30, 50, 60 and 29.97 fps
TIMESCALE = 90_000
#: the part of a frame a clip entry ends before its segment does (outpoints are exclusive; avoids a frame too many)
_EPSILON_S = 0.0005


def normalize_args(source: Path, target: Path, *, codec: str | None, max_size: tuple[int, int] | None = None) -> list[str]:
    """FFmpeg's arguments taking a clip in: video only, H.264 (copied if ``codec`` says it is), at ``TIMESCALE``.

    A clip in another codec is converted (x264 ultrafast), scaled down to cover ``max_size`` at most.
    """
    video = ["-c:v", "copy"] if codec == "h264" else [
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
        *(["-vf", f"scale='min(iw,{max_size[0]})':'min(ih,{max_size[1]})':force_original_aspect_ratio=increase:"
                  "force_divisible_by=2"] if max_size else [])]
    return ["-i", str(source), "-map", "0:v:0", *video, "-an", "-sn", "-dn", "-video_track_timescale", str(TIMESCALE),
            "-movflags", "+faststart", "-f", "mp4", str(target)]


def link_name(directory: Path, index: int, suffix: str = ".mp4") -> Path:
    return directory / f"clip{index:04d}{suffix}"


def link_clips(clips: list[Path], directory: Path) -> dict[Path, Path]:
    """Each distinct clip linked (or copied, where links fail) into ``directory`` under a bare safe name."""
    names: dict[Path, Path] = {}
    for clip in dict.fromkeys(clips):
        target = link_name(directory, len(names), clip.suffix.lower() or ".mp4")
        target.unlink(missing_ok=True)
        try:
            os.symlink(clip.resolve(), target)
        except OSError:
            shutil.copyfile(clip, target)
        names[clip] = target
    return names


Part = tuple[Path, float | None]  # a clip and its length in seconds (None: unknown, taken as the segment's)


def clips_list(entries: Sequence[Sequence[Part]], frames: list[int], fps: int) -> str:
    """The clips stream's ``ffconcat`` list: per segment the clips it plays in turn, none for a still.

    Clip names are bare names beside the list; a segment lasts exactly its ``frames``.
    """
    filler = next(parts[0][0] for parts in entries if parts)
    lines = ["ffconcat version 1.0"]
    for parts, count in zip(entries, frames):
        need = count / fps
        if not parts:
            lines += [f"file {quote(filler)}", f"outpoint {1 / fps:.6f}", f"duration {need:.6f}"]
            continue
        done = 0.0
        for clip, length in itertools.cycle(parts):  # each take is at least a frame or what is left: this ends
            if need - done <= _EPSILON_S:
                break
            take = min(max(length or need, 1 / fps), need - done)
            lines += [f"file {quote(clip)}", f"outpoint {take:.6f}", f"duration {take:.6f}"]
            done += take
    lines += [f"file {quote(filler)}", f"outpoint {1 / fps:.6f}", "duration 1.000000"]  # the last entry has no duration
    return "\n".join(lines) + "\n"


def clip_windows(starts: list[int], frames: list[int], is_clip: list[bool]) -> str:
    """An expression of the frame number true on the clip segments' frames."""
    ends = [s + f for s, f in zip(starts, frames)]
    spans = [(s, e) for s, e, clip in zip(starts, ends, is_clip) if clip]
    if all(is_clip):
        return "1"
    # a sum of betweens: short enough for the few dozen segments a video has
    return "+".join(f"between(n,{s},{e - 1})" for s, e in spans)


def source_chain(listing: Path, size: tuple[int, int], cover: tuple[int, int], *, early_of_fps: int | None = None) -> str:
    """The clips stream read from ``listing``, scaled to ``cover`` (the stills' size: larger than the frame when they
    pan) and its middle cut to ``size``, as the poster's held pan shows it, so the cut from poster to clip does not jump;
    ``early_of_fps``: half a frame of that rate early."""
    width, height = size
    shift = f",setpts=PTS-0.5/({early_of_fps}*TB)" if early_of_fps else ""
    return (f"{concat_source(listing)}{shift},scale={cover[0]}:{cover[1]}:force_original_aspect_ratio=increase:flags=bicubic,"
            f"crop={width}:{height},setsar=1,format=yuv420p")


def picture_chains(stills: str, listing: Path, frames: list[int], is_clip: list[bool], size: tuple[int, int],
                   cover: tuple[int, int], fps: int) -> list[str]:
    """Chains giving the video's pictures as ``[clipped]``: the clips over the ``stills`` chain, or, when every
    segment has a clip, the clips alone (nothing of the stills would show: no overlay, which copied every frame
    and then the clip's pixels over it, 3 CPU-s a minute at 1080p; ``fps`` holds or drops the clips' frames instead)."""
    if all(is_clip):
        return [source_chain(listing, size, cover) + f",fps={fps}[clipped]"]
    starts = [sum(frames[:i]) for i in range(len(frames))]
    return [stills + "[stills]", *overlay_chains("stills", "clipped", listing, size, cover,
                                                 clip_windows(starts, frames, is_clip), fps)]


def overlay_chains(base: str, out: str, listing: Path, size: tuple[int, int], cover: tuple[int, int], enable: str,
                   fps: int) -> list[str]:
    """Chains putting the clips stream read from ``listing`` over ``[base]`` on the ``enable`` frames, as ``[out]``.

    The clips run half an output frame (of ``fps``) early: a clip's first frame then comes strictly before its
    segment's first frame. At the same time, the overlay did not wait for it after a 60 fps (or some
    24 fps) clip and showed that clip's last frame again, a flash of the last segment's footage.
    """
    return [source_chain(listing, size, cover, early_of_fps=fps) + "[clips]",
            f"[{base}][clips]overlay=format=yuv420:eof_action=pass:enable='{enable}'[{out}]"]


def shortfall(written: str, expected: int, log: str, parts: list[Path]) -> str:
    """Why a render wrote ``written`` of its ``expected`` frames, from FFmpeg's ``log``: the file it could not open,
    a clip's link in the helper folder (``link_clips``, in order of first use) named as the clip given."""
    distinct = list(dict.fromkeys(parts))
    why = next((line.split("] ", 1)[-1] for line in log.splitlines() if "Impossible to open" in line), "")
    found = re.search(r"clip(\d{4})\.\w+'", why)
    if found and int(found.group(1)) < len(distinct):
        why = f"Impossible to open {distinct[int(found.group(1))]}"
    return (f"the render wrote {written} of the video's {expected} frames: a picture or clip could not be read"
            + (f" ({why})" if why else ""))
