"""Thumbnails: a 1280x720 JPEG (under YouTube's 2 MB): the title, large, over the picture that matches it.

The stage picks the candidates (the stills of the segments that share most of
the title's key words, or the times of those segments in the video); of those
the most detailed is taken, scored by contrast and edges (not "the first
frame"). Stills are preferred when they are at hand: sharper than a decoded
frame, and free of burned-in subtitles. 9:16 projects also get a 1080x1920
variant for Shorts.

The title is what sells the video, so it must read at 168x94 (``SMALL_SIZE``,
YouTube's suggestions list): it is set as large as fits in at most three lines
(an ellipsis ends a cut), never so small that its capitals are under
``MIN_CAP_PX`` there. The picture behind it becomes a backdrop. Slides carry
text of their own (the topic, the segment's headline) and frames carry
subtitles, and sharp text behind or beside the title competes with it, so the
whole picture is softened a little (at 168x94 that blur is under a pixel: a photo
looks the same) and the band under the title is blurred hard and dimmed until
white has at least ``MIN_CONTRAST`` (WCAG's ratio) against the brightest
5 % of what is left behind the letters.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps, ImageStat

from ytmaker.errors import MediaError
from ytmaker.media.draw import text_width
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.fonts import load_font
from ytmaker.media.jpeg import save_jpeg_under
from ytmaker.text import STOPWORDS, has_cjk, is_cjk, wrap

SIZE = (1280, 720)
VERTICAL_SIZE = (1080, 1920)
#: YouTube's limit for a thumbnail
MAX_BYTES = 2 * 1024 * 1024
#: the size YouTube shows thumbnails at beside a playing video: the title must read there
SMALL_SIZE = (168, 94)
#: the least height of the title's capitals at ``SMALL_SIZE``, in pixels (a 13 px UI font's)
MIN_CAP_PX = 9
#: the least height of a CJK title's characters there: 12 px is the smallest Chinese screen fonts are drawn at
MIN_CJK_PX = 12
#: the least WCAG contrast ratio of the title's white against the backdrop behind it (AAA for body text)
MIN_CONTRAST = 7.0
#: the most lines a title takes; a longer one is cut with an ellipsis
MAX_LINES = 3
#: font sizes tried, largest first, as fractions of the short side (landscape) or of the width (9:16)
FONT_STEPS = (0.19, 0.17, 0.155, 0.14)
TITLE_FILL = (255, 255, 255)
#: closing punctuation, which may hang past a line's width rather than start the next line
HANGING = "，。、；：！？）」』”’,.;:!?)…"
ELLIPSIS = "…"


def frame_args(video: Path, at_s: float, out: Path) -> list[str]:
    """FFmpeg's arguments grabbing one frame, built as a typed-ffmpeg graph (seek before the input: fast)."""
    graph = ffmpeg.input(str(video), ss=round(at_s, 3)).output(filename=str(out), vframes=1)
    return graph.compile()[1:]  # without the executable, which run_ffmpeg puts first


def extract_frame(video: Path, at_s: float, timeout_s: float = 120) -> Image.Image:
    """One frame of ``video`` at ``at_s`` seconds, as an RGB image."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frame.png"
        args = frame_args(video, at_s, out)
        log = run_ffmpeg(args, timeout_s=timeout_s)
        if not out.exists():  # a seek past the end writes nothing and exits 0
            raise MediaError(f"no frame at {at_s:.1f} s for the thumbnail", command=args, stderr=log[-4000:])
        with Image.open(out) as frame:
            return frame.convert("RGB")


def frame_score(image: Image.Image) -> float:
    """Higher for frames with contrast and detail; near zero for black, blank or blurred ones."""
    gray = image.convert("L").resize((320, 180))
    contrast = ImageStat.Stat(gray).stddev[0]
    edges = ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).mean[0]
    return contrast + 4 * edges


def best_frame(video: Path, duration_s: float, candidates: int = 4, *, times: list[float] | None = None) -> Image.Image:
    """The most detailed frame at ``times`` (seconds), by default of a few spread over the video (not simply the first)."""
    if not times:
        times = [duration_s * (i + 1) / (candidates + 1) for i in range(candidates)]
    frames = [extract_frame(video, min(t, max(0.0, duration_s - 0.1))) for t in times]
    return max(frames, key=frame_score)


def best_still(images: list[Path]) -> Image.Image:
    """The most detailed of the video's stills."""
    def load(path: Path) -> Image.Image:
        with Image.open(path) as image:
            return image.convert("RGB")

    return max((load(path) for path in images), key=frame_score)


