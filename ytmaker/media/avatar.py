"""Avatar picture-in-picture: one talking-head clip per segment, in a corner, in step with the narration.

The clips reach FFmpeg as one stream through a concat list whose entries last
exactly their segments (a clip is cut at its segment's end; a shorter one holds
its last frame through the pause), so clip ``k`` starts with narration ``k``
and only one decoder is open however many segments there are. The optional
circle is a still mask (drawn once with Pillow) merged as the clip's alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

#: the clip's side as a fraction of the frame's shorter side, and its distance from the edges
SIZE = 0.3
MARGIN = 0.04
CORNERS = ("top-right", "top-left", "bottom-right", "bottom-left")


@dataclass(frozen=True)
class AvatarLayout:
    corner: str = "top-right"
    circle: bool = False

    def __post_init__(self) -> None:
        if self.corner not in CORNERS:
            raise ValueError(f"avatar corner must be one of {', '.join(CORNERS)}, not {self.corner!r}")


def box(width: int, height: int) -> tuple[int, int]:
    """The clip's side in pixels (even) and its margin from the frame's edges."""
    side = 2 * round(min(width, height) * SIZE / 2)
    return side, round(min(width, height) * MARGIN)


def avatar_list(clips: list[Path], frames: list[int], fps: int) -> str:
    """An ``ffconcat`` list playing ``clips[k]`` for exactly ``frames[k]`` frames from segment ``k``'s start."""
    def quote(path: Path) -> str:
        return "'" + str(path.resolve()).replace("'", "'\\''") + "'"

    return "ffconcat version 1.0\n" + "".join(
        f"file {quote(clip)}\noutpoint {count / fps:.6f}\nduration {count / fps:.6f}\n" for clip, count in zip(clips, frames))


def write_mask(path: Path, side: int) -> Path:
    """A white disc on black, the clip's alpha when it is cut to a circle (antialiased by drawing at 4x)."""
    big = Image.new("L", (side * 4, side * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, side * 4 - 1, side * 4 - 1), fill=255)
    big.resize((side, side), Image.Resampling.LANCZOS).save(path, format="PNG")
    return path


def overlay_chains(base: str, out: str, clips_input: int, mask_input: int | None, layout: AvatarLayout,
                   size: tuple[int, int], fps: int) -> list[str]:
    """Filter chains putting the clips (input ``clips_input``) over ``[base]`` as ``[out]``."""
    width, height = size
    side, margin = box(width, height)
    x = f"{margin}" if layout.corner.endswith("left") else f"W-w-{margin}"
    y = f"{margin}" if layout.corner.startswith("top") else f"H-h-{margin}"
    clip = (f"[{clips_input}:v]fps={fps},scale={side}:{side}:force_original_aspect_ratio=increase,"
            f"crop={side}:{side},setsar=1")
    chains = []
    if mask_input is not None:
        chains.append(clip + ",format=yuva420p[avatar_rgb]")
        chains.append(f"[{mask_input}:v]format=gray,scale={side}:{side}[avatar_mask]")
        chains.append("[avatar_rgb][avatar_mask]alphamerge[avatar]")
    else:
        chains.append(clip + ",format=yuv420p[avatar]")
    chains.append(f"[{base}][avatar]overlay=x={x}:y={y}:eof_action=pass:format=yuv420[{out}]")
    return chains
