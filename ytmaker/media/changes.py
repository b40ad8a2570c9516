"""Only the frames that differ from the one before are composited; ``fps`` repeats the last one for the rest.

``overlay`` writes the captions into its main frame, so it copies each frame it is given first: a panned
frame is a crop of the still every frame of its segment shares, never writable. At 1080p that copy was half
the filter graph's time (0.6 CPU-s a minute, beside x264). Yet about half the frames repeat the one before: a
pan moves by two pixels every two or three frames, and the captions change a few times a second. So a
``select`` keeps the frames where something changes (the pan's offset, a segment, a crossfade, a clip, a cue,
a lit word), the captions are composited onto those only, and ``fps`` fills each gap with the last composite:
a reference to it, no pixels copied. The video is the same, frame for frame (tests/test_render_changes.py decodes it).
"""

from __future__ import annotations

from ytmaker.media.captions import Captions, cue_frames
from ytmaker.media.filters import member, window, within
from ytmaker.media.highlight import lit_words
from ytmaker.media.timeline import Timeline


def caption_changes(captions: Captions, size: tuple[int, int], fps: int) -> list[int]:
    """The frames where the band's picture or the lit word changes: each cue's and each word's first frame and the
    frame after its last (the blank pictures between them start there)."""
    frames = {f for span in cue_frames(captions.cues, fps) for f in span}
    if captions.words:
        frames |= {f for word in lit_words(captions, captions.style(size), fps) for f in (word.start, word.end)}
    return sorted(frames)


def select_changes(plan: Timeline, overlap: int, pan: tuple[dict[str, str], dict[str, str]] | None,
                   clip_segments: list[bool], caption_frames: list[int]) -> str:
    """``select`` keeping frame 0, the last frame, each segment's first, its crossfade and every frame of a clip
    segment, the ``caption_frames``, and the frames whose ``pan`` offset (its ``crop`` expressions of ``n``, and the
    same of ``n-1``) differs from the frame before's."""
    starts, total = plan.frame_starts, sum(plan.frames)
    kept = sorted({0, total - 1, *starts, *(f for f in caption_frames if f < total)})
    terms = [member("n", kept), window(starts[1:], overlap) if overlap else "0",
             within("n", [(s, s + n - 1) for s, n, clip in zip(starts, plan.frames, clip_segments) if clip])]
    if pan:
        now, before = pan
        terms += [f"not(eq({now[axis]},{before[axis]}))" for axis in "xy"]
    return f"select='gt({'+'.join(t for t in terms if t != '0')},0)'"
