"""Offline images: Pillow-drawn slides at the video's resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw

from ytmaker.media.draw import draw_block, fit, text_width, wrap_lines
from ytmaker.media.fonts import load_font
from ytmaker.providers.base import ImageRequest
from ytmaker.text import is_cjk, keywords, truncate, wrap

SEPARATOR = " · "
#: (top colour, bottom colour, accent) — dark enough for white text.
PALETTES = [
    ((24, 40, 82), (8, 12, 30), (255, 183, 77)),
    ((78, 26, 74), (20, 8, 26), (129, 212, 250)),
    ((14, 77, 70), (4, 22, 20), (255, 138, 128)),
    ((90, 45, 12), (28, 12, 4), (174, 213, 129)),
    ((40, 40, 48), (10, 10, 14), (255, 213, 79)),
    ((20, 60, 110), (60, 10, 60), (178, 235, 242)),
]


def headline(narration: str, words: int = 3) -> str:
    """A slide's headline from its narration: the most specific of its frequent words, e.g. "Manufacturing · Production · Solar".

    The subtitles carry the narration itself; the slide names what the segment is about.
    """
    found = keywords(narration, 40)
    if is_cjk(narration):
        return SEPARATOR.join(found[:2]) or truncate(narration, 16)
    found = list(dict.fromkeys(w.removesuffix("'s") for w in found))
    # A word the segment repeats, then the longest of the rest (the more specific in a short segment).
    pinned = found[:1] if found and narration.lower().count(found[0]) > 1 else []
    picked = set(pinned + sorted(found[len(pinned):], key=len, reverse=True)[: words - len(pinned)])
    return SEPARATOR.join(w[:1].upper() + w[1:] for w in found if w in picked) or truncate(narration, 60)


def _wrap_phrases(draw, text: str, font, width: int) -> list[str]:
    """Wrap a headline between its phrases when it has several (no line ends in a dangling "·"), then within them."""
    measure = text_width(draw, font)
    return [line for chunk in wrap(text, width, measure, separator=SEPARATOR) for line in wrap(chunk, width, measure)]


def _gradient(width: int, height: int, top, bottom) -> Image.Image:
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(1, height - 1)
        column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize((width, height))


class SlideImages:
    """A gradient slide with the video's topic and the segment's headline (its key words), varied per segment."""

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
        # Wide margins: the Ken Burns crop (ytmaker.media.motion) hides up to about 8 % at each side, and
        # the burned-in subtitles take the lower quarter, so the text stays in the middle band.
        margin = width // 7
        base = min(width, height)
        topic_font = load_font(base // 24, cjk=cjk)
        y = height // 7 if width > height else height // 5
        y = draw_block(draw, wrap_lines(draw, request.topic.upper() if not cjk else request.topic, topic_font, width - 2 * margin, 2),
                       topic_font, center_x=width // 2, top=y, fill=accent, stroke_fill=(0, 0, 0))
        draw.line((width // 2 - base // 8, y + base // 60, width // 2 + base // 8, y + base // 60), fill=accent, width=max(3, base // 200))
        max_lines = 3 if height > width else 2
        for divisor in (10, 12, 14, 17):  # the largest size that keeps every phrase
            headline_font = load_font(base // divisor, cjk=cjk)
            lines = _wrap_phrases(draw, request.caption, headline_font, width - 2 * margin)
            if len(lines) <= max_lines:
                break
        lines = fit(lines, max_lines)
        block = len(lines) * int(headline_font.size * 1.2)
        top_y = max(y + base // 12, round(height * 0.45) - block // 2)
        draw_block(draw, lines, headline_font, center_x=width // 2, top=top_y, fill=(255, 255, 255), stroke_fill=(0, 0, 0),
                   line_gap=1.2)
        image.save(out, format="PNG", optimize=False, compress_level=1)
        return None
