"""The stills as one stream FFmpeg reads cheaply: scaled once, stored raw, one list entry per segment.

A pass before the render scales each distinct picture once to the size the
pan needs and stores it as a raw yuv420p frame (a one-frame YUV4MPEG file):
the render reads it back without a decode, a colour conversion or a scale,
and holds no RGB picture (measured at 1080p, bench/render/README.md: 25 MB and
0.3 CPU-s per minute less than reading the PNGs).

Each picture is listed once, for its segment's frames. The list is read by a
``movie`` source inside the graph (ytmaker.media.filters.concat_source), which
the graph pulls one frame at a time; read as an input (``-i``), FFmpeg pushed
each entry through the graph at once, ``fps`` emitted all its frames and the
first filter that writes copied every one (a 1 s entry held 90 MB at 1080p),
so the list had to repeat each picture every second.
"""

from __future__ import annotations

from pathlib import Path


def distinct(images: list[Path]) -> list[Path]:
    """The pictures in order of first use, each once (a picture shown twice is converted once)."""
    return list(dict.fromkeys(images))


def raw_name(directory: Path, index: int) -> Path:
    """Where distinct picture ``index`` is stored raw, in the render's helper ``directory``."""
    return directory / f"still{index:04d}.y4m"


def convert_args(images: list[Path], size: tuple[int, int], directory: Path, fps: int) -> list[str]:
    """FFmpeg's arguments writing each of ``images`` (distinct) scaled to cover ``size`` as ``raw_name(directory, i)``.

    One FFmpeg run for all of them: the pictures come in through a concat list
    (written at ``list_name(directory)``) one frame each, and the segment muxer
    starts a file at every frame. The files' time base is the video's frame (the concat
    demuxer keeps its first file's), so the list's durations stay exact.

    Picture ``i`` is listed at ``i`` seconds and becomes frame ``i`` by its own time (``round(T)``), not by
    counting (``N``): a picture of another pixel format or size (a grey PNG after colour ones) makes FFmpeg
    rebuild the filters, which restarted the count and flushed an ``fps`` filter, so that picture was lost and
    the video ended where it should have begun. ``-r`` sets the files' rate without a filter.
    """
    width, height = size
    args = ["-f", "concat", "-safe", "0", "-i", str(list_name(directory)),
            "-vf", f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic:out_range=tv,"
                   f"crop={width}:{height},setsar=1,format=yuv420p,settb=1/{fps},setpts=round(T)",
            "-r", str(fps), "-c:v", "rawvideo", "-f", "segment", "-segment_format", "yuv4mpegpipe"]
    if len(images) > 1:
        args += ["-segment_frames", ",".join(str(i) for i in range(1, len(images)))]
    return args + [str(directory / "still%04d.y4m")]


def list_name(directory: Path) -> Path:
    return directory / "pictures.ffconcat"


def pictures_list(images: list[Path]) -> str:
    """The conversion's input: each picture once, one frame each."""
    return "ffconcat version 1.0\n" + "".join(f"file {quote(image)}\nduration 1\n" for image in images)


def quote(path: Path) -> str:
    """A file for an ``ffconcat`` list: absolute, or (a helper beside the list) its bare name.

    Bare names of letters, digits, ``.``, ``_`` and ``-`` are what the concat demuxer reads
    in its default safe mode, which is all a ``movie`` source gets (its ``format_opts``,
    which could turn it off, is missing from older FFmpeg).
    """
    text = path.name if len(path.parts) == 1 else str(path.resolve())
    return "'" + text.replace("'", "'\\''") + "'"


def concat_list(images: list[Path], frames: list[int], fps: int) -> str:
    """An ``ffconcat`` list that feeds ``images`` as one stream, each for its number of frames.

    ``images`` are bare names of files beside the list (``quote``), or paths.
    The last picture is listed once more: the concat demuxer gives the last entry no duration.
    """
    entries = [(image, count / fps) for image, count in zip(images, frames)]
    entries.append((images[-1], 1.0))
    return "ffconcat version 1.0\n" + "".join(f"file {quote(image)}\nduration {d:.6f}\n" for image, d in entries)
