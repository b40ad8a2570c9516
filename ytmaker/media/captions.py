"""Burned-in subtitles as pictures: each cue drawn once by Pillow into a band, the band overlaid on the rows it covers.

The band is as wide as the longest line and as tall as two lines, bottom-centred
in the safe area (ytmaker.media.subtitles.SubtitleStyle); its pictures reach
FFmpeg as one stream through a concat list, one entry per cue, a transparent
picture filling the pauses between cues. The list is read by a ``movie`` source
inside the graph, which reads when ``overlay`` asks: as a separate input,
FFmpeg's threads read it ahead or behind and the video's frames queued at the
overlay meanwhile (70 MB at 1080p). libass was dropped for this: it blends every glyph's
outline and fill onto every frame, which cost 2.5–4.5 CPU-s per minute of 1080p;
``overlay`` blends a yuva420p band with SIMD code for about 0.5 (measured:
bench/render/README.md). The text is drawn in the style's colours (white on a
dark outline by default), the lines cut by ytmaker.media.subtitles and drawn
with the same font they were measured with, a CJK one for Chinese.

Word-by-word captions (mode ``words``) add a second, small stream on top:
ytmaker.media.highlight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from ytmaker.media.fonts import font_or_default
from ytmaker.media.stills import quote
from ytmaker.media.subtitles import MAX_LINES, CaptionStyle, Cue, SubtitleStyle, build_cues, subtitle_font, write_subtitles
from ytmaker.text import has_cjk

#: RGB to limited-range BT.601 YCbCr (Y 16-235, Cb and Cr 16-240), as one ``convert`` matrix: Pillow's own
#: YCbCr is full range and needed a ``point`` after it, whose table Pillow rounds in Python on every call
#: (0.13 s for a minute's 250 pictures)
_Y, _C = 219 / 255, 224 / 255
_TO_LIMITED_YCBCR = (0.299 * _Y, 0.587 * _Y, 0.114 * _Y, 16,
                     -0.168736 * _C, -0.331264 * _C, 0.5 * _C, 128,
                     0.5 * _C, -0.418688 * _C, -0.081312 * _C, 128)


def save_picture(image: Image.Image, path: Path) -> None:
    """Store an RGBA picture as a one-frame YUV4MPEG file (yuva444p at the video's 30 fps).

    FFmpeg reads it without a decode, and its time base is the video's frame: an image file
    (PNG, TGA) reaches the concat list at image2's 25 fps, which moved each change to the
    nearest 1/25 s, off the frame the word timings and the overlays' frame numbers put it on.
    """
    ycbcr = image.convert("RGB").convert("RGB", _TO_LIMITED_YCBCR)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{image.width} H{image.height} F30:1 Ip A1:1 C444alpha\nFRAME\n".encode())
        for plane in (*ycbcr.split(), image.getchannel("A")):
            out.write(plane.tobytes())


@dataclass(frozen=True)
class Captions:
    """What the render burns in: the cues, the font file to draw them with (None: Pillow's own), their look."""

    cues: tuple[Cue, ...]
    font: str | None = None
    look: CaptionStyle = CaptionStyle()
    words: bool = False  # highlight each word while it is said

    def style(self, size: tuple[int, int]) -> SubtitleStyle:
        return SubtitleStyle(*size, self.look)


@dataclass(frozen=True)
class Band:
    """The rectangle of the frame the subtitles are drawn in (even sizes and offsets, for yuv420p)."""

    width: int
    height: int
    x: int
    y: int


def make_captions(texts: list[str], starts_s: list[float], narration_s: list[float], size: tuple[int, int],
                  directory: Path, words: list[list[tuple[int, float]] | None] | None = None, *,
                  look: CaptionStyle | None = None, hold_s: list[float] | None = None) -> Captions:
    """Cue the narration (``texts[i]`` said from ``starts_s[i]`` for ``narration_s[i]``) for a ``size`` picture.

    Writes subtitles.srt and subtitles.vtt into ``directory`` and returns the same cues to burn in
    (none when ``look``'s mode is off), drawn with a CJK-capable font when the text is Chinese.
    ``words[i]`` are segment i's word timings when the speech engine gave them (cues and word
    highlights then start on their words); a segment's last cue stays ``hold_s[i]`` longer.
    """
    look = look or CaptionStyle()
    font = subtitle_font(cjk=has_cjk(" ".join(texts)))
    cues = build_cues(list(zip(starts_s, narration_s, texts)), SubtitleStyle(*size, look), font_file=font, words=words,
                      hold_s=hold_s)
    write_subtitles(cues, directory)
    mode = look.burn_mode("9:16" if size[1] > size[0] else "16:9")
    return Captions(tuple(cues) if mode != "off" else (), font, look, mode == "words")


def metrics(captions: Captions, style: SubtitleStyle) -> tuple[int, int]:
    """(outline width, line height) in pixels."""
    ascent, descent = font_or_default(captions.font, style.font_size).getmetrics()
    return max(1, round(style.outline)), ascent + descent


def band_for(captions: Captions, style: SubtitleStyle) -> Band:
    """The band holding every cue's lines: the longest line wide, ``MAX_LINES`` lines tall, where the style puts it."""
    font = font_or_default(captions.font, style.font_size)
    stroke, line = metrics(captions, style)
    pad = stroke + 2
    longest = max((font.getlength(text) for cue in captions.cues for text in cue.lines), default=0)
    width = min(style.width, 2 * ((round(longest) + 2 * pad + 1) // 2))
    height = 2 * ((MAX_LINES * line + 2 * pad + 1) // 2)
    x = 2 * ((style.width - width) // 4)
    y = 2 * (style.band_top(height) // 2)
    return Band(width, height, x, y)


def rgba(colour: str) -> tuple[int, int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255


def draw_cue(cue: Cue, band: Band, captions: Captions, style: SubtitleStyle) -> Image.Image:
    """The cue's lines, centred and sitting on the band's bottom (one line where a second one would go)."""
    font = font_or_default(captions.font, style.font_size)
    stroke, line = metrics(captions, style)
    image = Image.new("RGBA", (band.width, band.height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    top = band.height - (stroke + 2) - len(cue.lines) * line
    for i, text in enumerate(cue.lines):
        draw.text((band.width / 2, top + i * line), text, font=font, anchor="ma", fill=rgba(captions.look.color),
                  stroke_width=stroke, stroke_fill=rgba(captions.look.outline_color))
    return image


def cue_frames(cues: tuple[Cue, ...], fps: int) -> list[tuple[int, int]]:
    """Each cue's first frame and the frame after its last, rounded on the whole timeline like the pictures."""
    out, previous_end = [], 0
    for cue in cues:
        start = max(previous_end, round(cue.start_s * fps))
        end = max(start, round(cue.end_s * fps))
        out.append((start, end))
        previous_end = end
    return out


def band_list(pictures: list[Path], blank: Path, frames: list[tuple[int, int]], total_frames: int, fps: int) -> str:
    """An ``ffconcat`` list playing ``pictures[i]`` over ``frames[i]`` and ``blank`` elsewhere, up to ``total_frames``.

    The pictures are named as files beside the list (bare names: see ytmaker.media.stills.quote).
    """
    spans: list[tuple[Path, int]] = []
    at = 0
    for picture, (start, end) in zip(pictures, frames):
        if start > at:
            spans.append((blank, start - at))
        if end > start:
            spans.append((picture, end - start))
        at = max(at, end)
    if total_frames > at:
        spans.append((blank, total_frames - at))
    spans.append((blank, fps))  # the concat demuxer gives the last entry no duration
    return "ffconcat version 1.0\n" + "".join(f"file {quote(Path(p.name))}\nduration {n / fps:.6f}\n" for p, n in spans)


def picture_name(directory: Path, index: int | None) -> Path:
    """Cue ``index``'s picture (None: the blank one) in the render's helper ``directory``."""
    return directory / f"caption{'-blank' if index is None else f'{index:04d}'}.y4m"


def list_name(directory: Path) -> Path:
    return directory / "captions.ffconcat"


def draw_cues(captions: Captions, style: SubtitleStyle) -> list[Image.Image]:
    """Every cue's picture, drawn once for the band and for the lit words (ytmaker.media.highlight)."""
    band = band_for(captions, style)
    return [draw_cue(cue, band, captions, style) for cue in captions.cues]


def write_captions(captions: Captions, style: SubtitleStyle, directory: Path, total_frames: int, fps: int,
                   drawings: list[Image.Image] | None = None) -> list[Path]:
    """Store every cue's picture (``drawings``, or drawn here) and the blank band, and write their list
    (``list_name(directory)``); returns the files written."""
    band = band_for(captions, style)
    blank = picture_name(directory, None)
    save_picture(Image.new("RGBA", (band.width, band.height), (0, 0, 0, 0)), blank)
    pictures = []
    for i, drawing in enumerate(drawings or draw_cues(captions, style)):
        path = picture_name(directory, i)
        save_picture(drawing, path)
        pictures.append(path)
    listing = list_name(directory)
    listing.write_text(band_list(pictures, blank, cue_frames(captions.cues, fps), total_frames, fps), encoding="utf-8")
    return [blank, *pictures, listing]


def overlay_chains(base: str, out: str, source: str, band: Band) -> list[str]:
    """Filter chains putting the band stream (read by the filter ``source``) over ``[base]`` as ``[out]``."""
    return [f"{source},format=yuva420p[captions]",
            f"[{base}][captions]overlay=x={band.x}:y={band.y}:format=yuv420:eof_action=pass[{out}]"]
