"""A segment's clip beside its picture: ``images/003.clip.json`` next to ``images/003.png``.

A footage provider (Pexels, a person's own media) gives a poster still, which
is the segment's image asset as for any provider (the thumbnail and the
crossfades use it), and a clip from its cache or the person's folder. The
sidecar says which clip and how long it is, and whom to credit; it is written
before the picture is renamed into place and recorded, so a recorded picture
always has its sidecar (the words-beside-the-WAV pattern of ytmaker.stages.audio).

Stock clips too short alone are joined: ``more_clips`` lists those played
after the first, each ``{"clip", "duration_s"}``. The first stays in ``clip``
and ``duration_s``, so a sidecar written before joins (no ``more_clips``)
reads as one clip, and an older reader of a newer sidecar loops the first.
The credit has a line per author.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ytmaker.providers.base import Footage
from ytmaker.runtime import Runtime
from ytmaker.stages.files import temp_path

#: the description's credits section starts with this line (Pexels asks for a link to it)
CREDITS_HEADING = "Stock footage: Pexels (https://www.pexels.com)"


@dataclass(frozen=True)
class SegmentClip:
    clip: Path | None
    duration_s: float | None
    credit: str
    more_clips: tuple[tuple[Path, float | None], ...] = ()  # played after ``clip``, in turn


def sidecar_path(image: Path) -> Path:
    return image.with_suffix(".clip.json")


def write_sidecar(rt: Runtime, image: Path, footage: Footage) -> None:
    """Record ``footage`` beside ``image`` (its final name), its clips' paths as the records store paths."""
    final = sidecar_path(image)
    tmp = temp_path(final)
    more = [{"clip": stored(rt, clip), "duration_s": duration} for clip, duration in footage.more_clips]
    tmp.write_text(json.dumps({"clip": stored(rt, footage.clip), "duration_s": footage.duration_s, "credit": footage.credit,
                               "more_clips": more}))
    os.replace(tmp, final)


def stored(rt: Runtime, clip: Path | None) -> str | None:
    """A clip's path as the sidecar keeps it: relative to the data dir when inside it (the Pexels cache, a project's media)."""
    if clip is None:
        return None
    try:
        return rt.relative(clip)
    except ValueError:
        return str(clip.resolve())


def segment_clip(rt: Runtime, image: Path) -> SegmentClip:
    """The clips recorded beside ``image`` (none for a plain still, or when the first is gone: its poster is the still),
    and their credit. A clip gone from the cache is left out."""
    data = read_sidecar(image) or {}
    first, first_s = _clip(rt, data)
    more = [_clip(rt, entry) for entry in data.get("more_clips") or [] if isinstance(entry, dict)] if first else []
    return SegmentClip(first, first_s, str(data.get("credit") or ""), tuple((c, s) for c, s in more if c is not None))


def _clip(rt: Runtime, entry: dict) -> tuple[Path | None, float | None]:
    clip = rt.path(entry["clip"]) if entry.get("clip") else None
    duration = entry.get("duration_s")
    return (clip, float(duration) if duration else None) if clip is not None and clip.exists() else (None, None)


def read_sidecar(image: Path) -> dict | None:
    try:
        data = json.loads(sidecar_path(image).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def with_credits(description: str, credits: list[str]) -> str:
    """The description with the footage's credits after it, each once, within YouTube's 5,000 characters."""
    lines = list(dict.fromkeys(line for c in credits for line in c.splitlines() if line.strip()))
    if not lines:
        return description
    pexels = any("Pexels" in line for line in lines)
    block = "\n".join(([CREDITS_HEADING] if pexels else []) + lines)
    text = f"{description.rstrip()}\n\n{block}" if description.strip() else block
    return text[:5000]
