"""Text layout on Pillow images: wrapping to a width, with CJK-aware line breaks."""

from __future__ import annotations

from PIL import ImageDraw, ImageFont

from ytmaker.text import is_cjk


def wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines no wider than ``width`` pixels."""
    tokens = list(text) if is_cjk(text) else text.split()
    joiner = "" if is_cjk(text) else " "
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = token
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" ,.;:") + "…"
    return lines


def draw_block(draw, lines, font, *, center_x: int, top: int, fill, stroke_fill, line_gap: float = 1.25) -> int:
    """Draw centred lines with an outline; return the y below the block."""
    size = font.size if hasattr(font, "size") else 20
    y = top
    for line in lines:
        draw.text((center_x, y), line, font=font, fill=fill, anchor="ma", stroke_width=max(2, size // 18), stroke_fill=stroke_fill)
        y += int(size * line_gap)
    return y
