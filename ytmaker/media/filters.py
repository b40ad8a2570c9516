"""Filter-expression builders of the render's graph: sources reading ``ffconcat`` lists, and the crossfade.

Pure functions of frame numbers and file names, used by
ytmaker.media.render.build_filtergraph (and tested through it).

Segments crossfade over the pause that ends each one: a second source reads
each next still a little early and is blended in, with a rising weight, only over
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


def choose(var: str, thresholds: list[str], leaves: list[str]) -> str:
    """An expression worth ``leaves[i]`` once ``var`` reaches ``thresholds[i]`` (``thresholds[0]`` is not read).

    av_expr has no arrays, so the leaf is found by a balanced tree of ``if(lt(var,threshold),…)``: its depth
    grows with the log of the count (a flat sum of one term per segment was refused by FFmpeg's parser beyond
    about 80 segments).
    """
    def tree(low: int, high: int) -> str:
        if low == high:
            return leaves[low]
        middle = (low + high + 1) // 2
        return f"if(lt({var},{thresholds[middle]}),{tree(low, middle - 1)},{tree(middle, high)})"

    return tree(0, len(leaves) - 1)


def within(var: str, ranges: list[tuple[int, int]]) -> str:
    """An expression true while ``var`` is in one of ``ranges`` (first, last; sorted, apart)."""
    if not ranges:
        return "0"
    return choose(var, [str(first) for first, _ in ranges], [f"between({var},{first},{last})" for first, last in ranges])


def member(var: str, values: list[int]) -> str:
    """An expression true when ``var`` is one of ``values`` (sorted, distinct)."""
    return within(var, [(v, v) for v in values])


def window(boundaries: list[int], overlap: int) -> str:
    """An expression true on the ``overlap`` frames before each boundary."""
    return within("n", [(b - overlap, b - 1) for b in boundaries])


#: the crossfade's ``blend`` instance, which ``sendcmd`` addresses
CROSSFADE = "blend@crossfade"


def crossfade_commands(starts: list[int], overlap: int, fps: int) -> str:
    """``sendcmd``'s script: on crossfade frame ``k`` (of ``overlap``) before each boundary the outgoing picture
    weighs ``(overlap - k) / (overlap + 1)``, so the incoming one rises by equal steps, never all or nothing there.

    Each command is timed half a frame before its frame, which reaches ``sendcmd`` (and the blend) after it.
    """
    return "".join(f"{(b - overlap + k - 0.5) / fps:.6f} {CROSSFADE} all_opacity {(overlap - k) / (overlap + 1):.6f};\n"
                   for b in starts[1:] for k in range(overlap))


def crossfade_chains(incoming_list: Path, commands: Path, starts: list[int], overlap: int, fps: int, *, outgoing: str,
                     out: str, move_b: str) -> list[str]:
    """The next segment's picture blended in over the pause that ends the current one.

    A second ``movie`` source reads the stills one segment ahead from ``incoming_list`` (each
    ``overlap`` frames early), panned by the same moves (``move_b``), so the picture that comes in
    is the one that then carries on. ``select`` keeps only the crossfades' frames of it, and a
    ``blend`` enabled only there mixes them in, its weight set frame by frame from ``commands``
    (``crossfade_commands``). Disabled, ``blend`` passes the outgoing frame on untouched, where an
    ``overlay`` copies every frame first; and it needs no alpha plane, where the alpha ``fade`` it
    replaced cost a byte loop over each crossfade frame and a conversion to yuva420p (0.35-0.6 CPU-s
    a minute at 1080p, bench/render/README.md). ``xfade`` was not used: it takes one stream per
    segment and FFmpeg then queued the segments' frames (1.3 GB for a minute of 1080p).
    """
    crossfading = window(starts[1:], overlap)
    return [f"{concat_source(incoming_list)},fps={fps}{move_b},select='{crossfading}'[incoming]",
            f"[{outgoing}]sendcmd=f={filter_path(commands)}[{outgoing}_timed]",
            f"[{outgoing}_timed][incoming]{CROSSFADE}=all_mode=normal:all_opacity=1:enable='{crossfading}'[{out}]"]
