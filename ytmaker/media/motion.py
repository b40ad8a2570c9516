"""Ken Burns motion: slow zooms and pans as ``zoompan`` expressions, varied from segment to segment.

A move is a start and end zoom plus where the visible window sits inside the
slack the zoom leaves (0 = left/top edge, 0.5 = centred, 1 = right/bottom
edge). Moves stay within about 12 % of the picture so nothing a slide
draws near its margins leaves the frame.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    zoom: tuple[float, float]
    x: tuple[float, float] = (0.5, 0.5)
    y: tuple[float, float] = (0.5, 0.5)


#: in, pan right, out, in towards the upper left, pan left and up, out from the lower right
MOVES = [
    Move(zoom=(1.0, 1.12)),
    Move(zoom=(1.08, 1.08), x=(0.15, 0.85)),
    Move(zoom=(1.12, 1.0)),
    Move(zoom=(1.0, 1.12), x=(0.5, 0.3), y=(0.5, 0.35)),
    Move(zoom=(1.08, 1.08), x=(0.85, 0.15), y=(0.6, 0.4)),
    Move(zoom=(1.12, 1.0), x=(0.7, 0.5), y=(0.65, 0.5)),
]


def move_for(index: int) -> Move:
    return MOVES[index % len(MOVES)]


def _pick(values: list[float], index: str) -> str:
    """An expression worth ``values[k]`` when ``index`` evaluates to ``k`` (av_expr has no arrays)."""
    if len(set(values)) == 1:
        return f"{values[0]:g}"
    return "(" + "+".join(f"eq({index},{k})*{v:g}" for k, v in enumerate(values) if v) + ")"


def zoompan_exprs(segment_index: str) -> dict[str, str]:
    """``zoom``, ``x`` and ``y`` for zoompan, running ``MOVES[segment_index % 6]`` over each input picture.

    ``segment_index`` is an expression of zoompan's ``in`` (the picture's number); ``frame`` and
    ``duration`` are the output frame within the picture and the picture's frame count, so a move
    always spans its segment whatever its length. zoompan samples bilinearly at sub-pixel
    positions, so slow moves glide instead of stepping from pixel to pixel.
    """
    move = f"mod({segment_index},{len(MOVES)})"
    progress = "(frame/max(1,duration-1))"

    def lerp(attr: str, axis: int | None = None) -> str:
        pairs = [getattr(m, attr) for m in MOVES]
        start = _pick([p[0] for p in pairs], move)
        delta = _pick([p[1] - p[0] for p in pairs], move)
        return start if delta == "0" else f"{start}+{delta}*{progress}"

    return {"zoom": lerp("zoom"), "x": f"(iw-iw/zoom)*({lerp('x')})", "y": f"(ih-ih/zoom)*({lerp('y')})"}
