"""Word-by-word captions: the word being said (Chinese: the phrase) lit, as a small picture over the cue's band.

The band (ytmaker.media.captions) still changes once per cue. On top of it a
second stream shows, while each word is said, a picture of that word alone in
the highlight colour, placed over the same word in the band: a second concat
list with one entry per word, read by a ``movie`` source, and an ``overlay``
whose position follows the words by the frame number (a balanced ``if`` tree,
like the pans). Every word picture has the size of the widest word, so the
stream never changes size; a transparent one fills the time between cues.

Cheap on both sides: Pillow draws no text per word (the cue's picture is
recoloured over the word's rectangle, one table lookup a pixel: ``recolour``)
and writes a word-sized picture (ytmaker.media.captions.save_picture); FFmpeg
reads and converts a word-sized picture per word, not a band (0.07 against 0.38
CPU-s for 230 words at 1080p, bench/render/README.md), and blends a word's rectangle per frame. The word
pictures and the overlay's position change on the same frame: both are timed
in frames of the video (a picture's time base is the video's frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image

from ytmaker.media.captions import Band, Captions, band_for, band_list, cue_frames, draw_cues, metrics, rgba, save_picture
from ytmaker.media.filters import choose
from ytmaker.media.fonts import font_or_default
from ytmaker.media.subtitles import Cue, SubtitleStyle
from ytmaker.text import is_cjk


@dataclass(frozen=True)
class Lit:
    """One word's highlight: its frames [start, end), its cue and mark, its rectangle in the band (even corner)."""

    start: int
    end: int
    cue: int
    mark: int
    box: tuple[int, int, int, int]


def recolour(colour: str, outline: str, highlight: str) -> list[int]:
    """``Image.point`` tables turning text drawn in ``colour`` on ``outline`` into the same in ``highlight``.

    Every pixel of the drawing is a blend of the two colours (and the alpha), so each channel
    maps linearly from the outline's value to the highlight's.
    """
    table: list[int] = []
    for text, edge, lit in zip(rgba(colour)[:3], rgba(outline)[:3], rgba(highlight)[:3]):
        span = text - edge
        table += [lit if span == 0 else max(0, min(255, round(edge + (v - edge) * (lit - edge) / span))) for v in range(256)]
    return table + list(range(256))


def mark_frames(cue: Cue, frames: tuple[int, int], fps: int) -> list[tuple[int, int]]:
    """The frames of each of ``cue``'s marks within the cue's ``frames`` (the first from the cue's start)."""
    starts = [frames[0]] + [min(frames[1], max(frames[0], round(m.start_s * fps))) for m in cue.marks[1:]]
    for i in range(1, len(starts)):
        starts[i] = max(starts[i], starts[i - 1])
    return list(zip(starts, starts[1:] + [frames[1]]))


def _box(cue: Cue, k: int, band: Band, captions: Captions, style: SubtitleStyle) -> tuple[int, int, int, int]:
    font = font_or_default(captions.font, style.font_size)
    stroke, line = metrics(captions, style)
    mark = cue.marks[k]
    text = cue.lines[mark.line]
    top = band.height - (stroke + 2) - len(cue.lines) * line + mark.line * line - stroke - 1
    left = band.width / 2 - font.getlength(text) / 2
    pad = 0 if is_cjk(text) else stroke
    x0 = max(0, round(left + font.getlength(text[:mark.begin])) - pad) // 2 * 2
    x1 = min(band.width, round(left + font.getlength(text[:mark.end])) + pad)
    y0 = max(0, top) // 2 * 2
    return x0, y0, x1, min(band.height, top + line + 2 * stroke + 1)


@lru_cache(maxsize=4)
def lit_words(captions: Captions, style: SubtitleStyle, fps: int) -> tuple[Lit, ...]:
    """Every word's highlight, in order, on the frames the band's pictures are timed on.

    Cached: the pictures and the overlay's positions are built from the same list (a minute's 230
    words cost 0.1 s of text measuring each time)."""
    band = band_for(captions, style)
    out = []
    for i, (cue, span) in enumerate(zip(captions.cues, cue_frames(captions.cues, fps))):
        for k, (start, end) in enumerate(mark_frames(cue, span, fps) if cue.marks else []):
            if end > start:
                out.append(Lit(start, end, i, k, _box(cue, k, band, captions, style)))
    return tuple(out)


def word_size(lit: tuple[Lit, ...]) -> tuple[int, int]:
    """The word pictures' one size: the widest and tallest word's (even)."""
    width = max((b.box[2] - b.box[0] for b in lit), default=2)
    height = max((b.box[3] - b.box[1] for b in lit), default=2)
    return 2 * ((width + 1) // 2), 2 * ((height + 1) // 2)


def list_name(directory: Path) -> Path:
    return directory / "words.ffconcat"


def write_words(captions: Captions, style: SubtitleStyle, directory: Path, total_frames: int, fps: int,
                drawings: list[Image.Image] | None = None) -> list[Path]:
    """Store each word's lit picture, cut from its cue's picture (``drawings``, or drawn here) recoloured once,
    and a blank one, and write their list (``list_name(directory)``)."""
    lit = lit_words(captions, style, fps)
    size = word_size(lit)
    table = recolour(captions.look.color, captions.look.outline_color, captions.look.highlight_color)
    blank = directory / "word-blank.y4m"
    save_picture(Image.new("RGBA", size, (0, 0, 0, 0)), blank)
    cues = drawings or draw_cues(captions, style)
    lit_cue: dict[int, Image.Image] = {}
    pictures = []
    for n, word in enumerate(lit):
        if word.cue not in lit_cue:
            lit_cue = {word.cue: cues[word.cue].point(table)}
        picture = Image.new("RGBA", size, (0, 0, 0, 0))
        picture.paste(lit_cue[word.cue].crop(word.box), (0, 0))
        path = directory / f"word{n:05d}.y4m"
        save_picture(picture, path)
        pictures.append(path)
    listing = list_name(directory)
    listing.write_text(band_list(pictures, blank, [(w.start, w.end) for w in lit], total_frames, fps), encoding="utf-8")
    return [blank, *pictures, listing]


def steps(starts: list[int], values: list[int], fps: int) -> str:
    """An expression of the frame's time ``t`` worth ``values[i]`` from frame ``starts[i]`` on (a balanced tree).

    By time, half a frame before each start, not by ``n``: ``overlay`` counts ``n`` from the frames its main input
    has handed over, one ahead of the frame it blends, so a word's position moved a frame before its picture did
    (the previous word's picture drawn over the next word for one frame)."""
    thresholds = [f"{(start - 0.5) / fps:.6f}" for start in starts]
    return choose("t", thresholds, [str(v) for v in values]) if values else "0"


def overlay_chains(base: str, out: str, source: str, captions: Captions, style: SubtitleStyle, fps: int) -> list[str]:
    """Filter chains putting the lit words (read by the filter ``source``) over ``[base]`` as ``[out]``."""
    band = band_for(captions, style)
    lit = lit_words(captions, style, fps)
    starts = [w.start for w in lit]
    x = steps(starts, [band.x + w.box[0] for w in lit], fps)
    y = steps(starts, [band.y + w.box[1] for w in lit], fps)
    return [f"{source},format=yuva420p[words]",
            f"[{base}][words]overlay=x='{x}':y='{y}':format=yuv420:eof_action=pass[{out}]"]
