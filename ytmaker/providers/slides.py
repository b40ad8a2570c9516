"""Offline images: Pillow-drawn slides at the video's resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw

from ytmaker.media.draw import draw_block, wrap
from ytmaker.media.fonts import load_font
from ytmaker.providers.base import ImageRequest
from ytmaker.text import is_cjk

#: (top colour, bottom colour, accent) — dark enough for white text.
PALETTES = [
    ((24, 40, 82), (8, 12, 30), (255, 183, 77)),
    ((78, 26, 74), (20, 8, 26), (129, 212, 250)),
    ((14, 77, 70), (4, 22, 20), (255, 138, 128)),
    ((90, 45, 12), (28, 12, 4), (174, 213, 129)),
    ((40, 40, 48), (10, 10, 14), (255, 213, 79)),
    ((20, 60, 110), (60, 10, 60), (178, 235, 242)),
]


def _gradient(width: int, height: int, top, bottom) -> Image.Image:
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(1, height - 1)
        column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize((width, height))


class SlideImages:
    """A gradient slide with the segment's key line and its topic, varied per segment."""

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        width, height = request.width, request.height
        seed = int(hashlib.sha256(f"{request.index}:{request.description}".encode()).hexdigest(), 16)
        top, bottom, accent = PALETTES[(request.index + seed % 2) % len(PALETTES)]
        image = _gradient(width, height, top, bottom)
        draw = ImageDraw.Draw(image)
        # A few soft shapes so consecutive slides don't look identical.
        for i in range(3):
            r = (seed >> (i * 12)) % (min(width, height) // 3) + min(width, height) // 8
            cx = (seed >> (i * 7)) % width
            cy = (seed >> (i * 5)) % height
            shade = tuple(min(255, c + 18) for c in top)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=shade, width=max(2, r // 20))
        cjk = is_cjk(request.caption + request.topic)
        margin = width // 12
        base = min(width, height)
        topic_font = load_font(base // 22, cjk=cjk)
        caption_font = load_font(base // 14, cjk=cjk)
        y = height // 6
        y = draw_block(draw, wrap(draw, request.topic.upper() if not cjk else request.topic, topic_font, width - 2 * margin, 2),
                       topic_font, center_x=width // 2, top=y, fill=accent, stroke_fill=(0, 0, 0))
        draw.line((width // 2 - base // 8, y + base // 60, width // 2 + base // 8, y + base // 60), fill=accent, width=max(3, base // 200))
        lines = wrap(draw, request.caption, caption_font, width - 2 * margin, 6 if height > width else 4)
        block = len(lines) * int(caption_font.size * 1.25)
        top_y = max(y + base // 20, (height - block) // 2 + base // 20)
        draw_block(draw, lines, caption_font, center_x=width // 2, top=top_y, fill=(255, 255, 255), stroke_fill=(0, 0, 0))
        image.save(out, format="PNG", optimize=False, compress_level=1)
        return None
