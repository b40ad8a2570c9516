"""Thumbnails: a 1280x720 JPEG (under YouTube's 2 MB) from a frame of the video plus the title."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

from ytmaker.errors import MediaError
from ytmaker.media.draw import draw_block, wrap
from ytmaker.media.ffmpeg import ffmpeg_exe
from ytmaker.media.fonts import load_font
from ytmaker.text import is_cjk

SIZE = (1280, 720)
MAX_BYTES = 2 * 1024 * 1024


def extract_frame(video: Path, at_s: float, timeout_s: float = 120) -> Image.Image:
    """One frame of ``video`` at ``at_s`` seconds, as an RGB image."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frame.png"
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if result.returncode != 0 or not out.exists():
            raise MediaError("could not extract a frame for the thumbnail", command=command, stderr=result.stderr[-4000:])
        return Image.open(out).convert("RGB")


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


def compose(frame: Image.Image, title: str) -> Image.Image:
    """Fill 1280x720 with the frame, darken the lower part and set the title large."""
    image = ImageOps.fit(frame, SIZE, method=Image.Resampling.LANCZOS)
    shade = Image.new("L", SIZE, 0)
    ImageDraw.Draw(shade).rectangle((0, SIZE[1] // 3, SIZE[0], SIZE[1]), fill=150)
    image = Image.composite(Image.new("RGB", SIZE, (0, 0, 0)), image, shade.filter(ImageFilter.GaussianBlur(60)))
    draw = ImageDraw.Draw(image)
    font = load_font(92, cjk=is_cjk(title))
    lines = wrap(draw, title, font, SIZE[0] - 120, 3)
    block = len(lines) * int(font.size * 1.15)
    draw_block(draw, lines, font, center_x=SIZE[0] // 2, top=SIZE[1] - block - 60, fill=(255, 255, 255),
               stroke_fill=(0, 0, 0), line_gap=1.15)
    return image


def write_jpeg(image: Image.Image, out: Path) -> None:
    """Save as JPEG, lowering quality until it fits YouTube's 2 MB limit."""
    for quality in (92, 85, 75, 60):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= MAX_BYTES:
            out.write_bytes(buffer.getvalue())
            return
    raise MediaError("thumbnail stays over 2 MB even at low quality")


def make_thumbnail(video: Path, duration_s: float, title: str, out: Path) -> None:
    write_jpeg(compose(best_frame(video, duration_s), title), out)
