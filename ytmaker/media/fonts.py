"""Font lookup: a bold Latin font, and a CJK-capable one for Chinese text."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

LATIN_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
]
CJK_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]


@lru_cache(maxsize=4)
def font_path(cjk: bool = False) -> str | None:
    """The first installed font of the kind asked for, or None."""
    for candidate in CJK_CANDIDATES if cjk else LATIN_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return None


def load_font(size: int, *, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """A TrueType font at ``size``; Pillow's bundled font when none is installed."""
    path = font_path(cjk) or (font_path(False) if cjk else None)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)
