"""Filter-expression builders of the render's graph: sources reading ``ffconcat`` lists, and the crossfade.

Pure functions of frame numbers and file names, used by
ytmaker.media.render.build_filtergraph (and tested through it).

Segments crossfade over the pause that ends each one: a second source reads
each next still a little early and is overlaid with a rising alpha only over
those frames (``crossfade_chains``).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path


def filter_path(path: Path) -> str:
    """Escape a file name for a filter option inside a filtergraph (two levels: option, then graph)."""
    level1 = str(path).replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join("\\" + c if c in "\\'[],;" else c for c in level1)


def concat_source(listing: Path) -> str:
    """A ``movie`` source reading an ``ffconcat`` list inside the graph.

    A source filter reads when the graph asks for its next frame. As an input (``-i``) the
    list is read by its own threads, which queue what they read ahead (eight raw 1080p stills,
    30 MB) and, when they fall behind, make the other inputs' frames queue (the subtitles'
    stream made 70 MB of video frames wait at the overlay).
    """
    return f"movie=filename={filter_path(listing)}:format_name=concat"


def incoming_starts(starts: list[int], overlap: int) -> list[int]:
    """Where the incoming stream switches to segment ``i + 1``: ``overlap`` frames before its start (the first at 0)."""
    return [0] + [start - overlap for start in starts[2:]]


def incoming_frames(starts: list[int], frames: list[int], overlap: int) -> list[int]:
    """The incoming stream's frame counts: segment ``i + 1`` from ``overlap`` frames before its start to as long before the next one's."""
    early = incoming_starts(starts, overlap) + [sum(frames)]
    return [b - a for a, b in pairwise(early)]


def window(boundaries: list[int], overlap: int) -> str:
    """An expression true on the ``overlap`` frames before each boundary (a balanced tree, like the pans)."""
    def tree(low: int, high: int) -> str:
        if low == high:
            return f"between(n,{boundaries[low] - overlap},{boundaries[low] - 1})"
        middle = (low + high + 1) // 2
        return f"if(lt(n,{boundaries[middle] - overlap}),{tree(low, middle - 1)},{tree(middle, high)})"

    return tree(0, len(boundaries) - 1)


def crossfade_chains(incoming_list: Path, starts: list[int], overlap: int, fps: int, *, outgoing: str, out: str,
                     move_b: str) -> list[str]:
    """The next segment's picture fading in over the pause that ends the current one.

    A second ``movie`` source reads the stills one segment ahead from ``incoming_list`` (each
    ``overlap`` frames early), panned by the same moves (``move_b``), so the picture that fades in
    is the one that then carries on. ``select`` keeps only the crossfades' frames of it (the others
    are references to a still until then: dropping them costs nothing, where giving each an alpha
    plane cost 0.5 CPU-s a minute at 1080p); their alpha ramps up by a ``fade`` enabled only over
    each crossfade, and the ``overlay`` is enabled only there: the rest of the time it passes the
    outgoing stream through (the incoming stream, before its next frame, counts as absent).
    ``xfade`` was not used: it takes one stream per segment and FFmpeg then queued the segments'
    frames (1.3 GB for a minute of 1080p).
    """
    fades = "".join(f",fade=t=in:st={(b - overlap) / fps:.6f}:d={overlap / fps:.6f}:alpha=1"
                    f":enable='between(t,{(b - overlap - 0.5) / fps:.6f},{(b - 0.5) / fps:.6f})'" for b in starts[1:])
    crossfading = window(starts[1:], overlap)
    return [f"{concat_source(incoming_list)},fps={fps}{move_b},select='{crossfading}',format=yuva420p{fades}[incoming]",
            f"[{outgoing}][incoming]overlay=format=yuv420:enable='{crossfading}'[{out}]"]
