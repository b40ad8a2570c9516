"""A segment's clip beside its picture: ``images/003.clip.json`` next to ``images/003.png``.

A footage provider (Pexels, a person's own media) gives a poster still, which
is the segment's image asset as for any provider (the thumbnail and the
crossfades use it), and a clip from its cache or the person's folder. The
sidecar says which clip and how long it is, and whom to credit; it is written
before the picture is renamed into place and recorded, so a recorded picture
always has its sidecar (the words-beside-the-WAV pattern of ytmaker.stages.audio).
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


def sidecar_path(image: Path) -> Path:
    return image.with_suffix(".clip.json")


def write_sidecar(image: Path, footage: Footage, *, stored_clip: str | None) -> None:
    """Record ``footage`` beside ``image`` (its final name); ``stored_clip`` is the clip's path as the records store paths."""
    final = sidecar_path(image)
    tmp = temp_path(final)
    tmp.write_text(json.dumps({"clip": stored_clip, "duration_s": footage.duration_s, "credit": footage.credit}))
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
    """The clip recorded beside ``image`` (none for a plain still), and its credit."""
    data = read_sidecar(image) or {}
    clip = rt.path(data["clip"]) if data.get("clip") else None
    duration = data.get("duration_s")
    return SegmentClip(clip if clip is not None and clip.exists() else None, float(duration) if duration else None,
                       str(data.get("credit") or ""))


def read_sidecar(image: Path) -> dict | None:
    try:
        data = json.loads(sidecar_path(image).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def with_credits(description: str, credits: list[str]) -> str:
    """The description with the footage's credits after it, each once, within YouTube's 5,000 characters."""
    lines = list(dict.fromkeys(c for c in credits if c))
    if not lines:
        return description
    pexels = any("Pexels" in line for line in lines)
    block = "\n".join(([CREDITS_HEADING] if pexels else []) + lines)
    text = f"{description.rstrip()}\n\n{block}" if description.strip() else block
    return text[:5000]
