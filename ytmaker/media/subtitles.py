"""Subtitles from the narration: cues cut where they read well, timed on the words, written as SRT and WebVTT.

Each segment's narration is cut into cues by ytmaker.media.cues: at most two
balanced lines within the picture's safe width (measured with the font the
burn-in draws with, ytmaker.media.captions) and 42 characters (16 Chinese, 14
in 9:16), 0.8–7 s each, read at most 20 characters a second (9 Chinese), cut at
punctuation and phrase boundaries, never leaving a sentence's last word or two
alone. Where the speech engine reported when each word starts (espeak-ng does),
a cue starts on its first word and each word's (for Chinese, each short phrase's)
highlight on its own; otherwise time is shared out by character count.

The burn-in's look (``CaptionStyle``: mode, size, colours, outline, position)
comes from the settings (``YTMAKER_CAPTION*``), overridden per project.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from ytmaker.keyphrases import word_starts
from ytmaker.media import cues as cutter
from ytmaker.media.cues import MAX_LINES
from ytmaker.media.fonts import font_or_default, font_path
from ytmaker.text import has_cjk

__all__ = ["MAX_LINES", "CaptionStyle", "Cue", "Mark", "SubtitleFiles", "SubtitleStyle", "build_cues", "subtitle_font",
           "to_srt", "to_vtt", "write_subtitles"]

MODES = ("auto", "words", "sentences", "off")
POSITIONS = ("bottom", "center", "top")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: a Chinese highlight covers a phrase of up to this many characters
PHRASE_CHARS = 7


@dataclass(frozen=True)
class Mark:
    """A word (Chinese: a phrase) to highlight from ``start_s``: characters [begin, end) of the cue's line ``line``."""

    start_s: float
    line: int
    begin: int
    end: int


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class CaptionStyle:
    """How captions are burned in; sizes in pixels of a 1080-pixel shorter side (scaled with the picture), 0: the format's default."""

    mode: str = "auto"  # words | sentences | off | auto (words for 9:16, sentences for 16:9)
    font_size: int = 0  # 0: 56 for 16:9, 64 for 9:16
    color: str = "#FFFFFF"
    highlight_color: str = "#FFD400"
    outline_color: str = "#101010"
    outline: float = 0  # 0: 7 % of the font size
    position: str = "bottom"  # bottom (above the format's margin) | center | top

    def __post_init__(self) -> None:
        problems = [f"captions {self.mode!r} is not one of {', '.join(MODES)}"] if self.mode not in MODES else []
        problems += [f"caption position {self.position!r} is not one of {', '.join(POSITIONS)}"] if self.position not in POSITIONS else []
        problems += [f"caption colour {c!r} is not #RRGGBB" for c in (self.color, self.highlight_color, self.outline_color)
                     if not _COLOUR.match(str(c))]
        if not 0 <= self.font_size <= 400 or not 0 <= self.outline <= 40:
            problems.append("caption font size (0-400) or outline (0-40) out of range")
        if problems:
            raise ValueError("; ".join(problems))

    def merged(self, overrides: dict | None) -> CaptionStyle:
        """This style with a project's ``overrides`` (the field names); ValueError on an unknown field or bad value."""
        if not overrides:
            return self
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown caption setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)

    def burn_mode(self, video_format: str) -> str:
        """words, sentences or off for a video of ``video_format``."""
        return ("words" if video_format == "9:16" else "sentences") if self.mode == "auto" else self.mode


@dataclass(frozen=True)
class SubtitleStyle:
    """Sizes in pixels of the video the subtitles are burned into, and the captions' look."""

    width: int
    height: int
    look: CaptionStyle = CaptionStyle()

    @property
    def vertical(self) -> bool:
        return self.height > self.width

    @property
    def scale(self) -> float:
        return min(self.width, self.height) / 1080

    @property
    def font_size(self) -> int:
        return max(10, round((self.look.font_size or (64 if self.vertical else 56)) * self.scale))

    @property
    def margin_x(self) -> int:
        return round(self.width * (0.06 if self.vertical else 0.08))

    @property
    def margin_bottom(self) -> int:
        # Shorts put their own buttons and the title over the lower fifth of the picture.
        return round(self.height * (0.2 if self.vertical else 0.06))

    @property
    def outline(self) -> float:
        return max(1.0, round(self.look.outline * self.scale if self.look.outline else self.font_size * 0.07, 1))

    def band_top(self, band_height: int) -> int:
        """Where a band ``band_height`` tall goes: above the bottom margin, centred, or as far below the top."""
        if self.look.position == "center":
            return (self.height - band_height) // 2
        if self.look.position == "top":
            return self.margin_bottom // 2
        return max(0, self.height - self.margin_bottom - band_height)


def _measure(font_file: str | None, size: int) -> Callable[[str], float]:
    font = font_or_default(font_file, size)
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    return lambda text: draw.textlength(text, font=font)


