"""Thumbnails: YouTube's size and byte limits, the Shorts variant, and a frame that is not black."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from ytmaker.errors import MediaError
from ytmaker.media.ffmpeg import ffmpeg_exe
from ytmaker.media.jpeg import jpeg_bytes_under, save_jpeg_under
from ytmaker.media.thumbnail import (
    MAX_BYTES,
    VERTICAL_SIZE,
    best_frame,
    extract_frame,
    make_thumbnail,
)


def _noise(path: Path, size: tuple[int, int]) -> Path:
    """A still of random pixels: the worst case for JPEG's size."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path)
    return path


def test_thumbnail_is_a_1280x720_jpeg_under_2_mb_even_from_noise(tmp_path):
    still = _noise(tmp_path / "noise.png", (1920, 1080))
    out = tmp_path / "thumbnail.jpg"
    make_thumbnail(tmp_path / "unused.mp4", 10.0, "Why solar power got cheap", out, stills=[still])
    with Image.open(out) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (1280, 720), "RGB")
    assert 10_000 < out.stat().st_size < MAX_BYTES


def test_shorts_thumbnail_is_1080x1920_under_2_mb(tmp_path):
    still = _noise(tmp_path / "noise.png", (1080, 1920))
    out = tmp_path / "thumbnail_9x16.jpg"
    make_thumbnail(tmp_path / "unused.mp4", 10.0, "为什么熊猫吃竹子", out, stills=[still], size=VERTICAL_SIZE)
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (1080, 1920))
    assert out.stat().st_size < MAX_BYTES


def test_the_frame_picked_from_a_video_is_not_the_black_opening(tmp_path):
    # Given a video that opens with 2 s of black and then shows a detailed picture for 2 s,
    video = tmp_path / "v.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "color=c=black:s=320x180:r=30:d=2",
                    "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2",
                    "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast",
                    str(video)], check=True)
    # when the thumbnail picks a frame without the stills at hand, it takes a detailed one.
    frame = best_frame(video, 4.0)
    assert ImageStat.Stat(frame.convert("L")).mean[0] > 40
    out = tmp_path / "t.jpg"
    make_thumbnail(video, 4.0, "Title", out)
    with Image.open(out) as image:
        assert image.size == (1280, 720)


def test_frame_args_seek_before_the_input_and_take_one_frame(tmp_path):
    from ytmaker.media.thumbnail import frame_args

    args = frame_args(tmp_path / "v.mp4", 12.3456, tmp_path / "f.png")
    assert args == ["-ss", "12.346", "-i", str(tmp_path / "v.mp4"), "-vframes", "1", str(tmp_path / "f.png")]


def test_a_frame_past_the_end_is_a_media_error_naming_the_time(tmp_path):
    video = tmp_path / "v.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=navy:s=64x36:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast", str(video)], check=True)

    with pytest.raises(MediaError, match=r"no frame at 9\.0 s") as failure:
        extract_frame(video, 9.0)
    assert str(video) in failure.value.command


def test_a_missing_video_fails_with_the_command_and_ffmpegs_stderr(tmp_path):
    with pytest.raises(MediaError) as failure:
        extract_frame(tmp_path / "missing.mp4", 1.0)
    assert failure.value.command[0] == ffmpeg_exe() and "missing.mp4" in failure.value.stderr


# --- JPEG under a byte limit -----------------------------------------------------------------------

def test_a_jpeg_steps_its_quality_down_until_it_fits(tmp_path):
    # Given random pixels (the worst case) that are over the limit at the best quality,
    picture = Image.frombytes("RGB", (640, 360), os.urandom(640 * 360 * 3))
    best = len(jpeg_bytes_under(picture, 10 * MAX_BYTES))
    out = tmp_path / "p.jpg"
    # when it must fit in less, it is saved at a lower quality that fits.
    save_jpeg_under(picture, out, best - 1)
    assert out.stat().st_size <= best - 1
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (640, 360))


def test_a_jpeg_that_cannot_fit_says_so_and_writes_nothing(tmp_path):
    picture = Image.frombytes("RGB", (640, 360), os.urandom(640 * 360 * 3))
    out = tmp_path / "p.jpg"

    with pytest.raises(MediaError, match=r"stays over 0\.00954 MB even at JPEG quality \d+"):
        save_jpeg_under(picture, out, 10_000)
    assert not out.exists()


def test_a_picture_with_alpha_is_saved_as_an_rgb_jpeg(tmp_path):
    out = tmp_path / "p.jpg"
    save_jpeg_under(Image.new("RGBA", (64, 36), (10, 20, 30, 128)), out, MAX_BYTES)
    with Image.open(out) as image:
        assert image.mode == "RGB"
