"""Font lookup: a bold Latin font, and a CJK-capable one for Chinese text.

Fontconfig is asked first (``fc-match``, present wherever fonts are installed
on Linux, and with Homebrew on macOS). It always names *some* font, so a CJK
match counts only when ``fc-list :lang=zh`` lists it too, and only files
Pillow can load are taken. Without fontconfig, or without a suitable answer,
the first installed font of a list of usual places is used, and last the
Noto Sans CJK that installs with ytmaker (the ``noto-cjk-sans-otc`` wheel, OFL):
it draws Chinese, Japanese, Korean, Latin, Greek and Cyrillic, so a fresh machine
without fonts still shows real glyphs. The answer is cached for the life of the process.

``check_drawable`` refuses a text with letters none of these fonts can draw,
before any work, rather than letting a video of empty boxes be made.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from ytmaker.errors import InvalidInput, MediaError
from ytmaker.media.cmap import character_map
from ytmaker.text import is_cjk

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
#: the font that installs with ytmaker, last resort of both kinds: (package, file in it)
BUNDLED = ("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc")
#: Pillow's own font (used when there is no font file at all) draws only these
_PILLOW_DEFAULT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=4)
def font_path(cjk: bool = False) -> str | None:
    """The font file of the kind asked for (fontconfig's choice, else the first installed candidate), or None."""
    found = _fontconfig_cjk() if cjk else _fontconfig(LATIN_PATTERN)
    if found:
        return found
    for candidate in CJK_CANDIDATES if cjk else LATIN_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return bundled_font()


def bundled_font() -> str | None:
    """The font file shipped by ytmaker's font dependency, or None when that package is not installed."""
    package, file = BUNDLED
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / file
    return str(path) if path.is_file() else None


def undrawable(text: str) -> list[str]:
    """The distinct letters of ``text`` that neither the Latin nor the CJK font has a glyph for, in order of appearance."""
    if text.isascii():  # every font ytmaker draws with, Pillow's own included, has the ASCII letters
        return []
    maps = []
    for path in dict.fromkeys((font_path(), font_path(cjk=True))):
        try:
            maps.append(character_map(path) if path else _PILLOW_DEFAULT)
        except (OSError, ValueError, IndexError):  # a font we cannot read counts as drawing nothing
            continue
    return [c for c in dict.fromkeys(text) if c.isalpha() and not any(c in m for m in maps)]


def check_drawable(text: str) -> None:
    """InvalidInput naming what to install when some letters of ``text`` would be drawn as empty boxes."""
    missing = undrawable(text)
    if not missing:
        return
    scripts = sorted({unicodedata.name(c, "UNKNOWN").split()[0] for c in missing})
    fonts = ", ".join(Path(p).name for p in dict.fromkeys((font_path(), font_path(cjk=True))) if p) or "Pillow's own font"
    if is_cjk("".join(missing)):
        what = "pip install noto-cjk-sans-otc (ytmaker's font dependency), or apt install fonts-noto-cjk"
    else:
        what = (f"install a font covering {', '.join(scripts)} and make it fontconfig's bold sans-serif "
                "(fc-match sans:bold), e.g. apt install fonts-noto-core")
    raise InvalidInput(f"{len(missing)} letters of this text ({' '.join(missing[:10])}: {', '.join(scripts)}) have no glyph "
                       f"in the fonts ytmaker draws with ({fonts}); slides and subtitles would show empty boxes. {what}")


#: the face of a CJK collection (Noto Sans CJK, Source Han Sans) with Chinese letterforms; its first face is Japanese
CHINESE_FACE = " SC"


@lru_cache(maxsize=16)
def face_index(path: str) -> int:
    """The face of ``path`` to draw with: in a font collection, the Simplified Chinese one when it has one.

    Japanese and Chinese share code points but not every shape (骨, 直, 误 ...), and the
    collections put Japanese first: face 0 drew some Chinese characters in Japanese style.
    """
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    for index in range(32):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:  # past the last face
            break
        if family.endswith(CHINESE_FACE) and "Mono" not in family:
            return index
    return 0


@lru_cache(maxsize=32)
def open_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """``path`` at ``size``, in the face :func:`face_index` chooses (opened once per process and size)."""
    return ImageFont.truetype(path, size, index=face_index(path))


@lru_cache(maxsize=8)
def font_or_default(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    """``path`` at ``size`` (:func:`open_font`), or Pillow's bundled font when there is no file."""
    if path:
        return open_font(path, size)
    default = ImageFont.load_default(size=size)
    if not isinstance(default, ImageFont.FreeTypeFont):  # only a Pillow built without FreeType has no sizes
        raise MediaError("no font installed and Pillow lacks FreeType: install fonts-dejavu-core or Pillow's wheel")
    return default


def load_font(size: int, *, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """A TrueType font at ``size``; Pillow's bundled font when none is installed."""
    return font_or_default(font_path(cjk) or (font_path(False) if cjk else None), size)


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
