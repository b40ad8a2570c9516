"""Text layout on Pillow images: wrapping to a width (ytmaker.text.wrap), at most so many lines, drawn centred."""

from __future__ import annotations

from collections.abc import Callable

from PIL import ImageDraw, ImageFont

from ytmaker.text import wrap


def text_width(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont) -> Callable[[str], float]:
    """The width in pixels ``draw`` gives a text in ``font``."""
    return lambda line: draw.textlength(line, font=font)


def wrap_lines(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines no wider than ``width`` pixels (an ellipsis ends a cut)."""
    return fit(wrap(text, width, text_width(draw, font)), max_lines)


def fit(lines: list[str], max_lines: int) -> list[str]:
    """The first ``max_lines`` lines, the last ending in an ellipsis when some were cut."""
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    return [*kept[:-1], kept[-1].rstrip(" ,.;:，。；：、·") + "…"]


def draw_block(draw, lines, font, *, center_x: int, top: int, fill, stroke_fill, line_gap: float = 1.25) -> int:
    """Draw centred lines with an outline; return the y below the block."""
    size = font.size if hasattr(font, "size") else 20
    y = top
    for line in lines:
        draw.text((center_x, y), line, font=font, fill=fill, anchor="ma", stroke_width=max(2, size // 18), stroke_fill=stroke_fill)
        y += int(size * line_gap)
    return y