def build_cues(segments: list[tuple[float, float, str]], style: SubtitleStyle, *, font_file: str | None = None,
               words: list[list[tuple[int, float]] | None] | None = None, hold_s: list[float] | None = None) -> list[Cue]:
    """Cues for ``(start_s, narration_s, text)`` per segment (ytmaker.media.cues cuts them).

    ``words[i]``, when given, holds segment i's word timings, (character offset in its text,
    seconds into its narration), and times the cues and their marks; without them, time is
    shared by length. A segment's last cue stays ``hold_s[i]`` past its narration (the pause).
    """
    out: list[Cue] = []
    for number, (start, narration_s, text) in enumerate(segments):
        if not text.strip() or narration_s <= 0:
            continue
        measure = _measure(font_file or subtitle_font(cjk=has_cjk(text)), style.font_size)
        timed = words[number] if words else None
        clock = cutter.word_clock(timed, text, narration_s)
        end_s = narration_s + (hold_s[number] if hold_s else 0.0)
        cues = _cut(text, clock, {o for o, _ in timed or ()} if clock else None, end_s, style, measure, start)
        if cues is None:  # the word timings put two cues at once: they do not fit this text
            cues = _cut(text, cutter.length_clock(text, narration_s), None, end_s, style, measure, start)
        out += cues or []
    return out


def _cut(text: str, clock, starts: set[int] | None, end_s: float, style: SubtitleStyle, measure, start: float) -> list[Cue] | None:
    if clock is None:
        return None
    tokens = cutter.tokenize(text, clock, starts)
    limits = cutter.limits_for(text, style.width - 2 * style.margin_x - 2 * (style.outline + 2), style.vertical)
    pieces = cutter.cut(tokens, [measure(t.text) for t in tokens], measure(" "), end_s, limits)
    bounds = [tokens[p.first].time for p in pieces] + [end_s]
    bounds[0] = 0.0  # the first cue shows from the segment's start
    if any(b <= a for a, b in itertools.pairwise(bounds)):
        return None
    cues = []
    for piece, (a, b) in zip(pieces, itertools.pairwise(bounds)):
        lines = tuple(cutter.line_text(tokens, first, last) for first, last in piece.lines)
        marks = tuple(Mark(round(start + (a if k == 0 else tokens[first].time), 3), line, begin, end)
                      for k, (line, first, begin, end) in enumerate(_units(tokens, piece, limits.cjk)))
        out_start, out_end = round(start + a, 3), round(start + b, 3)
        cues.append(Cue(out_start, out_end, lines, marks))
    return cues


def _units(tokens: list[cutter.Token], piece: cutter.Piece, cjk: bool) -> list[tuple[int, int, int, int]]:
    """The highlight units of a cue: (line, first token, first character, end character) per word or Chinese phrase.

    A Chinese phrase is a run between punctuation marks, cut into even parts of at most
    ``PHRASE_CHARS`` at the speech engine's word boundaries.
    """
    units: list[tuple[int, int, int, int]] = []
    for line, (first, last) in enumerate(piece.lines):
        places, at = [], 0  # (token, begin, end) on the line
        for k in range(first, last):
            at += len(tokens[k].glue) if k > first else 0
            places.append((k, at, at + len(tokens[k].text)))
            at += len(tokens[k].text)
        if not cjk:
            units += [(line, k, a, a + (len(tokens[k].text.rstrip("".join(cutter.PUNCT))) or b - a)) for k, a, b in places]
            continue
        text = "".join((tokens[k].glue if k > first else "") + tokens[k].text for k in range(first, last))
        words = word_starts(text)
        run: list[tuple[int, int, int]] = []
        for n, place in enumerate(places):
            run.append(place)
            if tokens[place[0]].brk < 3 or n == len(places) - 1:
                units += [(line, part[0][0], part[0][1], part[-1][2]) for part in _even(run, words)]
                run = []
    return units


def _even(run: list[tuple[int, int, int]], words: set[int] | None = None) -> list[list[tuple[int, int, int]]]:
    """``run`` cut into about equal parts of at most ``PHRASE_CHARS`` characters, between its tokens, and only where a
    word of ``words`` (start offsets) begins, when they are given."""
    size = run[-1][2] - run[0][1]
    parts = -(-size // PHRASE_CHARS)
    if parts <= 1:
        return [run]
    out: list[list[tuple[int, int, int]]] = [[]]
    for place in run:
        if (out[-1] and place[1] - run[0][1] >= len(out) * size / parts and len(out) < parts
                and (words is None or place[1] in words)):
            out.append([])
        out[-1].append(place)
    return out


def _clock(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_clock(c.start_s, ',')} --> {_clock(c.end_s, ',')}\n" + "\n".join(c.lines) for i, c in enumerate(cues, 1)]
    return "\n\n".join(blocks) + "\n"


def to_vtt(cues: list[Cue]) -> str:
    blocks = [f"{_clock(c.start_s, '.')} --> {_clock(c.end_s, '.')}\n" + "\n".join(c.lines) for c in cues]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class SubtitleFiles:
    srt: Path
    vtt: Path


def subtitle_font(*, cjk: bool) -> str | None:
    """The font file subtitles are measured and drawn with: a CJK-capable one for Chinese."""
    return font_path(cjk=cjk) or font_path()


def write_subtitles(cues: list[Cue], directory: Path) -> SubtitleFiles:
    """Write subtitles.srt and subtitles.vtt (for caption upload) into ``directory``."""
    files = SubtitleFiles(directory / "subtitles.srt", directory / "subtitles.vtt")
    files.srt.write_text(to_srt(cues), encoding="utf-8")
    files.vtt.write_text(to_vtt(cues), encoding="utf-8")
    return files
