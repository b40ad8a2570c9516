"""Ken Burns motion as slow pans: a window of the frame's size glides over a still scaled slightly larger.

Each still is scaled once to ``SCALE`` times the frame, and a ``crop`` whose
position is an expression of the frame number moves across the slack that
leaves, in a different direction per segment. A crop only shifts the planes'
pointers, so the motion itself costs nothing, and x264 encodes a pure
translation far more cheaply than a zoom. Measured at 1080p30 (2 cores,
bench/render/README.md): ``zoompan`` cost 1.5 CPU-s per 12 s of video in the
filter and made the encoder's work about 50 % larger; the pans cost neither.
Zooms were dropped for that reason: they doubled the render's CPU time.

Positions are fractions of the slack (0 = left/top edge, 1 = right/bottom); the
window never leaves the picture and shows at least ``1/SCALE`` of it (91 %),
so text a slide keeps inside its margins (ytmaker.providers.slides) stays in view.
"""

from __future__ import annotations

from dataclasses import dataclass

from ytmaker.media.filters import choose

#: how much larger than the frame each still is scaled, to leave room for the pan
SCALE = 1.1


@dataclass(frozen=True)
class Pan:
    x: tuple[float, float]
    y: tuple[float, float]


#: right, up, left and down, right and up, left, down and right
MOVES = [
    Pan(x=(0.1, 0.9), y=(0.5, 0.5)),
    Pan(x=(0.5, 0.5), y=(0.9, 0.1)),
    Pan(x=(0.9, 0.1), y=(0.3, 0.7)),
    Pan(x=(0.2, 0.8), y=(0.8, 0.2)),
    Pan(x=(0.8, 0.2), y=(0.5, 0.5)),
    Pan(x=(0.3, 0.7), y=(0.1, 0.9)),
]


def move_for(index: int) -> Pan:
    return MOVES[index % len(MOVES)]


def scaled_size(width: int, height: int) -> tuple[int, int]:
    """The size stills are scaled to before the pan (even, for yuv420p)."""
    return 2 * round(width * SCALE / 2), 2 * round(height * SCALE / 2)


def pan_moves(frame_starts: list[int], frames: list[int], lead: int) -> tuple[list[int], list[int]]:
    """Where each segment's move begins and how many frames it lasts.

    Every segment but the first begins its move ``lead`` frames early, while it fades in over the
    previous one (the crossfade), so the incoming picture and its segment are one continuous move.
    """
    origins = [start - (lead if i else 0) for i, start in enumerate(frame_starts)]
    spans = [max(1, count + (lead if i else 0) - 1) for i, count in enumerate(frames)]
    return origins, spans


def pan_exprs(boundaries: list[int], origins: list[int], spans: list[int], slack: tuple[int, int], *, first: int = 0,
              held: frozenset[int] = frozenset(), var: str = "n") -> dict[str, str]:
    """``x`` and ``y`` for ``crop``, of the frame number ``var``: from frame ``boundaries[i]`` on, the picture runs
    ``move_for(first + i)`` across the ``slack`` (the still's size less the frame's), begun at frame ``origins[i]`` and
    lasting ``spans[i]`` frames (``pan_moves``); segments in ``held`` stay centred (a clip's poster: the clip, which
    moves by itself, is cut from the same middle). The segment is found by a balanced tree of ``if(lt(n,start),…)``
    (``filters.choose``).

    Offsets are even pixels, rounded here rather than by ``crop`` (which rounds, then evens, a yuv420p offset itself):
    the same expression of ``n - 1`` then tells which frames the pan moved (ytmaker.media.changes).
    """
    def position(i: int, attr: str) -> str:
        if first + i in held:
            return "0.5"
        a, b = getattr(move_for(first + i), attr)
        return f"{a:g}" if a == b else f"({a:g}{b - a:+g}*clip(({var}-{origins[i]})/{spans[i]},0,1))"

    def tree(attr: str) -> str:
        return choose(var, [str(b) for b in boundaries], [position(i, attr) for i in range(len(boundaries))])

    return {axis: f"2*floor({room}*{tree(axis)}/2)" for axis, room in zip("xy", slack)}
