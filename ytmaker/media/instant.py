"""The instant renderer (``YTMAKER_RENDERER=instant``): a tiny valid clip and picture, no encoding per project.

For orchestration benchmarks, like the instant image and speech providers:
the render and thumbnail stages still do all their own work (asset checks,
checksums, stills, subtitles, records, progress) and only the FFmpeg encode
and the thumbnail drawing are replaced. The clip (64x36, 0.1 s, H.264/AAC) is
made by FFmpeg once per process and copied for every project.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from PIL import Image

from ytmaker.errors import MediaError
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.probe import MediaInfo

CLIP_SECONDS = 0.1


@functools.cache
def _clip() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        args = ["-loglevel", "error",
                "-f", "lavfi", "-i", f"color=c=0x283c78:s=64x36:r=10:d={CLIP_SECONDS}",
                "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={CLIP_SECONDS}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)]
        run_ffmpeg(args, timeout_s=60)
        if not out.exists():
            raise MediaError("FFmpeg made no instant clip", command=args)
        return out.read_bytes()


def render(spec) -> MediaInfo:
    """Write the clip to ``spec.output``; returns what probing it would."""
    Path(spec.output).write_bytes(_clip())
    return MediaInfo(duration_s=CLIP_SECONDS, video_codec="h264", width=64, height=36, fps=10.0,
                     audio_codec="aac", sample_rate=16000, streams=["video", "audio"])


def thumbnail(stills: list[Path] | None, out: Path) -> None:
    """The first still as a small JPEG (a grey one without stills)."""
    if stills:
        with Image.open(stills[0]) as image:
            picture = image.convert("RGB")
    else:
        picture = Image.new("RGB", (64, 36), (90, 90, 90))
    picture.save(out, format="JPEG", quality=80)