# --- the title ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TitleLayout:
    """Where and how large the title is set on a thumbnail of ``size``: lines drawn centred from ``top`` down."""

    size: tuple[int, int]
    lines: list[str]
    font: ImageFont.FreeTypeFont
    top: int
    line_height: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The title's ink (left, top, right, bottom), every line's."""
        draw = ImageDraw.Draw(Image.new("L", (1, 1)))
        boxes = [draw.textbbox(at, line, font=self.font) for at, line in self.placed()]
        if not boxes:
            return (0, self.top, 0, self.top)
        return (max(0, round(min(b[0] for b in boxes))), round(min(b[1] for b in boxes)),
                min(self.size[0], round(max(b[2] for b in boxes))), round(max(b[3] for b in boxes)))

    def placed(self) -> list[tuple[tuple[int, int], str]]:
        """Each line with its top left corner: centred, closing punctuation hanging past the centred text."""
        draw = ImageDraw.Draw(Image.new("L", (1, 1)))
        return [((round(self.size[0] / 2 - draw.textlength(line.rstrip(HANGING), font=self.font) / 2),
                  self.top + i * self.line_height), line) for i, line in enumerate(self.lines)]

    def cap_height(self) -> int:
        """The height in pixels of a capital H (of a CJK character for a CJK title)."""
        return _cap_height(self.font, is_cjk(" ".join(self.lines)))


def _cap_height(font: ImageFont.FreeTypeFont, cjk: bool) -> int:
    box = font.getbbox("国" if cjk else "H", anchor="ls")
    return round(box[3] - box[1])


def title_layout(title: str, size: tuple[int, int] = SIZE, centred: bool = False) -> TitleLayout:
    """The largest font at which ``title`` fits in ``MAX_LINES`` lines; else the smallest, cut with an ellipsis.
    Set low over a picture (its subject shows above), or ``centred`` over a plain background.

    No font is smaller than the one whose capitals are ``MIN_CAP_PX`` (CJK: ``MIN_CJK_PX``) high at ``SMALL_SIZE``'s scale;
    a word wider than a line at that size is broken between characters.
    """
    width, height = size
    title = " ".join(title.split())
    cjk, face = is_cjk(title), has_cjk(title)  # the layout's, and the font's (any CJK character needs a CJK font)
    base = min(width, height) if width > height else width
    usable = width - 2 * round(width * 0.045)
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    floor = math.ceil((MIN_CJK_PX if cjk else MIN_CAP_PX) * width / SMALL_SIZE[0] * 100 / _cap_height(load_font(100, cjk=face), cjk))
    options = []
    for step in FONT_STEPS:
        font = load_font(max(floor, round(base * step)), cjk=face)
        measure = text_width(draw, font)
        for at_commas in (True, False) if cjk else (False,):
            lines = _wrap(title, usable, measure, at_commas)
            if len(lines) <= MAX_LINES and all(_fits(line, measure, usable) for line in lines):
                # The fewest lines (three lines beside two look smaller), then the fewest breaks inside a clause,
                # then the largest font.
                options.append(((*_breaks(lines), -font.size), font, at_commas))
    font, at_commas = min(options, key=lambda o: o[0])[1:] if options else (load_font(floor, cjk=face), False)
    measure = text_width(draw, font)
    lines = _wrap(title, usable, measure, at_commas)
    while lines and not all(_fits(line, measure, usable) for line in lines) and font.size * 0.92 >= floor:
        font = load_font(round(font.size * 0.92), cjk=face)  # a word wider than a line: smaller before broken
        measure = text_width(draw, font)
        lines = _wrap(title, usable, measure, at_commas)
    lines = _balanced(lines, lambda w: _wrap(title, w, measure, at_commas), usable)
    lines = _ellipsize([piece for line in lines for piece in _break_wide(line, measure, usable)], measure, usable)
    line_height = round(font.size * (1.18 if cjk else 1.08))
    bottom = round(height * 0.075) if width > height else height // 4  # 9:16: above the Shorts player's controls
    top = (height - len(lines) * line_height) // 2 if centred else height - bottom - len(lines) * line_height
    return TitleLayout(size, lines, font, top, line_height)


def _fits(line: str, measure: Callable[[str], float], width: float) -> bool:
    """Whether ``line`` fits ``width``, its closing punctuation hanging into the margin (as CJK typesetting does)."""
    return measure(line.rstrip(HANGING)) <= width


def _wrap(title: str, width: float, measure: Callable[[str], float], at_commas: bool = False) -> list[str]:
    """``wrap``; a CJK title breaks between words (rjieba's), and ``at_commas`` after each comma where it can."""
    if not title or not is_cjk(title):
        return wrap(title, width, measure) if title else []
    return _pack([c for c in re.split(r"(?<=[，、；：。！？,;:!?])\s*", title) if c] if at_commas else [title], width, measure)


def _pack(clauses: list[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """CJK clauses greedily into lines, each clause on a new line unless it fits whole at the end of the last."""
    import rjieba  # a compiled jieba; imported here so English titles never load its dictionary

    lines: list[str] = []
    for clause in clauses:
        if lines and _fits(lines[-1] + clause, measure, width):
            lines[-1] += clause
            continue
        lines.append("")
        for word in rjieba.cut(clause):
            if not lines[-1] or _fits(lines[-1] + word, measure, width) or not any(c.isalnum() for c in word):
                lines[-1] += word  # punctuation stays with the word before it
            else:
                lines.append(word)
    return lines


def _breaks(lines: list[str]) -> tuple[int, int]:
    """How many lines, and how many of them end inside a clause (not after a comma): fewer reads better."""
    return len(lines), sum(1 for line in lines[:-1] if not line.rstrip().endswith(tuple(HANGING)))


def _balanced(lines: list[str], wrapper: Callable[[float], list[str]], width: int) -> list[str]:
    """The lines as even as they can be: wrapped (by ``wrapper``) at the narrowest width that breaks no worse."""
    if not 1 < len(lines) <= MAX_LINES:
        return lines
    low, high = width // len(lines), width
    while high - low > 4:
        middle = (low + high) // 2
        low, high = (low, middle) if _breaks(wrapper(middle)) <= _breaks(lines) else (middle, high)
    return wrapper(high) if _breaks(wrapper(high)) <= _breaks(lines) else lines


def _break_wide(line: str, measure: Callable[[str], float], width: int) -> list[str]:
    """``line`` as it is when it fits ``width``, else cut between characters into pieces that do."""
    pieces = [""]
    for char in line:
        if pieces[-1] and not _fits(pieces[-1] + char, measure, width):
            pieces.append(char.lstrip())
        else:
            pieces[-1] += char
    return pieces


def _ellipsize(lines: list[str], measure: Callable[[str], float], width: int) -> list[str]:
    """The first ``MAX_LINES`` lines, the last ending in an ellipsis (still within ``width``) when some were cut."""
    if len(lines) <= MAX_LINES:
        return lines
    last = lines[MAX_LINES - 1]
    while True:
        last = last.rstrip(" ,.;:-–，。；：、·")
        if " " in last and last.rsplit(" ", 1)[1].lower() in STOPWORDS:  # "for the…" says less than "for…"
            last = last.rsplit(" ", 1)[0]
            continue
        if _fits(last + ELLIPSIS, measure, width) or len(last) <= 1:
            break
        last = last.rsplit(" ", 1)[0] if " " in last and not is_cjk(last) else last[:-1]
    return [*lines[: MAX_LINES - 1], last + ELLIPSIS]


# --- the picture behind it ------------------------------------------------------------------------

def luminance(image: Image.Image) -> Image.Image:
    """WCAG's relative luminance of each pixel, scaled to 0-255 ("L")."""
    def linear(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    table = [round(255 * linear(v)) for v in range(256)] * 3
    return image.convert("RGB").point(table).convert("L", matrix=(0.2126, 0.7152, 0.0722, 0))


def percentile(gray: Image.Image, fraction: float, mask: Image.Image | None = None) -> int:
    """The value under which ``fraction`` of the pixels of ``gray`` (where ``mask`` is set) lie."""
    histogram = gray.histogram(mask)
    total, running = sum(histogram), 0
    for value, count in enumerate(histogram):
        running += count
        if running >= fraction * total:
            return value
    return 255


def backdrop(frame: Image.Image, layout: TitleLayout) -> Image.Image:
    """``frame`` filling the thumbnail, softened, with the band under the title blurred and dimmed for ``MIN_CONTRAST``."""
    size = layout.size
    width, height = size
    short = min(size)
    fitted = ImageOps.fit(frame.convert("RGB"), size, method=Image.Resampling.LANCZOS)
    if not layout.lines:
        return fitted
    soft = ImageEnhance.Brightness(fitted.filter(ImageFilter.GaussianBlur(short / 40))).enhance(0.75)
    hard = fitted.filter(ImageFilter.GaussianBlur(short / 30))
    top, bottom = layout.box[1], layout.box[3]
    pad = round(layout.font.size * 0.45)
    band = Image.new("L", size, 0)
    band_bottom = height if width > height else bottom + pad  # landscape: down to the edge, as a lower third
    ImageDraw.Draw(band).rectangle((0, top - pad, width, band_bottom), fill=255)
    band = band.filter(ImageFilter.GaussianBlur(pad / 2))
    behind = Image.new("L", size, 0)
    ImageDraw.Draw(behind).rectangle(layout.box, fill=255)
    target = 255 * (1.05 / MIN_CONTRAST - 0.05)  # the brightest luminance white still has MIN_CONTRAST against
    dim = 0.8  # always somewhat darker, so the title stands forward
    while True:
        image = Image.composite(ImageEnhance.Brightness(hard).enhance(dim), soft, band)
        if percentile(luminance(image), 0.95, behind) <= target or dim < 0.05:
            return image
        dim *= 0.8


def compose(frame: Image.Image, title: str, size: tuple[int, int] = SIZE, centred: bool = False) -> Image.Image:
    """Fill ``size`` with the frame and set the title over it, large (see the module's docstring)."""
    layout = title_layout(title, size, centred)
    image = backdrop(frame, layout)
    draw_title(ImageDraw.Draw(image), layout)
    return image


def draw_title(draw: ImageDraw.ImageDraw, layout: TitleLayout) -> None:
    """The title's lines centred, white in a black outline; a regular-weight font (the CJK ones) made bold by a white stroke."""
    size = layout.font.size
    bold = "bold" in " ".join(name for name in layout.font.getname() if name).lower()
    thicker = 0 if bold else max(1, size // 30)
    outline = max(2, size // 18) + thicker
    for at, line in layout.placed():
        draw.text(at, line, font=layout.font, fill=(0, 0, 0), stroke_width=outline, stroke_fill=(0, 0, 0))
        draw.text(at, line, font=layout.font, fill=TITLE_FILL, stroke_width=thicker, stroke_fill=TITLE_FILL)


def make_thumbnail(video: Path, duration_s: float, title: str, out: Path, *, stills: list[Path] | None = None,
                   size: tuple[int, int] = SIZE, times: list[float] | None = None, centred: bool = False) -> None:
    """Write a ``size`` JPEG of ``title`` over the most detailed of ``stills`` (else of the video's frames at ``times``);
    ``centred``: the title in the middle, for a still that is a plain background."""
    picture = best_still(stills) if stills else best_frame(video, duration_s, times=times)
    save_jpeg_under(compose(picture, title, size, centred), out, MAX_BYTES)
