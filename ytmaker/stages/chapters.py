"""YouTube chapters from the text's headings: timestamps in the description (ytmaker.stages.upload).

YouTube shows chapters when the description lists timestamps that start at 0:00,
three at least, each chapter 10 s or longer. A chapter starts where a segment
opens with its section's heading said aloud (the offline writer's Markdown
headings, "Roads before cars."); the first is the video's title at 0:00. The
times are the render's own: the segments' narrations plus their pauses, rounded
to frames on the whole timeline (ytmaker.media.render.timeline).
"""

from __future__ import annotations

from typing import Any

MIN_CHAPTERS = 3
MIN_CHAPTER_S = 10.0
_ENDS = ".。!！?？"  # what ends a heading said as a sentence


def chapters(title: str, segments: list[dict[str, Any]], starts_s: list[float], total_s: float) -> list[str]:
    """``0:00 Title`` and a ``M:SS Heading`` line per segment that opens with its heading; none unless YouTube shows them.

    A section starting less than ``MIN_CHAPTER_S`` after the chapter before stays in that chapter (the title card
    alone: the first section starts at 0:00), as does a last one too short; ``MIN_CHAPTERS`` must remain.
    """
    marks = [(0.0, title.strip())]
    for start, segment in list(zip(starts_s, segments))[1:]:
        heading = (segment.get("headline") or "").strip()
        if heading and _said_first(segment["narration"].strip(), heading):
            marks.append((start, heading))
    while len(marks) > 1 and marks[1][0] < MIN_CHAPTER_S:  # the title card alone: the first section starts at 0:00
        marks = [(0.0, marks[1][1]), *marks[2:]]
    kept = marks[:1]
    for start, name in marks[1:]:  # a section too short for a chapter of its own stays in the one before
        if start - kept[-1][0] >= MIN_CHAPTER_S:
            kept.append((start, name))
    while len(kept) > 1 and total_s - kept[-1][0] < MIN_CHAPTER_S:  # so does a last one too short
        kept.pop()
    if len(kept) < MIN_CHAPTERS:
        return []
    return [f"{_clock(start, total_s)} {name}" for start, name in kept]


def _said_first(narration: str, heading: str) -> bool:
    """Whether the narration opens with the heading as a sentence of its own ("Roads before cars. Cyclists…")."""
    return narration.startswith(heading) and (heading[-1] in _ENDS or narration[len(heading):len(heading) + 1] in ("", *_ENDS))


def _clock(seconds: float, total_s: float) -> str:
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    if total_s >= 3600:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
