"""Thumbnails: a 1280x720 JPEG (under YouTube's 2 MB) from the most detailed picture plus the title.

Pictures are scored by contrast and edges (not "the first frame"): the video's
stills when they are at hand (sharper than a decoded frame, and free of burned-in
subtitles), else frames spread over the video. 9:16 projects also get a
1080x1920 variant for Shorts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ffmpeg
from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

from ytmaker.errors import MediaError
from ytmaker.media.draw import draw_block, wrap_lines
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.fonts import load_font
from ytmaker.media.jpeg import save_jpeg_under
from ytmaker.text import is_cjk

SIZE = (1280, 720)
VERTICAL_SIZE = (1080, 1920)
#: YouTube's limit for a thumbnail
MAX_BYTES = 2 * 1024 * 1024


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


def best_frame(video: Path, duration_s: float, candidates: int = 4) -> Image.Image:
    """The most detailed of a few frames spread over the video (not simply the first)."""
    times = [duration_s * (i + 1) / (candidates + 1) for i in range(candidates)]
    frames = [extract_frame(video, t) for t in times]
    return max(frames, key=frame_score)


def best_still(images: list[Path]) -> Image.Image:
    """The most detailed of the video's stills."""
    def load(path: Path) -> Image.Image:
        with Image.open(path) as image:
            return image.convert("RGB")

    return max((load(path) for path in images), key=frame_score)


def compose(frame: Image.Image, title: str, size: tuple[int, int] = SIZE) -> Image.Image:
    """Fill ``size`` with the frame, darken the lower part and set the title large."""
    width, height = size
    image = ImageOps.fit(frame, size, method=Image.Resampling.LANCZOS)
    shade = Image.new("L", size, 0)
    ImageDraw.Draw(shade).rectangle((0, height // 3, width, height), fill=150)
    image = Image.composite(Image.new("RGB", size, (0, 0, 0)), image, shade.filter(ImageFilter.GaussianBlur(60)))
    draw = ImageDraw.Draw(image)
    font = load_font(round(min(width, height) * 0.128), cjk=is_cjk(title))
    lines = wrap_lines(draw, title, font, width - 120, 3 if width > height else 5)
    block = len(lines) * int(font.size * 1.15)
    bottom = height // 12 if width > height else height // 4
    draw_block(draw, lines, font, center_x=width // 2, top=height - block - bottom, fill=(255, 255, 255),
               stroke_fill=(0, 0, 0), line_gap=1.15)
    return image


def make_thumbnail(video: Path, duration_s: float, title: str, out: Path, *, stills: list[Path] | None = None,
                   size: tuple[int, int] = SIZE) -> None:
    """Write a ``size`` JPEG thumbnail of ``title`` over the best still (or video frame) to ``out``."""
    picture = best_still(stills) if stills else best_frame(video, duration_s)
    save_jpeg_under(compose(picture, title, size), out, MAX_BYTES)
