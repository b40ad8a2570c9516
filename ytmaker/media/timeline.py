"""The video's timeline: segment boundaries rounded once, on the whole video, to frames and to samples.

Rounding each segment on its own would accumulate: picture and sound drift apart by up to half a frame a
segment. Rounded on the whole timeline, they stay within half a frame however many segments there are.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ytmaker.media.audio import SAMPLE_RATE
from ytmaker.media.pacing import PAUSE_S, TAIL_S

FPS = 30
#: half of the crossfade between segments, which takes the pause (``crossfade_frames``)
FADE_S = 0.2


@dataclass(frozen=True)
class Timeline:
    """Segment boundaries in frames and samples, rounded once on the whole video."""

    starts_s: list[float]
    frames: list[int]
    samples: list[int]
    fade_frames: int

    @property
    def duration_s(self) -> float:
        return round(sum(self.frames) / FPS, 3)

    @property
    def frame_starts(self) -> list[int]:
        return [sum(self.frames[:i]) for i in range(len(self.frames))]


def segment_durations(narration_s: list[float]) -> list[float]:
    """Each segment lasts its narration plus a pause; the last one a longer tail."""
    return [round(d + (TAIL_S if i == len(narration_s) - 1 else PAUSE_S), 3) for i, d in enumerate(narration_s)]


def timeline(durations_s: list[float]) -> Timeline:
    """Frame and sample counts per segment; the sound ends with the last frame."""
    bounds = [0.0]
    for duration in durations_s:
        bounds.append(bounds[-1] + duration)
    frame_bounds = [round(b * FPS) for b in bounds]
    frame_bounds[-1] = max(frame_bounds[-1], len(durations_s))
    frames = [max(1, b - a) for a, b in itertools.pairwise(frame_bounds)]
    sample_bounds = [round(f * SAMPLE_RATE / FPS) for f in [sum(frames[:i]) for i in range(len(frames) + 1)]]
    samples = [b - a for a, b in itertools.pairwise(sample_bounds)]
    fade = min([round(FADE_S * FPS)] + [f // 3 for f in frames]) if len(frames) > 1 else 0
    starts = [round(sum(frames[:i]) / FPS, 3) for i in range(len(frames))]
    return Timeline(starts_s=starts, frames=frames, samples=samples, fade_frames=fade)


def crossfade_frames(plan: Timeline) -> int:
    """Frames of each crossfade: the pause before the next segment (twice the fade, 0.4 s at most)."""
    return 2 * plan.fade_frames
