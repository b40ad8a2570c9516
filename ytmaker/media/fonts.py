"""Font lookup: a bold Latin font, and a CJK-capable one for Chinese text.

Fontconfig is asked first (``fc-match``, present wherever fonts are installed
on Linux, and with Homebrew on macOS). It always names *some* font, so a CJK
match counts only when ``fc-list :lang=zh`` lists it too, and only files
Pillow can load are taken. Without fontconfig, or without a suitable answer,
the first installed font of a list of usual places is used. The answer is
cached for the life of the process.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from ytmaker.errors import MediaError

#: what fontconfig is asked for: a bold sans-serif, and the preferred font covering Chinese
LATIN_PATTERN = "sans:bold"
CJK_PATTERN = ":lang=zh"
#: font files Pillow's FreeType loader reads (fontconfig also knows bitmap formats it cannot)
LOADABLE = (".ttf", ".otf", ".ttc", ".otc")

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
    """The font file of the kind asked for (fontconfig's choice, else the first installed candidate), or None."""
    found = _fontconfig_cjk() if cjk else _fontconfig(LATIN_PATTERN)
    if found:
        return found
    for candidate in CJK_CANDIDATES if cjk else LATIN_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def load_font(size: int, *, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """A TrueType font at ``size``; Pillow's bundled font when none is installed."""
    path = font_path(cjk) or (font_path(False) if cjk else None)
    if path:
        return ImageFont.truetype(path, size)
    default = ImageFont.load_default(size=size)
    if not isinstance(default, ImageFont.FreeTypeFont):  # only a Pillow built without FreeType has no sizes
        raise MediaError("no font installed and Pillow lacks FreeType: install fonts-dejavu-core or Pillow's wheel")
    return default


def _fontconfig(pattern: str) -> str | None:
    """The file ``fc-match`` picks for ``pattern``, when it is one Pillow can load."""
    output = _ask("fc-match", "-f", "%{file}", pattern)
    path = output.strip() if output else ""
    return path if path.lower().endswith(LOADABLE) and Path(path).is_file() else None


def _fontconfig_cjk() -> str | None:
    """Fontconfig's preferred Chinese font, or another it lists as covering Chinese; None when it lists none."""
    listed = _ask("fc-list", CJK_PATTERN, "file")
    covering = sorted(
        path for line in (listed or "").splitlines()
        if (path := line.strip().rstrip(":").strip()).lower().endswith(LOADABLE) and Path(path).is_file()
    )
    if not covering:
        return None
    preferred = _fontconfig(CJK_PATTERN)
    return preferred if preferred in covering else covering[0]


def _ask(tool: str, *args: str) -> str | None:
    """``tool``'s output, or None when it is not installed or fails."""
    exe = shutil.which(tool)
    if exe is None:
        return None
    try:
        result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
