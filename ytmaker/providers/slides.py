"""Offline images: Pillow-drawn slides at the video's resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw

from ytmaker import keyphrases
from ytmaker.media.draw import draw_block, fit, text_width, wrap_lines
from ytmaker.media.fonts import load_font
from ytmaker.providers.base import ImageRequest
from ytmaker.text import has_cjk, is_cjk, wrap

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


def headline(narration: str) -> str:
    """A slide's headline for a segment whose script gives none (scripts written before segments had one):
    the phrase its narration is most about (:func:`ytmaker.keyphrases.headline`).

    The subtitles carry the narration itself; the slide names what the segment is about.
    """
    return keyphrases.headline(narration)


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

    @staticmethod
    def background(request: ImageRequest) -> tuple[Image.Image, tuple[int, int, int]]:
        """The slide without its words (the thumbnail sets the title over it), and its accent colour."""
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
        return image, accent

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        width, height = request.width, request.height
        image, accent = self.background(request)
        draw = ImageDraw.Draw(image)
        cjk = is_cjk(request.caption + request.topic)  # the layout's; the font's: any CJK character at all
        face = has_cjk(request.caption + request.topic)
        if request.title_card:
            _title_card(draw, request.topic, accent, width, height, face)
            image.save(out, format="PNG", optimize=False, compress_level=1)
            return None
        # Wide margins: the Ken Burns crop (ytmaker.media.motion) hides up to about 8 % at each side, and
        # the burned-in subtitles take the lower quarter, so the text stays in the middle band.
        margin = width // 7
        base = min(width, height)
        topic_font = load_font(base // 24, cjk=face)
        y = height // 7 if width > height else height // 5
        y = draw_block(draw, wrap_lines(draw, request.topic.upper() if not cjk else request.topic, topic_font, width - 2 * margin, 2),
                       topic_font, center_x=width // 2, top=y, fill=accent, stroke_fill=(0, 0, 0))
        draw.line((width // 2 - base // 8, y + base // 60, width // 2 + base // 8, y + base // 60), fill=accent, width=max(3, base // 200))
        max_lines = 3 if height > width else 2
        for divisor in (10, 12, 14, 17):  # the largest size that keeps every phrase
            headline_font = load_font(base // divisor, cjk=face)
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


def _title_card(draw, title: str, accent, width: int, height: int, cjk: bool) -> None:
    """The video's title, as large as fits in up to three balanced lines, between two accent rules, above the subtitles."""
    margin, base = width // 7, min(width, height)
    for divisor in (8, 10, 12, 14, 17):  # the largest size that fits in three lines without an orphan ("…的动 / 物")
        font = load_font(base // divisor, cjk=cjk)
        measure = text_width(draw, font)
        lines = wrap(title, width - 2 * margin, measure)
        if len(lines) == 1 or (len(lines) <= 3 and measure(lines[-1]) >= 0.4 * measure(lines[0])):
            break
    lines = fit(lines, 3)
    block = len(lines) * int(font.size * 1.2)
    top = round(height * 0.42) - block // 2
    rule = max(3, base // 150)
    for y in (top - base // 20, top + block + base // 30):
        draw.line((width // 2 - base // 6, y, width // 2 + base // 6, y), fill=accent, width=rule)
    draw_block(draw, lines, font, center_x=width // 2, top=top, fill=(255, 255, 255), stroke_fill=(0, 0, 0), line_gap=1.2)
