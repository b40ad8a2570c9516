"""Subtitles from the narration: cues timed per sentence, written as SRT and WebVTT for caption upload.

Each segment's narration is split into sentences. Where the speech engine
reported when each word starts (espeak-ng does), a cue starts at its first
word's time in the real audio; otherwise the segment's real audio duration
is shared out by character count. A sentence is wrapped to the
picture's safe width, measured with the font the burn-in draws with
(ytmaker.media.captions), and one that needs more than two lines becomes
several cues. Lines are wrapped by ytmaker.text.wrap: Chinese breaks between
any two characters, never before closing punctuation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ytmaker.media.fonts import font_path
from ytmaker.text import is_cjk, sentences, wrap

#: at most this many lines on screen at once
MAX_LINES = 2


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class SubtitleStyle:
    """Sizes in pixels of the video the subtitles are burned into."""

    width: int
    height: int

    @property
    def font_size(self) -> int:
        return max(10, round(min(self.width, self.height) * 0.052))

    @property
    def margin_x(self) -> int:
        return round(self.width * 0.08)

    @property
    def margin_bottom(self) -> int:
        # Shorts put their own buttons and the title over the lower fifth of the picture.
        return round(self.height * (0.2 if self.height > self.width else 0.06))

    @property
    def outline(self) -> float:
        return max(1.0, round(self.font_size * 0.07, 1))


def _measure(font_file: str | None, size: int) -> Callable[[str], float]:
    font = ImageFont.truetype(font_file, size) if font_file else ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    return lambda text: draw.textlength(text, font=font)


def balance(lines: list[str], measure: Callable[[str], float]) -> list[str]:
    """Rewrap a two-line chunk as narrowly as it still fits in two lines, so no line is a lone word."""
    if len(lines) < 2:
        return lines
    text = ("" if is_cjk(lines[0]) else " ").join(lines)
    low, high = 0.0, max(measure(line) for line in lines)
    best = lines
    for _ in range(12):
        mid = (low + high) / 2
        attempt = wrap(text, mid, measure)
        if len(attempt) <= len(lines):
            best, high = attempt, mid
        else:
            low = mid
    return best


def _share(total: float, weights: list[int]) -> list[float]:
    whole = sum(weights) or 1
    return [total * w / whole for w in weights]


def _weight(text: str) -> int:
    return max(1, len("".join(text.split())))


def build_cues(segments: list[tuple[float, float, str]], style: SubtitleStyle, *, font_file: str | None = None,
               words: list[list[tuple[int, float]] | None] | None = None) -> list[Cue]:
    """Cues for ``(start_s, narration_s, text)`` per segment, wrapped to at most two lines each.

    ``words[i]``, when given, holds segment i's word timings, (character offset in its text,
    seconds into its narration), and times the cues; without them, time is shared by length.
    """
    cues: list[Cue] = []
    for number, (start, narration_s, text) in enumerate(segments):
        said = sentences(text)
        if not said or narration_s <= 0:
            continue
        cjk = is_cjk(text)
        file = font_file or subtitle_font(cjk=cjk)
        measure = _measure(file, style.font_size)
        chunks: list[tuple[list[str], float]] = []  # (lines, share of the time by length)
        for sentence, span in zip(said, _share(narration_s, [_weight(s) for s in said])):
            lines = wrap(sentence, style.width - 2 * style.margin_x, measure)
            pieces = [balance(lines[i : i + MAX_LINES], measure) for i in range(0, len(lines), MAX_LINES)]
            chunks += zip(pieces, _share(span, [_weight("".join(c)) for c in pieces]))
        timed = _word_starts(text, [lines for lines, _ in chunks], words[number] if words else None, narration_s)
        if timed is None:  # no word timings: each chunk lasts its share, one after another
            timed, at = [], 0.0
            for _, piece in chunks:
                timed.append(at)
                at += piece
        ends = timed[1:] + [narration_s]
        cues += [Cue(round(start + a, 3), round(start + b, 3), tuple(lines)) for (lines, _), a, b in zip(chunks, timed, ends)]
    return cues


def _word_starts(text: str, chunks: list[list[str]], words: list[tuple[int, float]] | None, narration_s: float):
    """Each chunk's start (s into the narration), from the time of the word it begins with; None if unusable."""
    if not words:
        return None
    offsets, cursor = [], 0
    for lines in chunks:
        first = lines[0].split()[0] if lines[0].split() else lines[0][:1]
        found = text.find(first[:8], cursor)
        if found < 0:
            return None  # the wrapped text no longer matches the narration: fall back to lengths
        offsets.append(found)
        cursor = found + 1
    starts = [0.0]  # the first cue shows from the segment's start
    for offset in offsets[1:]:
        said_before = [t for o, t in words if o <= offset]  # the word holding the chunk's first character
        moment = min(narration_s, said_before[-1] if said_before else 0.0)
        if moment <= starts[-1]:
            return None  # two cues at once: the timings do not fit this text
        starts.append(moment)
    return starts


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
